//! Respondents (the people invited) and their invitations. Together with the mail outbox this
//! is the only place personal data lives; responses never point here.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::{access_codes, invitations, respondents};

/// A new respondent.
#[derive(Debug, Insertable)]
#[diesel(table_name = respondents)]
pub struct NewRespondent<'a> {
    /// Round.
    pub round_id: i64,
    /// Unit.
    pub unit_id: i64,
    /// Group.
    pub group_id: i64,
    /// Full name.
    pub name: &'a str,
    /// Lower-cased e-mail.
    pub email: Option<&'a str>,
    /// Phone.
    pub phone: Option<&'a str>,
    /// Job title.
    pub position: Option<&'a str>,
    /// Administrative level.
    pub level: Option<&'a str>,
    /// Import time.
    pub created_at: NaiveDateTime,
}

/// A respondent who can be given a code, with what mailing needs.
#[derive(Debug, Clone, Queryable)]
pub struct Invitee {
    /// Respondent id.
    pub respondent_id: i64,
    /// Unit id.
    pub unit_id: i64,
    /// Group id.
    pub group_id: i64,
    /// Full name.
    pub name: String,
    /// E-mail.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Opted out of e-mail.
    pub opted_out: bool,
}

/// Inserts respondents.
pub fn insert_all(conn: &mut AnyConnection, new: &[NewRespondent<'_>]) -> QueryResult<usize> {
    let mut inserted = 0;
    for respondent in new {
        inserted += diesel::insert_into(respondents::table)
            .values(respondent)
            .execute(conn)?;
    }
    Ok(inserted)
}

/// E-mail addresses already in the round (lower-cased).
pub fn emails_in_round(conn: &mut AnyConnection, round_id: i64) -> QueryResult<Vec<String>> {
    respondents::table
        .filter(respondents::round_id.eq(round_id))
        .filter(respondents::email.is_not_null())
        .select(respondents::email.assume_not_null())
        .load(conn)
}

/// How many respondents a round has.
pub fn count_in_round(conn: &mut AnyConnection, round_id: i64) -> QueryResult<i64> {
    respondents::table
        .filter(respondents::round_id.eq(round_id))
        .count()
        .get_result(conn)
}

/// Respondents of a round who have no invitation (no code) yet, optionally only those with an
/// e-mail address, optionally of one unit.
pub fn without_invitation(
    conn: &mut AnyConnection,
    round_id: i64,
    with_email_only: bool,
    unit_id: Option<i64>,
) -> QueryResult<Vec<Invitee>> {
    let mut query = respondents::table
        .left_join(invitations::table)
        .filter(respondents::round_id.eq(round_id))
        .filter(invitations::id.is_null())
        .into_boxed();
    if with_email_only {
        query = query
            .filter(respondents::email.is_not_null())
            .filter(respondents::opted_out.eq(false));
    }
    if let Some(unit) = unit_id {
        query = query.filter(respondents::unit_id.eq(unit));
    }
    query
        .order(respondents::id)
        .select((
            respondents::id,
            respondents::unit_id,
            respondents::group_id,
            respondents::name,
            respondents::email,
            respondents::phone,
            respondents::opted_out,
        ))
        .load(conn)
}

/// Links a respondent to their access code and returns the invitation's id.
pub fn insert_invitation(
    conn: &mut AnyConnection,
    respondent_id: i64,
    access_code_id: i64,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(invitations::table)
        .values((
            invitations::respondent_id.eq(respondent_id),
            invitations::access_code_id.eq(access_code_id),
            invitations::created_at.eq(now),
        ))
        .execute(conn)?;
    invitations::table
        .filter(invitations::respondent_id.eq(respondent_id))
        .select(invitations::id)
        .first(conn)
}

/// An invitation's state, for deciding reminders.
#[derive(Debug, Clone, Queryable)]
pub struct InvitationStatus {
    /// Invitation id.
    pub invitation_id: i64,
    /// Respondent id.
    pub respondent_id: i64,
    /// Access code id.
    pub access_code_id: i64,
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: Option<String>,
    /// Opted out.
    pub opted_out: bool,
    /// When the invitation was mailed.
    pub invited_at: Option<NaiveDateTime>,
    /// Reminders so far.
    pub reminders_sent: i32,
    /// Last reminder.
    pub last_reminded_at: Option<NaiveDateTime>,
    /// How far its access code has come (an unknown stored code fails the query).
    #[diesel(deserialize_as = String)]
    pub code_state: crate::domain::access_code::CodeState,
}

/// Every invitation of a round with what reminder decisions need.
pub fn invitation_statuses(
    conn: &mut AnyConnection,
    round_id: i64,
) -> QueryResult<Vec<InvitationStatus>> {
    invitations::table
        .inner_join(respondents::table)
        .inner_join(access_codes::table)
        .filter(respondents::round_id.eq(round_id))
        .order(invitations::id)
        .select((
            invitations::id,
            respondents::id,
            access_codes::id,
            respondents::name,
            respondents::email,
            respondents::opted_out,
            invitations::invited_at,
            invitations::reminders_sent,
            invitations::last_reminded_at,
            access_codes::state,
        ))
        .load(conn)
}

/// Records that the invitation e-mail was queued.
pub fn mark_invited(
    conn: &mut AnyConnection,
    invitation_id: i64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(invitations::table.find(invitation_id))
        .set(invitations::invited_at.eq(Some(now)))
        .execute(conn)
}

/// Records a queued reminder.
pub fn mark_reminded(
    conn: &mut AnyConnection,
    invitation_id: i64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(invitations::table.find(invitation_id))
        .set((
            invitations::reminders_sent.eq(invitations::reminders_sent + 1),
            invitations::last_reminded_at.eq(Some(now)),
        ))
        .execute(conn)
}

/// Records that the respondent behind an invitation asked for no more e-mail; returns false
/// when there is no such invitation.
pub fn opt_out_by_invitation(conn: &mut AnyConnection, invitation_id: i64) -> QueryResult<bool> {
    let respondent: Option<i64> = invitations::table
        .find(invitation_id)
        .select(invitations::respondent_id)
        .first(conn)
        .optional()?;
    let Some(respondent) = respondent else {
        return Ok(false);
    };
    diesel::update(respondents::table.find(respondent))
        .set(respondents::opted_out.eq(true))
        .execute(conn)?;
    Ok(true)
}

/// A listed respondent who holds an access code, for reissuing it.
#[derive(Debug, Clone, Queryable)]
pub struct CodeHolder {
    /// Respondent id.
    pub respondent_id: i64,
    /// Unit id.
    pub unit_id: i64,
    /// Group id.
    pub group_id: i64,
    /// Full name.
    pub name: String,
    /// E-mail.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Invitation id.
    pub invitation_id: i64,
    /// Access code id.
    pub access_code_id: i64,
    /// How far the code has come (an unknown stored code fails the query).
    #[diesel(deserialize_as = String)]
    pub code_state: crate::domain::access_code::CodeState,
}

/// Which code holders of a round to list.
#[derive(Debug, Clone, Default)]
pub struct HolderFilter {
    /// Only these respondents (when set).
    pub respondent_ids: Option<Vec<i64>>,
    /// Only this unit.
    pub unit_id: Option<i64>,
    /// Only this group.
    pub group_id: Option<i64>,
}

/// Respondents of a round who hold an access code, in list order.
pub fn code_holders(
    conn: &mut AnyConnection,
    round_id: i64,
    filter: &HolderFilter,
) -> QueryResult<Vec<CodeHolder>> {
    let mut query = respondents::table
        .inner_join(invitations::table.inner_join(access_codes::table))
        .filter(respondents::round_id.eq(round_id))
        .into_boxed();
    if let Some(ids) = &filter.respondent_ids {
        query = query.filter(respondents::id.eq_any(ids.clone()));
    }
    if let Some(unit) = filter.unit_id {
        query = query.filter(respondents::unit_id.eq(unit));
    }
    if let Some(group) = filter.group_id {
        query = query.filter(respondents::group_id.eq(group));
    }
    query
        .order(respondents::id)
        .select((
            respondents::id,
            respondents::unit_id,
            respondents::group_id,
            respondents::name,
            respondents::email,
            respondents::phone,
            invitations::id,
            access_codes::id,
            access_codes::state,
        ))
        .load(conn)
}
