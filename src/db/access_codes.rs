//! Access codes, stored only as keyed hashes. The state says whether a response was started
//! or submitted, never which response it became.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::drafts::DraftRow;
use super::rounds::RoundRow;
use super::schema::{
    access_code_aliases, access_codes, auth_throttle, drafts, round_groups, rounds,
};
use super::throttle::ThrottleRow;
use crate::domain::access_code::{CodeKind, CodeState};

/// A stored access code.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = access_codes)]
pub struct AccessCodeRow {
    /// Row id.
    pub id: i64,
    /// Round.
    pub round_id: i64,
    /// Unit.
    pub unit_id: i64,
    /// Group.
    pub group_id: i64,
    /// How the code reached its respondent (an unknown stored code fails the query).
    #[diesel(deserialize_as = String)]
    pub kind: CodeKind,
    /// How far it has come (an unknown stored code fails the query).
    #[diesel(deserialize_as = String)]
    pub state: CodeState,
    /// After this the code no longer opens the form.
    pub expires_at: Option<NaiveDateTime>,
}

/// Inserts a code hash and returns its id.
#[expect(
    clippy::too_many_arguments,
    reason = "one column each; a struct would only rename them"
)]
pub fn insert(
    conn: &mut AnyConnection,
    round_id: i64,
    unit_id: i64,
    group_id: i64,
    code_hash: &str,
    kind: CodeKind,
    open_link_id: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(access_codes::table)
        .values((
            access_codes::round_id.eq(round_id),
            access_codes::unit_id.eq(unit_id),
            access_codes::group_id.eq(group_id),
            access_codes::code_hash.eq(code_hash),
            access_codes::kind.eq(kind.code()),
            access_codes::open_link_id.eq(open_link_id),
            access_codes::created_at.eq(now),
        ))
        .execute(conn)?;
    access_codes::table
        .filter(access_codes::code_hash.eq(code_hash))
        .select(access_codes::id)
        .get_result(conn)
}

/// The code with this hash: its own first code, or a further one a reminder carried
/// ([`add_alias`]).
pub fn by_hash(conn: &mut AnyConnection, code_hash: &str) -> QueryResult<Option<AccessCodeRow>> {
    let own = access_codes::table
        .filter(access_codes::code_hash.eq(code_hash))
        .select(AccessCodeRow::as_select())
        .get_result(conn)
        .optional()?;
    if own.is_some() {
        return Ok(own);
    }
    access_code_aliases::table
        .inner_join(access_codes::table)
        .filter(access_code_aliases::code_hash.eq(code_hash))
        .select(AccessCodeRow::as_select())
        .get_result(conn)
        .optional()
}

/// What a respondent's request needs of its code, read in one query: the code, its round,
/// the questionnaire of its group in that round, and its draft.
#[derive(Debug, Clone)]
pub struct CodeWithRound {
    /// The code.
    pub code: AccessCodeRow,
    /// Its round.
    pub round: RoundRow,
    /// The questionnaire of the code's group in the round (`None` once the group was taken
    /// out of the round).
    pub instrument_id: Option<i64>,
    /// The draft, once the respondent has started.
    pub draft: Option<DraftRow>,
}

/// The joined query behind [`with_round_and_draft`], before its filter.
macro_rules! code_with_round {
    () => {
        code_with_round!(@tables).select(code_with_round!(@columns))
    };
    (@tables) => {
        access_codes::table
            .inner_join(rounds::table)
            .left_join(
                round_groups::table.on(round_groups::round_id
                    .eq(access_codes::round_id)
                    .and(round_groups::group_id.eq(access_codes::group_id))),
            )
            .left_join(drafts::table)
    };
    (@columns) => {
        (
            AccessCodeRow::as_select(),
            RoundRow::as_select(),
            round_groups::instrument_id.nullable(),
            Option::<DraftRow>::as_select(),
        )
    };
}

/// What [`with_round_and_draft`] reads, as the query returns it.
type Found = (AccessCodeRow, RoundRow, Option<i64>, Option<DraftRow>);

impl From<Found> for CodeWithRound {
    fn from((code, round, instrument_id, draft): Found) -> Self {
        Self {
            code,
            round,
            instrument_id,
            draft,
        }
    }
}

/// The code with this hash (its own or a further one, as [`by_hash`]) with everything a
/// respondent's request needs, in one round trip instead of four: every page of the form
/// asks for it. A further code (rare) costs two more. Not one `hash = ? OR id IN (aliases)`
/// query: PostgreSQL plans that OR as a scan of every code.
pub fn with_round_and_draft(
    conn: &mut AnyConnection,
    code_hash: &str,
) -> QueryResult<Option<CodeWithRound>> {
    let found: Option<Found> = code_with_round!()
        .filter(access_codes::code_hash.eq(code_hash))
        .get_result(conn)
        .optional()?;
    match found {
        Some(found) => Ok(Some(found.into())),
        None => by_further_code(conn, code_hash),
    }
}

/// The code row a further code (an alias) opens, read as [`with_round_and_draft`] reads it.
pub fn by_further_code(
    conn: &mut AnyConnection,
    code_hash: &str,
) -> QueryResult<Option<CodeWithRound>> {
    let aliased: Option<i64> = access_code_aliases::table
        .find(code_hash)
        .select(access_code_aliases::access_code_id)
        .get_result(conn)
        .optional()?;
    let Some(id) = aliased else {
        return Ok(None);
    };
    let found: Option<Found> = code_with_round!()
        .filter(access_codes::id.eq(id))
        .get_result(conn)
        .optional()?;
    Ok(found.map(CodeWithRound::from))
}

/// [`with_round_and_draft`] together with the throttle row stored under `throttle_key`, in
/// the same round trip: every respondent request checks the client's throttle before it
/// looks at the code. The throttle row comes back only with a code the query found; for any
/// other the caller reads it alone (`None` then says nothing about the throttle).
pub fn with_round_draft_and_throttle(
    conn: &mut AnyConnection,
    code_hash: &str,
    throttle_key: &str,
) -> QueryResult<Option<(CodeWithRound, Option<ThrottleRow>)>> {
    type FoundWithThrottle = (
        AccessCodeRow,
        RoundRow,
        Option<i64>,
        Option<DraftRow>,
        Option<ThrottleRow>,
    );
    let found: Option<FoundWithThrottle> = code_with_round!(@tables)
        .left_join(auth_throttle::table.on(auth_throttle::key.eq(throttle_key)))
        .select((
            AccessCodeRow::as_select(),
            RoundRow::as_select(),
            round_groups::instrument_id.nullable(),
            Option::<DraftRow>::as_select(),
            Option::<ThrottleRow>::as_select(),
        ))
        .filter(access_codes::code_hash.eq(code_hash))
        .get_result(conn)
        .optional()?;
    Ok(found.map(|(code, round, instrument_id, draft, throttle)| {
        ((code, round, instrument_id, draft).into(), throttle)
    }))
}

/// Replaces the hash of a code that has not been used (re-issuing a lost code). Every further
/// code of the row stops working too: a reissue is for a code that must no longer open it.
pub fn replace_hash(conn: &mut AnyConnection, id: i64, code_hash: &str) -> QueryResult<usize> {
    let replaced = diesel::update(
        access_codes::table
            .find(id)
            .filter(access_codes::state.ne(CodeState::Used.code())),
    )
    .set(access_codes::code_hash.eq(code_hash))
    .execute(conn)?;
    if replaced == 1 {
        diesel::delete(
            access_code_aliases::table.filter(access_code_aliases::access_code_id.eq(id)),
        )
        .execute(conn)?;
    }
    Ok(replaced)
}

/// Adds a further code that opens the code row `id`, unless the row is used; 1 when added.
/// The earlier codes keep working: they all share the row's state, so using one uses all.
pub fn add_alias(conn: &mut AnyConnection, id: i64, code_hash: &str) -> QueryResult<usize> {
    let open: bool = diesel::select(diesel::dsl::exists(
        access_codes::table
            .find(id)
            .filter(access_codes::state.ne(CodeState::Used.code())),
    ))
    .get_result(conn)?;
    if !open {
        return Ok(0);
    }
    diesel::insert_into(access_code_aliases::table)
        .values((
            access_code_aliases::code_hash.eq(code_hash),
            access_code_aliases::access_code_id.eq(id),
        ))
        .execute(conn)
}

/// Moves a code from one state to another; 0 rows means it was not in `from`.
pub fn set_state(
    conn: &mut AnyConnection,
    id: i64,
    from: CodeState,
    to: CodeState,
) -> QueryResult<usize> {
    diesel::update(
        access_codes::table
            .find(id)
            .filter(access_codes::state.eq(from.code())),
    )
    .set(access_codes::state.eq(to.code()))
    .execute(conn)
}

/// Sets the time after which a code no longer opens the form (codes from public links).
pub fn set_expiry(conn: &mut AnyConnection, id: i64, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(access_codes::table.find(id))
        .set(access_codes::expires_at.eq(Some(at)))
        .execute(conn)
}

/// Responses through a public link: (completed, in progress and not expired at `now`).
pub fn open_link_progress(
    conn: &mut AnyConnection,
    open_link_id: i64,
    now: NaiveDateTime,
) -> QueryResult<(i64, i64)> {
    let completed = access_codes::table
        .filter(access_codes::open_link_id.eq(open_link_id))
        .filter(access_codes::state.eq(CodeState::Used.code()))
        .count()
        .get_result(conn)?;
    let in_progress = access_codes::table
        .filter(access_codes::open_link_id.eq(open_link_id))
        .filter(access_codes::state.eq(CodeState::Started.code()))
        .filter(
            access_codes::expires_at
                .is_null()
                .or(access_codes::expires_at.gt(now)),
        )
        .count()
        .get_result(conn)?;
    Ok((completed, in_progress))
}
