//! The respondents page: a round's listed people, searched by name or e-mail without regard
//! to diacritics, corrected and removed one at a time (each change audited). Coordinators see
//! only their own units.

use std::str::FromStr;

use super::*;
use crate::app::auth::viewer::StaffViewer;
use crate::domain::respondent_list::check_contact;
use crate::domain::unit_match::fold;

/// At most this many respondents are shown at once; a search narrows the list.
pub const ROSTER_LIMIT: usize = 500;

/// Where a respondent's code is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeProgress {
    /// No code was issued.
    None,
    /// Issued (or started) and not used: removing the respondent revokes it.
    Unused(CodeState),
    /// A response was submitted with it.
    Used,
}

/// One listed respondent.
#[derive(Debug, Clone)]
pub struct RosterEntry {
    /// Respondent id.
    pub id: i64,
    /// Full name.
    pub name: String,
    /// E-mail.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// The unit's Vietnamese name.
    pub unit_vi: String,
    /// The unit's English name.
    pub unit_en: String,
    /// The group's code.
    pub group: String,
    /// Their code.
    pub code: CodeProgress,
}

/// The respondents page of a round.
#[derive(Debug, Clone)]
pub struct Roster {
    /// The round.
    pub round: RoundRow,
    /// The matching respondents, at most [`ROSTER_LIMIT`].
    pub entries: Vec<RosterEntry>,
    /// How many match in all.
    pub matching: usize,
    /// How many the viewer may see in all.
    pub visible: usize,
}

/// The respondents of `round_id` that `viewer` may see whose name or e-mail contains `search`
/// (folded: case, spacing and diacritics ignored; an empty search matches everyone).
pub fn roster(
    conn: &mut AnyConnection,
    round_id: i64,
    viewer: StaffViewer,
    search: &str,
) -> Result<Roster> {
    let round = round_or_404(conn, round_id)?;
    let units: HashMap<i64, UnitRow> = db::rounds::units(conn, round_id)?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let groups: HashMap<i64, String> = db::rounds::all_groups(conn)?.into_iter().collect();
    let mine = viewer.own_units(conn)?;
    let needle = fold(search);
    let mut visible = 0;
    let mut entries = Vec::new();
    let mut matching = 0;
    for row in db::respondents::roster(conn, round_id)? {
        if mine
            .as_ref()
            .is_some_and(|m| !m.contains(&row.contact.unit_id))
        {
            continue;
        }
        visible += 1;
        let found = needle.is_empty()
            || fold(&row.contact.name).contains(&needle)
            || row
                .contact
                .email
                .as_deref()
                .is_some_and(|e| fold(e).contains(&needle));
        if !found {
            continue;
        }
        matching += 1;
        if entries.len() < ROSTER_LIMIT {
            entries.push(entry(row, &units, &groups)?);
        }
    }
    Ok(Roster {
        round,
        entries,
        matching,
        visible,
    })
}

/// One respondent of the round as `viewer` may see them; `NotFound` when there is no such
/// respondent in the round or it is outside a coordinator's units.
pub fn roster_entry(
    conn: &mut AnyConnection,
    round_id: i64,
    respondent_id: i64,
    viewer: StaffViewer,
) -> Result<(RoundRow, RosterEntry)> {
    let round = round_or_404(conn, round_id)?;
    let row = db::respondents::roster_entry(conn, round_id, respondent_id)?
        .ok_or(RoundError::NotFound)?;
    if viewer
        .own_units(conn)?
        .is_some_and(|m| !m.contains(&row.contact.unit_id))
    {
        return Err(RoundError::NotFound);
    }
    let units: HashMap<i64, UnitRow> = db::rounds::units(conn, round_id)?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let groups: HashMap<i64, String> = db::rounds::all_groups(conn)?.into_iter().collect();
    Ok((round, entry(row, &units, &groups)?))
}

fn entry(
    row: db::respondents::RosterRow,
    units: &HashMap<i64, UnitRow>,
    groups: &HashMap<i64, String>,
) -> Result<RosterEntry> {
    let code = match row.code_state.as_deref().map(CodeState::from_str) {
        None => CodeProgress::None,
        Some(Ok(CodeState::Used)) => CodeProgress::Used,
        Some(Ok(state)) => CodeProgress::Unused(state),
        Some(Err(e)) => return Err(RoundError::App(AppError::internal(e))),
    };
    let unit = units.get(&row.contact.unit_id);
    Ok(RosterEntry {
        id: row.contact.respondent_id,
        name: row.contact.name,
        email: row.contact.email,
        phone: row.contact.phone,
        unit_vi: unit.map(|u| u.name_vi.clone()).unwrap_or_default(),
        unit_en: unit.map(|u| u.name_en.clone()).unwrap_or_default(),
        group: groups
            .get(&row.contact.group_id)
            .cloned()
            .unwrap_or_default(),
        code,
    })
}

/// A respondent's details as typed into the edit form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ContactForm {
    /// Full name.
    pub name: String,
    /// E-mail (may be blank).
    #[serde(default)]
    pub email: String,
    /// Phone (may be blank).
    #[serde(default)]
    pub phone: String,
}

/// Corrects a respondent's name, e-mail and phone with the rules of an import (an e-mail may
/// not be another respondent's in the round). Audited with the fields that changed, never their
/// values: the audit log outlives the list and must not copy personal data.
pub fn edit_respondent(
    conn: &mut AnyConnection,
    round_id: i64,
    respondent_id: i64,
    form: &ContactForm,
    actor: Actor<'_>,
) -> Result<()> {
    let contact = check_contact(&form.name, &form.email, &form.phone).map_err(|errors| {
        RoundError::Fields(
            errors
                .into_iter()
                .map(|(field, message)| FieldRefusal { field, message })
                .collect(),
        )
    })?;
    db::write_transaction(conn, |conn| {
        round_or_404(conn, round_id)?;
        let current = db::respondents::roster_entry(conn, round_id, respondent_id)?
            .ok_or(RoundError::NotFound)?;
        if let Some(email) = &contact.email
            && db::respondents::email_taken(conn, round_id, email, respondent_id)?
        {
            return Err(RoundError::Fields(vec![FieldRefusal::new(
                "email",
                "list.already_invited",
                &[("email", email)],
            )]));
        }
        let mut changed = Vec::new();
        if current.contact.name != contact.name {
            changed.push("name");
        }
        if current.contact.email != contact.email {
            changed.push("email");
        }
        if current.contact.phone != contact.phone {
            changed.push("phone");
        }
        if changed.is_empty() {
            return Ok(());
        }
        db::respondents::update_contact(
            conn,
            respondent_id,
            &contact.name,
            contact.email.as_deref(),
            contact.phone.as_deref(),
        )?;
        audit(
            conn,
            actor,
            "round:edit_respondent",
            round_id,
            None,
            Some(
                serde_json::json!({ "respondent": respondent_id, "changed": changed }).to_string(),
            ),
        )
    })
}

/// Removes a respondent from the round. An unused code of theirs is revoked (it stops
/// working at once and unsent mail with it is cancelled); a used code stays used, and
/// responses are never touched (they do not point at respondents). Audited with the
/// respondent's id, unit, group and whether a code was revoked.
pub fn remove_respondent(
    conn: &mut AnyConnection,
    round_id: i64,
    respondent_id: i64,
    actor: Actor<'_>,
) -> Result<bool> {
    db::write_transaction(conn, |conn| {
        round_or_404(conn, round_id)?;
        let current = db::respondents::roster_entry(conn, round_id, respondent_id)?
            .ok_or(RoundError::NotFound)?;
        let revoked = db::respondents::revoke_unused_code(conn, respondent_id)?;
        db::respondents::delete(conn, respondent_id)?;
        audit(
            conn,
            actor,
            "round:remove_respondent",
            round_id,
            None,
            Some(
                serde_json::json!({
                    "respondent": respondent_id,
                    "unit_id": current.contact.unit_id,
                    "group_id": current.contact.group_id,
                    "code_revoked": revoked,
                })
                .to_string(),
            ),
        )?;
        Ok(revoked)
    })
}
