//! Counts behind the coverage page: per unit × group, targets, respondents, invitations,
//! started and completed. Each is one grouped query, so the page costs the same with 100 or
//! 100,000 respondents.

use diesel::dsl::count_star;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::{access_codes, respondents, response_counts};
use crate::domain::access_code::{CodeKind, CodeState};

/// (unit, group, count) rows.
pub type Counts = Vec<(i64, i64, i64)>;

/// Respondents per unit × group.
pub fn respondents(conn: &mut AnyConnection, round_id: i64) -> QueryResult<Counts> {
    respondents::table
        .filter(respondents::round_id.eq(round_id))
        .group_by((respondents::unit_id, respondents::group_id))
        .select((respondents::unit_id, respondents::group_id, count_star()))
        .load(conn)
}

/// Invitations (codes handed to listed respondents) per unit × group: every invitation has
/// exactly one `invitation` access code, which an index counts without a join.
pub fn invited(conn: &mut AnyConnection, round_id: i64) -> QueryResult<Counts> {
    access_codes::table
        .filter(access_codes::round_id.eq(round_id))
        .filter(access_codes::kind.eq(CodeKind::Invitation.code()))
        .group_by((access_codes::unit_id, access_codes::group_id))
        .select((access_codes::unit_id, access_codes::group_id, count_star()))
        .load(conn)
}

/// Codes with a response started or submitted, per unit × group.
pub fn started(conn: &mut AnyConnection, round_id: i64) -> QueryResult<Counts> {
    access_codes::table
        .filter(access_codes::round_id.eq(round_id))
        .filter(access_codes::state.eq_any([CodeState::Started.code(), CodeState::Used.code()]))
        .group_by((access_codes::unit_id, access_codes::group_id))
        .select((access_codes::unit_id, access_codes::group_id, count_star()))
        .load(conn)
}

/// Completed responses per unit × group (the live count kept by the submit transaction).
pub fn completed(conn: &mut AnyConnection, round_id: i64) -> QueryResult<Counts> {
    response_counts::table
        .filter(response_counts::round_id.eq(round_id))
        .select((
            response_counts::unit_id,
            response_counts::group_id,
            response_counts::responses,
        ))
        .load(conn)
}
