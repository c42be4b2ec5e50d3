//! The pages of a one-time link (the setup link, an account's password link): what a visit
//! and a post to `…/{token}` bring their handler, and how a sign-in through the link ends.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use futures_util::future::LocalBoxFuture;

use crate::app::auth::csrf::CsrfForm;
use crate::app::auth::tokens::hash_token;
use crate::app::state::AppState;
use crate::db::AnyConnection;
use crate::error::AppResult;
use crate::views::PageContext;

/// A visit to a one-time link's page: the request, the state, and the token from the path
/// with the hash by which the link is stored.
pub struct LinkPage {
    /// The request.
    pub req: HttpRequest,
    state: web::Data<AppState>,
    /// The token, as the link carries it.
    pub token: String,
    /// Its hash, by which the link is stored.
    pub hash: String,
}

impl LinkPage {
    /// The page's context (a link's pages are for someone not signed in).
    pub fn ctx(&self) -> PageContext {
        PageContext::new(&self.req, None)
    }

    /// What `look` says of the link, for showing its page.
    pub async fn look<T, L>(&self, look: L) -> AppResult<T>
    where
        L: FnOnce(&mut AnyConnection, &str) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let hash = self.hash.clone();
        self.state.db(move |conn| look(conn, &hash)).await
    }

    /// What `check` says of the link, for a post to it. `check` counts the post against the
    /// sender's address and runs before any password is hashed: guessing links costs a
    /// database lookup, never a 19 MiB hash.
    pub async fn check<T, C>(&self, check: C) -> AppResult<T>
    where
        C: FnOnce(&mut AnyConnection, &str, &str) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let hash = self.hash.clone();
        let client_ip = crate::routes::client_ip(&self.req, &self.state.settings);
        self.state
            .db(move |conn| check(conn, &hash, &client_ip))
            .await
    }

    /// Runs `work` (which spends the link and opens a session) in the database pool, and
    /// ends as every sign-in through a link does: signed in, with `event` logged, or
    /// `otherwise` when another submission used the link first (or it ran out meanwhile).
    pub async fn sign_in<W>(
        &self,
        event: &'static str,
        work: W,
        otherwise: impl FnOnce() -> HttpResponse,
    ) -> AppResult<HttpResponse>
    where
        W: FnOnce(&mut AnyConnection) -> AppResult<Option<String>> + Send + 'static,
    {
        match self.state.db(work).await? {
            Some(session_token) => {
                tracing::info!(event, "signed in through a one-time link");
                Ok(super::signed_in(&self.state, &session_token, "/admin"))
            }
            None => Ok(otherwise()),
        }
    }
}

impl FromRequest for LinkPage {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let parts = <(web::Data<AppState>, web::Path<String>)>::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let (state, token) = parts.await?;
            let token = token.into_inner();
            Ok(LinkPage {
                req,
                state,
                hash: hash_token(&token),
                token,
            })
        })
    }
}

/// A post to a one-time link's page: the link as [`LinkPage`] has it, and the form `F`, its
/// CSRF token checked.
pub struct LinkPost<F> {
    /// The link.
    pub link: LinkPage,
    /// The form.
    pub form: F,
}

impl<F: serde::de::DeserializeOwned + 'static> FromRequest for LinkPost<F> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let parts = <(LinkPage, CsrfForm<F>)>::from_request(req, payload);
        Box::pin(async move {
            let (link, form) = parts.await?;
            Ok(LinkPost {
                link,
                form: form.data,
            })
        })
    }
}
