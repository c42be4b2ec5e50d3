//! The XPath subset XLSForm writes in `relevant` and `constraint`, translated into a condition
//! ([`Expr`]). What is supported is documented in `docs/instrument-format.md`.

use crate::domain::expr::{CmpOp, Expr, Literal, MAX_EXPR_DEPTH, SELF_REF};
use crate::i18n::Localized;

/// A catalogue message with its parameters (shorthand for the many below).
fn msg(key: &'static str, args: &[(&'static str, &str)]) -> Localized {
    Localized::new(key, args)
}

#[derive(Debug, Clone, PartialEq)]
enum XTok {
    Ref(String),
    Dot,
    Num(String),
    Str(String),
    Name(String),
    Op(CmpOp),
    LParen,
    RParen,
    Comma,
}

fn xpath_tokens(src: &str) -> Result<Vec<XTok>, Localized> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let next = chars.get(i + 1).copied();
        match c {
            c if c.is_whitespace() => i += 1,
            '$' if next == Some('{') => {
                let end = chars
                    .iter()
                    .skip(i + 2)
                    .position(|c| *c == '}')
                    .ok_or_else(|| msg("xlsform.unclosed_ref", &[]))?;
                let name: String = chars.iter().skip(i + 2).take(end).collect();
                out.push(XTok::Ref(name.trim().to_owned()));
                i += end + 3;
            }
            '.' if !next.is_some_and(|n| n.is_ascii_digit() || n == '.') => {
                out.push(XTok::Dot);
                i += 1;
            }
            '.' => return Err(msg("xlsform.relative_path", &[])),
            '\'' | '"' => {
                let end = chars
                    .iter()
                    .skip(i + 1)
                    .position(|x| *x == c)
                    .ok_or_else(|| msg("xlsform.unterminated_string", &[]))?;
                out.push(XTok::Str(chars.iter().skip(i + 1).take(end).collect()));
                i += end + 2;
            }
            '(' => {
                out.push(XTok::LParen);
                i += 1;
            }
            ')' => {
                out.push(XTok::RParen);
                i += 1;
            }
            ',' => {
                out.push(XTok::Comma);
                i += 1;
            }
            '=' => {
                out.push(XTok::Op(CmpOp::Eq));
                i += 1;
            }
            '!' if next == Some('=') => {
                out.push(XTok::Op(CmpOp::Ne));
                i += 2;
            }
            '<' | '>' => {
                let op = match (c, next == Some('=')) {
                    ('<', true) => CmpOp::Le,
                    ('<', false) => CmpOp::Lt,
                    (_, true) => CmpOp::Ge,
                    (_, false) => CmpOp::Gt,
                };
                out.push(XTok::Op(op));
                i += if next == Some('=') { 2 } else { 1 };
            }
            c if c.is_ascii_digit() || (c == '-' && next.is_some_and(|n| n.is_ascii_digit())) => {
                let len = chars
                    .iter()
                    .skip(i)
                    .enumerate()
                    .take_while(|(k, x)| {
                        x.is_ascii_digit() || **x == '.' || (*k == 0 && **x == '-')
                    })
                    .count();
                out.push(XTok::Num(chars.iter().skip(i).take(len).collect()));
                i += len;
            }
            c if c.is_alphabetic() || c == '_' => {
                let len = chars
                    .iter()
                    .skip(i)
                    .take_while(|x| x.is_alphanumeric() || matches!(x, '_' | '-' | ':' | '.'))
                    .count();
                out.push(XTok::Name(chars.iter().skip(i).take(len).collect()));
                i += len;
            }
            '+' | '-' | '*' | '|' => {
                return Err(msg(
                    "xlsform.unsupported_operator",
                    &[("op", &c.to_string())],
                ));
            }
            '/' => return Err(msg("xlsform.xpath_path", &[])),
            other => {
                return Err(msg(
                    "xlsform.unexpected_char",
                    &[("char", &other.to_string())],
                ));
            }
        }
    }
    Ok(out)
}

struct XParser {
    toks: Vec<XTok>,
    pos: usize,
    allow_self: bool,
}

/// Translates the supported XPath subset into a condition. `allow_self` permits `.`
/// (constraints). The error is a message without location (the caller knows the cell).
pub(super) fn translate_xpath(src: &str, allow_self: bool) -> Result<Expr, Localized> {
    if src.chars().count() > crate::domain::expr::MAX_EXPR_CHARS {
        return Err(msg(
            "xlsform.too_long",
            &[("limit", &crate::domain::expr::MAX_EXPR_CHARS.to_string())],
        ));
    }
    let mut p = XParser {
        toks: xpath_tokens(src)?,
        pos: 0,
        allow_self,
    };
    let e = p.or(0)?;
    match p.toks.get(p.pos) {
        None => Ok(e),
        Some(t) => Err(msg("xlsform.trailing", &[("token", &describe(t))])),
    }
}

fn describe(t: &XTok) -> String {
    match t {
        XTok::Ref(r) => format!("'${{{r}}}'"),
        XTok::Dot => "'.'".to_owned(),
        XTok::Num(n) => format!("'{n}'"),
        XTok::Str(s) => format!("'{s}'"),
        XTok::Name(n) => format!("'{n}'"),
        XTok::Op(op) => format!("'{}'", if *op == CmpOp::Eq { "=" } else { op.as_str() }),
        XTok::LParen => "'('".to_owned(),
        XTok::RParen => "')'".to_owned(),
        XTok::Comma => "','".to_owned(),
    }
}

#[derive(Debug, Clone)]
enum Operand {
    Subject(String),
    Value(Literal),
}

impl XParser {
    fn peek(&self) -> Option<&XTok> {
        self.toks.get(self.pos)
    }

    fn bump(&mut self) -> Option<XTok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn peek_name(&self, name: &str) -> bool {
        matches!(self.peek(), Some(XTok::Name(n)) if n == name)
    }

    fn expect(&mut self, tok: &XTok) -> Result<(), Localized> {
        match self.bump() {
            Some(t) if t == *tok => Ok(()),
            Some(t) => Err(msg(
                "xlsform.expected_found",
                &[("expected", &describe(tok)), ("token", &describe(&t))],
            )),
            None => Err(msg(
                "xlsform.expected_at_end",
                &[("expected", &describe(tok))],
            )),
        }
    }

    fn deeper(depth: usize) -> Result<usize, Localized> {
        if depth >= MAX_EXPR_DEPTH {
            Err(msg(
                "xlsform.too_deep",
                &[("limit", &MAX_EXPR_DEPTH.to_string())],
            ))
        } else {
            Ok(depth + 1)
        }
    }

    fn or(&mut self, depth: usize) -> Result<Expr, Localized> {
        let mut xs = vec![self.and(depth)?];
        while self.peek_name("or") {
            self.pos += 1;
            xs.push(self.and(depth)?);
        }
        Ok(if xs.len() == 1 {
            xs.pop().unwrap_or(Expr::Or(Vec::new()))
        } else {
            Expr::Or(xs)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Expr, Localized> {
        let mut xs = vec![self.primary(depth)?];
        while self.peek_name("and") {
            self.pos += 1;
            xs.push(self.primary(depth)?);
        }
        Ok(if xs.len() == 1 {
            xs.pop().unwrap_or(Expr::And(Vec::new()))
        } else {
            Expr::And(xs)
        })
    }

    fn primary(&mut self, depth: usize) -> Result<Expr, Localized> {
        if self.peek() == Some(&XTok::LParen) {
            let depth = Self::deeper(depth)?;
            self.pos += 1;
            let e = self.or(depth)?;
            self.expect(&XTok::RParen)?;
            return Ok(e);
        }
        if let Some(XTok::Name(name)) = self.peek().cloned()
            && self.toks.get(self.pos + 1) == Some(&XTok::LParen)
        {
            return self.function(&name, depth);
        }
        let left = self.operand()?;
        let op = match self.bump() {
            Some(XTok::Op(op)) => op,
            Some(t) => {
                return Err(msg(
                    "xlsform.expected_comparison_found",
                    &[("token", &describe(&t))],
                ));
            }
            None => return Err(msg("xlsform.expected_comparison", &[])),
        };
        let right = self.operand()?;
        let (code, op, value) = match (left, right) {
            (Operand::Subject(c), Operand::Value(v)) => (c, op, v),
            (Operand::Value(v), Operand::Subject(c)) => (c, flip(op), v),
            (Operand::Subject(_), Operand::Subject(_)) => {
                return Err(msg("xlsform.two_questions", &[]));
            }
            (Operand::Value(_), Operand::Value(_)) => {
                return Err(msg("xlsform.no_question", &[]));
            }
        };
        // `${x} != ''` is how XLSForm says "x was answered".
        if value == Literal::Text(String::new()) {
            return match op {
                CmpOp::Ne => Ok(Expr::Answered(code)),
                CmpOp::Eq => Ok(Expr::Not(Box::new(Expr::Answered(code)))),
                _ => Err(msg("xlsform.empty_comparison", &[])),
            };
        }
        Ok(Expr::Compare { code, op, value })
    }

    fn function(&mut self, name: &str, depth: usize) -> Result<Expr, Localized> {
        match name {
            "not" => {
                let depth = Self::deeper(depth)?;
                self.pos += 2;
                let inner = self.or(depth)?;
                self.expect(&XTok::RParen)?;
                Ok(Expr::Not(Box::new(inner)))
            }
            "selected" => {
                self.pos += 2;
                let code = match self.operand()? {
                    Operand::Subject(c) => c,
                    Operand::Value(_) => {
                        return Err(msg("xlsform.selected_question", &[]));
                    }
                };
                self.expect(&XTok::Comma)?;
                let value = match self.operand()? {
                    Operand::Value(v) => v,
                    Operand::Subject(_) => {
                        return Err(msg("xlsform.selected_option", &[]));
                    }
                };
                self.expect(&XTok::RParen)?;
                Ok(Expr::Compare {
                    code,
                    op: CmpOp::Eq,
                    value,
                })
            }
            other => Err(msg("xlsform.unsupported_function", &[("function", other)])),
        }
    }

    fn operand(&mut self) -> Result<Operand, Localized> {
        match self.bump() {
            Some(XTok::Ref(name)) => Ok(Operand::Subject(name)),
            Some(XTok::Dot) if self.allow_self => Ok(Operand::Subject(SELF_REF.to_owned())),
            Some(XTok::Dot) => Err(msg("xlsform.self_outside_constraint", &[])),
            Some(XTok::Str(s)) => Ok(Operand::Value(Literal::Text(s))),
            Some(XTok::Num(n)) => {
                if let Ok(i) = n.parse::<i64>() {
                    return Ok(Operand::Value(Literal::Integer(i)));
                }
                crate::domain::answer_value::normalize_decimal(&n)
                    .filter(|_| !n.ends_with('.') && !n.contains(','))
                    .map(|d| Operand::Value(Literal::Decimal(d)))
                    .ok_or_else(|| msg("xlsform.bad_number", &[("number", &n)]))
            }
            Some(XTok::Name(n))
                if (n == "true" || n == "false") && self.peek() == Some(&XTok::LParen) =>
            {
                self.pos += 1;
                self.expect(&XTok::RParen)?;
                Ok(Operand::Value(Literal::Bool(n == "true")))
            }
            Some(XTok::Name(n)) if self.peek() == Some(&XTok::LParen) => {
                Err(msg("xlsform.unsupported_function", &[("function", &n)]))
            }
            Some(XTok::Name(n)) if n == "div" || n == "mod" => {
                Err(msg("xlsform.unsupported_operator", &[("op", &n)]))
            }
            Some(XTok::Name(n)) => Err(msg("xlsform.unsupported_name", &[("word", &n)])),
            Some(t) => Err(msg(
                "xlsform.expected_operand_found",
                &[("token", &describe(&t))],
            )),
            None => Err(msg("xlsform.expected_operand", &[])),
        }
    }
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xpath_subset_translates_to_conditions() {
        let cases = [
            ("${q3} = 2", "q3 == 2"),
            ("${q3} = '2'", "q3 == \"2\""),
            ("2 < ${q3}", "q3 > 2"),
            (
                "${a} != 'x' and (${b} <= 1.50 or ${c} >= -1)",
                "a != \"x\" and (b <= 1.5 or c >= -1)",
            ),
            ("not(selected(${q5}, '1'))", "not q5 == \"1\""),
            ("${x} != ''", "answered(x)"),
            ("${x} = \"\"", "not answered(x)"),
            ("${y} = true()", "y == true"),
        ];
        for (xpath, ours) in cases {
            assert_eq!(
                translate_xpath(xpath, false).unwrap().to_string(),
                ours,
                "{xpath}"
            );
        }
        let errors = [
            ("${a} + 1 > 2", "unsupported operator '+'"),
            ("${a} = ${b}", "comparing two questions is not supported"),
            ("/data/a = 1", "XPath paths are not supported; use ${name}"),
            (
                "string-length(.) > 3",
                "unsupported function 'string-length'",
            ),
            (". > 3", "'.' can only be used in a constraint"),
            ("${a} = 1 or", "expected a question or a value at the end"),
            ("${a", "unclosed '${' reference"),
            ("${a} > ''", "only '=' and '!=' can compare with ''"),
        ];
        for (xpath, message) in errors {
            assert_eq!(
                translate_xpath(xpath, false).unwrap_err().to_string(),
                message,
                "{xpath}"
            );
        }
        let deep = format!("{}${{a}} = 1{}", "(".repeat(40), ")".repeat(40));
        assert!(
            translate_xpath(&deep, false)
                .unwrap_err()
                .to_string()
                .contains("nested too deeply")
        );
    }
}
