//! Samples of respondents (docs/sampling.md): a round's commitment, its units × groups with
//! their sizes and hashes, and the committed frame with each member's place in the draw.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::{respondent_groups, sample_commitments, sample_members, sample_strata, units};
use crate::domain::access_code::CodeState;
use crate::domain::sampling::{ReplacementReason, SlotStatus};

/// A round's commitment, and its draw once made.
#[derive(Debug, Clone, Queryable)]
pub struct CommitmentRow {
    /// Round.
    pub round_id: i64,
    /// Hash of the whole frame.
    pub frame_hash: String,
    /// Where the seed comes from, as committed.
    pub seed_source: String,
    /// When it was committed.
    pub committed_at: NaiveDateTime,
    /// Who committed it.
    pub committed_by: String,
    /// The seed, once the draw is made.
    pub seed: Option<String>,
    /// When the draw was made.
    pub drawn_at: Option<NaiveDateTime>,
    /// Who made it.
    pub drawn_by: Option<String>,
}

/// The commitment of a round, if any.
pub fn commitment(conn: &mut AnyConnection, round_id: i64) -> QueryResult<Option<CommitmentRow>> {
    sample_commitments::table
        .find(round_id)
        .first(conn)
        .optional()
}

/// Stores a commitment.
pub fn insert_commitment(
    conn: &mut AnyConnection,
    round_id: i64,
    frame_hash: &str,
    seed_source: &str,
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(sample_commitments::table)
        .values((
            sample_commitments::round_id.eq(round_id),
            sample_commitments::frame_hash.eq(frame_hash),
            sample_commitments::seed_source.eq(seed_source),
            sample_commitments::committed_at.eq(now),
            sample_commitments::committed_by.eq(by),
        ))
        .execute(conn)
}

/// Records the draw's seed, time and author; returns 0 when the round was already drawn.
pub fn record_draw(
    conn: &mut AnyConnection,
    round_id: i64,
    seed: &str,
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        sample_commitments::table
            .find(round_id)
            .filter(sample_commitments::seed.is_null()),
    )
    .set((
        sample_commitments::seed.eq(seed),
        sample_commitments::drawn_at.eq(now),
        sample_commitments::drawn_by.eq(by),
    ))
    .execute(conn)
}

/// One committed unit × group.
#[derive(Debug, Clone, Queryable)]
pub struct StratumRow {
    /// Row id.
    pub id: i64,
    /// Unit id.
    pub unit_id: i64,
    /// Unit code.
    pub unit_code: String,
    /// Group id.
    pub group_id: i64,
    /// Group code.
    pub group_code: String,
    /// Respondents in the frame.
    pub frame_size: i64,
    /// Sample size committed.
    pub sample_size: i64,
    /// The unit × group's hash.
    pub frame_hash: String,
}

/// Stores a unit × group of a commitment and returns its id.
pub fn insert_stratum(
    conn: &mut AnyConnection,
    round_id: i64,
    unit_id: i64,
    group_id: i64,
    frame_size: i64,
    sample_size: i64,
    frame_hash: &str,
) -> QueryResult<i64> {
    diesel::insert_into(sample_strata::table)
        .values((
            sample_strata::round_id.eq(round_id),
            sample_strata::unit_id.eq(unit_id),
            sample_strata::group_id.eq(group_id),
            sample_strata::frame_size.eq(frame_size),
            sample_strata::sample_size.eq(sample_size),
            sample_strata::frame_hash.eq(frame_hash),
        ))
        .execute(conn)?;
    sample_strata::table
        .filter(sample_strata::round_id.eq(round_id))
        .filter(sample_strata::unit_id.eq(unit_id))
        .filter(sample_strata::group_id.eq(group_id))
        .select(sample_strata::id)
        .first(conn)
}

/// The committed units × groups of a round, in byte order of unit code, then group code.
pub fn strata(conn: &mut AnyConnection, round_id: i64) -> QueryResult<Vec<StratumRow>> {
    let mut rows: Vec<StratumRow> = sample_strata::table
        .inner_join(units::table)
        .inner_join(respondent_groups::table)
        .filter(sample_strata::round_id.eq(round_id))
        .select((
            sample_strata::id,
            sample_strata::unit_id,
            units::code,
            sample_strata::group_id,
            respondent_groups::code,
            sample_strata::frame_size,
            sample_strata::sample_size,
            sample_strata::frame_hash,
        ))
        .load(conn)?;
    // Sorted here: the databases' collations need not be byte order.
    rows.sort_by(|a, b| (&a.unit_code, &a.group_code).cmp(&(&b.unit_code, &b.group_code)));
    Ok(rows)
}

/// Stores the committed members of a unit × group: `(respondent id, respondent key)`.
pub fn insert_members(
    conn: &mut AnyConnection,
    stratum_id: i64,
    members: &[(i64, &str)],
) -> QueryResult<usize> {
    // One statement per row: the multi-backend connection has no batch insert for SQLite.
    let mut inserted = 0;
    for (respondent, key) in members {
        inserted += diesel::insert_into(sample_members::table)
            .values((
                sample_members::stratum_id.eq(stratum_id),
                sample_members::respondent_id.eq(Some(*respondent)),
                sample_members::respondent_key.eq(*key),
            ))
            .execute(conn)?;
    }
    Ok(inserted)
}

/// A committed member of a unit × group.
#[derive(Debug, Clone, Queryable)]
pub struct MemberRow {
    /// Row id.
    pub id: i64,
    /// The respondent, unless deleted from the list since.
    pub respondent_id: Option<i64>,
    /// The key the draw hashed.
    pub respondent_key: String,
    /// Place in drawn order (from 0), once drawn.
    pub position: Option<i64>,
    /// `frame`, `sampled`, `reserve` or `replaced`.
    pub status: String,
    /// Why a replaced member was replaced.
    pub reason: Option<String>,
}

/// How a drawn member's status is stored: `sampled`, `reserve` or `replaced` (with the reason
/// in its own column). A committed member not yet drawn is stored as `frame`.
fn status_code(status: SlotStatus) -> &'static str {
    match status {
        SlotStatus::Sampled => "sampled",
        SlotStatus::Reserve => "reserve",
        SlotStatus::Replaced(_) => "replaced",
    }
}

/// A stored member status read back; unknown stored text is an error, never a default.
fn read_status(status: &str, reason: Option<&str>) -> QueryResult<SlotStatus> {
    let unknown = || {
        diesel::result::Error::DeserializationError(
            format!("unknown stored sample member status {status:?} ({reason:?})").into(),
        )
    };
    Ok(match (status, reason) {
        ("sampled", _) => SlotStatus::Sampled,
        ("reserve", _) => SlotStatus::Reserve,
        ("replaced", Some(reason)) => {
            SlotStatus::Replaced(ReplacementReason::parse(reason).ok_or_else(unknown)?)
        }
        _ => return Err(unknown()),
    })
}

impl MemberRow {
    /// Where the member stands in the draw; an error for a member not drawn yet.
    pub fn slot_status(&self) -> QueryResult<SlotStatus> {
        read_status(&self.status, self.reason.as_deref())
    }
}

/// How the drawn members of one unit × group stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrawnCounts {
    /// In the sample now (drawn, or called up from the reserve).
    pub sampled: usize,
    /// Still in the reserve.
    pub reserve: usize,
    /// Replaced, whatever the reason.
    pub replaced: usize,
}

/// The drawn members of every unit × group of a round, counted by status in one grouped
/// query (keyed by stratum id; members not drawn yet are not counted).
pub fn drawn_counts(
    conn: &mut AnyConnection,
    round_id: i64,
) -> QueryResult<std::collections::BTreeMap<i64, DrawnCounts>> {
    use diesel::dsl::count_star;
    let rows: Vec<(i64, String, i64)> = sample_members::table
        .inner_join(sample_strata::table)
        .filter(sample_strata::round_id.eq(round_id))
        .filter(sample_members::status.ne("frame"))
        .group_by((sample_members::stratum_id, sample_members::status))
        .select((
            sample_members::stratum_id,
            sample_members::status,
            count_star(),
        ))
        .load(conn)?;
    let mut out = std::collections::BTreeMap::<i64, DrawnCounts>::new();
    for (stratum, status, n) in rows {
        let counts = out.entry(stratum).or_default();
        let n = usize::try_from(n).unwrap_or(0);
        // The reason does not matter for a count; any stored reason reads as a replacement.
        match read_status(&status, Some(ReplacementReason::Refused.code()))? {
            SlotStatus::Sampled => counts.sampled += n,
            SlotStatus::Reserve => counts.reserve += n,
            SlotStatus::Replaced(_) => counts.replaced += n,
        }
    }
    Ok(out)
}

/// The members of a unit × group: in drawn order once drawn, else as committed.
pub fn members(conn: &mut AnyConnection, stratum_id: i64) -> QueryResult<Vec<MemberRow>> {
    sample_members::table
        .filter(sample_members::stratum_id.eq(stratum_id))
        .order((sample_members::position, sample_members::id))
        .select((
            sample_members::id,
            sample_members::respondent_id,
            sample_members::respondent_key,
            sample_members::position,
            sample_members::status,
            sample_members::reason,
        ))
        .load(conn)
}

/// Places a member in the draw.
pub fn set_drawn(
    conn: &mut AnyConnection,
    member_id: i64,
    position: i64,
    status: SlotStatus,
) -> QueryResult<usize> {
    diesel::update(sample_members::table.find(member_id))
        .set((
            sample_members::position.eq(Some(position)),
            sample_members::status.eq(status_code(status)),
        ))
        .execute(conn)
}

/// Changes a drawn member's status (with the reason and time of a replacement).
pub fn set_status(
    conn: &mut AnyConnection,
    member_id: i64,
    status: SlotStatus,
    at: Option<NaiveDateTime>,
) -> QueryResult<usize> {
    let reason = match status {
        SlotStatus::Replaced(reason) => Some(reason.code()),
        SlotStatus::Sampled | SlotStatus::Reserve => None,
    };
    diesel::update(sample_members::table.find(member_id))
        .set((
            sample_members::status.eq(status_code(status)),
            sample_members::reason.eq(reason),
            sample_members::replaced_at.eq(at),
        ))
        .execute(conn)
}

/// The respondents of a round in its sample (drawn, or called up from the reserve), per the
/// stratum they belong to: `(respondent id, unit id, group id)`.
pub fn sampled_respondents(
    conn: &mut AnyConnection,
    round_id: i64,
) -> QueryResult<Vec<(i64, i64, i64)>> {
    let status = status_code(SlotStatus::Sampled);
    sample_members::table
        .inner_join(sample_strata::table)
        .filter(sample_strata::round_id.eq(round_id))
        .filter(sample_members::status.eq(status))
        .filter(sample_members::respondent_id.is_not_null())
        .select((
            sample_members::respondent_id.assume_not_null(),
            sample_strata::unit_id,
            sample_strata::group_id,
        ))
        .load(conn)
}

/// The stratum and member row of a respondent in a round's sample, if committed.
pub fn member_of(
    conn: &mut AnyConnection,
    round_id: i64,
    respondent_id: i64,
) -> QueryResult<Option<(i64, i64)>> {
    sample_members::table
        .inner_join(sample_strata::table)
        .filter(sample_strata::round_id.eq(round_id))
        .filter(sample_members::respondent_id.eq(respondent_id))
        .select((sample_strata::id, sample_members::id))
        .first(conn)
        .optional()
}

/// How many invitations (codes given to listed respondents) a round has.
pub fn invitations_in_round(conn: &mut AnyConnection, round_id: i64) -> QueryResult<i64> {
    use super::schema::{invitations, respondents};
    invitations::table
        .inner_join(respondents::table)
        .filter(respondents::round_id.eq(round_id))
        .count()
        .get_result(conn)
}

/// One member of a round's sample as response rates need it: unit, group, status, reason and
/// the state of their access code (when they hold one).
pub type OutcomeRow = (i64, i64, SlotStatus, Option<CodeState>);

/// Every sampled or replaced member of a round with the state of their code.
pub fn outcomes(conn: &mut AnyConnection, round_id: i64) -> QueryResult<Vec<OutcomeRow>> {
    use super::schema::{access_codes, invitations, respondents};
    sample_members::table
        .inner_join(sample_strata::table)
        .left_join(respondents::table.left_join(invitations::table.left_join(access_codes::table)))
        .filter(sample_strata::round_id.eq(round_id))
        .filter(sample_members::status.eq_any([
            status_code(SlotStatus::Sampled),
            status_code(SlotStatus::Replaced(ReplacementReason::Refused)),
        ]))
        .select((
            sample_strata::unit_id,
            sample_strata::group_id,
            sample_members::status,
            sample_members::reason,
            access_codes::state.nullable(),
        ))
        .load::<(i64, i64, String, Option<String>, Option<String>)>(conn)?
        .into_iter()
        .map(|(unit, group, status, reason, code)| {
            let code = code
                .map(|c| {
                    c.parse::<CodeState>().map_err(|e| {
                        diesel::result::Error::DeserializationError(
                            format!("unknown stored code state {c:?}: {e}").into(),
                        )
                    })
                })
                .transpose()?;
            Ok((unit, group, read_status(&status, reason.as_deref())?, code))
        })
        .collect()
}

/// The members of a unit × group in drawn order with the names they are listed under:
/// `(member, respondent name when still listed)`.
pub fn members_with_names(
    conn: &mut AnyConnection,
    round_id: i64,
    stratum_id: i64,
) -> QueryResult<Vec<(MemberRow, Option<String>)>> {
    use super::schema::respondents;
    sample_members::table
        .inner_join(sample_strata::table)
        .left_join(respondents::table)
        .filter(sample_strata::round_id.eq(round_id))
        .filter(sample_members::stratum_id.eq(stratum_id))
        .order((sample_members::position, sample_members::id))
        .select((
            (
                sample_members::id,
                sample_members::respondent_id,
                sample_members::respondent_key,
                sample_members::position,
                sample_members::status,
                sample_members::reason,
            ),
            respondents::name.nullable(),
        ))
        .load(conn)
}
