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
                "empty answer value",
            );
        }
        if !(0.0..=1.0).contains(&x) {
            ctx.err(
                Some(v.span()),
                format!("{path}.values.\"{key}\""),
                ErrorKind::CoefficientOutOfRange,
                format!("coefficient {x} for answer \"{key}\" is outside [0, 1]"),
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
                format!("answer \"{value}\" is listed as invalid but also has a coefficient"),
            );
        }
        if !seen.insert(value.clone()) {
            ctx.err(
                Some(v.span()),
                format!("{path}.invalid"),
                ErrorKind::DuplicateCode,
                format!("answer \"{value}\" is listed twice"),
            );
        }
        invalid.push(value.clone());
    }
    if raw.values.is_empty() {
        ctx.err(
            Some(t.span()),
            path,
            ErrorKind::EmptyCoefficientTable,
            "coefficient table has no scored answer value; every answer would be excluded",
        );
    }
    CoefficientTable {
        name: raw.name.clone(),
        values,
        invalid,
    }
}
