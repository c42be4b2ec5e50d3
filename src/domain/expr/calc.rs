//! Calculations: the value of a `calculate` question, computed on the server from earlier
//! answers and stored with the response like any other answer.
//!
//! One syntax serves the TOML format and XLSForm (it is the arithmetic part of XLSForm's
//! XPath), so a calculation reads the same in both:
//!
//! ```text
//! calc     := sum
//! sum      := product ( ("+" | "-") product )*
//! product  := unary ( ("*" | "/" | "div" | "mod") unary )*
//! unary    := "-" unary | primary
//! primary  := number | 'string' | "string" | "${" code "}" | "(" calc ")"
//!           | "if" "(" condition "," calc "," calc ")"
//!           | ("concat" | "coalesce" | "round" | "int" | "number") "(" calc ( "," calc )* ")"
//! ```
//!
//! The condition of `if(...)` is written in the language of the file it sits in: khaosat's
//! condition language in TOML (`if(q1 == 1, 10, 0)`), XPath in XLSForm (`if(${q1} = 1, 10, 0)`).
//! The caller hands the parser a function that reads it.
//!
//! Semantics, chosen so that a missing answer never produces a made-up number:
//! - A reference to an unanswered question is empty. Arithmetic with an empty operand, with
//!   text that is not a number, or a division by zero, is empty; an empty result stores nothing.
//! - Choice answers are their option codes (numeric codes count as numbers), multiple choices
//!   their codes joined by spaces, dates `YYYY-MM-DD`, yes/no `yes` / `no`.
//! - `concat` joins its arguments as text (empty ones as ""); `coalesce` is the first non-empty
//!   argument; `round(x)` / `round(x, digits)` rounds half away from zero; `int` truncates;
//!   `number` reads text as a number.
//! - A whole-number result is stored as an integer, any other number as a decimal, text as text.

use std::collections::BTreeSet;
use std::fmt;

use super::{AnswerLookup, Expr, ExprError, MAX_EXPR_CHARS, MAX_EXPR_DEPTH};
use crate::domain::answer_value::{AnswerValue, decimal_to_f64, normalize_decimal};
use crate::i18n::Localized;

/// An arithmetic operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `div` (also written `/`)
    Div,
    /// `mod`
    Mod,
}

impl ArithOp {
    fn as_str(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "div",
            ArithOp::Mod => "mod",
        }
    }

    fn precedence(self) -> u8 {
        match self {
            ArithOp::Add | ArithOp::Sub => 1,
            ArithOp::Mul | ArithOp::Div | ArithOp::Mod => 2,
        }
    }
}

/// A function a calculation may call (besides `if`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CalcFn {
    /// Joins its arguments as text.
    Concat,
    /// The first non-empty argument.
    Coalesce,
    /// Rounds half away from zero, to 0 or the given number of digits.
    Round,
    /// Truncates towards zero.
    Int,
    /// Reads text as a number.
    Number,
}

impl CalcFn {
    const ALL: [CalcFn; 5] = [
        CalcFn::Concat,
        CalcFn::Coalesce,
        CalcFn::Round,
        CalcFn::Int,
        CalcFn::Number,
    ];

    /// The name as written.
    pub fn name(self) -> &'static str {
        match self {
            CalcFn::Concat => "concat",
            CalcFn::Coalesce => "coalesce",
            CalcFn::Round => "round",
            CalcFn::Int => "int",
            CalcFn::Number => "number",
        }
    }

    fn arity(self) -> (usize, usize) {
        match self {
            CalcFn::Concat | CalcFn::Coalesce => (1, 64),
            CalcFn::Round => (1, 2),
            CalcFn::Int | CalcFn::Number => (1, 1),
        }
    }
}

/// A parsed calculation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Calc {
    /// A number, kept as its canonical decimal text so that it prints back exactly.
    Number(String),
    /// A quoted string.
    Text(String),
    /// `${code}`: an earlier answer.
    Ref(String),
    /// `-x`.
    Neg(Box<Calc>),
    /// `a op b`.
    Binary(ArithOp, Box<Calc>, Box<Calc>),
    /// `if(condition, then, else)`.
    If(Box<Expr>, Box<Calc>, Box<Calc>),
    /// A function call.
    Call(CalcFn, Vec<Calc>),
}

/// The value of a calculation while it is evaluated.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Num(f64),
    Text(String),
}

impl Value {
    fn number(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            Value::Text(t) => t.trim().parse::<f64>().ok().filter(|n| n.is_finite()),
        }
    }

    fn text(&self) -> String {
        match self {
            Value::Text(t) => t.clone(),
            Value::Num(n) => number_text(*n),
        }
    }
}

fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        normalize_decimal(&format!("{n}")).unwrap_or_else(|| format!("{n}"))
    }
}

fn value_of(answer: &AnswerValue) -> Option<Value> {
    Some(match answer {
        AnswerValue::Integer(i) => Value::Num(*i as f64),
        AnswerValue::Decimal(d) => Value::Num(decimal_to_f64(d)?),
        AnswerValue::Choice(c) => match c.parse::<f64>() {
            Ok(n) if n.is_finite() => Value::Num(n),
            _ => Value::Text(c.clone()),
        },
        AnswerValue::Choices(cs) if cs.is_empty() => return None,
        AnswerValue::Choices(cs) => Value::Text(cs.join(" ")),
        AnswerValue::Text(t) if t.is_empty() => return None,
        AnswerValue::Text(t) => Value::Text(t.clone()),
        AnswerValue::Date(d) => Value::Text(d.format("%Y-%m-%d").to_string()),
    })
}

impl Calc {
    /// Parses a calculation; `condition` reads the first argument of `if(...)` in the file's
    /// own condition language.
    pub fn parse(
        src: &str,
        condition: &dyn Fn(&str) -> Result<Expr, Localized>,
    ) -> Result<Calc, ExprError> {
        let count = src.chars().count();
        if count > MAX_EXPR_CHARS {
            return Err(ExprError {
                column: 1,
                message: Localized::new(
                    "expr.too_long",
                    &[
                        ("count", &count.to_string()),
                        ("limit", &MAX_EXPR_CHARS.to_string()),
                    ],
                ),
            });
        }
        let mut p = CalcParser {
            chars: src.chars().collect(),
            pos: 0,
            depth: 0,
            condition,
        };
        let calc = p.sum()?;
        p.skip_space();
        if p.pos < p.chars.len() {
            return Err(p.error("calc.trailing", &[("text", &p.rest())]));
        }
        Ok(calc)
    }

    /// The answer codes the calculation reads (including those in `if` conditions).
    pub fn references(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        self.collect(&mut out);
        out
    }

    fn collect(&self, out: &mut BTreeSet<String>) {
        match self {
            Calc::Number(_) | Calc::Text(_) => {}
            Calc::Ref(code) => {
                out.insert(code.clone());
            }
            Calc::Neg(x) => x.collect(out),
            Calc::Binary(_, a, b) => {
                a.collect(out);
                b.collect(out);
            }
            Calc::If(c, a, b) => {
                out.extend(c.references());
                a.collect(out);
                b.collect(out);
            }
            Calc::Call(_, args) => args.iter().for_each(|a| a.collect(out)),
        }
    }

    /// Whether the result is always a number (or empty), so that it can be a numeric
    /// variable in microdata; a reference or text anywhere in a result position says no.
    pub fn is_numeric(&self) -> bool {
        match self {
            Calc::Number(_) | Calc::Neg(_) | Calc::Binary(..) => true,
            Calc::Text(_) | Calc::Ref(_) => false,
            Calc::If(_, a, b) => a.is_numeric() && b.is_numeric(),
            Calc::Call(CalcFn::Coalesce, args) => args.iter().all(Calc::is_numeric),
            Calc::Call(CalcFn::Concat, _) => false,
            Calc::Call(CalcFn::Round | CalcFn::Int | CalcFn::Number, _) => true,
        }
    }

    /// The conditions inside `if(...)`, for the validator's literal checks.
    pub fn conditions(&self) -> Vec<&Expr> {
        let mut out = Vec::new();
        self.collect_conditions(&mut out);
        out
    }

    fn collect_conditions<'a>(&'a self, out: &mut Vec<&'a Expr>) {
        match self {
            Calc::Number(_) | Calc::Text(_) | Calc::Ref(_) => {}
            Calc::Neg(x) => x.collect_conditions(out),
            Calc::Binary(_, a, b) => {
                a.collect_conditions(out);
                b.collect_conditions(out);
            }
            Calc::If(c, a, b) => {
                out.push(c);
                a.collect_conditions(out);
                b.collect_conditions(out);
            }
            Calc::Call(_, args) => args.iter().for_each(|a| a.collect_conditions(out)),
        }
    }

    /// Computes the value to store, or `None` when it is empty (see the module documentation).
    pub fn eval(&self, answers: &impl AnswerLookup) -> Option<AnswerValue> {
        match self.value(answers)? {
            Value::Num(n) if !n.is_finite() => None,
            Value::Num(n) if n.fract() == 0.0 && n.abs() < 1e15 => {
                Some(AnswerValue::Integer(n as i64))
            }
            Value::Num(n) => normalize_decimal(&format!("{n}")).map(AnswerValue::Decimal),
            Value::Text(t) if t.is_empty() => None,
            Value::Text(t) => Some(AnswerValue::Text(t)),
        }
    }

    fn value(&self, answers: &dyn DynLookup) -> Option<Value> {
        match self {
            Calc::Number(n) => decimal_to_f64(n).map(Value::Num),
            Calc::Text(t) => Some(Value::Text(t.clone())),
            Calc::Ref(code) => answers.lookup(code).and_then(value_of),
            Calc::Neg(x) => x.value(answers)?.number().map(|n| Value::Num(-n)),
            Calc::Binary(op, a, b) => {
                let a = a.value(answers)?.number()?;
                let b = b.value(answers)?.number()?;
                let n = match op {
                    ArithOp::Add => a + b,
                    ArithOp::Sub => a - b,
                    ArithOp::Mul => a * b,
                    ArithOp::Div if b == 0.0 => return None,
                    ArithOp::Div => a / b,
                    ArithOp::Mod if b == 0.0 => return None,
                    ArithOp::Mod => a % b,
                };
                n.is_finite().then_some(Value::Num(n))
            }
            Calc::If(c, a, b) => {
                if c.eval(&DynAsLookup(answers)) {
                    a.value(answers)
                } else {
                    b.value(answers)
                }
            }
            Calc::Call(f, args) => match f {
                CalcFn::Concat => Some(Value::Text(
                    args.iter()
                        .map(|a| a.value(answers).map(|v| v.text()).unwrap_or_default())
                        .collect(),
                )),
                CalcFn::Coalesce => args.iter().find_map(|a| {
                    a.value(answers)
                        .filter(|v| !matches!(v, Value::Text(t) if t.is_empty()))
                }),
                CalcFn::Round => {
                    let x = args.first()?.value(answers)?.number()?;
                    let digits = match args.get(1) {
                        Some(d) => d.value(answers)?.number()?.trunc().clamp(-15.0, 15.0),
                        None => 0.0,
                    };
                    let scale = 10f64.powi(digits as i32);
                    Some(Value::Num((x * scale).round() / scale))
                }
                CalcFn::Int => Some(Value::Num(args.first()?.value(answers)?.number()?.trunc())),
                CalcFn::Number => Some(Value::Num(args.first()?.value(answers)?.number()?)),
            },
        }
    }

    fn precedence(&self) -> u8 {
        match self {
            Calc::Binary(op, ..) => op.precedence(),
            Calc::Neg(_) => 3,
            _ => 4,
        }
    }

    /// Prints the calculation with `condition` printing the conditions of `if(...)` (khaosat's
    /// language for TOML, XPath for XLSForm).
    pub fn write_with(&self, condition: &dyn Fn(&Expr) -> String) -> String {
        let mut out = String::new();
        self.write(&mut out, condition);
        out
    }

    fn write(&self, out: &mut String, condition: &dyn Fn(&Expr) -> String) {
        match self {
            Calc::Number(n) => out.push_str(n),
            Calc::Text(t) => {
                // XPath has no escapes: pick the quote the text does not contain.
                let q = if t.contains('\'') { '"' } else { '\'' };
                out.push(q);
                out.push_str(t);
                out.push(q);
            }
            Calc::Ref(code) => {
                out.push_str("${");
                out.push_str(code);
                out.push('}');
            }
            Calc::Neg(x) => {
                out.push('-');
                x.write_child(out, condition, x.precedence() < 3);
            }
            Calc::Binary(op, a, b) => {
                a.write_child(out, condition, a.precedence() < op.precedence());
                out.push(' ');
                out.push_str(op.as_str());
                out.push(' ');
                b.write_child(out, condition, b.precedence() <= op.precedence());
            }
            Calc::If(c, a, b) => {
                out.push_str("if(");
                out.push_str(&condition(c));
                out.push_str(", ");
                a.write(out, condition);
                out.push_str(", ");
                b.write(out, condition);
                out.push(')');
            }
            Calc::Call(f, args) => {
                out.push_str(f.name());
                out.push('(');
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    a.write(out, condition);
                }
                out.push(')');
            }
        }
    }

    fn write_child(&self, out: &mut String, condition: &dyn Fn(&Expr) -> String, paren: bool) {
        if paren {
            out.push('(');
            self.write(out, condition);
            out.push(')');
        } else {
            self.write(out, condition);
        }
    }
}

/// Prints in the TOML form (conditions in khaosat's language).
impl fmt::Display for Calc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.write_with(&|e| e.to_string()))
    }
}

impl serde::Serialize for Calc {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Object-safe answer lookup, so that evaluation is not instantiated per lookup type.
trait DynLookup {
    fn lookup(&self, code: &str) -> Option<&AnswerValue>;
}

impl<T: AnswerLookup> DynLookup for T {
    fn lookup(&self, code: &str) -> Option<&AnswerValue> {
        self.answer(code)
    }
}

struct DynAsLookup<'a>(&'a dyn DynLookup);

impl AnswerLookup for DynAsLookup<'_> {
    fn answer(&self, code: &str) -> Option<&AnswerValue> {
        self.0.lookup(code)
    }
}

struct CalcParser<'c> {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
    condition: &'c dyn Fn(&str) -> Result<Expr, Localized>,
}

impl CalcParser<'_> {
    fn error(&self, key: &'static str, args: &[(&'static str, &str)]) -> ExprError {
        ExprError {
            column: self.pos + 1,
            message: Localized::new(key, args),
        }
    }

    fn rest(&self) -> String {
        self.chars[self.pos..].iter().take(20).collect()
    }

    fn skip_space(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_space();
        self.chars.get(self.pos).copied()
    }

    /// Consumes `word` when it is next as a whole word.
    fn word(&mut self, word: &str) -> bool {
        self.skip_space();
        let w: Vec<char> = word.chars().collect();
        let end = self.pos + w.len();
        if self.chars.get(self.pos..end) == Some(&w[..])
            && !self
                .chars
                .get(end)
                .is_some_and(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
        {
            self.pos = end;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), ExprError> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(
                "calc.expected",
                &[("expected", &c.to_string()), ("text", &self.rest())],
            ))
        }
    }

    fn enter(&mut self) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_EXPR_DEPTH {
            return Err(self.error("expr.too_deep", &[("limit", &MAX_EXPR_DEPTH.to_string())]));
        }
        Ok(())
    }

    fn sum(&mut self) -> Result<Calc, ExprError> {
        self.enter()?;
        let mut left = self.product()?;
        loop {
            let op = match self.peek() {
                Some('+') => ArithOp::Add,
                Some('-') => ArithOp::Sub,
                _ => break,
            };
            self.pos += 1;
            let right = self.product()?;
            left = Calc::Binary(op, Box::new(left), Box::new(right));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn product(&mut self) -> Result<Calc, ExprError> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Some('*') => {
                    self.pos += 1;
                    ArithOp::Mul
                }
                Some('/') => {
                    self.pos += 1;
                    ArithOp::Div
                }
                _ if self.word("div") => ArithOp::Div,
                _ if self.word("mod") => ArithOp::Mod,
                _ => break,
            };
            let right = self.unary()?;
            left = Calc::Binary(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Calc, ExprError> {
        if self.peek() == Some('-') {
            self.pos += 1;
            self.enter()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(match inner {
                Calc::Number(n) if !n.starts_with('-') => Calc::Number(format!("-{n}")),
                other => Calc::Neg(Box::new(other)),
            });
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Calc, ExprError> {
        match self.peek() {
            None => Err(self.error("calc.expected_value", &[("text", "")])),
            Some('(') => {
                self.pos += 1;
                let inner = self.sum()?;
                self.expect(')')?;
                Ok(inner)
            }
            Some(q @ ('\'' | '"')) => {
                let start = self.pos;
                self.pos += 1;
                let mut text = String::new();
                loop {
                    match self.chars.get(self.pos) {
                        None => {
                            self.pos = start;
                            return Err(self.error("expr.unterminated_string", &[]));
                        }
                        Some(c) if *c == q => {
                            self.pos += 1;
                            break;
                        }
                        Some(c) => {
                            text.push(*c);
                            self.pos += 1;
                        }
                    }
                }
                Ok(Calc::Text(text))
            }
            Some('$') => {
                if self.chars.get(self.pos + 1) != Some(&'{') {
                    return Err(self.error("calc.expected_value", &[("text", &self.rest())]));
                }
                let start = self.pos;
                self.pos += 2;
                let mut code = String::new();
                while let Some(c) = self.chars.get(self.pos).filter(|c| **c != '}') {
                    code.push(*c);
                    self.pos += 1;
                }
                if self.chars.get(self.pos) != Some(&'}') {
                    self.pos = start;
                    return Err(self.error("calc.unclosed_reference", &[]));
                }
                self.pos += 1;
                let code = code.trim().to_owned();
                if !super::is_valid_code(&code) {
                    self.pos = start;
                    return Err(self.error("calc.bad_reference", &[("code", &code)]));
                }
                Ok(Calc::Ref(code))
            }
            Some(c) if c.is_ascii_digit() || c == '.' => {
                let start = self.pos;
                while self
                    .chars
                    .get(self.pos)
                    .is_some_and(|c| c.is_ascii_digit() || *c == '.')
                {
                    self.pos += 1;
                }
                let text: String = self.chars[start..self.pos].iter().collect();
                match normalize_decimal(&text) {
                    Some(n) => Ok(Calc::Number(n)),
                    None => {
                        self.pos = start;
                        Err(self.error("expr.bad_number", &[("number", &text)]))
                    }
                }
            }
            Some(c) if c.is_alphabetic() => {
                let start = self.pos;
                let mut name = String::new();
                while let Some(c) = self
                    .chars
                    .get(self.pos)
                    .filter(|c| c.is_alphanumeric() || **c == '_' || **c == '-' || **c == ':')
                {
                    name.push(*c);
                    self.pos += 1;
                }
                if self.peek() != Some('(') {
                    self.pos = start;
                    return Err(self.error("calc.bare_name", &[("name", &name)]));
                }
                self.pos += 1;
                if name == "if" {
                    return self.if_call(start);
                }
                let Some(f) = CalcFn::ALL.into_iter().find(|f| f.name() == name) else {
                    self.pos = start;
                    let known: Vec<&str> = CalcFn::ALL.iter().map(|f| f.name()).collect();
                    return Err(self.error(
                        "calc.unknown_function",
                        &[("name", &name), ("functions", &known.join(", "))],
                    ));
                };
                self.enter()?;
                let mut args = vec![self.sum()?];
                while self.peek() == Some(',') {
                    self.pos += 1;
                    args.push(self.sum()?);
                }
                self.expect(')')?;
                self.depth -= 1;
                let (lo, hi) = f.arity();
                if args.len() < lo || args.len() > hi {
                    self.pos = start;
                    return Err(self.error(
                        "calc.arity",
                        &[("name", f.name()), ("count", &args.len().to_string())],
                    ));
                }
                Ok(Calc::Call(f, args))
            }
            Some(_) => Err(self.error("calc.expected_value", &[("text", &self.rest())])),
        }
    }

    /// `if(` has been read: the condition runs to the first comma outside parentheses,
    /// brackets and quotes, and is read by the file's own condition reader.
    fn if_call(&mut self, start: usize) -> Result<Calc, ExprError> {
        let cond_start = self.pos;
        let mut depth = 0usize;
        let mut quote: Option<char> = None;
        loop {
            let Some(c) = self.chars.get(self.pos).copied() else {
                self.pos = start;
                return Err(self.error("calc.if_arguments", &[]));
            };
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '(' | '[') => depth += 1,
                (None, ')' | ']') if depth == 0 => {
                    self.pos = start;
                    return Err(self.error("calc.if_arguments", &[]));
                }
                (None, ')' | ']') => depth -= 1,
                (None, ',') if depth == 0 => break,
                _ => {}
            }
            self.pos += 1;
        }
        let text: String = self.chars[cond_start..self.pos].iter().collect();
        let condition = (self.condition)(text.trim()).map_err(|message| ExprError {
            column: cond_start + 1,
            message,
        })?;
        self.pos += 1;
        self.enter()?;
        let then = self.sum()?;
        self.expect(',')?;
        let otherwise = self.sum()?;
        self.expect(')')?;
        self.depth -= 1;
        Ok(Calc::If(
            Box::new(condition),
            Box::new(then),
            Box::new(otherwise),
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn khaosat_condition(src: &str) -> Result<Expr, Localized> {
        Expr::parse(src).map_err(|e| e.localized())
    }

    fn calc(src: &str) -> Calc {
        Calc::parse(src, &khaosat_condition).unwrap()
    }

    struct Map(BTreeMap<String, AnswerValue>);

    impl AnswerLookup for Map {
        fn answer(&self, code: &str) -> Option<&AnswerValue> {
            self.0.get(code)
        }
    }

    fn answers(pairs: &[(&str, AnswerValue)]) -> Map {
        Map(pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect())
    }

    #[test]
    fn arithmetic_follows_precedence_and_stores_whole_numbers_as_integers() {
        let a = answers(&[
            ("a", AnswerValue::Integer(3)),
            ("b", AnswerValue::Decimal("1.5".into())),
        ]);
        assert_eq!(
            calc("${a} + ${a} * 2").eval(&a),
            Some(AnswerValue::Integer(9))
        );
        assert_eq!(
            calc("(${a} + ${b}) div 2").eval(&a),
            Some(AnswerValue::Decimal("2.25".into()))
        );
        assert_eq!(calc("7 mod 3").eval(&a), Some(AnswerValue::Integer(1)));
        assert_eq!(calc("-${a} + 1").eval(&a), Some(AnswerValue::Integer(-2)));
    }

    #[test]
    fn a_missing_answer_or_a_division_by_zero_is_empty_not_zero() {
        let a = answers(&[("a", AnswerValue::Integer(3))]);
        assert_eq!(calc("${a} + ${missing}").eval(&a), None);
        assert_eq!(calc("${a} div 0").eval(&a), None);
        assert_eq!(
            calc("coalesce(${missing}, 0) + ${a}").eval(&a),
            Some(AnswerValue::Integer(3))
        );
    }

    #[test]
    fn if_uses_the_files_condition_language_and_choices_count_as_numbers() {
        let a = answers(&[
            ("q1", AnswerValue::Choice("4".into())),
            ("name", AnswerValue::Text("Lan".into())),
        ]);
        assert_eq!(
            calc("if(q1 in [\"4\", \"5\"], 1, 0)").eval(&a),
            Some(AnswerValue::Integer(1))
        );
        assert_eq!(calc("${q1} * 25").eval(&a), Some(AnswerValue::Integer(100)));
        assert_eq!(
            calc("concat('Chào ', ${name}, '!')").eval(&a),
            Some(AnswerValue::Text("Chào Lan!".into()))
        );
        assert_eq!(
            calc("round(2 div 3, 2)").eval(&a),
            Some(AnswerValue::Decimal("0.67".into()))
        );
    }

    #[test]
    fn printing_and_parsing_again_gives_the_same_tree() {
        for src in [
            "${a} + ${b} * 2",
            "(${a} + ${b}) * 2",
            "${a} - (${b} - 1)",
            "if(q1 == 1, 'x', concat(${a}, \"it's\"))",
            "round(${a} div 3, 1)",
            "-(${a} + 1)",
        ] {
            let parsed = calc(src);
            assert_eq!(calc(&parsed.to_string()), parsed, "{src}");
        }
    }

    #[test]
    fn mistakes_name_what_is_wrong_and_where() {
        let err = |src: &str| Calc::parse(src, &khaosat_condition).unwrap_err();
        assert_eq!(err("${a} +").message.key, "calc.expected_value");
        assert_eq!(err("sum(${a})").message.key, "calc.unknown_function");
        assert_eq!(err("a + 1").message.key, "calc.bare_name");
        assert_eq!(err("${a b}").message.key, "calc.bad_reference");
        assert_eq!(err("if(q1 == 1, 2)").message.key, "calc.expected");
        assert_eq!(err("1 2").column, 3);
        let deep = format!("{}1{}", "(".repeat(40), ")".repeat(40));
        assert_eq!(err(&deep).message.key, "expr.too_deep");
    }
}
