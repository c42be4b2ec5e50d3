//! The append-only audit log: who did what to which object, with old and new values. The
//! database refuses UPDATE and DELETE on this table (triggers in the initial migration).

use diesel::prelude::*;

use super::AnyConnection;
use super::schema::audit_log;

/// One audit entry to append.
#[derive(Debug, Clone, Default)]
pub struct AuditEntry<'a> {
    /// The acting account, if a logged-in user acted.
    pub actor_user_id: Option<i64>,
    /// A readable actor: an e-mail, `cli`, or `setup-link`.
    pub actor: &'a str,
    /// What happened, as `entity:action`, e.g. `user:create`.
    pub action: &'a str,
    /// The kind of object, e.g. `user`.
    pub entity: &'a str,
    /// The object's id.
    pub entity_id: Option<String>,
    /// JSON of the state before (never secrets).
    pub old_value: Option<String>,
    /// JSON of the state after (never secrets).
    pub new_value: Option<String>,
}

impl<'a> AuditEntry<'a> {
    /// `actor` (and their account, when one acted) did `action` to the `entity` with `id`; the
    /// state before and after are added with [`Self::before`] and [`Self::after`].
    pub fn new(
        actor_user_id: Option<i64>,
        actor: &'a str,
        action: &'a str,
        entity: &'a str,
        id: impl ToString,
    ) -> Self {
        AuditEntry {
            actor_user_id,
            actor,
            action,
            entity,
            entity_id: Some(id.to_string()),
            old_value: None,
            new_value: None,
        }
    }

    /// The entry with the state before (never secrets).
    #[must_use]
    pub fn before(self, state: serde_json::Value) -> Self {
        AuditEntry {
            old_value: Some(state.to_string()),
            ..self
        }
    }

    /// The entry with the state after (never secrets).
    #[must_use]
    pub fn after(self, state: serde_json::Value) -> Self {
        AuditEntry {
            new_value: Some(state.to_string()),
            ..self
        }
    }
}

/// Appends an entry.
pub fn record(conn: &mut AnyConnection, entry: &AuditEntry<'_>) -> QueryResult<usize> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::at.eq(super::now()),
            audit_log::actor_user_id.eq(entry.actor_user_id),
            audit_log::actor.eq(entry.actor),
            audit_log::action.eq(entry.action),
            audit_log::entity.eq(entry.entity),
            audit_log::entity_id.eq(&entry.entity_id),
            audit_log::old_value.eq(&entry.old_value),
            audit_log::new_value.eq(&entry.new_value),
        ))
        .execute(conn)
}

/// How many entries have this action (used by tests and the admin overview).
pub fn count_action(conn: &mut AnyConnection, action: &str) -> QueryResult<i64> {
    audit_log::table
        .filter(audit_log::action.eq(action))
        .count()
        .get_result(conn)
}

/// The id of the latest entry (0 for none): any administrative change moves it.
pub fn latest_id(conn: &mut AnyConnection) -> QueryResult<i64> {
    audit_log::table
        .select(diesel::dsl::max(audit_log::id))
        .first::<Option<i64>>(conn)
        .map(|id| id.unwrap_or(0))
}

/// The new value of the latest entry with this action, if any (tests and the round page read
/// what the last check found).
pub fn latest_new_value(conn: &mut AnyConnection, action: &str) -> QueryResult<Option<String>> {
    audit_log::table
        .filter(audit_log::action.eq(action))
        .order(audit_log::id.desc())
        .select(audit_log::new_value)
        .first::<Option<String>>(conn)
        .optional()
        .map(Option::flatten)
}
