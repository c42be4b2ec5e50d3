//! The one-time setup link that creates the first administrator. There is no default
//! password: at a start with no accounts the server prints this link.

use super::{link_get, link_post};
use crate::routes::html;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::app::auth::csrf::CsrfForm;
use crate::app::auth::setup_link;
use crate::app::state::AppState;
use crate::domain::account::{Email, NewPassword};
use crate::error::AppResult;
use crate::views::components::FieldError;
use crate::views::{self, PageContext, admin::SetupValues};

/// `GET /admin/setup/{token}`.
pub async fn form(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    let ctx = PageContext::new(&req, None);
    let (token, usable) = link_get(&state, token, setup_link::usable).await?;
    if usable {
        Ok(html(
            StatusCode::OK,
            views::admin::setup(&ctx, &token, &SetupValues::default(), &[]),
        ))
    } else {
        Ok(html(
            StatusCode::NOT_FOUND,
            views::admin::setup_invalid(&ctx),
        ))
    }
}

/// The setup form.
#[derive(Debug, Deserialize)]
pub struct SetupForm {
    name: String,
    email: String,
    password: String,
    password_confirm: String,
}

struct ValidSetup {
    name: String,
    email: Email,
    password: NewPassword,
}

fn parse_setup(form: &SetupForm) -> Result<ValidSetup, Vec<FieldError>> {
    let mut errors = Vec::new();
    let person = super::name_and_email(&form.name, &form.email, &mut errors);
    let password = super::new_password(&form.password, &form.password_confirm)
        .map_err(|e| errors.push(e))
        .ok();
    match (person, password) {
        (Some((name, email)), Some(password)) if errors.is_empty() => Ok(ValidSetup {
            name,
            email,
            password,
        }),
        _ => Err(errors),
    }
}

/// `POST /admin/setup/{token}`: creates the first administrator and logs them in.
/// The link is checked by [`super::link_post`] before any password is hashed.
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: CsrfForm<SetupForm>,
) -> AppResult<HttpResponse> {
    let ctx = PageContext::new(&req, None);
    let (token, hash, usable) =
        link_post(&req, &state, token, setup_link::check_submission).await?;
    if !usable {
        return Ok(html(
            StatusCode::NOT_FOUND,
            views::admin::setup_invalid(&ctx),
        ));
    }
    let valid = match parse_setup(&form.data) {
        Ok(valid) => valid,
        Err(errors) => {
            let values = SetupValues {
                email: form.data.email.clone(),
                name: form.data.name.clone(),
            };
            return Ok(html(
                StatusCode::BAD_REQUEST,
                views::admin::setup(&ctx, &token, &values, &errors),
            ));
        }
    };
    let password_hash = super::hash_new_password(valid.password).await?;

    let created = state
        .db(move |conn| {
            let admin = setup_link::FirstAdmin {
                email: &valid.email,
                name: &valid.name,
                password_hash: &password_hash,
            };
            setup_link::create_first_admin(conn, &hash, &admin)
        })
        .await?;

    match created {
        Some(session_token) => {
            tracing::info!(
                event = "first_admin_created",
                "the first administrator was created"
            );
            Ok(super::signed_in(&state, &session_token, "/admin"))
        }
        None => Ok(html(
            StatusCode::NOT_FOUND,
            views::admin::setup_invalid(&ctx),
        )),
    }
}
