//! The administration home page.

use maud::Markup;

use crate::error::AppResult;
use crate::routes::{AnyRole, Staff};
use crate::views::{self, PageContext};

/// `GET /admin`: any logged-in role.
pub async fn show(Staff(req, _, user, ..): Staff<AnyRole>) -> AppResult<Markup> {
    let ctx = PageContext::new(&req, Some(&user));
    Ok(views::admin::dashboard(&ctx, &user.user.name, user.role))
}
