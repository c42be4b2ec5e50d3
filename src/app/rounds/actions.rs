//! Moving a round through its lifecycle (open, close, reopen, compute, publish).

use super::*;

/// Applies a lifecycle action (open, close, reopen, compute, publish) after checking the
/// actor's role and, for opening, that the round is complete.
///
/// * **Compute** first checks the live tallies against the raw answers
///   ([`crate::app::scores::verify_tallies`]) and records the check in the action's audit entry; when
///   they differ the status stays as it was and the refusal itself is audited.
/// * **Publish** writes the status and the new snapshot in one transaction, so a failed
///   snapshot leaves the round as it was.
pub fn apply_action(
    conn: &mut AnyConnection,
    round_id: i64,
    action: RoundAction,
    actor: Actor<'_>,
) -> Result<RoundStatus> {
    if !action.allowed_for(actor.role) {
        return Err(invalid(
            "round.invalid.role_may_not",
            &[("role", actor.role.code()), ("action", action.code())],
        ));
    }
    // An inner `Err` is a refused computation: the transaction still commits, so that the
    // refusal's audit entry stays while the status does not change.
    let outcome = db::write_transaction(conn, |conn| -> Result<std::result::Result<_, usize>> {
        let round = round_or_404(conn, round_id)?;
        let from = status_of(&round)?;
        let to = lifecycle::transition(from, action)?;
        check_ready(conn, &round, action)?;
        // Checked inside the transaction, so the status changes on exactly the tallies just
        // read. On SQLite this holds the write lock while recomputing: seconds for a national
        // round, once per computation, which is worth a check that cannot race.
        let check = match action {
            RoundAction::Compute => Some(crate::app::scores::verify_tallies(conn, round_id)?),
            _ => None,
        };
        if let Some(check) = check.as_ref().filter(|c| !c.agrees()) {
            audit(
                conn,
                actor,
                "round:compute_refused",
                round_id,
                Some(serde_json::json!({ "status": from.code() }).to_string()),
                Some(serde_json::json!({ "check": check.audit_json() }).to_string()),
            )?;
            return Ok(Err(check.differences.len()));
        }
        if db::rounds::set_status(conn, round_id, from, to)? != 1 {
            return Err(invalid("round.invalid.changed_meanwhile", &[]));
        }
        let mut new = serde_json::json!({ "status": to.code() });
        if let Some(check) = &check {
            new["check"] = check.audit_json();
        }
        audit(
            conn,
            actor,
            &format!("round:{}", action.code()),
            round_id,
            Some(serde_json::json!({ "status": from.code() }).to_string()),
            Some(new.to_string()),
        )?;
        if action == RoundAction::Publish {
            crate::app::scores::publish(conn, round_id, actor.user_id, actor.label)?;
        }
        Ok(Ok(to))
    })?;
    outcome.map_err(|differences| RoundError::TalliesDiffer { differences })
}

/// What `action` needs beyond the lifecycle table: a round opens only with groups, units and
/// a consistent schedule. The confirmation page and the action itself both ask here, so the
/// page never offers what the action would then refuse.
fn check_ready(conn: &mut AnyConnection, round: &RoundRow, action: RoundAction) -> Result<()> {
    if action == RoundAction::Open {
        if db::rounds::groups(conn, round.id)?.is_empty() {
            return Err(invalid("round.invalid.open_no_groups", &[]));
        }
        if db::rounds::units(conn, round.id)?.is_empty() {
            return Err(invalid("round.invalid.open_no_units", &[]));
        }
        lifecycle::validate_schedule(round.opens_at, round.closes_at)?;
    }
    Ok(())
}

/// What a lifecycle action does to a round, shown before it is confirmed and again after it
/// was taken: the states, what the round holds, and for computing and publishing how many
/// units the scores rank.
#[derive(Debug, Clone)]
pub struct ActionSummary {
    /// The round as it is now.
    pub round: RoundRow,
    /// The action.
    pub action: RoundAction,
    /// The state the action leads to (before it is taken) or led to (after).
    pub to: RoundStatus,
    /// Units of the round.
    pub units: usize,
    /// Respondent groups with a questionnaire and methodology.
    pub groups: usize,
    /// Respondents listed.
    pub respondents: i64,
    /// Completed responses counted so far.
    pub completed: i64,
    /// For computing and publishing: units ranked by the live scores, of all units.
    pub ranked: Option<(usize, usize)>,
}

/// Summarises `action` on `round_id` before it is taken: refused, with the lifecycle's
/// reason, when the round's state does not allow it.
pub fn action_preview(
    conn: &mut AnyConnection,
    round_id: i64,
    action: RoundAction,
) -> Result<ActionSummary> {
    let round = round_or_404(conn, round_id)?;
    let to = lifecycle::transition(status_of(&round)?, action)?;
    check_ready(conn, &round, action)?;
    summarise(conn, round, action, to)
}

/// Summarises `action` after it was taken, from the round as it now stands.
pub fn action_outcome(
    conn: &mut AnyConnection,
    round_id: i64,
    action: RoundAction,
) -> Result<ActionSummary> {
    let round = round_or_404(conn, round_id)?;
    let to = status_of(&round)?;
    summarise(conn, round, action, to)
}

fn summarise(
    conn: &mut AnyConnection,
    round: RoundRow,
    action: RoundAction,
    to: RoundStatus,
) -> Result<ActionSummary> {
    let round_id = round.id;
    let completed = db::coverage::completed(conn, round_id)?
        .iter()
        .map(|(_, _, n)| n)
        .sum();
    let ranked = if matches!(action, RoundAction::Compute | RoundAction::Publish) {
        let tallies = crate::app::scores::live_tallies(conn, round_id)?;
        let scores = crate::app::scores::compute(conn, round_id, &tallies)?;
        let by_rank = scores.by_rank();
        let ranked = by_rank.iter().filter(|(_, rank)| rank.is_some()).count();
        Some((ranked, by_rank.len()))
    } else {
        None
    };
    Ok(ActionSummary {
        units: db::rounds::units(conn, round_id)?.len(),
        groups: db::rounds::groups(conn, round_id)?.len(),
        respondents: db::respondents::count_in_round(conn, round_id)?,
        round,
        action,
        to,
        completed,
        ranked,
    })
}
