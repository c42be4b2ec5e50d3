//! The administration home page.

use actix_web::HttpRequest;
use maud::Markup;

use crate::app::auth::session::CurrentUser;
use crate::domain::account::Role;
use crate::error::AppResult;
use crate::views::{self, PageContext};

/// `GET /admin`: any logged-in role.
pub async fn show(req: HttpRequest, user: CurrentUser) -> AppResult<Markup> {
    user.require(&[Role::Admin, Role::Coordinator, Role::Analyst])?;
    let ctx = PageContext::new(&req, Some(&user));
    Ok(views::admin::dashboard(&ctx, &user.user.name, user.role))
}
