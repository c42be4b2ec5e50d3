//! Creating a round and configuring it: groups, targets and the comparison round.

use super::*;
use crate::domain::methodology::MethodologyError;
use crate::i18n::Lang;

/// A methodology that does not score exactly the items of a questionnaire: the refusal and
/// its located problems, kept apart so each is shown in the reader's language.
#[derive(Debug, Clone)]
pub struct MethodologyMisfit {
    /// `round.invalid.methodology_fit`, without its `{problems}`.
    pub refusal: Refusal,
    /// One problem per mapped item that does not fit.
    pub problems: Vec<MethodologyError>,
}

impl MethodologyMisfit {
    /// The refusal with one problem per line, all in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        let problems: Vec<String> = self.problems.iter().map(|p| p.text(lang)).collect();
        let mut refusal = self.refusal.clone();
        refusal.args.push(("problems", problems.join("\n")));
        refusal.text(lang)
    }
}

/// English, for logs and tests.
impl std::fmt::Display for MethodologyMisfit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text(Lang::En))
    }
}

/// What an administrator enters to create a round.
#[derive(Debug, Clone)]
pub struct NewRoundInput {
    /// Survey year.
    pub year: i32,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
    /// The unit set's code.
    pub unit_set_code: String,
    /// Opening time (UTC; the form converts from the deployment's zone).
    pub opens_at: Option<NaiveDateTime>,
    /// Closing time (UTC).
    pub closes_at: Option<NaiveDateTime>,
}

impl NewRoundInput {
    /// The columns this input sets, for a round of unit set `unit_set_id`; a blank English
    /// name falls back to the Vietnamese one.
    pub fn fields(&self, unit_set_id: i64) -> RoundFields<'_> {
        let name_vi = self.name_vi.trim();
        let name_en = match self.name_en.trim() {
            "" => name_vi,
            name => name,
        };
        RoundFields {
            year: self.year,
            name_vi,
            name_en,
            unit_set_id,
            opens_at: self.opens_at,
            closes_at: self.closes_at,
        }
    }
}

/// Makes a round cover every unit of unit set `set_id`, in place of the units it covered;
/// returns how many.
pub(super) fn cover_unit_set(
    conn: &mut AnyConnection,
    round_id: i64,
    set_id: i64,
) -> Result<usize> {
    let unit_ids: Vec<i64> = db::units::units_of_set(conn, set_id)?
        .iter()
        .map(|u| u.id)
        .collect();
    db::rounds::set_units(conn, round_id, &unit_ids)?;
    Ok(unit_ids.len())
}

/// Creates a draft round covering every unit of its set.
pub fn create_round(
    conn: &mut AnyConnection,
    input: &NewRoundInput,
    actor: Actor<'_>,
) -> Result<i64> {
    let problems = check_values(
        Some(input.year),
        &input.name_vi,
        input.opens_at,
        input.closes_at,
    );
    if !problems.is_empty() {
        return Err(RoundError::Fields(problems));
    }
    db::write_transaction(conn, |conn| {
        let set = db::units::set_by_code(conn, &input.unit_set_code)?.ok_or_else(|| {
            RoundError::Fields(vec![FieldRefusal::new(
                "unit_set",
                "round.invalid.unknown_unit_set",
                &[("code", &input.unit_set_code)],
            )])
        })?;
        let now = db::now();
        let id = db::rounds::insert(
            conn,
            &NewRound {
                fields: input.fields(set.id),
                created_by: actor.user_id,
                created_at: now,
                updated_at: now,
            },
        )?;
        let units = cover_unit_set(conn, id, set.id)?;
        audit(
            conn,
            actor,
            "round:create",
            id,
            None,
            Some(
                serde_json::json!({
                    "year": input.year, "name_vi": input.name_vi, "unit_set": input.unit_set_code,
                    "opens_at": input.opens_at, "closes_at": input.closes_at, "units": units,
                })
                .to_string(),
            ),
        )?;
        Ok(id)
    })
}

/// Binds a respondent group to an instrument and a methodology, after checking that the
/// instrument is for that group and that the methodology scores exactly its items.
pub fn set_group(
    conn: &mut AnyConnection,
    round_id: i64,
    group_code: &str,
    instrument_id: i64,
    methodology_id: i64,
    actor: Actor<'_>,
) -> Result<()> {
    db::write_transaction(conn, |conn| {
        let round = round_or_404(conn, round_id)?;
        require_draft(&round)?;
        let group_id = db::rounds::group_id(conn, group_code)?
            .ok_or_else(|| invalid("round.invalid.unknown_group", &[("group", group_code)]))?;
        let instrument = catalog::load_instrument(conn, instrument_id)?
            .ok_or_else(|| invalid("round.invalid.unknown_instrument", &[]))?;
        let methodology = catalog::load_methodology(conn, methodology_id)?
            .ok_or_else(|| invalid("round.invalid.unknown_methodology", &[]))?;
        if instrument.instrument.group().code() != group_code {
            return Err(invalid(
                "round.invalid.instrument_group",
                &[
                    ("code", &instrument.summary.code),
                    ("version", &instrument.summary.version.to_string()),
                    ("for", instrument.instrument.group().code()),
                    ("group", group_code),
                ],
            ));
        }
        let m = &methodology.methodology;
        let scores_group = m.group(group_code).is_some()
            || m.sipas.as_ref().is_some_and(|s| s.group == group_code);
        if !scores_group {
            return Err(invalid(
                "round.invalid.methodology_group",
                &[
                    ("code", &m.code),
                    ("version", &m.version.to_string()),
                    ("group", group_code),
                ],
            ));
        }
        let problems = m.check_against(group_code, &instrument.instrument.scorable_items());
        if !problems.is_empty() {
            return Err(RoundError::MethodologyMisfit(MethodologyMisfit {
                refusal: Refusal::new(
                    "round.invalid.methodology_fit",
                    &[
                        ("code", &m.code),
                        ("version", &m.version.to_string()),
                        ("instrument", &instrument.summary.code),
                        (
                            "instrument_version",
                            &instrument.summary.version.to_string(),
                        ),
                    ],
                ),
                problems,
            }));
        }
        // The audit keeps what the group used before, so a change can be traced and undone.
        let old = db::rounds::groups(conn, round_id)?
            .into_iter()
            .find(|g| g.group_id == group_id)
            .map(|g| {
                serde_json::json!({
                    "group": group_code, "instrument_id": g.instrument_id, "methodology_id": g.methodology_id,
                })
                .to_string()
            });
        db::rounds::set_group(conn, round_id, group_id, instrument_id, methodology_id)?;
        audit(conn, actor, "round:set_group", round_id, old, Some(serde_json::json!({
            "group": group_code, "instrument_id": instrument_id, "methodology_id": methodology_id,
        }).to_string()))?;
        Ok(())
    })
}

/// Sets the same target sample size for every unit of the round in one group, while the round
/// is a draft or open: targets steer fieldwork and enter no score, so they may change during it.
pub fn set_group_target(
    conn: &mut AnyConnection,
    round_id: i64,
    group_code: &str,
    target: i32,
    actor: Actor<'_>,
) -> Result<()> {
    if !(0..=1_000_000).contains(&target) {
        return Err(invalid(
            "round.invalid.target",
            &[("target", &target.to_string())],
        ));
    }
    db::write_transaction(conn, |conn| {
        let round = round_or_404(conn, round_id)?;
        if !matches!(round.status, RoundStatus::Draft | RoundStatus::Open) {
            return Err(invalid("round.invalid.targets_state", &[]));
        }
        let group_id = db::rounds::group_id(conn, group_code)?
            .ok_or_else(|| invalid("round.invalid.unknown_group", &[("group", group_code)]))?;
        let old: std::collections::BTreeSet<i32> = db::rounds::targets(conn, round_id)?
            .into_iter()
            .filter(|(_, g, _)| *g == group_id)
            .map(|(_, _, t)| t)
            .collect();
        for unit in db::rounds::units(conn, round_id)? {
            db::rounds::set_target(conn, round_id, unit.id, group_id, target)?;
        }
        audit(
            conn,
            actor,
            "round:set_targets",
            round_id,
            (!old.is_empty())
                .then(|| serde_json::json!({ "group": group_code, "targets": old }).to_string()),
            Some(serde_json::json!({ "group": group_code, "target": target }).to_string()),
        )?;
        Ok(())
    })
}

/// Chooses the earlier round year-over-year comparisons use. Analysis configuration: allowed
/// in every state, and audited.
pub fn set_compare_round(
    conn: &mut AnyConnection,
    round_id: i64,
    earlier: Option<i64>,
    actor: Actor<'_>,
) -> Result<()> {
    db::write_transaction(conn, |conn| {
        let round = round_or_404(conn, round_id)?;
        if let Some(other) = earlier {
            if other == round_id {
                return Err(invalid("round.invalid.compare_self", &[]));
            }
            let earlier_round = round_or_404(conn, other)?;
            if earlier_round.year >= round.year {
                return Err(invalid(
                    "round.invalid.compare_later",
                    &[
                        ("other", &other.to_string()),
                        ("year", &earlier_round.year.to_string()),
                        ("this_year", &round.year.to_string()),
                    ],
                ));
            }
        }
        db::rounds::set_compare_round(conn, round_id, earlier)?;
        audit(
            conn,
            actor,
            "round:set_compare",
            round_id,
            Some(serde_json::json!({ "compare_round_id": round.compare_round_id }).to_string()),
            Some(serde_json::json!({ "compare_round_id": earlier }).to_string()),
        )?;
        Ok(())
    })
}
