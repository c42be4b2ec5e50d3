//! Conditions ([`Expr`]) written as the XPath of XLSForm's `relevant` and `constraint`: the
//! inverse of `xpath.rs`, used by the export.
//!
//! The XPath keeps khaosat's meaning when ODK Collect or KoboCollect evaluates it, which is not
//! always the literal spelling:
//! - khaosat compares nothing with an unanswered question (`q != 1` is false when `q` is
//!   empty), XPath compares the empty string: `!=`, `not in` and their kin are therefore written
//!   with an explicit `${q} != ''`;
//! - "option 3 is selected" on a multiple-choice question is `selected(${q}, '3')`;
//! - a choice or text answer is compared as a code (`${q} = '2'`, never the number `2`, which
//!   XPath would compare numerically and so match `'02'`);
//! - a date is compared with `date('YYYY-MM-DD')`, not with a string;
//! - `true` / `false` are the codes `'yes'` / `'no'` (XPath's `true()` would match any answer).
//!
//! Where that spelling does not translate back to the same condition, the export adds the
//! condition in khaosat's own syntax in a `khaosat_relevant` / `khaosat_constraint` column.

use crate::domain::expr::{CmpOp, Expr, Literal, SELF_REF};

/// What a referenced question's answer is, as far as writing a comparison is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RefKind {
    /// A code or a text (single choice, yes/no, battery item, text): compared as text.
    Text,
    /// A multiple choice: equality means "selected".
    Multiple,
    /// A calendar date.
    Date,
    /// An integer or decimal.
    Number,
}

impl RefKind {
    /// The kind of a question of the khaosat type `kind` (`single`, `multiple`, ...).
    pub(super) fn of_type(kind: &str) -> Self {
        match kind {
            "multiple" => RefKind::Multiple,
            "date" => RefKind::Date,
            "integer" | "decimal" => RefKind::Number,
            _ => RefKind::Text,
        }
    }
}

/// The XPath of `e`; `kind_of` tells what each referenced code (and `.`) is.
pub(super) fn to_xpath(e: &Expr, kind_of: &dyn Fn(&str) -> RefKind) -> String {
    match e {
        Expr::Or(xs) => join(xs, " or ", kind_of, |x| matches!(x, Expr::Or(_))),
        // Nested `and`s keep their parentheses, as in khaosat's own printing, so that the
        // translation back gives the same tree.
        Expr::And(xs) => join(xs, " and ", kind_of, |x| {
            matches!(x, Expr::Or(_) | Expr::And(_))
        }),
        Expr::Not(x) => format!("not({})", to_xpath(x, kind_of)),
        Expr::Answered(code) => format!("{} != ''", subject(code)),
        Expr::Compare { code, op, value } => compare(code, kind_of(code), *op, value),
        Expr::In {
            code,
            values,
            negated,
        } => {
            let kind = kind_of(code);
            let any: Vec<String> = values
                .iter()
                .map(|v| compare(code, kind, CmpOp::Eq, v))
                .collect();
            match (*negated, any.len()) {
                (false, 1) => any.join(""),
                (false, _) => format!("({})", any.join(" or ")),
                (true, _) => format!("({} != '' and not({}))", subject(code), any.join(" or ")),
            }
        }
    }
}

/// The `constraint` cell of a question: its bounds (`. >= min`, `. <= max`, as already
/// formatted numbers) and then its own condition, all of which must hold.
pub(super) fn constraint_xpath(
    min: Option<&str>,
    max: Option<&str>,
    condition: Option<&Expr>,
    kind_of: &dyn Fn(&str) -> RefKind,
) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    if let Some(min) = min {
        parts.push(format!(". >= {min}"));
    }
    if let Some(max) = max {
        parts.push(format!(". <= {max}"));
    }
    if let Some(c) = condition {
        let x = to_xpath(c, kind_of);
        parts.push(if parts.is_empty() {
            x
        } else {
            format!("({x})")
        });
    }
    (!parts.is_empty()).then(|| parts.join(" and "))
}

fn join(
    xs: &[Expr],
    sep: &str,
    kind_of: &dyn Fn(&str) -> RefKind,
    needs_parens: impl Fn(&Expr) -> bool,
) -> String {
    xs.iter()
        .map(|x| {
            let s = to_xpath(x, kind_of);
            if needs_parens(x) { format!("({s})") } else { s }
        })
        .collect::<Vec<_>>()
        .join(sep)
}

fn subject(code: &str) -> String {
    if code == SELF_REF {
        ".".to_owned()
    } else {
        format!("${{{code}}}")
    }
}

fn op_text(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        other => other.as_str(),
    }
}

/// One comparison, as an XPath term that needs no parentheses around it.
fn compare(code: &str, kind: RefKind, op: CmpOp, value: &Literal) -> String {
    let s = subject(code);
    let answered_and = |term: String| format!("({s} != '' and {term})");
    match kind {
        RefKind::Multiple => {
            let selected = format!("selected({s}, {})", literal(value));
            match op {
                CmpOp::Eq => selected,
                CmpOp::Ne => answered_and(format!("not({selected})")),
                // khaosat never orders a multiple-choice answer.
                _ => "false()".to_owned(),
            }
        }
        RefKind::Date => {
            let date = match value {
                Literal::Text(t) if chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").is_ok() => {
                    format!("date({})", quote(t))
                }
                // A date never equals nor is ordered against anything but a date.
                _ if op == CmpOp::Ne => return format!("{s} != ''"),
                _ => return "false()".to_owned(),
            };
            match op {
                CmpOp::Ne => answered_and(format!("{s} != {date}")),
                _ => format!("{s} {} {date}", op_text(op)),
            }
        }
        RefKind::Text => match op {
            CmpOp::Eq => format!("{s} = {}", quote(&value.as_code())),
            CmpOp::Ne => answered_and(format!("{s} != {}", quote(&value.as_code()))),
            // Ordering is numeric in both languages; `true`/`false` are never ordered.
            _ if matches!(value, Literal::Bool(_)) => "false()".to_owned(),
            _ => format!("{s} {} {}", op_text(op), literal(value)),
        },
        RefKind::Number => match op {
            CmpOp::Ne => answered_and(format!("{s} != {}", literal(value))),
            _ => format!("{s} {} {}", op_text(op), literal(value)),
        },
    }
}

/// A literal as XPath writes it: numbers bare (a decimal keeps its point), the rest quoted.
fn literal(value: &Literal) -> String {
    match value {
        Literal::Integer(_) | Literal::Decimal(_) => value.to_string(),
        other => quote(&other.as_code()),
    }
}

/// An XPath string literal. XPath 1.0 has no escapes: a text holding both kinds of quote is
/// spelled with `concat()`.
fn quote(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else if !s.contains('"') {
        format!("\"{s}\"")
    } else {
        let parts: Vec<String> = s.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

#[cfg(test)]
mod tests {
    use super::super::xpath::translate_xpath;
    use super::*;

    fn kinds(code: &str) -> RefKind {
        match code {
            "m" => RefKind::Multiple,
            "d" => RefKind::Date,
            "n" | "." => RefKind::Number,
            _ => RefKind::Text,
        }
    }

    fn x(src: &str) -> String {
        to_xpath(&Expr::parse(src).unwrap(), &kinds)
    }

    #[test]
    fn conditions_are_written_with_their_khaosat_meaning() {
        let cases = [
            ("q == \"yes\"", "${q} = 'yes'"),
            ("q == 2", "${q} = '2'"),
            ("q == true", "${q} = 'yes'"),
            ("q != \"a\"", "(${q} != '' and ${q} != 'a')"),
            ("q < 3", "${q} < 3"),
            ("m == \"tv\"", "selected(${m}, 'tv')"),
            ("m != 3", "(${m} != '' and not(selected(${m}, 3)))"),
            ("m > 1", "false()"),
            (
                "n >= 2.5 and n != 4",
                "${n} >= 2.5 and (${n} != '' and ${n} != 4)",
            ),
            ("d >= \"2023-01-01\"", "${d} >= date('2023-01-01')"),
            ("answered(q)", "${q} != ''"),
            ("not q == \"x\"", "not(${q} = 'x')"),
            ("q in [1, 2]", "(${q} = '1' or ${q} = '2')"),
            (
                "m not in [\"a\"]",
                "(${m} != '' and not(selected(${m}, 'a')))",
            ),
            (
                "a == 1 or (b == 2 and (c == 3 or q == 4))",
                "${a} = '1' or ${b} = '2' and (${c} = '3' or ${q} = '4')",
            ),
            (
                "q == \"it's \\\"x\\\"\"",
                "${q} = concat('it', \"'\", 's \"x\"')",
            ),
        ];
        for (ours, xpath) in cases {
            assert_eq!(x(ours), xpath, "{ours}");
        }
    }

    #[test]
    fn plain_comparisons_translate_back_to_the_same_condition() {
        for ours in [
            "q == \"yes\"",
            "n > 3 and n <= 2.5",
            "not (answered(q) or m == \"a\")",
            "(a == \"1\" or b == \"2\") and c == \"3\"",
            "a == \"1\" and (b == \"2\" and c == \"3\")",
            "q == \"it's\"",
        ] {
            let e = Expr::parse(ours).unwrap();
            assert_eq!(translate_xpath(&x(ours), false).unwrap(), e, "{ours}");
        }
    }

    #[test]
    fn a_constraint_puts_its_bounds_first_and_brackets_its_condition() {
        let c = Expr::parse(". != 5 or . == 7").unwrap();
        assert_eq!(
            constraint_xpath(Some("1"), Some("10"), Some(&c), &kinds).unwrap(),
            ". >= 1 and . <= 10 and ((. != '' and . != 5) or . = 7)"
        );
        assert_eq!(
            constraint_xpath(None, Some("0.5"), None, &kinds).unwrap(),
            ". <= 0.5"
        );
        assert_eq!(constraint_xpath(None, None, None, &kinds), None);
    }
}
