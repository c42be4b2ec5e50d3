//! The one-time setup link that creates the first administrator. There is no default
//! password: at a start with no accounts the server prints this link.

use super::{LinkPage, LinkPost};
use crate::db::AnyConnection;
use crate::routes::html;
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde::Deserialize;

use crate::app::auth::setup_link;
use crate::domain::account::{Email, NewPassword};
use crate::error::AppResult;
use crate::views::components::FieldError;
use crate::views::{self, admin::SetupValues};

/// `GET /admin/setup/{token}`.
pub async fn form(link: LinkPage) -> AppResult<HttpResponse> {
    let ctx = link.ctx();
    if link.look(setup_link::usable).await? {
        Ok(html(
            StatusCode::OK,
            views::admin::setup(&ctx, &link.token, &SetupValues::default(), &[]),
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
/// The link is checked by [`LinkPage::check`] before any password is hashed.
pub async fn submit(post: LinkPost<SetupForm>) -> AppResult<HttpResponse> {
    let ctx = post.link.ctx();
    let invalid = || html(StatusCode::NOT_FOUND, views::admin::setup_invalid(&ctx));
    if !post.link.check(setup_link::check_submission).await? {
        return Ok(invalid());
    }
    let valid = match parse_setup(&post.form) {
        Ok(valid) => valid,
        Err(errors) => {
            let values = SetupValues {
                email: post.form.email.clone(),
                name: post.form.name.clone(),
            };
            return Ok(html(
                StatusCode::BAD_REQUEST,
                views::admin::setup(&ctx, &post.link.token, &values, &errors),
            ));
        }
    };
    let password_hash = super::hash_new_password(valid.password).await?;
    let hash = post.link.hash.clone();
    let create = move |conn: &mut AnyConnection| {
        let admin = setup_link::FirstAdmin {
            email: &valid.email,
            name: &valid.name,
            password_hash: &password_hash,
        };
        setup_link::create_first_admin(conn, &hash, &admin)
    };
    post.link
        .sign_in("first_admin_created", create, invalid)
        .await
}
