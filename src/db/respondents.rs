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

/// Who a respondent is and how to reach them: the part of their row that issuing, reissuing
/// and mailing codes and the respondents page all read.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = respondents)]
pub struct Contact {
    /// Respondent id.
    #[diesel(column_name = id)]
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
}

/// A respondent who can be given a code, with what mailing needs.
#[derive(Debug, Clone, Queryable)]
pub struct Invitee {
    /// Who they are and how to reach them.
    pub contact: Contact,
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
        .select((Contact::as_select(), respondents::opted_out))
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
        .get_result(conn)
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
    /// Who they are and how to reach them.
    pub contact: Contact,
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
            Contact::as_select(),
            invitations::id,
            access_codes::id,
            access_codes::state,
        ))
        .load(conn)
}

/// A respondent as the respondents page lists them, with how far their code has come.
#[derive(Debug, Clone, Queryable)]
pub struct RosterRow {
    /// Who they are and how to reach them.
    pub contact: Contact,
    /// The state of their code, when one was issued.
    pub code_state: Option<String>,
}

/// Every respondent of a round in list order, with their code's state.
pub fn roster(conn: &mut AnyConnection, round_id: i64) -> QueryResult<Vec<RosterRow>> {
    roster_rows(conn, round_id, None)
}

/// One respondent of a round, as listed.
pub fn roster_entry(
    conn: &mut AnyConnection,
    round_id: i64,
    respondent_id: i64,
) -> QueryResult<Option<RosterRow>> {
    Ok(roster_rows(conn, round_id, Some(respondent_id))?
        .into_iter()
        .next())
}

/// The roster of a round, or only one respondent of it: one query so that the list and a
/// single entry (re-rendered after an edit) can never disagree on what a row holds.
fn roster_rows(
    conn: &mut AnyConnection,
    round_id: i64,
    only: Option<i64>,
) -> QueryResult<Vec<RosterRow>> {
    let mut query = respondents::table
        .left_join(invitations::table.left_join(access_codes::table))
        .filter(respondents::round_id.eq(round_id))
        .into_boxed();
    if let Some(respondent_id) = only {
        query = query.filter(respondents::id.eq(respondent_id));
    }
    query
        .order(respondents::id)
        .select((Contact::as_select(), access_codes::state.nullable()))
        .load(conn)
}

/// Whether another respondent of the round has this (lower-cased) e-mail address.
pub fn email_taken(
    conn: &mut AnyConnection,
    round_id: i64,
    email: &str,
    except: i64,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        respondents::table
            .filter(respondents::round_id.eq(round_id))
            .filter(respondents::email.eq(email))
            .filter(respondents::id.ne(except)),
    ))
    .get_result(conn)
}

/// Corrects a respondent's name, e-mail and phone.
pub fn update_contact(
    conn: &mut AnyConnection,
    respondent_id: i64,
    name: &str,
    email: Option<&str>,
    phone: Option<&str>,
) -> QueryResult<usize> {
    diesel::update(respondents::table.find(respondent_id))
        .set((
            respondents::name.eq(name),
            respondents::email.eq(email),
            respondents::phone.eq(phone),
        ))
        .execute(conn)
}

/// Revokes the respondent's code when it was not used: the code row goes (with its invitation
/// and any unfinished draft), so it opens nothing from now on, and mail not yet sent with it is
/// cancelled. A used code is left as it is. Returns whether a code was revoked.
pub fn revoke_unused_code(conn: &mut AnyConnection, respondent_id: i64) -> QueryResult<bool> {
    use super::schema::mail_outbox;
    use crate::domain::access_code::CodeState;
    use crate::domain::mail_outbox::OutboxStatus;
    let found: Option<(i64, i64)> = invitations::table
        .inner_join(access_codes::table)
        .filter(invitations::respondent_id.eq(respondent_id))
        .filter(access_codes::state.ne(CodeState::Used.code()))
        .select((invitations::id, access_codes::id))
        .first(conn)
        .optional()?;
    let Some((invitation_id, code_id)) = found else {
        return Ok(false);
    };
    diesel::update(
        mail_outbox::table
            .filter(mail_outbox::invitation_id.eq(invitation_id))
            .filter(mail_outbox::status.eq(OutboxStatus::Pending.code())),
    )
    .set(mail_outbox::status.eq(OutboxStatus::Cancelled.code()))
    .execute(conn)?;
    diesel::delete(access_codes::table.find(code_id)).execute(conn)?;
    Ok(true)
}

/// Deletes a respondent (their invitation goes with them; a used code stays).
pub fn delete(conn: &mut AnyConnection, respondent_id: i64) -> QueryResult<usize> {
    diesel::delete(respondents::table.find(respondent_id)).execute(conn)
}
