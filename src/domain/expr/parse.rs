//! The parser of the condition language: characters → tokens → [`Expr`], with the column of
//! every syntax error. The grammar is in the parent module's documentation.

use std::fmt;

use super::{CmpOp, Expr, ExprError, Literal, MAX_EXPR_CHARS, MAX_EXPR_DEPTH, SELF_REF};
use crate::domain::answer_value::normalize_decimal;
use crate::i18n::Localized;

/// A catalogue message with its parameters (shorthand for the many below).
fn msg(key: &'static str, args: &[(&'static str, &str)]) -> Localized {
    Localized::new(key, args)
}

/// "after 'token'", the context of an expected value or code.
fn after(token: &str) -> Localized {
    msg("expr.context.after", &[("token", token)])
}

impl Expr {
    /// Parses a condition. See the module documentation for the grammar and limits.
    pub fn parse(src: &str) -> Result<Expr, ExprError> {
        let char_count = src.chars().count();
        if char_count > MAX_EXPR_CHARS {
            return Err(ExprError {
                column: MAX_EXPR_CHARS + 1,
                message: msg(
                    "expr.too_long",
                    &[
                        ("count", &char_count.to_string()),
                        ("limit", &MAX_EXPR_CHARS.to_string()),
                    ],
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
                message: msg("expr.trailing", &[]).with("token", tok.kind.describe()),
            });
        }
        Ok(expr)
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

impl TokenKind {
    /// The token as named in a message: quoted as written, or "string ..." in the reader's
    /// language.
    fn describe(&self) -> Localized {
        match self {
            TokenKind::Str(s) => msg(
                "expr.token.string",
                &[("text", &Literal::Text(s.clone()).to_string())],
            ),
            other => msg("expr.token", &[("token", &other.to_string())]),
        }
    }
}

#[derive(Debug, Clone)]
struct Token {
    kind: TokenKind,
    column: usize,
}

fn err<T>(column: usize, message: Localized) -> Result<T, ExprError> {
    Err(ExprError { column, message })
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
            '=' => return err(column, msg("expr.use_double_equals", &[])),
            '!' if next == Some('=') => push(TokenKind::Op(CmpOp::Ne), 2),
            '!' => return err(column, msg("expr.use_not", &[])),
            '<' if next == Some('=') => push(TokenKind::Op(CmpOp::Le), 2),
            '<' if next == Some('>') => return err(column, msg("expr.use_not_equal", &[])),
            '<' => push(TokenKind::Op(CmpOp::Lt), 1),
            '>' if next == Some('=') => push(TokenKind::Op(CmpOp::Ge), 2),
            '>' => push(TokenKind::Op(CmpOp::Gt), 1),
            '&' => return err(column, msg("expr.use_and", &[])),
            '|' => return err(column, msg("expr.use_or", &[])),
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
            other => {
                return err(
                    column,
                    msg("expr.unexpected_char", &[("char", &other.to_string())]),
                );
            }
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
            None => return err(start + 1, msg("expr.unterminated_string", &[])),
            Some('\\') => match chars.get(i + 1) {
                Some(c @ ('\\' | '"' | '\'')) => {
                    text.push(*c);
                    i += 2;
                }
                _ => return err(i + 1, msg("expr.bad_escape", &[])),
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
            msg("expr.char_after_number", &[("number", &text)]),
        );
    }
    if !text.contains('.') {
        return match text.parse::<i64>() {
            Ok(i) => Ok((Literal::Integer(i), len)),
            Err(_) => err(
                start + 1,
                msg("expr.number_too_large", &[("number", &text)]),
            ),
        };
    }
    match normalize_decimal(&text) {
        Some(d) if !text.ends_with('.') => Ok((Literal::Decimal(d), len)),
        _ => err(start + 1, msg("expr.bad_number", &[("number", &text)])),
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
                msg("expr.too_deep", &[("limit", &MAX_EXPR_DEPTH.to_string())]),
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
            return err(column, msg("expr.expected_condition", &[]));
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
                        msg(
                            "expr.unclosed_paren_found",
                            &[("open", &column.to_string())],
                        )
                        .with("token", other.kind.describe()),
                    ),
                    None => err(
                        self.end_column,
                        msg("expr.unclosed_paren", &[("open", &column.to_string())]),
                    ),
                }
            }
            TokenKind::Ident(word) if word == "answered" && self.peek_is(&TokenKind::LParen) => {
                self.pos += 1;
                let code = self.parse_subject(after("answered("))?;
                self.expect(&TokenKind::RParen, msg("expr.context.close_answered", &[]))?;
                Ok(Expr::Answered(code))
            }
            TokenKind::Ident(word) if is_keyword(&word) => {
                err(tok.column, msg("expr.keyword_as_code", &[("word", &word)]))
            }
            TokenKind::Ident(code) => self.parse_comparison(code),
            TokenKind::SelfRef => self.parse_comparison(SELF_REF.to_owned()),
            other => err(
                tok.column,
                msg("expr.expected_code_or_paren", &[]).with("token", other.describe()),
            ),
        }
    }

    fn peek_is(&self, kind: &TokenKind) -> bool {
        self.peek().is_some_and(|t| t.kind == *kind)
    }

    fn expect(&mut self, kind: &TokenKind, why: Localized) -> Result<(), ExprError> {
        let column = self.column();
        let expected = kind.describe();
        match self.next() {
            Some(t) if t.kind == *kind => Ok(()),
            Some(t) => err(
                column,
                msg("expr.expected_token_found", &[])
                    .with("expected", expected)
                    .with("context", why)
                    .with("token", t.kind.describe()),
            ),
            None => err(
                column,
                msg("expr.expected_token", &[])
                    .with("expected", expected)
                    .with("context", why),
            ),
        }
    }

    fn parse_subject(&mut self, context: Localized) -> Result<String, ExprError> {
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
                msg("expr.expected_code_found", &[])
                    .with("context", context)
                    .with("token", t.kind.describe()),
            ),
            None => err(
                column,
                msg("expr.expected_code", &[]).with("context", context),
            ),
        }
    }

    fn parse_comparison(&mut self, code: String) -> Result<Expr, ExprError> {
        let column = self.column();
        match self.next().map(|t| t.kind) {
            Some(TokenKind::Op(op)) => {
                let value = self.parse_literal(after(op.as_str()))?;
                Ok(Expr::Compare { code, op, value })
            }
            Some(TokenKind::Ident(w)) if w == "in" => {
                let values = self.parse_list(after("in"))?;
                Ok(Expr::In {
                    code,
                    values,
                    negated: false,
                })
            }
            Some(TokenKind::Ident(w)) if w == "not" && self.peek_keyword("in") => {
                self.pos += 1;
                let values = self.parse_list(after("not in"))?;
                Ok(Expr::In {
                    code,
                    values,
                    negated: true,
                })
            }
            Some(other) => err(
                column,
                msg("expr.expected_operator_found", &[("code", &code)])
                    .with("token", other.describe()),
            ),
            None => err(column, msg("expr.expected_operator", &[("code", &code)])),
        }
    }

    fn parse_literal(&mut self, context: Localized) -> Result<Literal, ExprError> {
        let column = self.column();
        match self.next().map(|t| t.kind) {
            Some(TokenKind::Number(n)) => Ok(n),
            Some(TokenKind::Str(s)) => Ok(Literal::Text(s)),
            Some(TokenKind::Ident(w)) if w == "true" => Ok(Literal::Bool(true)),
            Some(TokenKind::Ident(w)) if w == "false" => Ok(Literal::Bool(false)),
            Some(TokenKind::Ident(w)) => err(
                column,
                msg("expr.bare_word", &[("word", &w)]).with("context", context),
            ),
            Some(other) => err(
                column,
                msg("expr.expected_value_found", &[])
                    .with("context", context)
                    .with("token", other.describe()),
            ),
            None => err(
                column,
                msg("expr.expected_value", &[]).with("context", context),
            ),
        }
    }

    fn parse_list(&mut self, context: Localized) -> Result<Vec<Literal>, ExprError> {
        self.expect(&TokenKind::LBracket, context)?;
        let mut values = vec![self.parse_literal(msg("expr.context.in_list", &[]))?];
        loop {
            let column = self.column();
            match self.next().map(|t| t.kind) {
                Some(TokenKind::Comma) => values.push(self.parse_literal(after(","))?),
                Some(TokenKind::RBracket) => return Ok(values),
                Some(other) => {
                    return err(
                        column,
                        msg("expr.expected_list_separator", &[]).with("token", other.describe()),
                    );
                }
                None => return err(column, msg("expr.unclosed_list", &[])),
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
    fn syntax_errors_read_in_vietnamese_with_their_column() {
        let e = Expr::parse("q1 in [1 2]").unwrap_err();
        assert_eq!(
            e.text(crate::i18n::Lang::Vi),
            "cần ',' hoặc ']' trong danh sách nhưng lại gặp '2' (ở cột 10)"
        );
        let e = Expr::parse("q1 == 'a' 'b'").unwrap_err();
        assert_eq!(
            e.text(crate::i18n::Lang::Vi),
            "thừa chuỗi \"b\" sau khi điều kiện đã kết thúc (ở cột 11)"
        );
        let e = Expr::parse("answered(q1").unwrap_err();
        assert_eq!(
            e.text(crate::i18n::Lang::Vi),
            "cần ')' để đóng 'answered(' (ở cột 12)"
        );
        assert_eq!(e.text(crate::i18n::Lang::En), e.to_string());
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_rejected() {
        let ok = format!("{}a == 1{}", "(".repeat(32), ")".repeat(32));
        assert!(Expr::parse(&ok).is_ok());
        let deep = format!("{}a == 1{}", "(".repeat(33), ")".repeat(33));
        let e = Expr::parse(&deep).unwrap_err();
        assert_eq!(e.column, 33);
        assert_eq!(
            e.message.to_string(),
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
}
