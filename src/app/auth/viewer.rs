//! Who is looking at results: an anonymous visitor or a staff account (through a session or an
//! API token). Authentication decides it; the results, exports and API ask it what is allowed.

use std::collections::BTreeSet;

use crate::db::{self, AnyConnection};
use crate::domain::account::Role;
use crate::error::AppError;

/// The units an account works within, by id: a coordinator's own units, and `None` (every
/// unit) for the other roles. A coordinator without an account id (no such caller today)
/// gets no unit. The one place the rule is written: results, coverage, the roster, the round
/// page, paper keying and field imports all ask it.
pub fn own_units(
    conn: &mut AnyConnection,
    role: Role,
    user_id: Option<i64>,
) -> diesel::QueryResult<Option<BTreeSet<i64>>> {
    if role != Role::Coordinator {
        return Ok(None);
    }
    let ids = match user_id {
        Some(id) => db::users::unit_ids(conn, id)?,
        None => Vec::new(),
    };
    Ok(Some(ids.into_iter().collect()))
}

/// A signed-in account reading a staff page (the round page, the respondents page): who it is
/// and its role, which decides the units it works within.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaffViewer {
    /// The account.
    pub user_id: i64,
    /// Its role: a coordinator sees and counts only their own units.
    pub role: Role,
}

impl StaffViewer {
    /// The units it works within (see [`own_units`]); `None` for every unit.
    pub fn own_units(self, conn: &mut AnyConnection) -> diesel::QueryResult<Option<BTreeSet<i64>>> {
        own_units(conn, self.role, Some(self.user_id))
    }
}

/// Which units a viewer may see in a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every unit.
    All,
    /// Only these unit codes (a coordinator's units).
    Only(BTreeSet<String>),
}

impl Scope {
    /// Whether the unit with this code is in scope.
    pub fn includes(&self, unit: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Only(codes) => codes.contains(unit),
        }
    }
}

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

    /// The unit codes the viewer may see in live results: a coordinator those of their own
    /// units (see [`own_units`]), everyone else (other staff, and the public in a published
    /// round) all of them. Live results, the dashboard's fieldwork panel and exports ask it.
    pub fn scope(self, conn: &mut AnyConnection) -> Result<Scope, AppError> {
        let Viewer::Staff { user_id, role } = self else {
            return Ok(Scope::All);
        };
        match own_units(conn, role, Some(user_id))? {
            None => Ok(Scope::All),
            Some(ids) => {
                let ids: Vec<i64> = ids.into_iter().collect();
                Ok(Scope::Only(
                    db::units::codes_of(conn, &ids)?.into_iter().collect(),
                ))
            }
        }
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
