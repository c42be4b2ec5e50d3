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

use std::collections::BTreeSet;
use std::fmt;

use crate::domain::answers::{AnswerValue, decimal_to_f64, normalize_decimal};

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
    /// What is wrong, in English, without the position.
    pub message: String,
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
    /// Parses a condition. See the module documentation for the grammar and limits.
    pub fn parse(src: &str) -> Result<Expr, ExprError> {
        let char_count = src.chars().count();
        if char_count > MAX_EXPR_CHARS {
            return Err(ExprError {
                column: MAX_EXPR_CHARS + 1,
                message: format!(
                    "condition is too long ({char_count} characters; the limit is {MAX_EXPR_CHARS})"
                ),
            });
        }
        let tokens = tokenize(src)?;
        let mut parser = Parser {
            tokens,
            pos: 0,
            end_column: char_count + 1,
        };
        let expr = parser.parse_or(0)?;
        if let Some(tok) = parser.peek() {
            return Err(ExprError {
                column: tok.column,
                message: format!("unexpected {} after the end of the condition", tok.kind),
            });
        }
        Ok(expr)
    }

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

#[derive(Debug, Clone, PartialEq)]
enum TokenKind {
    Ident(String),
    SelfRef,
    Number(Literal),
    Str(String),
    Op(CmpOp),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenKind::Ident(s) => write!(f, "'{s}'"),
            TokenKind::SelfRef => f.write_str("'.'"),
            TokenKind::Number(n) => write!(f, "'{n}'"),
            TokenKind::Str(s) => write!(f, "string {}", Literal::Text(s.clone())),
            TokenKind::Op(op) => write!(f, "'{}'", op.as_str()),
            TokenKind::LParen => f.write_str("'('"),
            TokenKind::RParen => f.write_str("')'"),
            TokenKind::LBracket => f.write_str("'['"),
            TokenKind::RBracket => f.write_str("']'"),
            TokenKind::Comma => f.write_str("','"),
        }
    }
}

#[derive(Debug, Clone)]
struct Token {
    kind: TokenKind,
    column: usize,
}

fn err<T>(column: usize, message: impl Into<String>) -> Result<T, ExprError> {
    Err(ExprError {
        column,
        message: message.into(),
    })
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

fn tokenize(src: &str) -> Result<Vec<Token>, ExprError> {
    let chars: Vec<char> = src.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let column = i + 1;
        let next = chars.get(i + 1).copied();
        let mut push = |kind, len: usize| {
            tokens.push(Token { kind, column });
            len
        };
        i += match c {
            c if c.is_whitespace() => 1,
            '(' => push(TokenKind::LParen, 1),
            ')' => push(TokenKind::RParen, 1),
            '[' => push(TokenKind::LBracket, 1),
            ']' => push(TokenKind::RBracket, 1),
            ',' => push(TokenKind::Comma, 1),
            '=' if next == Some('=') => push(TokenKind::Op(CmpOp::Eq), 2),
            '=' => return err(column, "use '==' to compare, not '='"),
            '!' if next == Some('=') => push(TokenKind::Op(CmpOp::Ne), 2),
            '!' => return err(column, "use 'not' instead of '!'"),
            '<' if next == Some('=') => push(TokenKind::Op(CmpOp::Le), 2),
            '<' if next == Some('>') => return err(column, "use '!=' instead of '<>'"),
            '<' => push(TokenKind::Op(CmpOp::Lt), 1),
            '>' if next == Some('=') => push(TokenKind::Op(CmpOp::Ge), 2),
            '>' => push(TokenKind::Op(CmpOp::Gt), 1),
            '&' => return err(column, "use 'and' instead of '&'"),
            '|' => return err(column, "use 'or' instead of '|'"),
            '"' | '\'' => {
                let (text, len) = read_string(&chars, i)?;
                push(TokenKind::Str(text), len)
            }
            '.' if !next.is_some_and(is_ident_char) => push(TokenKind::SelfRef, 1),
            c if c.is_ascii_digit() || (c == '-' && next.is_some_and(|n| n.is_ascii_digit())) => {
                let (lit, len) = read_number(&chars, i)?;
                push(TokenKind::Number(lit), len)
            }
            c if is_ident_start(c) => {
                let len = chars
                    .get(i..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|c| is_ident_char(**c))
                    .count();
                let name: String = chars.get(i..i + len).unwrap_or_default().iter().collect();
                push(TokenKind::Ident(name), len)
            }
            other => return err(column, format!("unexpected character '{other}'")),
        };
    }
    Ok(tokens)
}

fn read_string(chars: &[char], start: usize) -> Result<(String, usize), ExprError> {
    let quote = chars.get(start).copied().unwrap_or('"');
    let mut text = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => return err(start + 1, "unterminated string"),
            Some('\\') => match chars.get(i + 1) {
                Some(c @ ('\\' | '"' | '\'')) => {
                    text.push(*c);
                    i += 2;
                }
                _ => return err(i + 1, "a backslash may only escape \\, \" or '"),
            },
            Some(c) if *c == quote => return Ok((text, i + 1 - start)),
            Some(c) => {
                text.push(*c);
                i += 1;
            }
        }
    }
}

fn read_number(chars: &[char], start: usize) -> Result<(Literal, usize), ExprError> {
    let rest = chars.get(start..).unwrap_or_default();
    let len = rest
        .iter()
        .enumerate()
        .take_while(|(k, c)| c.is_ascii_digit() || **c == '.' || (*k == 0 && **c == '-'))
        .count();
    let text: String = rest.iter().take(len).collect();
    if rest.get(len).is_some_and(|c| is_ident_start(*c)) {
        return err(
            start + len + 1,
            format!("unexpected character after number '{text}'"),
        );
    }
    if !text.contains('.') {
        return match text.parse::<i64>() {
            Ok(i) => Ok((Literal::Integer(i), len)),
            Err(_) => err(start + 1, format!("number '{text}' is too large")),
        };
    }
    match normalize_decimal(&text) {
        Some(d) if !text.ends_with('.') => Ok((Literal::Decimal(d), len)),
        _ => err(start + 1, format!("'{text}' is not a valid number")),
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    end_column: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let tok = self.tokens.get(self.pos).cloned();
        if tok.is_some() {
            self.pos += 1;
        }
        tok
    }

    fn peek_keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token { kind: TokenKind::Ident(w), .. }) if w == word)
    }

    fn column(&self) -> usize {
        self.peek().map_or(self.end_column, |t| t.column)
    }

    fn parse_or(&mut self, depth: usize) -> Result<Expr, ExprError> {
        let mut items = vec![self.parse_and(depth)?];
        while self.peek_keyword("or") {
            self.pos += 1;
            items.push(self.parse_and(depth)?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Expr::Or(Vec::new()))
        } else {
            Expr::Or(items)
        })
    }

    fn parse_and(&mut self, depth: usize) -> Result<Expr, ExprError> {
        let mut items = vec![self.parse_unary(depth)?];
        while self.peek_keyword("and") {
            self.pos += 1;
            items.push(self.parse_unary(depth)?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Expr::And(Vec::new()))
        } else {
            Expr::And(items)
        })
    }

    fn deeper(&self, depth: usize, column: usize) -> Result<usize, ExprError> {
        if depth >= MAX_EXPR_DEPTH {
            return err(
                column,
                format!("condition is nested too deeply (the limit is {MAX_EXPR_DEPTH} levels)"),
            );
        }
        Ok(depth + 1)
    }

    fn parse_unary(&mut self, depth: usize) -> Result<Expr, ExprError> {
        if self.peek_keyword("not") {
            let column = self.column();
            let depth = self.deeper(depth, column)?;
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.parse_unary(depth)?)));
        }
        self.parse_primary(depth)
    }

    fn parse_primary(&mut self, depth: usize) -> Result<Expr, ExprError> {
        let column = self.column();
        let Some(tok) = self.next() else {
            return err(column, "expected a condition");
        };
        match tok.kind {
            TokenKind::LParen => {
                let depth = self.deeper(depth, column)?;
                let inner = self.parse_or(depth)?;
                match self.next() {
                    Some(Token {
                        kind: TokenKind::RParen,
                        ..
                    }) => Ok(inner),
                    Some(other) => err(
                        other.column,
                        format!(
                            "expected ')' to close '(' at column {column}, found {}",
                            other.kind
                        ),
                    ),
                    None => err(
                        self.end_column,
                        format!("expected ')' to close '(' at column {column}"),
                    ),
                }
            }
            TokenKind::Ident(word) if word == "answered" && self.peek_is(&TokenKind::LParen) => {
                self.pos += 1;
                let code = self.parse_subject("after 'answered('")?;
                self.expect(&TokenKind::RParen, "to close 'answered('")?;
                Ok(Expr::Answered(code))
            }
            TokenKind::Ident(word) if is_keyword(&word) => err(
                tok.column,
                format!("expected a question code, found keyword '{word}'"),
            ),
            TokenKind::Ident(code) => self.parse_comparison(code),
            TokenKind::SelfRef => self.parse_comparison(SELF_REF.to_owned()),
            other => err(
                tok.column,
                format!("expected a question code or '(', found {other}"),
            ),
        }
    }

    fn peek_is(&self, kind: &TokenKind) -> bool {
        self.peek().is_some_and(|t| t.kind == *kind)
    }

    fn expect(&mut self, kind: &TokenKind, why: &str) -> Result<(), ExprError> {
        let column = self.column();
        match self.next() {
            Some(t) if t.kind == *kind => Ok(()),
            Some(t) => err(column, format!("expected {kind} {why}, found {}", t.kind)),
            None => err(column, format!("expected {kind} {why}")),
        }
    }

    fn parse_subject(&mut self, context: &str) -> Result<String, ExprError> {
        let column = self.column();
        match self.next() {
            Some(Token {
                kind: TokenKind::Ident(code),
                ..
            }) if !is_keyword(&code) => Ok(code),
            Some(Token {
                kind: TokenKind::SelfRef,
                ..
            }) => Ok(SELF_REF.to_owned()),
            Some(t) => err(
                column,
                format!("expected a question code {context}, found {}", t.kind),
            ),
            None => err(column, format!("expected a question code {context}")),
        }
    }

    fn parse_comparison(&mut self, code: String) -> Result<Expr, ExprError> {
        let column = self.column();
        match self.next().map(|t| t.kind) {
            Some(TokenKind::Op(op)) => {
                let value = self.parse_literal(&format!("after '{}'", op.as_str()))?;
                Ok(Expr::Compare { code, op, value })
            }
            Some(TokenKind::Ident(w)) if w == "in" => {
                let values = self.parse_list("after 'in'")?;
                Ok(Expr::In {
                    code,
                    values,
                    negated: false,
                })
            }
            Some(TokenKind::Ident(w)) if w == "not" && self.peek_keyword("in") => {
                self.pos += 1;
                let values = self.parse_list("after 'not in'")?;
                Ok(Expr::In {
                    code,
                    values,
                    negated: true,
                })
            }
            Some(other) => err(
                column,
                format!("expected a comparison operator after '{code}', found {other}"),
            ),
            None => err(
                column,
                format!("expected a comparison operator after '{code}'"),
            ),
        }
    }

    fn parse_literal(&mut self, context: &str) -> Result<Literal, ExprError> {
        let column = self.column();
        match self.next().map(|t| t.kind) {
            Some(TokenKind::Number(n)) => Ok(n),
            Some(TokenKind::Str(s)) => Ok(Literal::Text(s)),
            Some(TokenKind::Ident(w)) if w == "true" => Ok(Literal::Bool(true)),
            Some(TokenKind::Ident(w)) if w == "false" => Ok(Literal::Bool(false)),
            Some(TokenKind::Ident(w)) => err(
                column,
                format!(
                    "expected a value {context}, found '{w}' (comparisons are between a question and a literal; quote text values)"
                ),
            ),
            Some(other) => err(column, format!("expected a value {context}, found {other}")),
            None => err(column, format!("expected a value {context}")),
        }
    }

    fn parse_list(&mut self, context: &str) -> Result<Vec<Literal>, ExprError> {
        self.expect(&TokenKind::LBracket, context)?;
        let mut values = vec![self.parse_literal("in the list")?];
        loop {
            let column = self.column();
            match self.next().map(|t| t.kind) {
                Some(TokenKind::Comma) => values.push(self.parse_literal("after ','")?),
                Some(TokenKind::RBracket) => return Ok(values),
                Some(other) => {
                    return err(
                        column,
                        format!("expected ',' or ']' in the list, found {other}"),
                    );
                }
                None => return err(column, "expected ']' to close the list"),
            }
        }
    }
}

fn is_keyword(word: &str) -> bool {
    matches!(word, "and" | "or" | "not" | "in" | "true" | "false")
}

/// True when `code` can be used as a question code in conditions (identifier, not a keyword).
pub fn is_valid_code(code: &str) -> bool {
    let mut chars = code.chars();
    chars.next().is_some_and(is_ident_start) && chars.all(is_ident_char) && !is_keyword(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::answers::Answers;

    fn answers(pairs: &[(&str, AnswerValue)]) -> Answers {
        let mut a = Answers::new();
        for (k, v) in pairs {
            a.insert((*k).to_owned(), v.clone());
        }
        a
    }

    fn choice(s: &str) -> AnswerValue {
        AnswerValue::Choice(s.to_owned())
    }

    fn eval(src: &str, a: &Answers) -> bool {
        Expr::parse(src).unwrap().eval(a)
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let e = Expr::parse("a == 1 or b == 2 and c == 3").unwrap();
        match e {
            Expr::Or(xs) => {
                assert_eq!(xs.len(), 2);
                assert!(matches!(xs.get(1), Some(Expr::And(_))));
            }
            other => panic!("expected or, got {other:?}"),
        }
    }

    #[test]
    fn not_binds_tighter_than_and() {
        let e = Expr::parse("not a == 1 and b == 2").unwrap();
        assert!(matches!(e, Expr::And(ref xs) if matches!(xs.first(), Some(Expr::Not(_)))));
    }

    #[test]
    fn display_prints_canonical_form_that_parses_to_the_same_tree() {
        let cases = [
            (
                "a==1 or (b=='x' and not c<=2.50)",
                "a == 1 or b == \"x\" and not c <= 2.5",
            ),
            (
                "(a == 1 or b == 2) and c == 3",
                "(a == 1 or b == 2) and c == 3",
            ),
            (
                "a == 1 or (b == 2 or c == 3)",
                "a == 1 or (b == 2 or c == 3)",
            ),
            ("not (a == 1 or b == 2)", "not (a == 1 or b == 2)"),
            ("q5 not in [1,'2', true]", "q5 not in [1, \"2\", true]"),
            ("answered( q4 )", "answered(q4)"),
            ("x == 'say \"hi\"'", "x == \"say \\\"hi\\\"\""),
            ("not not a == -3", "not not a == -3"),
        ];
        for (src, canonical) in cases {
            let e = Expr::parse(src).unwrap();
            assert_eq!(e.to_string(), canonical, "for {src}");
            assert_eq!(Expr::parse(canonical).unwrap(), e, "for {src}");
        }
    }

    #[test]
    fn missing_value_after_operator_names_its_column() {
        let e = Expr::parse("q1 == ").unwrap_err();
        assert_eq!(e.to_string(), "expected a value after '==' at column 7");
    }

    #[test]
    fn syntax_errors_have_exact_columns_and_messages() {
        let cases = [
            ("", "expected a condition at column 1"),
            ("q1 = 2", "use '==' to compare, not '=' at column 4"),
            ("q1 == 2 && q2 == 3", "use 'and' instead of '&' at column 9"),
            (
                "(q1 == 2",
                "expected ')' to close '(' at column 1 at column 9",
            ),
            (
                "q1 2",
                "expected a comparison operator after 'q1', found '2' at column 4",
            ),
            ("q1 == 'abc", "unterminated string at column 7"),
            ("q1 in 1", "expected '[' after 'in', found '1' at column 7"),
            (
                "q1 in [1 2]",
                "expected ',' or ']' in the list, found '2' at column 10",
            ),
            (
                "q1 == 1 q2",
                "unexpected 'q2' after the end of the condition at column 9",
            ),
            (
                "q1 == yes",
                "expected a value after '==', found 'yes' (comparisons are between a question and a literal; quote text values) at column 7",
            ),
            (
                "and == 1",
                "expected a question code, found keyword 'and' at column 1",
            ),
            (
                "q1 == 99999999999999999999",
                "number '99999999999999999999' is too large at column 7",
            ),
            ("q1 == 1.", "'1.' is not a valid number at column 7"),
            ("q1 == #", "unexpected character '#' at column 7"),
        ];
        for (src, message) in cases {
            assert_eq!(
                Expr::parse(src).unwrap_err().to_string(),
                message,
                "for {src:?}"
            );
        }
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_rejected() {
        let ok = format!("{}a == 1{}", "(".repeat(32), ")".repeat(32));
        assert!(Expr::parse(&ok).is_ok());
        let deep = format!("{}a == 1{}", "(".repeat(33), ")".repeat(33));
        let e = Expr::parse(&deep).unwrap_err();
        assert_eq!(e.column, 33);
        assert_eq!(
            e.message,
            "condition is nested too deeply (the limit is 32 levels)"
        );
        let nots = format!("{}a == 1", "not ".repeat(40));
        assert_eq!(Expr::parse(&nots).unwrap_err().column, 129);
    }

    #[test]
    fn overlong_condition_is_rejected() {
        let src = format!("a == \"{}\"", "x".repeat(2_000));
        let e = Expr::parse(&src).unwrap_err();
        assert_eq!(
            e.to_string(),
            "condition is too long (2007 characters; the limit is 2000) at column 2001"
        );
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
