//! Turning stored answers into microdata cells: where each answer lands is worked out once per
//! export ([`RowPlan`]), and each response is read straight from its JSON into one reused
//! buffer ([`RowBuf`]), so a million rows cost no per-cell allocation (BENCHMARKS.md,
//! scenario 7).

use std::fmt::Write as _;
use std::ops::Range;

use rustc_hash::FxHashMap;

use super::super::microdata::{VarKind, Variable};
use crate::domain::answer_scan::{AnswerRef, for_each_answer};

/// Where one answer code's value goes: its own column, and for a multiple choice the 0/1
/// column of each option.
#[derive(Debug, Default)]
struct Slots<'v> {
    whole: Option<usize>,
    dummies: Vec<(&'v str, usize)>,
}

/// The columns each answer code fills, for one list of variables.
#[derive(Debug)]
pub struct RowPlan<'v> {
    offset: usize,
    columns: usize,
    // Keys are the instrument's own codes, not attacker-chosen, so a fast hash is safe.
    by_code: FxHashMap<&'v str, Slots<'v>>,
}

impl<'v> RowPlan<'v> {
    /// The plan for `variables`, whose cells start at column `offset` of the row (after the
    /// status columns, when there are any).
    pub fn new(variables: &'v [Variable], offset: usize) -> Self {
        let mut by_code: FxHashMap<&'v str, Slots<'v>> = FxHashMap::default();
        for (i, v) in variables.iter().enumerate() {
            let column = offset + i;
            if v.kind == VarKind::MultipleDummy {
                // The dummy is named `{question}__{option}`.
                let option = v
                    .name
                    .strip_prefix(v.question.as_str())
                    .and_then(|rest| rest.strip_prefix("__"));
                if let Some(option) = option {
                    let slots = by_code.entry(v.question.as_str()).or_default();
                    slots.dummies.push((option, column));
                }
            } else {
                by_code.entry(v.name.as_str()).or_default().whole = Some(column);
            }
        }
        Self {
            offset,
            columns: offset + variables.len(),
            by_code,
        }
    }

    /// An empty buffer for rows of this plan.
    pub fn buffer(&self) -> RowBuf {
        RowBuf {
            text: String::new(),
            cells: vec![None; self.columns],
        }
    }

    /// Clears `buf` and fills the variables' cells from one stored answers object; the cells
    /// before the plan's offset are left for [`RowBuf::set`]. An answer no variable takes is
    /// skipped; a dummy is `1` or `0` when its question has a multiple-choice answer and empty
    /// otherwise.
    ///
    /// # Errors
    ///
    /// When the JSON is not a stored answers object.
    pub fn fill(&self, answers_json: &str, buf: &mut RowBuf) -> Result<(), serde_json::Error> {
        buf.clear();
        for_each_answer(answers_json, |code, value| {
            let Some(slots) = self.by_code.get(code) else {
                return;
            };
            if let Some(column) = slots.whole {
                let start = buf.text.len();
                match value {
                    AnswerRef::Choice(s)
                    | AnswerRef::Decimal(s)
                    | AnswerRef::Text(s)
                    | AnswerRef::Date(s) => buf.text.push_str(s),
                    AnswerRef::Choices(all) => {
                        for (i, code) in all.iter().enumerate() {
                            if i > 0 {
                                buf.text.push(' ');
                            }
                            buf.text.push_str(code);
                        }
                    }
                    AnswerRef::Integer(n) => {
                        // Writing to a String cannot fail.
                        let _ = write!(buf.text, "{n}");
                    }
                }
                buf.cells[column] = Some(start..buf.text.len());
            }
            if let AnswerRef::Choices(chosen) = value {
                for (option, column) in &slots.dummies {
                    let flag = if chosen.contains(option) { "1" } else { "0" };
                    buf.set(*column, Some(flag));
                }
            }
        })?;
        debug_assert!(buf.cells.len() == self.columns && self.offset <= self.columns);
        Ok(())
    }
}

/// One row's cells as ranges of one text buffer, reused from row to row.
#[derive(Debug, Clone)]
pub struct RowBuf {
    text: String,
    cells: Vec<Option<Range<usize>>>,
}

impl RowBuf {
    fn clear(&mut self) {
        self.text.clear();
        self.cells.iter_mut().for_each(|c| *c = None);
    }

    /// Sets the cell at `column` (a status column, say).
    pub fn set(&mut self, column: usize, value: Option<&str>) {
        let range = value.map(|v| {
            let start = self.text.len();
            self.text.push_str(v);
            start..self.text.len()
        });
        if let Some(cell) = self.cells.get_mut(column) {
            *cell = range;
        }
    }

    /// The cells, in column order.
    pub fn values(&self) -> Vec<Option<&str>> {
        self.cells
            .iter()
            .map(|c| c.clone().and_then(|r| self.text.get(r)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::export::microdata::Text;
    use crate::domain::answers::{AnswerValue, Answers};

    fn var(name: &str, question: &str, kind: VarKind) -> Variable {
        Variable {
            name: name.into(),
            question: question.into(),
            section: "s".into(),
            label: Text::new("", ""),
            kind,
            value_labels: vec![],
            criterion: None,
            component: None,
        }
    }

    fn variables() -> Vec<Variable> {
        vec![
            var("q1", "q1", VarKind::Categorical),
            var("many", "many", VarKind::Text),
            var("many__a", "many", VarKind::MultipleDummy),
            var("many__b", "many", VarKind::MultipleDummy),
            var("age", "age", VarKind::Integer),
            var("share", "share", VarKind::Decimal),
            var("note", "note", VarKind::Text),
            var("day", "day", VarKind::Date),
        ]
    }

    #[test]
    fn every_kind_of_answer_lands_in_its_columns() {
        let mut answers = Answers::new();
        answers.insert("q1".into(), AnswerValue::Choice("2".into()));
        answers.insert(
            "many".into(),
            AnswerValue::Choices(vec!["b".into(), "c".into()]),
        );
        answers.insert("age".into(), AnswerValue::Integer(-7));
        answers.insert("share".into(), AnswerValue::Decimal("2.5".into()));
        answers.insert("note".into(), AnswerValue::Text("Dòng 1\n\"hai\"".into()));
        answers.insert("unlisted".into(), AnswerValue::Text("x".into()));
        answers.insert(
            "day".into(),
            AnswerValue::Date(chrono::NaiveDate::from_ymd_opt(2023, 5, 1).unwrap()),
        );
        let vars = variables();
        let plan = RowPlan::new(&vars, 1);
        let mut buf = plan.buffer();
        plan.fill(&answers.to_json(), &mut buf).unwrap();
        buf.set(0, Some("status"));
        assert_eq!(
            buf.values(),
            [
                Some("status"),
                Some("2"),
                Some("b c"),
                Some("0"),
                Some("1"),
                Some("-7"),
                Some("2.5"),
                Some("Dòng 1\n\"hai\""),
                Some("2023-05-01"),
            ]
        );
    }

    #[test]
    fn a_reused_buffer_forgets_the_previous_row_and_unanswered_dummies_stay_empty() {
        let vars = variables();
        let plan = RowPlan::new(&vars, 0);
        let mut buf = plan.buffer();
        plan.fill(r#"{"q1":"1","many":["a"],"age":3}"#, &mut buf)
            .unwrap();
        plan.fill(r#"{"many":[]}"#, &mut buf).unwrap();
        assert_eq!(
            buf.values(),
            [None, Some(""), Some("0"), Some("0"), None, None, None, None]
        );
        plan.fill("{}", &mut buf).unwrap();
        assert!(buf.values().iter().all(Option::is_none));
        assert!(plan.fill(r#"{"q1":{"colour":"red"}}"#, &mut buf).is_err());
    }
}
