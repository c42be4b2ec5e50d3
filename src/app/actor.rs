//! Who performs a use case: the account (if any), a readable name for the audit log, and the
//! role its permissions are checked against.

use crate::domain::account::Role;

/// Who acts, for permissions and the audit log. Every use case that changes stored data takes
/// one, so the audit entry and the permission check read the same identity.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    /// The account, when a logged-in user acts.
    pub user_id: Option<i64>,
    /// A readable name: an e-mail, or `cli`, `demo`, `bundled` for the service itself.
    pub label: &'a str,
    /// The account's role; the service itself acts as an administrator.
    pub role: Role,
}

impl<'a> Actor<'a> {
    /// The service acting on its own behalf (command line, bundled files, demo data): no
    /// account, an administrator's permissions, and `label` in the audit log.
    pub const fn service(label: &'a str) -> Self {
        Actor {
            user_id: None,
            label,
            role: Role::Admin,
        }
    }
}
