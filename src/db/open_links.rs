//! Open links: one public link per round × unit × group, with a quota of completed responses.

use diesel::prelude::*;

use super::AnyConnection;
use super::schema::open_links;

/// A stored open link.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = open_links)]
pub struct OpenLinkRow {
    /// Row id.
    pub id: i64,
    /// Round.
    pub round_id: i64,
    /// Unit.
    pub unit_id: i64,
    /// Group.
    pub group_id: i64,
    /// Completed responses allowed.
    pub quota: i32,
    /// Codes handed out (a statistic).
    pub issued: i32,
    /// Switched on.
    pub active: bool,
}

/// Creates the link of a unit × group, or updates its quota; `token_hash_for` computes the
/// stored hash from the new row's id. Returns the id.
pub fn upsert(
    conn: &mut AnyConnection,
    round_id: i64,
    unit_id: i64,
    group_id: i64,
    quota: i32,
    token_hash_for: impl Fn(i64) -> String,
) -> QueryResult<i64> {
    let existing: Option<i64> = open_links::table
        .filter(open_links::round_id.eq(round_id))
        .filter(open_links::unit_id.eq(unit_id))
        .filter(open_links::group_id.eq(group_id))
        .select(open_links::id)
        .first(conn)
        .optional()?;
    if let Some(id) = existing {
        diesel::update(open_links::table.find(id))
            .set((open_links::quota.eq(quota), open_links::active.eq(true)))
            .execute(conn)?;
        return Ok(id);
    }
    // The token derives from the id, which exists only after the insert: insert with a
    // placeholder hash, then set the real one.
    let placeholder = format!("pending:{round_id}:{unit_id}:{group_id}");
    diesel::insert_into(open_links::table)
        .values((
            open_links::round_id.eq(round_id),
            open_links::unit_id.eq(unit_id),
            open_links::group_id.eq(group_id),
            open_links::token_hash.eq(&placeholder),
            open_links::quota.eq(quota),
            open_links::created_at.eq(super::now()),
        ))
        .execute(conn)?;
    let id: i64 = open_links::table
        .filter(open_links::token_hash.eq(&placeholder))
        .select(open_links::id)
        .first(conn)?;
    diesel::update(open_links::table.find(id))
        .set(open_links::token_hash.eq(token_hash_for(id)))
        .execute(conn)?;
    Ok(id)
}

/// The link with this token hash.
pub fn by_token_hash(conn: &mut AnyConnection, hash: &str) -> QueryResult<Option<OpenLinkRow>> {
    open_links::table
        .filter(open_links::token_hash.eq(hash))
        .select(OpenLinkRow::as_select())
        .first(conn)
        .optional()
}

/// Counts one more code handed out through the link (a statistic; the quota counts
/// completed responses).
pub fn count_handed_out(conn: &mut AnyConnection, id: i64) -> QueryResult<usize> {
    diesel::update(open_links::table.find(id))
        .set(open_links::issued.eq(open_links::issued + 1))
        .execute(conn)
}

/// The links of a round.
pub fn of_round(conn: &mut AnyConnection, round_id: i64) -> QueryResult<Vec<OpenLinkRow>> {
    open_links::table
        .filter(open_links::round_id.eq(round_id))
        .order(open_links::id)
        .select(OpenLinkRow::as_select())
        .load(conn)
}
