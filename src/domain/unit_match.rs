//! Matching what people type in a spreadsheet cell against a round's units or respondent
//! groups: a unit's code or name, a group's code or label, written the way the admin pages
//! show them or the way people actually type them.
//!
//! # Rules
//!
//! Text is compared after [`fold`]: Unicode NFD, combining marks dropped (so NFC and NFD input
//! agree and diacritics are optional), `đ`/`Đ` → `d`, lower case, and every run of spaces and
//! punctuation ignored (`HÀ  NỘI`, `ha noi`, `Hà-Nội` and `hanoi` are one key).
//!
//! * **Codes** match first. A numeric code also matches without its leading zeros (`1` is
//!   `01`), since Excel drops them.
//! * **Names** then match with or without an administrative prefix: `Tỉnh`, `Thành phố`,
//!   `TP.` (`TP. Hồ Chí Minh`, `Thanh pho Ho Chi Minh` and `Hồ Chí Minh` all find
//!   `Thành phố Hồ Chí Minh`), and English names with or without `City`/`Province`.
//! * A key shared by several choices is **ambiguous**: all of them are named rather than one
//!   picked silently.
//! * An unknown value gets up to [`MAX_SUGGESTIONS`] **suggestions**: the choices whose keys
//!   are closest by Damerau–Levenshtein similarity on the folded text (at least
//!   [`MIN_SIMILARITY`]), so a typo such as `Ha Noii` suggests `Hà Nội`.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Most suggestions named for an unknown value.
pub const MAX_SUGGESTIONS: usize = 3;

/// Least normalised similarity (0–1) for a choice to be suggested.
pub const MIN_SIMILARITY: f64 = 0.6;

/// Administrative prefixes a unit name may be written with or without, folded and spaced.
const PREFIXES: [&str; 4] = ["thanh pho ", "tinh ", "tp ", "t p "];

/// English suffixes a unit name may be written with or without, folded and spaced.
const SUFFIXES: [&str; 2] = [" city", " province"];

/// The text in Unicode NFC, the form names are stored in (a name pasted from a PDF or typed on
/// a Mac often arrives decomposed and would otherwise sort and compare differently).
pub fn nfc(text: &str) -> String {
    text.nfc().collect()
}

/// The text folded for comparison, with words separated by single spaces: NFD without
/// combining marks, `đ` → `d`, lower case, punctuation and space runs as one space, trimmed.
pub fn fold_spaced(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    for c in text.nfd().filter(|c| !is_combining_mark(*c)) {
        let c = match c {
            'đ' | 'Đ' => 'd',
            other => other,
        };
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.extend(c.to_lowercase());
        } else {
            gap = true;
        }
    }
    out
}

/// The comparison key: [`fold_spaced`] without any spaces.
pub fn fold(text: &str) -> String {
    fold_spaced(text).replace(' ', "")
}

/// The spaced folded text without a leading administrative prefix or trailing English suffix,
/// when it has one (and something is left).
fn without_affixes(spaced: &str) -> Option<&str> {
    let mut rest = spaced;
    if let Some(p) = PREFIXES.iter().find(|p| rest.starts_with(*p)) {
        rest = &rest[p.len()..];
    }
    if let Some(s) = SUFFIXES.iter().find(|s| rest.ends_with(*s)) {
        rest = &rest[..rest.len() - s.len()];
    }
    (rest != spaced && !rest.is_empty()).then_some(rest)
}

/// A folded code with the leading zeros of a numeric code removed (`01` and `1` agree).
fn code_key(code: &str) -> String {
    let key = fold(code);
    if !key.is_empty() && key.chars().all(|c| c.is_ascii_digit()) {
        let trimmed = key.trim_start_matches('0');
        if trimmed.is_empty() {
            "0".to_owned()
        } else {
            trimmed.to_owned()
        }
    } else {
        key
    }
}

/// What a typed value matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// Exactly one choice: its code.
    Found(String),
    /// Several choices share the key: their labels, as pages show them.
    Ambiguous(Vec<String>),
    /// No choice: the labels of the closest ones, best first (maybe none).
    Unknown(Vec<String>),
}

/// One thing a value can name.
#[derive(Debug, Clone)]
struct Choice {
    code: String,
    label: String,
    /// Every compact key the choice answers to (code and names, with and without affixes).
    keys: Vec<String>,
}

/// The choices a cell may name (a round's units, or its groups), indexed by folded key.
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    choices: Vec<Choice>,
    /// Code key → choices.
    codes: HashMap<String, Vec<usize>>,
    /// Name key → choices.
    names: HashMap<String, Vec<usize>>,
}

impl Matcher {
    /// An empty matcher.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a choice with its canonical `code`, the `label` named in suggestions, and every
    /// name it may be written as (more codes go in `aliases`, e.g. a snake-case group code).
    pub fn add(&mut self, code: &str, label: &str, names: &[&str]) {
        let index = self.choices.len();
        let mut keys = Vec::new();
        let code_key = code_key(code);
        if !code_key.is_empty() {
            push_unique(self.codes.entry(code_key.clone()).or_default(), index);
            keys.push(code_key);
        }
        for name in names.iter().chain(std::iter::once(&label)) {
            let spaced = fold_spaced(name);
            let full = spaced.replace(' ', "");
            if full.is_empty() {
                continue;
            }
            let bare = without_affixes(&spaced).map(|s| s.replace(' ', ""));
            for key in std::iter::once(full).chain(bare) {
                push_unique(self.names.entry(key.clone()).or_default(), index);
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
        self.choices.push(Choice {
            code: code.to_owned(),
            label: label.to_owned(),
            keys,
        });
    }

    /// A matcher for units given as `(code, Vietnamese name, English name)`.
    pub fn units<'a>(units: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>) -> Self {
        let mut m = Self::new();
        for (code, name_vi, name_en) in units {
            m.add(code, name_vi, &[name_en]);
        }
        m
    }

    /// True when there is nothing to match against.
    pub fn is_empty(&self) -> bool {
        self.choices.is_empty()
    }

    /// The choice `input` names, or why none does.
    pub fn find(&self, input: &str) -> Match {
        let spaced = fold_spaced(input);
        if spaced.is_empty() {
            return Match::Unknown(Vec::new());
        }
        if let Some(found) = self.codes.get(&code_key(input)) {
            return self.decide(found);
        }
        let full = spaced.replace(' ', "");
        if let Some(found) = self.names.get(&full) {
            return self.decide(found);
        }
        let bare = without_affixes(&spaced).map(|s| s.replace(' ', ""));
        if let Some(found) = bare.as_ref().and_then(|b| self.names.get(b)) {
            return self.decide(found);
        }
        Match::Unknown(self.suggestions(&[Some(full), bare]))
    }

    fn decide(&self, found: &[usize]) -> Match {
        match found {
            [one] => Match::Found(self.choices[*one].code.clone()),
            many => Match::Ambiguous(
                many.iter()
                    .map(|&i| self.choices[i].label.clone())
                    .collect(),
            ),
        }
    }

    /// The labels of the choices closest to any of `keys`, best first.
    fn suggestions(&self, keys: &[Option<String>]) -> Vec<String> {
        let mut scored: Vec<(f64, usize)> = self
            .choices
            .iter()
            .enumerate()
            .filter_map(|(i, choice)| {
                let best = keys
                    .iter()
                    .flatten()
                    .flat_map(|k| {
                        choice
                            .keys
                            .iter()
                            .map(move |c| strsim::normalized_damerau_levenshtein(k, c))
                    })
                    .fold(0.0_f64, f64::max);
                (best >= MIN_SIMILARITY).then_some((best, i))
            })
            .collect();
        // Best first; equal scores keep the choices' own order, so output is deterministic.
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored
            .into_iter()
            .take(MAX_SUGGESTIONS)
            .map(|(_, i)| self.choices[i].label.clone())
            .collect()
    }
}

fn push_unique(list: &mut Vec<usize>, index: usize) {
    if !list.contains(&index) {
        list.push(index);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::unit_list::{provinces_2023, provinces_2025};

    fn provinces() -> Matcher {
        let set = provinces_2023().unwrap();
        Matcher::units(
            set.units
                .iter()
                .map(|u| (u.code.as_str(), u.name_vi.as_str(), u.name_en.as_str())),
        )
    }

    fn found(code: &str) -> Match {
        Match::Found(code.to_owned())
    }

    #[test]
    fn province_names_match_with_or_without_diacritics_case_spacing_and_prefixes() {
        let m = provinces();
        for (input, code) in [
            ("Hà Nội", "01"),
            ("ha noi", "01"),
            ("HÀ  NỘI", "01"),
            ("Hanoi", "01"),
            ("Thừa Thiên Huế", "46"),
            ("thua thien hue", "46"),
            ("Bà Rịa - Vũng Tàu", "77"),
            ("Ba Ria-Vung Tau", "77"),
            ("Thành phố Hồ Chí Minh", "79"),
            ("TP. Hồ Chí Minh", "79"),
            ("Thanh pho Ho Chi Minh", "79"),
            ("Hồ Chí Minh", "79"),
            ("Ho Chi Minh City", "79"),
            ("Tỉnh Đắk Lắk", "66"),
            ("dak lak", "66"),
            ("Đà Nẵng", "48"),
            ("da nang", "48"),
        ] {
            assert_eq!(m.find(input), found(code), "{input}");
        }
    }

    #[test]
    fn decomposed_and_precomposed_text_match_alike() {
        let m = provinces();
        let nfd: String = "Hà Nội".nfd().collect();
        assert_ne!(nfd, "Hà Nội");
        assert_eq!(m.find(&nfd), found("01"));
        assert_eq!(nfc(&nfd), "Hà Nội");
    }

    #[test]
    fn codes_match_with_or_without_their_leading_zero() {
        let m = provinces();
        assert_eq!(m.find("01"), found("01"));
        assert_eq!(m.find("1"), found("01"));
        assert_eq!(m.find(" 79 "), found("79"));
        let set = provinces_2025().unwrap();
        let m = Matcher::units(
            set.units
                .iter()
                .map(|u| (u.code.as_str(), u.name_vi.as_str(), u.name_en.as_str())),
        );
        assert_eq!(m.find("HA-NOI"), found("ha-noi"));
        assert_eq!(m.find("Huế"), found("hue"));
        assert_eq!(m.find("TP. Hồ Chí Minh"), found("ho-chi-minh-city"));
    }

    #[test]
    fn a_typo_suggests_the_closest_names() {
        let m = provinces();
        match m.find("Ha Noii") {
            Match::Unknown(s) => assert_eq!(s.first().map(String::as_str), Some("Hà Nội")),
            other => panic!("{other:?}"),
        }
        match m.find("Thua Thien Hueee") {
            Match::Unknown(s) => assert_eq!(s[0], "Thừa Thiên Huế"),
            other => panic!("{other:?}"),
        }
        match m.find("Hà Nam Ninh") {
            Match::Unknown(s) => assert!(s.len() <= MAX_SUGGESTIONS && !s.is_empty()),
            other => panic!("{other:?}"),
        }
        assert_eq!(m.find("ZZ"), Match::Unknown(Vec::new()));
        assert_eq!(m.find("  "), Match::Unknown(Vec::new()));
    }

    #[test]
    fn a_name_shared_by_two_units_is_ambiguous_and_names_both() {
        let mut m = Matcher::new();
        m.add("a1", "Phường 1", &[]);
        m.add("b1", "Phuong 1", &[]);
        assert_eq!(
            m.find("phuong 1"),
            Match::Ambiguous(vec!["Phường 1".to_owned(), "Phuong 1".to_owned()])
        );
        assert_eq!(m.find("A1"), found("a1"));
    }

    #[test]
    fn groups_match_by_code_label_and_english_label() {
        let mut m = Matcher::new();
        m.add(
            "leader",
            "Lãnh đạo, quản lý",
            &["Leaders and managers", "lãnh đạo"],
        );
        m.add(
            "civil_servant",
            "Công chức",
            &["Civil servants", "civil servant"],
        );
        m.add(
            "citizen",
            "Người dân, tổ chức",
            &["Citizens and organisations", "người dân"],
        );
        for (input, code) in [
            ("Lãnh đạo, quản lý", "leader"),
            ("lanh dao quan ly", "leader"),
            ("LÃNH ĐẠO", "leader"),
            ("leader", "leader"),
            ("Leaders and managers", "leader"),
            ("Công chức", "civil_servant"),
            ("civil servant", "civil_servant"),
            ("CIVIL_SERVANT", "civil_servant"),
            ("Người dân, tổ chức", "citizen"),
            ("nguoi dan", "citizen"),
            ("Citizens and organisations", "citizen"),
        ] {
            assert_eq!(m.find(input), found(code), "{input}");
        }
        match m.find("Cong chuc vien") {
            Match::Unknown(s) => assert_eq!(s, ["Công chức"]),
            other => panic!("{other:?}"),
        }
    }
}
