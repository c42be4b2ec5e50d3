//! Extractors that bring a handler what its opening lines would otherwise repeat: the
//! request, the state and the signed-in user with the route's role check already made.

use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use crate::app::auth::csrf::{CsrfForm, EmptyForm};
use crate::app::auth::session::CurrentUser;
use crate::app::state::AppState;
use crate::domain::account::Role;

/// The roles a route admits: the type parameter of [`Staff`]. A type per set, so the check a
/// handler needs is written in its signature and cannot be left out of its body.
pub trait RoleSet {
    /// The roles admitted.
    const ROLES: &'static [Role];
}

/// Administrators alone: accounts, methodology, round settings and publishing.
pub struct Admins;
impl RoleSet for Admins {
    const ROLES: &'static [Role] = &[Role::Admin];
}

/// Those who run fieldwork: administrators and coordinators (within their units).
pub struct Fieldwork;
impl RoleSet for Fieldwork {
    const ROLES: &'static [Role] = &[Role::Admin, Role::Coordinator];
}

/// Those who work with the data: administrators and analysts.
pub struct DataWork;
impl RoleSet for DataWork {
    const ROLES: &'static [Role] = &[Role::Admin, Role::Analyst];
}

/// Every signed-in role.
pub struct AnyRole;
impl RoleSet for AnyRole {
    const ROLES: &'static [Role] = &[Role::Admin, Role::Coordinator, Role::Analyst];
}

/// What a staff page's handler is given: the request, the shared state and the signed-in
/// user, whose role `R` admits. A visitor without a session is sent to the login page and a
/// role `R` does not admit gets 403, before the handler runs.
///
/// The fields are positional so a handler can take them apart in its signature:
/// `Staff(req, state, user, ..): Staff<Admins>`.
pub struct Staff<R>(
    /// The request.
    pub HttpRequest,
    /// The shared state.
    pub web::Data<AppState>,
    /// The signed-in user.
    pub CurrentUser,
    /// That the user's role was checked against `R`.
    pub RoleChecked<R>,
);

impl<R> Staff<R> {
    /// The request, state and user, borrowed for the helpers the handler calls.
    pub fn caller(&self) -> Caller<'_> {
        Caller::new(&self.0, &self.1, &self.2)
    }
}

/// What a staff handler hands on to its helpers: the request (for the language), the shared
/// state and the signed-in user, borrowed together so a helper takes one argument, not three.
#[derive(Clone, Copy)]
pub struct Caller<'a> {
    /// The request.
    pub req: &'a HttpRequest,
    /// The shared state.
    pub state: &'a AppState,
    /// The signed-in user.
    pub user: &'a CurrentUser,
}

impl<'a> Caller<'a> {
    /// The three, borrowed from wherever an extractor keeps them.
    pub fn new(req: &'a HttpRequest, state: &'a AppState, user: &'a CurrentUser) -> Self {
        Caller { req, state, user }
    }
}

/// Proof that a user's role was checked against `R`: only this module can make one, so a
/// [`Staff`] exists only where the check was made.
pub struct RoleChecked<R>(PhantomData<R>);

impl<R: RoleSet + 'static> FromRequest for Staff<R> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let parts = <(web::Data<AppState>, CurrentUser)>::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let (state, user) = parts.await?;
            user.require(R::ROLES)?;
            Ok(Staff(req, state, user, RoleChecked(PhantomData)))
        })
    }
}

/// What a POST form on one object's page (`…/{id}/…`) brings its handler: the request, the
/// state, the signed-in user, the object's id and the form `F`. They are extracted in that
/// order, as the handlers listed them, so a refusal is the same.
pub struct IdPost<F> {
    /// The request.
    pub req: HttpRequest,
    /// The shared state.
    pub state: web::Data<AppState>,
    /// The signed-in user.
    pub user: CurrentUser,
    /// The `{id}` of the path.
    pub id: i64,
    /// The form, its CSRF token checked.
    pub form: F,
}

impl<F> IdPost<F> {
    /// The request, state and user, borrowed for the helpers the handler calls.
    pub fn caller(&self) -> Caller<'_> {
        Caller::new(&self.req, &self.state, &self.user)
    }
}

/// A POST button: a form with nothing but the CSRF token.
pub type IdButton = IdPost<EmptyForm>;

/// The confirm button of an import preview: the token that names the previewed file.
#[derive(Debug, serde::Deserialize)]
pub struct PreviewToken {
    /// The preview's token.
    pub token: String,
}

impl<F: serde::de::DeserializeOwned + 'static> FromRequest for IdPost<F> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let parts = <(
            web::Data<AppState>,
            CurrentUser,
            web::Path<i64>,
            CsrfForm<F>,
        )>::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let (state, user, id, form) = parts.await?;
            Ok(IdPost {
                req,
                state,
                user,
                id: id.into_inner(),
                form: form.data,
            })
        })
    }
}
