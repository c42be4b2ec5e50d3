//! The condition language used by `relevant` (show a question only when true) and `constraint`.
//!
//! A condition is parsed once into an [`Expr`] and evaluated on the server against the answers
//! given so far. The grammar is deliberately small so that instrument authors cannot write
//! anything the server cannot explain back to them:
//!
//! ```text
//! condition  := or
//! or         := and ( "or" and )*
//! and        := unary ( "and" unary )*
//! unary      := "not" unary | primary
//! primary    := "(" condition ")"
//!             | "answered" "(" subject ")"
//!             | subject op literal
//!             | subject "in" list
//!             | subject "not" "in" list
//! op         := "==" | "!=" | "<" | "<=" | ">" | ">="
//! list       := "[" literal ( "," literal )* "]"
//! subject    := code | "."              ("." = the question's own answer, constraints only)
//! code       := [A-Za-z_][A-Za-z0-9_.]*
//! literal    := integer | decimal | "double-quoted" | 'single-quoted' | true | false
//! ```
//!
//! Keywords (`and`, `or`, `not`, `in`, `true`, `false`) are lowercase and case-sensitive;
//! `answered` is only a keyword when followed by `(`. Inside strings a backslash escapes
//! `\`, `"` or `'`.
//!
//! Semantics:
//! - Any comparison (including `!=`, `in` and `not in`) against an unanswered question is
//!   false. `not (q1 == 1)` is therefore true when q1 is unanswered, while `q1 != 1` is false.
//! - A choice answer is an option code string. With `==`, `!=`, `in` a literal is compared as a
//!   code: the number `2` matches the code `"2"`, `true`/`false` match `"yes"`/`"no"`. With `<`,
//!   `<=`, `>`, `>=` the code and the literal are compared numerically when both parse as numbers,
//!   otherwise the comparison is false.
//! - For a multiple-choice answer `q == "3"` means "option 3 is selected", `q != "3"` means
//!   "option 3 is not selected", `q in [...]` means "any of them is selected" and `q not in [...]`
//!   "none of them is selected"; ordering comparisons are false.
//! - Yes/no answers are the codes `"yes"` / `"no"` and also compare equal to `true` / `false`.
//! - Integer and decimal answers compare numerically with number literals (and with strings that
//!   parse as numbers); dates compare with `"YYYY-MM-DD"` strings; text compares as exact text.
//!   A value of the wrong kind is never equal (`==` false, `!=` true) and never ordered.
//!
//! Limits: a condition is at most [`MAX_EXPR_CHARS`] characters and nests at most
//! [`MAX_EXPR_DEPTH`] levels of parentheses / `not`, so hostile input cannot exhaust the stack.
//!
//! This file holds the syntax tree and its evaluation; `parse` turns text into it. `calc` holds
//! the arithmetic of `calculate` questions and `filter` the `choice_filter` of choice questions.

mod calc;
mod filter;
mod parse;

use std::collections::BTreeSet;
use std::fmt;

use crate::domain::answer_value::{AnswerValue, decimal_to_f64, normalize_decimal};

pub use calc::{ArithOp, Calc, CalcFn};
pub use filter::{ChoiceFilter, FilterTerm, FilterValue};
pub use parse::is_valid_code;

/// Longest accepted condition, in characters.
pub const MAX_EXPR_CHARS: usize = 2_000;
/// Deepest accepted nesting of parentheses and `not`.
pub const MAX_EXPR_DEPTH: usize = 32;

/// The name a constraint uses for the answer being checked.
pub const SELF_REF: &str = ".";

/// Read access to the answers a condition is evaluated against.
pub trait AnswerLookup {
    /// The answer stored for `code`, if any.
    fn answer(&self, code: &str) -> Option<&AnswerValue>;
}

/// A syntax error in a condition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at column {column}")]
pub struct ExprError {
    /// 1-based character position where the problem was found.
    pub column: usize,
    /// What is wrong (an `expr.*` catalogue message), without the position.
    pub message: crate::i18n::Localized,
}

impl ExprError {
    /// The message with its position, as one catalogue message (English: the same as
    /// `Display`), for embedding in the messages of the file readers.
    pub fn localized(&self) -> crate::i18n::Localized {
        crate::i18n::Localized::new("expr.at_column", &[("column", &self.column.to_string())])
            .with("message", self.message.clone())
    }

    /// The message with its position in `lang`.
    pub fn text(&self, lang: crate::i18n::Lang) -> String {
        self.localized().text(lang)
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The operator as written in the language.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        match self {
            CmpOp::Eq => ordering == Equal,
            CmpOp::Ne => ordering != Equal,
            CmpOp::Lt => ordering == Less,
            CmpOp::Le => ordering != Greater,
            CmpOp::Gt => ordering == Greater,
            CmpOp::Ge => ordering != Less,
        }
    }
}

/// A literal value on the right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Literal {
    /// A whole number such as `2` or `-1`.
    Integer(i64),
    /// A decimal number, kept as its canonical text (e.g. `"2.5"`) so it prints back exactly.
    Decimal(String),
    /// A quoted string.
    Text(String),
    /// `true` or `false`.
    Bool(bool),
}

impl Literal {
    /// The literal seen as an option code: numbers as written, booleans as `"yes"`/`"no"`.
    pub fn as_code(&self) -> String {
        match self {
            Literal::Integer(i) => i.to_string(),
            Literal::Decimal(d) => d.clone(),
            Literal::Text(s) => s.clone(),
            Literal::Bool(true) => "yes".to_owned(),
            Literal::Bool(false) => "no".to_owned(),
        }
    }

    fn as_number(&self) -> Option<f64> {
        match self {
            Literal::Integer(i) => Some(*i as f64),
            Literal::Decimal(d) => decimal_to_f64(d),
            Literal::Text(s) => number_of(s),
            Literal::Bool(_) => None,
        }
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Integer(i) => write!(f, "{i}"),
            // A decimal normalised to a whole number ("0.0" → "0") keeps a point, so that it
            // parses back as a decimal, not an integer.
            Literal::Decimal(d) if d.contains('.') => f.write_str(d),
            Literal::Decimal(d) => write!(f, "{d}.0"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Text(s) => {
                f.write_str("\"")?;
                for c in s.chars() {
                    if c == '"' || c == '\\' {
                        f.write_str("\\")?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str("\"")
            }
        }
    }
}

/// A parsed condition.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Expr {
    /// True when any operand is true (at least two operands).
    Or(Vec<Expr>),
    /// True when every operand is true (at least two operands).
    And(Vec<Expr>),
    /// Negation.
    Not(Box<Expr>),
    /// `code op literal`.
    Compare {
        /// The question code (or [`SELF_REF`]).
        code: String,
        /// The operator.
        op: CmpOp,
        /// The value compared with.
        value: Literal,
    },
    /// `code in [...]` or, when `negated`, `code not in [...]`.
    In {
        /// The question code (or [`SELF_REF`]).
        code: String,
        /// The listed values (at least one).
        values: Vec<Literal>,
        /// True for `not in`.
        negated: bool,
    },
    /// `answered(code)`.
    Answered(String),
}

impl Expr {
    /// The question codes the condition reads (including [`SELF_REF`] when used).
    pub fn references(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        self.collect_references(&mut out);
        out
    }

    fn collect_references(&self, out: &mut BTreeSet<String>) {
        match self {
            Expr::Or(xs) | Expr::And(xs) => xs.iter().for_each(|x| x.collect_references(out)),
            Expr::Not(x) => x.collect_references(out),
            Expr::Compare { code, .. } | Expr::In { code, .. } | Expr::Answered(code) => {
                out.insert(code.clone());
            }
        }
    }

    /// Every (code, literal) pair compared by equality (`==`, `!=`, `in`, `not in`), so that a
    /// validator can check the literals against the question's option codes.
    pub fn equality_literals(&self) -> Vec<(&str, &Literal)> {
        let mut out = Vec::new();
        self.collect_equality_literals(&mut out);
        out
    }

    fn collect_equality_literals<'a>(&'a self, out: &mut Vec<(&'a str, &'a Literal)>) {
        match self {
            Expr::Or(xs) | Expr::And(xs) => {
                xs.iter().for_each(|x| x.collect_equality_literals(out))
            }
            Expr::Not(x) => x.collect_equality_literals(out),
            Expr::Compare {
                code,
                op: CmpOp::Eq | CmpOp::Ne,
                value,
            } => {
                out.push((code, value));
            }
            Expr::In { code, values, .. } => out.extend(values.iter().map(|v| (code.as_str(), v))),
            Expr::Compare { .. } | Expr::Answered(_) => {}
        }
    }

    /// Evaluates the condition against `answers` (see the module documentation for semantics).
    pub fn eval(&self, answers: &impl AnswerLookup) -> bool {
        self.eval_dyn(answers)
    }

    // A `dyn` core keeps the recursion from instantiating one copy per lookup type.
    fn eval_dyn(&self, answers: &dyn AnswerLookupDyn) -> bool {
        match self {
            Expr::Or(xs) => xs.iter().any(|x| x.eval_dyn(answers)),
            Expr::And(xs) => xs.iter().all(|x| x.eval_dyn(answers)),
            Expr::Not(x) => !x.eval_dyn(answers),
            Expr::Answered(code) => answers.get(code).is_some_and(is_answered),
            Expr::Compare { code, op, value } => match answers.get(code) {
                Some(answer) if is_answered(answer) => compare(answer, *op, value),
                _ => false,
            },
            Expr::In {
                code,
                values,
                negated,
            } => match answers.get(code) {
                Some(answer) if is_answered(answer) => {
                    let any = values.iter().any(|v| compare(answer, CmpOp::Eq, v));
                    any != *negated
                }
                _ => false,
            },
        }
    }

    fn precedence(&self) -> u8 {
        match self {
            Expr::Or(_) => 1,
            Expr::And(_) => 2,
            Expr::Not(_) => 3,
            Expr::Compare { .. } | Expr::In { .. } | Expr::Answered(_) => 4,
        }
    }

    fn fmt_child(&self, child: &Expr, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Parenthesise a child that binds no tighter than its parent, so that printing and
        // parsing again yields the same tree (including explicit grouping like `a or (b or c)`).
        if child.precedence() <= self.precedence() && !matches!(child, Expr::Not(_)) {
            write!(f, "({child})")
        } else {
            write!(f, "{child}")
        }
    }
}

/// Object-safe twin of [`AnswerLookup`], used internally by the evaluator.
trait AnswerLookupDyn {
    fn get(&self, code: &str) -> Option<&AnswerValue>;
}

impl<T: AnswerLookup> AnswerLookupDyn for T {
    fn get(&self, code: &str) -> Option<&AnswerValue> {
        self.answer(code)
    }
}

fn is_answered(answer: &AnswerValue) -> bool {
    match answer {
        AnswerValue::Choices(v) => !v.is_empty(),
        AnswerValue::Text(s) | AnswerValue::Choice(s) => !s.is_empty(),
        AnswerValue::Integer(_) | AnswerValue::Decimal(_) | AnswerValue::Date(_) => true,
    }
}

fn number_of(s: &str) -> Option<f64> {
    normalize_decimal(s).and_then(|d| decimal_to_f64(&d))
}

fn compare(answer: &AnswerValue, op: CmpOp, lit: &Literal) -> bool {
    let ordering = match answer {
        AnswerValue::Choice(code) => {
            if matches!(op, CmpOp::Eq | CmpOp::Ne) {
                return op.holds(code.as_str().cmp(lit.as_code().as_str()));
            }
            number_of(code)
                .zip(lit.as_number())
                .map(|(a, b)| a.total_cmp(&b))
        }
        AnswerValue::Choices(codes) => {
            let selected = codes.iter().any(|c| *c == lit.as_code());
            return match op {
                CmpOp::Eq => selected,
                CmpOp::Ne => !selected,
                _ => false,
            };
        }
        AnswerValue::Integer(i) => lit.as_number().map(|b| (*i as f64).total_cmp(&b)),
        AnswerValue::Decimal(d) => decimal_to_f64(d)
            .zip(lit.as_number())
            .map(|(a, b)| a.total_cmp(&b)),
        AnswerValue::Text(s) => match lit {
            Literal::Text(t) if matches!(op, CmpOp::Eq | CmpOp::Ne) => Some(s.as_str().cmp(t)),
            Literal::Integer(_) | Literal::Decimal(_) if matches!(op, CmpOp::Eq | CmpOp::Ne) => {
                Some(s.as_str().cmp(lit.as_code().as_str()))
            }
            _ => number_of(s)
                .zip(lit.as_number())
                .map(|(a, b)| a.total_cmp(&b)),
        },
        AnswerValue::Date(d) => match lit {
            Literal::Text(t) => chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .ok()
                .map(|b| d.cmp(&b)),
            _ => None,
        },
    };
    match ordering {
        Some(o) => op.holds(o),
        // Values of different kinds are never equal and never ordered.
        None => op == CmpOp::Ne,
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Or(xs) | Expr::And(xs) => {
                let sep = if matches!(self, Expr::Or(_)) {
                    " or "
                } else {
                    " and "
                };
                for (i, x) in xs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(sep)?;
                    }
                    self.fmt_child(x, f)?;
                }
                Ok(())
            }
            Expr::Not(x) => {
                f.write_str("not ")?;
                self.fmt_child(x, f)
            }
            Expr::Compare { code, op, value } => write!(f, "{code} {} {value}", op.as_str()),
            Expr::In {
                code,
                values,
                negated,
            } => {
                write!(f, "{code} {}[", if *negated { "not in " } else { "in " })?;
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Expr::Answered(code) => write!(f, "answered({code})"),
        }
    }
}

impl serde::Serialize for Expr {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // The canonical text is the stable, human-readable form (used in hashes and exports).
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Expr {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Expr::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// The answers a condition sees; a plain map, so these tests need no `answers` module.
    #[derive(Default)]
    struct Answers(BTreeMap<String, AnswerValue>);

    impl Answers {
        fn new() -> Self {
            Self::default()
        }
    }

    impl AnswerLookup for Answers {
        fn answer(&self, code: &str) -> Option<&AnswerValue> {
            self.0.get(code)
        }
    }

    fn answers(pairs: &[(&str, AnswerValue)]) -> Answers {
        Answers(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        )
    }

    fn choice(s: &str) -> AnswerValue {
        AnswerValue::Choice(s.to_owned())
    }

    fn eval(src: &str, a: &Answers) -> bool {
        Expr::parse(src).unwrap().eval(a)
    }

    #[test]
    fn comparisons_against_unanswered_questions_are_false() {
        let a = Answers::new();
        assert!(!eval("q1 == 1", &a));
        assert!(!eval("q1 != 1", &a));
        assert!(!eval("q1 in [1]", &a));
        assert!(!eval("q1 not in [1]", &a));
        assert!(!eval("answered(q1)", &a));
        assert!(eval("not q1 == 1", &a));
        let empty = answers(&[("q1", AnswerValue::Choices(vec![]))]);
        assert!(!eval("answered(q1)", &empty));
    }

    #[test]
    fn choice_codes_compare_with_numbers_as_codes_and_numerically_when_ordered() {
        let a = answers(&[("q3", choice("2")), ("q4", choice("dk"))]);
        assert!(eval("q3 == 2", &a));
        assert!(eval("q3 == '2'", &a));
        assert!(!eval("q3 != 2", &a));
        assert!(eval("q3 < 3 and q3 >= 2", &a));
        assert!(!eval("q4 < 3", &a));
        assert!(!eval("q4 >= 3", &a));
        assert!(eval("q4 != 3", &a));
        assert!(eval("q3 in [1, 2]", &a));
        assert!(eval("q4 not in [1, 2]", &a));
    }

    #[test]
    fn multiple_choice_equality_means_selected() {
        let a = answers(&[("q5", AnswerValue::Choices(vec!["1".into(), "3".into()]))]);
        assert!(eval("q5 == 3", &a));
        assert!(!eval("q5 == 2", &a));
        assert!(eval("q5 != 2", &a));
        assert!(eval("q5 in [2, 3]", &a));
        assert!(!eval("q5 in [2, 4]", &a));
        assert!(eval("q5 not in [2, 4]", &a));
        assert!(!eval("q5 > 0", &a));
    }

    #[test]
    fn yes_no_answers_compare_with_booleans() {
        let a = answers(&[("q6", choice("yes"))]);
        assert!(eval("q6 == true", &a));
        assert!(eval("q6 == 'yes'", &a));
        assert!(eval("q6 != false", &a));
        assert!(!eval("q6 == false", &a));
    }

    #[test]
    fn numbers_dates_and_text_compare_by_kind() {
        let a = answers(&[
            ("n", AnswerValue::Integer(7)),
            ("d", AnswerValue::Decimal("2.5".into())),
            ("t", AnswerValue::Text("abc".into())),
            (
                "day",
                AnswerValue::Date(chrono::NaiveDate::from_ymd_opt(2023, 5, 1).unwrap()),
            ),
        ]);
        assert!(eval("n >= 7 and n < 7.5 and n == '7'", &a));
        assert!(eval("d > 2 and d == 2.50", &a));
        assert!(eval("t == 'abc' and t != 'abd'", &a));
        assert!(!eval("t > 1", &a));
        assert!(eval("day >= '2023-01-01' and day < '2023-05-02'", &a));
        assert!(!eval("day == 1", &a));
        assert!(eval("day != 1", &a));
    }

    #[test]
    fn references_lists_every_code() {
        let e = Expr::parse("a == 1 or (answered(b.c) and not d in [1])").unwrap();
        let refs: Vec<_> = e.references().into_iter().collect();
        assert_eq!(refs, ["a", "b.c", "d"]);
    }

    #[test]
    fn self_reference_is_a_dot() {
        let e = Expr::parse(". >= 1 and . <= 10").unwrap();
        assert_eq!(e.to_string(), ". >= 1 and . <= 10");
        assert_eq!(e.references().into_iter().collect::<Vec<_>>(), ["."]);
    }

    #[test]
    fn arbitrary_strings_never_panic_the_parser() {
        let alphabet: Vec<char> = "ab q1_.()[],'\"\\=!<>-0123456789 andornotin true\u{1F600}é\n"
            .chars()
            .collect();
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 40) as usize;
            let mut s = String::new();
            let mut x = seed;
            for _ in 0..len {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                s.push(alphabet[(x >> 33) as usize % alphabet.len()]);
            }
            if let Ok(e) = Expr::parse(&s) {
                // Whatever parses must print to something that parses to the same tree.
                assert_eq!(Expr::parse(&e.to_string()).unwrap(), e, "for {s:?}");
                let _ = e.eval(&Answers::new());
            }
        }
    }
}
