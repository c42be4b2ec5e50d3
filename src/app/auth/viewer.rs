//! Who is looking at results: an anonymous visitor or a staff account (through a session or an
//! API token). Authentication decides it; the results, exports and API ask it what is allowed.

use crate::domain::account::Role;

/// Who is looking. Anonymous visitors see published rounds only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// No session and no token.
    Public,
    /// A logged-in account or an API token's owner.
    Staff {
        /// The account.
        user_id: i64,
        /// Its role.
        role: Role,
    },
}

impl Viewer {
    /// The viewer behind an optional account.
    pub fn of(user: Option<(i64, Role)>) -> Self {
        user.map_or(Viewer::Public, |(user_id, role)| Viewer::Staff {
            user_id,
            role,
        })
    }

    /// Whether the viewer may read unpublished (live) results of the units in scope.
    pub fn sees_live(self) -> bool {
        matches!(self, Viewer::Staff { .. })
    }

    /// Whether the viewer may download microdata (anonymous, but still respondent-level).
    pub fn may_download_microdata(self) -> bool {
        matches!(
            self,
            Viewer::Staff {
                role: Role::Admin | Role::Analyst | Role::Coordinator,
                ..
            }
        )
    }
}
