//! Coefficient tables: answer value → coefficient in [0, 1], with the values left unscored.

use super::*;

/// Validates a coefficient table; returns the plain table.
pub(super) fn validate_table(
    ctx: &mut Ctx<'_>,
    t: &Spanned<RawTable>,
    path: &str,
) -> CoefficientTable {
    let raw = t.get_ref();
    let mut values = BTreeMap::new();
    for (key, v) in &raw.values {
        let x = *v.get_ref();
        if key.is_empty() {
            ctx.err(
                Some(v.span()),
                format!("{path}.values"),
                ErrorKind::InvalidValue,
                Localized::new("methodology.empty_answer_value", &[]),
            );
        }
        if !(0.0..=1.0).contains(&x) {
            ctx.err(
                Some(v.span()),
                format!("{path}.values.\"{key}\""),
                ErrorKind::CoefficientOutOfRange,
                Localized::new(
                    "methodology.coefficient_range",
                    &[("value", &x.to_string()), ("answer", key)],
                ),
            );
        }
        values.insert(key.clone(), x);
    }
    let mut invalid = Vec::new();
    let mut seen = BTreeSet::new();
    for v in &raw.invalid {
        let value = v.get_ref();
        if raw.values.contains_key(value) {
            ctx.err(
                Some(v.span()),
                format!("{path}.invalid"),
                ErrorKind::InvalidValue,
                Localized::new("methodology.invalid_has_coefficient", &[("value", value)]),
            );
        }
        if !seen.insert(value.clone()) {
            ctx.err(
                Some(v.span()),
                format!("{path}.invalid"),
                ErrorKind::DuplicateCode,
                Localized::new("methodology.answer_twice", &[("value", value)]),
            );
        }
        invalid.push(value.clone());
    }
    if raw.values.is_empty() {
        ctx.err(
            Some(t.span()),
            path,
            ErrorKind::EmptyCoefficientTable,
            Localized::new("methodology.table_empty", &[]),
        );
    }
    CoefficientTable {
        name: raw.name.clone(),
        values,
        invalid,
    }
}
