//! The what-if and target form of the gains page: its query pairs parsed into domain types
//! ([`Change`], [`Goal`]) by the handler before any use case runs. A malformed field is refused
//! with the field's name and a catalogue key saying why, never with a blank 400; a field the
//! methodology refuses later is named the same way ([`FieldError::of_what_if`]).
//!
//! The form is a GET form (it reads, never writes), so its fields are plain and stable:
//!
//! | field | meaning |
//! |---|---|
//! | `shiftN_group` | respondent group code (N = 1..[`SHIFT_ROWS`]) |
//! | `shiftN_target` | `item:CODE` or `criterion:CODE` |
//! | `shiftN_to` | the answer value answers move into (answers at it or better stay) |
//! | `shiftN_pp` | percentage points of the answers to move, 0 to 100 |
//! | `appraisedN_component`, `appraisedN_points` | a component's new appraised points (N = 1..[`APPRAISED_ROWS`]) |
//! | `goal`, `goal_value` | `tier` + a tier code, `rank` + a national rank, or `total` + index points |
//!
//! A row whose fields are all empty is skipped (the form sends every row); a row with some
//! fields filled needs them all. Numbers take a decimal point or a decimal comma.

use super::{AnswerShift, Change, Goal, ShiftTarget, TargetError, WhatIfError};

/// Rows of answer shifts the form offers.
pub const SHIFT_ROWS: usize = 3;
/// Rows of appraised points the form offers.
pub const APPRAISED_ROWS: usize = 2;

/// A what-if request: its changes, each with the prefix of the fields it came from, and a goal.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WhatIfQuery {
    /// Changes in form order, with their field prefix (`shift1`, `appraised2`).
    pub changes: Vec<(String, Change)>,
    /// The goal, when one is stated.
    pub goal: Option<Goal>,
}

impl WhatIfQuery {
    /// Whether the form asked for anything.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.goal.is_none()
    }

    /// The changes alone, for the simulation.
    pub fn change_list(&self) -> Vec<Change> {
        self.changes.iter().map(|(_, c)| c.clone()).collect()
    }
}

/// A refused field: its name and the catalogue key of the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name in the form and the URL.
    pub field: String,
    /// Message-catalogue key of why.
    pub reason: &'static str,
}

impl FieldError {
    fn new(field: impl Into<String>, reason: &'static str) -> FieldError {
        FieldError {
            field: field.into(),
            reason,
        }
    }

    /// The field a simulation refusal of the change with field prefix `prefix` points at.
    pub fn of_what_if(prefix: &str, e: &WhatIfError) -> FieldError {
        let (suffix, reason) = match e {
            WhatIfError::UnknownGroup(_) => ("group", "whatif.err_group"),
            WhatIfError::DistributionsHidden(_) => ("group", "whatif.err_hidden"),
            WhatIfError::UnknownTarget(_) => ("target", "whatif.err_unknown_target"),
            WhatIfError::UnknownValue { .. } => ("to", "whatif.err_value"),
            WhatIfError::ShareOutOfRange(_) => ("pp", "whatif.err_pp_range"),
            WhatIfError::Scoring(_) if prefix.starts_with("appraised") => {
                ("points", "whatif.err_refused")
            }
            WhatIfError::Scoring(_) => ("group", "whatif.err_refused"),
        };
        FieldError::new(format!("{prefix}_{suffix}"), reason)
    }

    /// The field a refused goal points at.
    pub fn of_target(e: &TargetError) -> FieldError {
        match e {
            TargetError::UnknownTier(_) => FieldError::new("goal_value", "whatif.err_tier"),
            TargetError::RankZero => FieldError::new("goal_value", "whatif.err_rank"),
            TargetError::AboveMaximum(_) => FieldError::new("goal_value", "whatif.err_total_max"),
            TargetError::NoTotal => FieldError::new("goal", "whatif.err_no_total"),
            TargetError::WhatIf(WhatIfError::DistributionsHidden(_)) => {
                FieldError::new("goal", "whatif.err_hidden")
            }
            TargetError::WhatIf(_) => FieldError::new("goal", "whatif.err_refused"),
        }
    }
}

/// The value of `field` (the last one sent), trimmed; `None` when absent or empty.
fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// A number with a decimal point or comma.
fn number(pairs: &[(String, String)], name: &str) -> Result<f64, FieldError> {
    let raw = field(pairs, name).ok_or_else(|| FieldError::new(name, "whatif.err_missing"))?;
    raw.replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| FieldError::new(name, "whatif.err_number"))
}

/// A required text field.
fn text(pairs: &[(String, String)], name: &str) -> Result<String, FieldError> {
    field(pairs, name)
        .map(str::to_owned)
        .ok_or_else(|| FieldError::new(name, "whatif.err_missing"))
}

/// Parses the form's query pairs.
///
/// # Errors
///
/// The first refused field, in form order.
pub fn parse(pairs: &[(String, String)]) -> Result<WhatIfQuery, FieldError> {
    let mut q = WhatIfQuery::default();
    for n in 1..=SHIFT_ROWS {
        let p = format!("shift{n}");
        let names = ["group", "target", "to", "pp"].map(|s| format!("{p}_{s}"));
        if names.iter().all(|f| field(pairs, f).is_none()) {
            continue;
        }
        let group = text(pairs, &names[0])?;
        let raw_target = text(pairs, &names[1])?;
        let target = match raw_target.split_once(':') {
            Some(("item", code)) if !code.trim().is_empty() => {
                ShiftTarget::Item(code.trim().to_owned())
            }
            Some(("criterion", code)) if !code.trim().is_empty() => {
                ShiftTarget::Criterion(code.trim().to_owned())
            }
            _ => return Err(FieldError::new(&names[1], "whatif.err_target")),
        };
        let to_value = text(pairs, &names[2])?;
        let percentage_points = number(pairs, &names[3])?;
        if !(0.0..=100.0).contains(&percentage_points) {
            return Err(FieldError::new(&names[3], "whatif.err_pp_range"));
        }
        q.changes.push((
            p,
            Change::Shift(AnswerShift {
                group,
                target,
                to_value,
                percentage_points,
            }),
        ));
    }
    for n in 1..=APPRAISED_ROWS {
        let p = format!("appraised{n}");
        let names = ["component", "points"].map(|s| format!("{p}_{s}"));
        if names.iter().all(|f| field(pairs, f).is_none()) {
            continue;
        }
        let component = text(pairs, &names[0])?;
        let points = number(pairs, &names[1])?;
        if points < 0.0 {
            return Err(FieldError::new(&names[1], "whatif.err_number"));
        }
        q.changes.push((p, Change::Appraised { component, points }));
    }
    q.goal = match field(pairs, "goal") {
        None => None,
        Some("tier") => Some(Goal::Tier(text(pairs, "goal_value")?)),
        Some("rank") => {
            let raw = text(pairs, "goal_value")?;
            match raw.parse::<u32>() {
                Ok(n) if n >= 1 => Some(Goal::Rank(n)),
                _ => return Err(FieldError::new("goal_value", "whatif.err_rank")),
            }
        }
        Some("total") => Some(Goal::Total(number(pairs, "goal_value")?)),
        Some(_) => return Err(FieldError::new("goal", "whatif.err_goal")),
    };
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(s: &[(&str, &str)]) -> Vec<(String, String)> {
        s.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_filled_row_becomes_a_shift_and_empty_rows_are_skipped() {
        let q = parse(&pairs(&[
            ("shift1_group", "leader"),
            ("shift1_target", "criterion:K1"),
            ("shift1_to", "2"),
            ("shift1_pp", "10,5"),
            ("shift2_group", ""),
            ("shift2_target", ""),
            ("appraised1_component", "C1"),
            ("appraised1_points", "3.5"),
            ("goal", "rank"),
            ("goal_value", "10"),
        ]))
        .unwrap();
        assert_eq!(
            q.changes,
            vec![
                (
                    "shift1".to_owned(),
                    Change::Shift(AnswerShift {
                        group: "leader".to_owned(),
                        target: ShiftTarget::Criterion("K1".to_owned()),
                        to_value: "2".to_owned(),
                        percentage_points: 10.5,
                    })
                ),
                (
                    "appraised1".to_owned(),
                    Change::Appraised {
                        component: "C1".to_owned(),
                        points: 3.5
                    }
                ),
            ]
        );
        assert_eq!(q.goal, Some(Goal::Rank(10)));
    }

    #[test]
    fn a_bad_field_is_refused_by_its_name() {
        let bad = |s: &[(&str, &str)]| parse(&pairs(s)).unwrap_err();
        let row = |pp: &'static str| {
            vec![
                ("shift1_group", "leader"),
                ("shift1_target", "item:q1"),
                ("shift1_to", "1"),
                ("shift1_pp", pp),
            ]
        };
        assert_eq!(
            bad(&row("ten")),
            FieldError::new("shift1_pp", "whatif.err_number")
        );
        assert_eq!(
            bad(&row("120")),
            FieldError::new("shift1_pp", "whatif.err_pp_range")
        );
        assert_eq!(
            bad(&[("shift2_pp", "5")]),
            FieldError::new("shift2_group", "whatif.err_missing")
        );
        assert_eq!(
            bad(&[("shift1_group", "leader"), ("shift1_target", "q1")]),
            FieldError::new("shift1_target", "whatif.err_target")
        );
        assert_eq!(
            bad(&[("goal", "rank"), ("goal_value", "0")]),
            FieldError::new("goal_value", "whatif.err_rank")
        );
        assert_eq!(
            bad(&[("goal", "best")]),
            FieldError::new("goal", "whatif.err_goal")
        );
        assert!(parse(&[]).unwrap().is_empty());
    }
}
