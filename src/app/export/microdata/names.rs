//! Variable names every statistics package accepts: length, reserved words, uniqueness, and
//! the number and code forms they read as numbers.

use super::{FIXED_COLUMNS, Variable};
use std::collections::HashSet;

/// The longest variable name produced (Stata's limit; SPSS allows 64 bytes).
pub const MAX_NAME_CHARS: usize = 32;

/// Words SPSS, Stata or R reserve (compared without case).
const RESERVED: [&str; 42] = [
    // SPSS
    "all",
    "and",
    "by",
    "eq",
    "ge",
    "gt",
    "le",
    "lt",
    "ne",
    "not",
    "or",
    "to",
    "with",
    // Stata (besides `with`, `str#`, checked separately)
    "byte",
    "double",
    "float",
    "if",
    "in",
    "int",
    "long",
    "strl",
    "using",
    // R
    "else",
    "repeat",
    "while",
    "function",
    "for",
    "next",
    "break",
    "true",
    "false",
    "null",
    "inf",
    "nan",
    "na",
    "na_integer_",
    "na_real_",
    "na_character_",
    "na_complex_",
    // Stata system names without their underscore are harmless; these keep them out anyway.
    "b",
    "n",
    "pi",
];

/// Whether `lower` is a command PSPP starts on a new line even inside another command:
/// `COMMENT` and `DOCUMENT`, whole or abbreviated (`comm`, `doc`). A variable of that name on its
/// own line of `GET DATA /VARIABLES=` would end the command there and be lost.
fn is_spss_line_command(lower: &str) -> bool {
    (lower.len() >= 4 && "comment".starts_with(lower))
        || (lower.len() >= 3 && "document".starts_with(lower))
}

fn is_reserved(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    RESERVED.contains(&lower.as_str())
        || is_spss_line_command(&lower)
        || lower
            .strip_prefix("str")
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()))
}

/// Maps `name` to one SPSS, Stata and R accept as is: ASCII letters, digits and `_`, starting
/// with a letter, at most [`MAX_NAME_CHARS`] long, not a reserved word, and not already in
/// `taken` (compared without case, as SPSS does). Records the result in `taken`.
///
/// Deterministic: the same names in the same order always map the same way. Use
/// [`column_names`] rather than calling this directly, so every export agrees.
pub fn safe_variable_name(name: &str, taken: &mut HashSet<String>) -> String {
    let mut base: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !base.starts_with(|c: char| c.is_ascii_alphabetic()) {
        base.insert(0, 'v');
    }
    if is_reserved(&base) {
        base.push('_');
    }
    base.truncate(MAX_NAME_CHARS);
    let mut candidate = base.clone();
    let mut n = 2u32;
    while is_reserved(&candidate) || taken.contains(&candidate.to_ascii_lowercase()) {
        let suffix = format!("_{n}");
        let keep = base.len().min(MAX_NAME_CHARS - suffix.len());
        candidate = format!("{}{suffix}", &base[..keep]);
        n += 1;
    }
    taken.insert(candidate.to_ascii_lowercase());
    candidate
}

/// The output names of all columns: the [`FIXED_COLUMNS`] and then one per variable, each
/// mapped by [`safe_variable_name`]. The one source of names for every export.
pub fn column_names(variables: &[Variable]) -> Vec<String> {
    let mut taken = HashSet::new();
    FIXED_COLUMNS
        .into_iter()
        .chain(variables.iter().map(|v| v.name.as_str()))
        .map(|name| safe_variable_name(name, &mut taken))
        .collect()
}

/// The output names of the variables alone (the tail of [`column_names`]).
pub fn variable_names(variables: &[Variable]) -> Vec<String> {
    let mut names = column_names(variables);
    names.split_off(FIXED_COLUMNS.len())
}

// ---- numbers -------------------------------------------------------------------------------------

/// Whether `s` is a plain decimal number: an optional `-`, digits without a leading zero (a lone
/// `0` is fine), and optionally `.` and more digits. Such a cell is written as a number; it can
/// never be read as a formula.
pub fn is_plain_number(s: &str) -> bool {
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match unsigned.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (unsigned, None),
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    digits(int) && (int == "0" || !int.starts_with('0')) && frac.is_none_or(digits)
}

/// The number a code stands for when it is a canonical whole number that fits SPSS's and
/// Stata's value labels (`"3"`, `"-1"`; not `"03"` or `"dk"`).
pub fn integer_code(code: &str) -> Option<i32> {
    code.parse::<i32>().ok().filter(|n| n.to_string() == code)
}
