//! The round form: creating a round from what an administrator typed, editing a draft,
//! extending an open round's closing time, and deleting a draft; plus the reads the round list
//! and the unit lists show. Every refusal names its field, so a refused form comes back with
//! what was typed and each message beside its field. Times are typed and shown in the
//! deployment's time zone and stored in UTC.

use super::*;
use crate::db::rounds::DraftChanges;
use crate::db::units::UnitSetRow;
use crate::domain::account::Role;
use crate::domain::local_time::{TimeInputError, TimeZone};

/// The round form as typed. Every value stays text, so a refused form comes back exactly as
/// it was. `None` means the field was not sent: an open round's form sends only the closing
/// time, and what it does not send stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct RoundForm {
    /// Survey year.
    pub year: Option<String>,
    /// Vietnamese name.
    pub name_vi: Option<String>,
    /// English name.
    pub name_en: Option<String>,
    /// Code of the unit set.
    pub unit_set: Option<String>,
    /// Opening time, a `datetime-local` value in the deployment's zone.
    pub opens_at: Option<String>,
    /// Closing time, likewise.
    pub closes_at: Option<String>,
}

fn text(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("")
}

impl RoundForm {
    /// The form filled in with a stored round, its times in `zone`.
    pub fn of_round(round: &RoundRow, unit_set_code: &str, zone: TimeZone) -> Self {
        Self {
            year: Some(round.year.to_string()),
            name_vi: Some(round.name_vi.clone()),
            name_en: Some(round.name_en.clone()),
            unit_set: Some(unit_set_code.to_owned()),
            opens_at: Some(
                round
                    .opens_at
                    .map(|t| zone.input_value(t))
                    .unwrap_or_default(),
            ),
            closes_at: Some(
                round
                    .closes_at
                    .map(|t| zone.input_value(t))
                    .unwrap_or_default(),
            ),
        }
    }

    /// The value typed in field `id` (empty when not sent).
    pub fn value(&self, id: &str) -> &str {
        match id {
            "year" => text(&self.year),
            "name_vi" => text(&self.name_vi),
            "name_en" => text(&self.name_en),
            "unit_set" => text(&self.unit_set),
            "opens_at" => text(&self.opens_at),
            "closes_at" => text(&self.closes_at),
            _ => "",
        }
    }
}

/// Reads a time typed in `zone` into `problems` when it is not one.
fn read_time(
    zone: TimeZone,
    field: &'static str,
    raw: &str,
    problems: &mut Vec<FieldRefusal>,
) -> Option<NaiveDateTime> {
    match zone.parse_input(raw) {
        Ok(time) => time,
        Err(TimeInputError::NotATime) => {
            problems.push(FieldRefusal::new(
                field,
                "round.invalid.time",
                &[("value", raw.trim())],
            ));
            None
        }
        Err(TimeInputError::Skipped) => {
            problems.push(FieldRefusal::new(
                field,
                "round.invalid.time_skipped",
                &[("value", raw.trim()), ("zone", zone.name())],
            ));
            None
        }
    }
}

/// Checks values that parsed: the year's range, the Vietnamese name, and the schedule (the
/// refusal sits on the closing time, the field to change).
pub(super) fn check_values(
    year: Option<i32>,
    name_vi: &str,
    opens_at: Option<NaiveDateTime>,
    closes_at: Option<NaiveDateTime>,
) -> Vec<FieldRefusal> {
    let mut problems = Vec::new();
    if let Some(year) = year.filter(|y| !(2000..=2100).contains(y)) {
        problems.push(FieldRefusal::new(
            "year",
            "round.invalid.year",
            &[("year", &year.to_string())],
        ));
    }
    if name_vi.trim().is_empty() {
        problems.push(FieldRefusal::new("name_vi", "round.invalid.name_vi", &[]));
    }
    match lifecycle::validate_schedule(opens_at, closes_at) {
        Ok(()) => {}
        Err(LifecycleError::ClosesWhenOpening) => problems.push(FieldRefusal::new(
            "closes_at",
            "round.invalid.closes_when_opens",
            &[],
        )),
        Err(_) => problems.push(FieldRefusal::new(
            "closes_at",
            "round.invalid.closes_before_opens",
            &[],
        )),
    }
    problems
}

/// Reads the whole form, reporting every field at fault at once (the unit set is checked
/// against the database by the caller).
fn read_form(form: &RoundForm, zone: TimeZone) -> (NewRoundInput, Vec<FieldRefusal>) {
    let mut problems = Vec::new();
    let year = match text(&form.year).trim() {
        "" => {
            problems.push(FieldRefusal::new("year", "round.invalid.required", &[]));
            None
        }
        raw => match raw.parse::<i32>() {
            Ok(year) => Some(year),
            Err(_) => {
                problems.push(FieldRefusal::new(
                    "year",
                    "round.invalid.year_number",
                    &[("value", raw)],
                ));
                None
            }
        },
    };
    let opens_at = read_time(zone, "opens_at", text(&form.opens_at), &mut problems);
    let closes_at = read_time(zone, "closes_at", text(&form.closes_at), &mut problems);
    problems.extend(check_values(year, text(&form.name_vi), opens_at, closes_at));
    let input = NewRoundInput {
        year: year.unwrap_or_default(),
        name_vi: text(&form.name_vi).trim().to_owned(),
        name_en: text(&form.name_en).trim().to_owned(),
        unit_set_code: text(&form.unit_set).trim().to_owned(),
        opens_at,
        closes_at,
    };
    (input, problems)
}

/// The unit set a form names, or a refusal on its field.
fn unit_set_of(
    conn: &mut AnyConnection,
    code: &str,
    problems: &mut Vec<FieldRefusal>,
) -> Result<Option<UnitSetRow>> {
    let set = db::units::set_by_code(conn, code)?;
    if set.is_none() {
        problems.push(FieldRefusal::new(
            "unit_set",
            "round.invalid.unknown_unit_set",
            &[("code", code)],
        ));
    }
    Ok(set)
}

/// Refuses anyone but an administrator: `what` names the change in the refusal.
fn require_admin(actor: Actor<'_>, what: &str) -> Result<()> {
    if actor.role == Role::Admin {
        return Ok(());
    }
    Err(invalid(
        "round.invalid.role_may_not",
        &[("role", actor.role.code()), ("action", what)],
    ))
}

/// Creates a draft round from the form as typed (times in `zone`); refuses with every field
/// at fault.
pub fn create_round_from_form(
    conn: &mut AnyConnection,
    form: &RoundForm,
    zone: TimeZone,
    actor: Actor<'_>,
) -> Result<i64> {
    require_admin(actor, "create")?;
    let (input, mut problems) = read_form(form, zone);
    unit_set_of(conn, &input.unit_set_code, &mut problems)?;
    if !problems.is_empty() {
        return Err(RoundError::Fields(problems));
    }
    create_round(conn, &input, actor)
}

/// Changes a round through its form. A draft takes every field (a new unit set replaces its
/// units and clears its targets, unless respondents are already listed). An open round only
/// takes a later closing time (or none): its other fields are fixed, since responses are being
/// collected under them. Every change is audited with the values before and after.
pub fn edit_round(
    conn: &mut AnyConnection,
    round_id: i64,
    form: &RoundForm,
    zone: TimeZone,
    actor: Actor<'_>,
) -> Result<()> {
    require_admin(actor, "edit")?;
    db::write_transaction(conn, |conn| {
        let round = round_or_404(conn, round_id)?;
        match round.status {
            RoundStatus::Draft => edit_draft(conn, &round, form, zone, actor),
            RoundStatus::Open => extend_open(conn, &round, form, zone, actor),
            _ => Err(invalid("round.invalid.not_editable", &[])),
        }
    })
}

fn round_json(round: &RoundRow, unit_set: &str) -> String {
    serde_json::json!({
        "year": round.year, "name_vi": round.name_vi, "name_en": round.name_en,
        "unit_set": unit_set, "opens_at": round.opens_at, "closes_at": round.closes_at,
    })
    .to_string()
}

fn set_code(conn: &mut AnyConnection, set_id: i64) -> Result<String> {
    Ok(db::units::set_by_id(conn, set_id)?
        .map(|s| s.code)
        .unwrap_or_default())
}

fn edit_draft(
    conn: &mut AnyConnection,
    round: &RoundRow,
    form: &RoundForm,
    zone: TimeZone,
    actor: Actor<'_>,
) -> Result<()> {
    let (input, mut problems) = read_form(form, zone);
    let set = unit_set_of(conn, &input.unit_set_code, &mut problems)?;
    let set_changes = set.as_ref().is_some_and(|s| s.id != round.unit_set_id);
    if set_changes {
        let listed = super::respondent_count(conn, round.id, None)?;
        if listed > 0 {
            problems.push(FieldRefusal::new(
                "unit_set",
                "round.invalid.unit_set_has_respondents",
                &[("n", &listed.to_string())],
            ));
        }
    }
    let Some(set) = set.filter(|_| problems.is_empty()) else {
        return Err(RoundError::Fields(problems));
    };
    let old = round_json(round, &set_code(conn, round.unit_set_id)?);
    let changes = DraftChanges {
        fields: input.fields(set.id),
        updated_at: db::now(),
    };
    if db::rounds::update_draft(conn, round.id, &changes)? != 1 {
        return Err(invalid("round.invalid.changed_meanwhile", &[]));
    }
    if set_changes {
        super::configure::cover_unit_set(conn, round.id, set.id)?;
        db::rounds::clear_targets(conn, round.id)?;
    }
    let updated = round_or_404(conn, round.id)?;
    audit(
        conn,
        actor,
        "round:edit",
        round.id,
        Some(old),
        Some(round_json(&updated, &set.code)),
    )
}

/// True when a field the open round's form did not offer was sent with a different value.
fn changed(sent: &Option<String>, current: &str, same: impl Fn(&str, &str) -> bool) -> bool {
    sent.as_deref().is_some_and(|v| !same(v, current))
}

fn extend_open(
    conn: &mut AnyConnection,
    round: &RoundRow,
    form: &RoundForm,
    zone: TimeZone,
    actor: Actor<'_>,
) -> Result<()> {
    let current = RoundForm::of_round(round, &set_code(conn, round.unit_set_id)?, zone);
    let same_text = |a: &str, b: &str| a.trim() == b.trim();
    let same_time = |a: &str, b: &str| zone.parse_input(a).ok() == zone.parse_input(b).ok();
    let mut problems: Vec<FieldRefusal> = [
        ("year", &form.year, current.value("year"), false),
        ("name_vi", &form.name_vi, current.value("name_vi"), false),
        ("name_en", &form.name_en, current.value("name_en"), false),
        ("unit_set", &form.unit_set, current.value("unit_set"), false),
        ("opens_at", &form.opens_at, current.value("opens_at"), true),
    ]
    .into_iter()
    .filter(|(_, sent, now, is_time)| {
        if *is_time {
            changed(sent, now, same_time)
        } else {
            changed(sent, now, same_text)
        }
    })
    .map(|(field, ..)| FieldRefusal::new(field, "round.invalid.draft_only", &[]))
    .collect();
    let Some(raw) = form.closes_at.as_deref() else {
        return match problems.is_empty() {
            true => Ok(()),
            false => Err(RoundError::Fields(problems)),
        };
    };
    let closes_at = read_time(zone, "closes_at", raw, &mut problems);
    if let Some(new) = closes_at {
        if new <= db::now() {
            problems.push(FieldRefusal::new(
                "closes_at",
                "round.invalid.closes_past",
                &[],
            ));
        } else if let Some(old) = round.closes_at.filter(|old| new < *old) {
            let shown = zone.to_local(old).format("%d/%m/%Y %H:%M").to_string();
            problems.push(FieldRefusal::new(
                "closes_at",
                "round.invalid.closes_earlier",
                &[("current", &shown)],
            ));
        } else {
            problems.extend(check_values(
                None,
                &round.name_vi,
                round.opens_at,
                Some(new),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(RoundError::Fields(problems));
    }
    if closes_at == round.closes_at {
        return Ok(());
    }
    if db::rounds::set_closes_at(conn, round.id, RoundStatus::Open, closes_at)? != 1 {
        return Err(invalid("round.invalid.changed_meanwhile", &[]));
    }
    audit(
        conn,
        actor,
        "round:extend",
        round.id,
        Some(serde_json::json!({ "closes_at": round.closes_at }).to_string()),
        Some(serde_json::json!({ "closes_at": closes_at }).to_string()),
    )
}

/// What deleting a draft round takes with it, shown before the administrator confirms.
#[derive(Debug, Clone)]
pub struct RoundDeletion {
    /// The round.
    pub round: RoundRow,
    /// Respondents listed.
    pub respondents: i64,
    /// Access codes issued.
    pub codes: i64,
    /// Messages waiting in the outbox (cancelled with it).
    pub queued_messages: i64,
}

fn deletion_of(conn: &mut AnyConnection, round_id: i64) -> Result<RoundDeletion> {
    let round = round_or_404(conn, round_id)?;
    if round.status != RoundStatus::Draft {
        return Err(invalid("round.invalid.delete_state", &[]));
    }
    if db::rounds::response_count(conn, round_id)? > 0 {
        return Err(invalid("round.invalid.delete_responses", &[]));
    }
    let queued_messages = db::outbox::counts_by_status(conn, &super::message_prefix(round_id))?
        .into_iter()
        .filter(|(status, _)| *status == crate::domain::mail_outbox::OutboxStatus::Pending)
        .map(|(_, n)| n)
        .sum();
    Ok(RoundDeletion {
        respondents: db::respondents::count_in_round(conn, round_id)?,
        codes: db::rounds::access_code_count(conn, round_id)?,
        queued_messages,
        round,
    })
}

/// What deleting `round_id` would remove; refused unless it is a draft without responses.
pub fn deletion_preview(conn: &mut AnyConnection, round_id: i64) -> Result<RoundDeletion> {
    deletion_of(conn, round_id)
}

/// Deletes a draft round with its units, groups, targets, respondents, codes and open links,
/// and cancels its queued mail. Audited with what was removed.
pub fn delete_round(
    conn: &mut AnyConnection,
    round_id: i64,
    actor: Actor<'_>,
) -> Result<RoundDeletion> {
    require_admin(actor, "delete")?;
    db::write_transaction(conn, |conn| {
        let deletion = deletion_of(conn, round_id)?;
        let unit_set = set_code(conn, deletion.round.unit_set_id)?;
        db::outbox::cancel_with_prefix(conn, &super::message_prefix(round_id))?;
        if db::rounds::delete_draft(conn, round_id)? != 1 {
            return Err(invalid("round.invalid.changed_meanwhile", &[]));
        }
        let mut old: serde_json::Value =
            serde_json::from_str(&round_json(&deletion.round, &unit_set)).unwrap_or_default();
        old["respondents"] = deletion.respondents.into();
        old["codes"] = deletion.codes.into();
        old["queued_messages"] = deletion.queued_messages.into();
        audit(
            conn,
            actor,
            "round:delete",
            round_id,
            Some(old.to_string()),
            None,
        )?;
        Ok(deletion)
    })
}

/// Sets one group's target from the targets form as typed. Allowed while the round is a draft
/// or open (targets steer fieldwork; they do not enter any score).
pub fn set_group_target_from_form(
    conn: &mut AnyConnection,
    round_id: i64,
    group_code: &str,
    raw_target: &str,
    actor: Actor<'_>,
) -> Result<()> {
    let raw = raw_target.trim();
    let target = raw.parse::<i32>().map_err(|_| {
        RoundError::Fields(vec![FieldRefusal::new(
            "target",
            "round.invalid.target_whole",
            &[("value", raw)],
        )])
    })?;
    if !(0..=1_000_000).contains(&target) {
        return Err(RoundError::Fields(vec![FieldRefusal::new(
            "target",
            "round.invalid.target",
            &[("target", raw)],
        )]));
    }
    set_group_target(conn, round_id, group_code, target, actor)
}

/// The round list page: every round and the unit sets a new one can cover.
#[derive(Debug, Clone)]
pub struct RoundList {
    /// Every round, newest year first.
    pub rounds: Vec<RoundRow>,
    /// Every unit set.
    pub unit_sets: Vec<UnitSetRow>,
}

/// Reads the round list page.
pub fn list_rounds(conn: &mut AnyConnection) -> Result<RoundList> {
    Ok(RoundList {
        rounds: db::rounds::list(conn)?,
        unit_sets: db::units::sets(conn)?,
    })
}

/// Every unit set with how many units it has.
pub fn unit_set_summaries(conn: &mut AnyConnection) -> Result<Vec<(UnitSetRow, usize)>> {
    let counts: HashMap<i64, i64> = db::units::count_by_set(conn)?.into_iter().collect();
    Ok(db::units::sets(conn)?
        .into_iter()
        .map(|s| {
            let n = counts.get(&s.id).copied().unwrap_or(0);
            (s, usize::try_from(n).unwrap_or(0))
        })
        .collect())
}

/// The form of a round's edit page (times in `zone`) with the unit sets to choose from; refused
/// once the round is closed.
pub fn edit_page(
    conn: &mut AnyConnection,
    round_id: i64,
    zone: TimeZone,
) -> Result<(RoundRow, RoundForm, Vec<UnitSetRow>)> {
    let round = round_or_404(conn, round_id)?;
    if !matches!(round.status, RoundStatus::Draft | RoundStatus::Open) {
        return Err(invalid("round.invalid.not_editable", &[]));
    }
    let form = RoundForm::of_round(&round, &set_code(conn, round.unit_set_id)?, zone);
    Ok((round, form, db::units::sets(conn)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(year: &str, opens: &str, closes: &str) -> RoundForm {
        RoundForm {
            year: Some(year.into()),
            name_vi: Some("Đợt thử".into()),
            name_en: None,
            unit_set: Some(PROVINCES_2023.into()),
            opens_at: Some(opens.into()),
            closes_at: Some(closes.into()),
        }
    }

    #[test]
    fn every_field_at_fault_is_named_at_once() {
        let (_, problems) = read_form(
            &form("hai nghìn", "mai", "2025-01-01T08:00"),
            TimeZone::default(),
        );
        let fields: Vec<_> = problems.iter().map(|p| p.field).collect();
        assert_eq!(fields, ["year", "opens_at"]);
    }

    #[test]
    fn a_closing_time_before_the_opening_time_is_refused_on_the_closing_field() {
        let (input, problems) = read_form(
            &form("2025", "2025-09-01T08:00", "2025-08-01T08:00"),
            TimeZone::default(),
        );
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field, "closes_at");
        assert_eq!(problems[0].message.key, "round.invalid.closes_before_opens");
        assert_eq!(
            input.opens_at.map(|t| t.to_string()).as_deref(),
            Some("2025-09-01 01:00:00")
        );
    }
}
