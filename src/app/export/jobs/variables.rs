//! The microdata variables of a group and each response's values for them.

use super::super::microdata::{ValueLabel, VarKind, Variable};
use crate::app::catalog;
use crate::db::{self, AnyConnection};
use crate::domain::instrument::{Instrument, QuestionKind, Text};
use crate::domain::methodology::Methodology;
use crate::error::AppResult;
use std::collections::BTreeMap;

/// The microdata columns of an instrument: one per question or battery item, one 0/1 column
/// per option of a multiple-choice question; scored items carry their criterion and
/// component from the methodology.
pub fn variables(instrument: &Instrument, m: &Methodology, group: &str) -> Vec<Variable> {
    let criterion_of = |item: &str| -> (Option<String>, Option<String>) {
        let rule = m
            .group(group)
            .and_then(|g| g.items.iter().find(|r| r.item == item));
        if let Some(rule) = rule {
            let component = m
                .criteria
                .iter()
                .find(|c| c.code == rule.criterion)
                .map(|c| c.component.clone());
            return (Some(rule.criterion.clone()), component);
        }
        let element = m.sipas.as_ref().filter(|s| s.group == group).and_then(|s| {
            s.elements
                .iter()
                .find(|e| e.items.iter().any(|i| i == item))
                .map(|e| (e.code.clone(), e.part.clone()))
        });
        element.map_or((None, None), |(e, p)| (Some(e), Some(p)))
    };
    let labels = |options: &[crate::domain::instrument::ChoiceOption]| -> Vec<ValueLabel> {
        options
            .iter()
            .map(|o| ValueLabel {
                value: o.value.clone(),
                label: o.label.clone(),
                valid: o.valid,
            })
            .collect()
    };
    let mut out = Vec::new();
    for section in instrument.sections() {
        for q in &section.questions {
            let var = |name: &str, label: super::super::microdata::Text, kind, value_labels| {
                let (criterion, component) = criterion_of(name);
                Variable {
                    name: name.to_owned(),
                    question: q.code.clone(),
                    section: section.code.clone(),
                    label,
                    kind,
                    value_labels,
                    criterion,
                    component,
                }
            };
            let options = q.options().unwrap_or_default();
            match &q.kind {
                QuestionKind::Battery { items, .. } => {
                    for item in items {
                        out.push(var(
                            &item.code,
                            item.label.clone(),
                            VarKind::Categorical,
                            labels(&options),
                        ));
                    }
                }
                QuestionKind::Multiple { .. } => {
                    for o in &options {
                        let label = super::super::microdata::Text::new(
                            format!("{} — {}", q.label.vi, o.label.vi),
                            format!("{} — {}", q.label.en, o.label.en),
                        );
                        out.push(var(
                            &format!("{}__{}", q.code, o.value),
                            label,
                            VarKind::MultipleDummy,
                            Vec::new(),
                        ));
                    }
                }
                QuestionKind::Single { .. } | QuestionKind::YesNo { .. } => {
                    out.push(var(
                        &q.code,
                        q.label.clone(),
                        VarKind::Categorical,
                        labels(&options),
                    ));
                }
                QuestionKind::Integer { .. } => {
                    out.push(var(&q.code, q.label.clone(), VarKind::Integer, Vec::new()))
                }
                QuestionKind::Decimal { .. } => {
                    out.push(var(&q.code, q.label.clone(), VarKind::Decimal, Vec::new()))
                }
                QuestionKind::Text { .. } | QuestionKind::LongText { .. } => {
                    out.push(var(&q.code, q.label.clone(), VarKind::Text, Vec::new()));
                }
                QuestionKind::Date => {
                    out.push(var(&q.code, q.label.clone(), VarKind::Date, Vec::new()))
                }
                QuestionKind::Calculate { calculation } => {
                    // An unlabelled calculation is described by its formula.
                    let label = if q.label.vi.is_empty() && q.label.en.is_empty() {
                        let formula = calculation.to_string();
                        super::super::microdata::Text::new(formula.clone(), formula)
                    } else {
                        q.label.clone()
                    };
                    let kind = if calculation.is_numeric() {
                        VarKind::Decimal
                    } else {
                        VarKind::Text
                    };
                    out.push(var(&q.code, label, kind, Vec::new()));
                }
                // A note stores nothing.
                QuestionKind::Note => {}
            }
        }
    }
    out
}

/// The labels of each scored item, for charts: (group, item) → question text and options.
pub type ItemLabels =
    BTreeMap<(String, String), (Text, Vec<crate::domain::instrument::ChoiceOption>)>;

/// Question texts and option labels of every answer code of the round's instruments.
pub fn item_labels(conn: &mut AnyConnection, round_id: i64) -> AppResult<ItemLabels> {
    let mut out = ItemLabels::new();
    for g in db::rounds::groups(conn, round_id)? {
        let Some(stored) = catalog::load_instrument(conn, g.instrument_id)? else {
            continue;
        };
        for q in stored.instrument.questions() {
            let options = q.options().unwrap_or_default();
            match &q.kind {
                QuestionKind::Battery { items, .. } => {
                    for item in items {
                        out.insert(
                            (g.group_code.clone(), item.code.clone()),
                            (item.label.clone(), options.clone()),
                        );
                    }
                }
                _ => {
                    out.insert(
                        (g.group_code.clone(), q.code.clone()),
                        (q.label.clone(), options),
                    );
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::bundled::METHODOLOGIES;
    use crate::app::export::codebook::codebook_csv;
    use crate::app::export::microdata::{CsvOptions, Decimal, Lang};
    use crate::app::export::syntax::{SyntaxOptions, r_syntax, spss_syntax, stata_syntax};
    use crate::domain::instrument::test_support::FEATURES;

    #[test]
    fn a_calculation_is_a_column_in_the_data_codebook_and_syntax_and_a_note_is_none() {
        let instrument = Instrument::from_toml(FEATURES.as_bytes(), "features.toml").unwrap();
        let m = Methodology::parse(METHODOLOGIES[0].name, METHODOLOGIES[0].bytes).unwrap();
        let vars = variables(&instrument, &m, "citizen");
        let kind = |name: &str| vars.iter().find(|v| v.name == name).map(|v| v.kind);
        assert_eq!(kind("household"), Some(VarKind::Decimal));
        assert_eq!(kind("size_class"), Some(VarKind::Text));
        assert_eq!(kind("greeting"), None, "a note stores nothing");
        let household = vars.iter().find(|v| v.name == "household").unwrap();
        assert_eq!(household.label.en, "${adults} + ${children}");

        let plan = super::super::RowPlan::new(&vars, 0);
        let mut row = plan.buffer();
        plan.fill(r#"{"household":5}"#, &mut row).unwrap();
        let at = vars.iter().position(|v| v.name == "household").unwrap();
        assert_eq!(row.values()[at], Some("5"));

        let codebook =
            String::from_utf8(codebook_csv(&vars, &CsvOptions::new(Decimal::Point)).unwrap())
                .unwrap();
        assert!(codebook.contains("household"), "{codebook}");
        let opts = SyntaxOptions::new("data.csv", CsvOptions::new(Decimal::Point), Lang::En);
        for syntax in [
            spss_syntax(&vars, &opts).unwrap(),
            stata_syntax(&vars, &opts).unwrap(),
            r_syntax(&vars, &opts).unwrap(),
        ] {
            assert!(
                syntax.contains("household") && syntax.contains("size_class"),
                "{syntax}"
            );
            assert!(!syntax.contains("greeting"), "{syntax}");
        }
    }
}
