//! The spellings the XLSForm world writes, reduced to the ones the importer reads.
//!
//! pyxform (the reference converter used by ODK and KoboToolbox) accepts many spellings of one
//! column or type, gathered over a decade of forms: `label:english` (one colon, when no header
//! of the sheet uses two), `label::English`, `List Name`, `constraining message`,
//! `bind::jr:constraintMsg`, `media::image`, `select one from yes_no`, `add integer prompt`.
//! This module follows `pyxform/aliases.py`, `pyxform/parsing/sheet_headers.py` and
//! `pyxform/question_type_dictionary.py`, so that a form pyxform reads is read the same way.
//!
//! It also turns settings that XLSForm leaves free-form (a `form_id`, a `version` such as
//! `2024-03-01`) into khaosat's stricter instrument code and version.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::domain::instrument::{Lang, MAX_CODE_CHARS};

/// The language of a translated column (`label::English (en)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ColumnLang {
    /// No language given (`label`): a fallback for both of khaosat's languages.
    Plain,
    /// Vietnamese or English.
    Ours(Lang),
    /// Any other language, by the name the header gives it (`French (fr)`).
    Other(String),
}

/// A header reduced to the key the importer looks up and the language it is written in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Header {
    /// The canonical column key (`label`, `list_name`, `constraint_message`, `image`, ...).
    pub key: String,
    /// The language after the key, if any.
    pub lang: ColumnLang,
}

/// pyxform's `to_snake_case`: runs of white space become one `_`, and the result is lowercase.
fn snake(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join("_")
        .to_lowercase()
}

/// Another spelling of a column key, as pyxform's `survey_header` and `list_header` aliases
/// have it (after [`snake`]).
fn dealias(key: &str) -> &str {
    match key {
        "caption" => "label",
        "relevance" => "relevant",
        "constraining_message" | "jr:constraintmsg" => "constraint_message",
        "requiredmsg" | "jr:requiredmsg" => "required_message",
        "calculate" => "calculation",
        "readonly" => "read_only",
        "count" | "jr:count" => "repeat_count",
        "command" => "type",
        "tag" | "value" => "name",
        "set_form_id" => "form_id",
        "set_form_title" => "form_title",
        other => other,
    }
}

/// Reads one header. `double_colon` is true when any header of the sheet contains `::`: then
/// `:` alone never separates a language (pyxform's rule, so that `jr:constraintMsg` survives).
pub(super) fn parse_header(header: &str, double_colon: bool) -> Header {
    let mut tokens: Vec<String> = if double_colon || header.contains("::") {
        header.split("::").map(|t| t.trim().to_owned()).collect()
    } else {
        let parts: Vec<&str> = header.split(':').map(str::trim).collect();
        // `jr:count` and `jr:constraintMsg` are one name, not a key and a language.
        let mut out: Vec<String> = Vec::new();
        let mut i = 0;
        while i < parts.len() {
            if parts[i].eq_ignore_ascii_case("jr") && i + 1 < parts.len() {
                out.push(format!("jr:{}", parts[i + 1]));
                i += 2;
            } else {
                out.push(parts[i].to_owned());
                i += 1;
            }
        }
        out
    };
    let mut first = snake(tokens.first().map_or("", String::as_str));
    // `bind::relevant`, `body::appearance`, `control::appearance`, `media::image`: the second
    // token is the column; the first only says where pyxform writes it in the XForm.
    if matches!(first.as_str(), "bind" | "body" | "control" | "media") && tokens.len() > 1 {
        tokens.remove(0);
        first = snake(&tokens[0]);
    } else if first == "instance" && tokens.len() > 1 {
        // Attributes of the question's data node (`instance::odk:saveto`): nothing to show or
        // check, so the column is kept under a key that nothing looks up.
        return Header {
            key: format!("instance::{}", tokens[1..].join("::")),
            lang: ColumnLang::Plain,
        };
    }
    let key = dealias(&first).to_owned();
    let lang = match tokens.get(1).map(|l| l.trim()).filter(|l| !l.is_empty()) {
        None => ColumnLang::Plain,
        Some(l) => match language_of(l) {
            Some(lang) => ColumnLang::Ours(lang),
            None => ColumnLang::Other(l.to_owned()),
        },
    };
    Header { key, lang }
}

/// khaosat's language for a language written after `::`: a name (`English`, `Tiếng Việt`,
/// `Vietnamese`), a code (`en`, `vi`, `en-US`, `vie`), or both (`Vietnamese (vi)`).
pub(super) fn language_of(part: &str) -> Option<Lang> {
    let lower = part.trim().to_lowercase();
    let (name, code) = match (lower.rfind('('), lower.rfind(')')) {
        (Some(a), Some(b)) if a < b => (
            lower.get(..a).unwrap_or_default().trim().to_owned(),
            lower.get(a + 1..b).unwrap_or_default().trim().to_owned(),
        ),
        _ => (lower.clone(), lower.clone()),
    };
    let of = |word: &str| -> Option<Lang> {
        let primary = word.split(['-', '_']).next().unwrap_or_default();
        match fold(word).as_str() {
            "vietnamese" | "tieng viet" | "tiengviet" => return Some(Lang::Vi),
            "english" | "tieng anh" => return Some(Lang::En),
            _ => {}
        }
        match primary {
            "vi" | "vie" => Some(Lang::Vi),
            "en" | "eng" => Some(Lang::En),
            _ => None,
        }
    };
    of(&code).or_else(|| of(&name))
}

/// Lowercase ASCII without Vietnamese diacritics (`Tiếng Việt` → `tieng viet`).
fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            other => other,
        })
        .collect::<String>()
        .to_lowercase()
}

/// A valid instrument code made from free text (a `form_id`, a file name): lowercase ASCII,
/// diacritics dropped, every run of other characters one `_`, at most [`MAX_CODE_CHARS`].
/// `Khảo sát 2024 (bản cuối)` → `khao_sat_2024_ban_cuoi`; nothing usable gives `form`.
pub(super) fn code_from_text(text: &str) -> String {
    let mut out = String::new();
    for c in fold(text).chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_' {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let trimmed = out.trim_matches(|c| c == '_' || c == '-');
    let mut code: String = trimmed.chars().take(MAX_CODE_CHARS).collect();
    while code.ends_with(['_', '-']) {
        code.pop();
    }
    if code.is_empty() {
        "form".to_owned()
    } else {
        code
    }
}

/// khaosat's whole-number version for XLSForm's free-text `version`, and whether it was read
/// exactly. A whole number from 1 to `u32::MAX` is itself. Text that starts with a date
/// (`2024-03-01`, `202403011200`, `20240301 v2`) gives the date as `YYYYMMDD` (20240301), so
/// that later dates stay higher versions. Other text gives its digits as one number when that
/// fits (`v2` → 2, `1.3` → 13), else 1.
pub(super) fn version_from_text(text: &str) -> (u32, bool) {
    let text = text.trim();
    if let Ok(n) = text.parse::<u32>()
        && n >= 1
    {
        return (n, true);
    }
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let starts_with_date = text.chars().take(4).filter(char::is_ascii_digit).count() == 4;
    if starts_with_date && digits.len() >= 8 {
        let date = &digits[..8];
        let (year, month, day) = (&date[..4], &date[4..6], &date[6..8]);
        let plausible = year
            .parse::<u32>()
            .is_ok_and(|y| (1900..=2999).contains(&y))
            && month.parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
            && day.parse::<u32>().is_ok_and(|d| (1..=31).contains(&d));
        if plausible && let Ok(n) = date.parse::<u32>() {
            return (n, false);
        }
    }
    match digits.trim_start_matches('0').parse::<u32>() {
        Ok(n) if n >= 1 => (n, false),
        _ => (1, false),
    }
}

/// What a survey row's `type` cell asks for, after pyxform's aliases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RowType {
    /// `begin group`.
    BeginGroup,
    /// `end group`.
    EndGroup,
    /// `begin repeat`, `begin loop`, `end repeat`, ...: refused.
    Repeat,
    /// `note`.
    Note,
    /// Collected by the device, not asked (`start`, `deviceid`, `hidden`, ...): skipped.
    Metadata,
    /// `select_one` / `select_multiple` in any spelling: the khaosat kind (`single`,
    /// `multiple`), the list name as written, and any words after it (`or_other`).
    Select {
        /// `single` or `multiple`.
        kind: &'static str,
        /// The list name, case kept.
        list: Option<String>,
        /// Words after the list name.
        extra: Vec<String>,
    },
    /// A type khaosat holds directly (`text`, `integer`, `decimal`, `date`).
    Plain(&'static str),
    /// `percentage`: a whole number from 0 to 100.
    Percentage,
    /// `acknowledge`: one "OK" to tick.
    Acknowledge,
    /// `range`: whole numbers between the `parameters` start and end.
    Range,
    /// Refused, with the catalogue key saying why and what to do instead.
    Refused(&'static str),
    /// Anything else, lowercased with single spaces (`calculate`, `trigger`, `osm`).
    Other(String),
}

/// Select spellings, longest first, with the khaosat kind each means.
const SELECTS: [(&str, &str); 16] = [
    ("add select multiple prompt using", "multiple"),
    ("add select one prompt using", "single"),
    ("select all that apply from", "multiple"),
    ("select multiple from", "multiple"),
    ("select multiple using", "multiple"),
    ("select all that apply", "multiple"),
    ("select one from", "single"),
    ("select one using", "single"),
    ("select one", "single"),
    ("select multiple", "multiple"),
    ("q select1", "single"),
    ("q select", "multiple"),
    ("select_one", "single"),
    ("select_multiple", "multiple"),
    ("select1", "single"),
    ("select_all_that_apply", "multiple"),
];

/// Reads a `type` cell.
pub(super) fn row_type(raw: &str) -> RowType {
    let words: Vec<&str> = raw.split_whitespace().collect();
    let kind = words.join(" ").to_lowercase();
    let kind = kind.as_str();
    match kind {
        "begin group" | "begin_group" => return RowType::BeginGroup,
        "end group" | "end_group" => return RowType::EndGroup,
        _ => {}
    }
    let head = kind.split(' ').next().unwrap_or_default();
    if head.starts_with("select_one_from_file")
        || head.starts_with("select_multiple_from_file")
        || kind.starts_with("select one from file ")
        || kind.starts_with("select multiple from file ")
    {
        return RowType::Refused("xlsform.refused.from_file");
    }
    if head == "select_one_external" || kind.starts_with("select one external") {
        return RowType::Refused("xlsform.refused.external");
    }
    for (spelling, ours) in SELECTS {
        let n = spelling.split(' ').count();
        if words.len() >= n && words[..n].join(" ").to_lowercase() == spelling {
            return RowType::Select {
                kind: ours,
                list: words.get(n).map(|w| (*w).to_owned()),
                extra: words.iter().skip(n + 1).map(|w| (*w).to_owned()).collect(),
            };
        }
    }
    match kind {
        "begin repeat" | "begin_repeat" | "end repeat" | "end_repeat" | "begin loop"
        | "begin_loop" | "end loop" | "end_loop" | "begin lgroup" | "end lgroup"
        | "begin looped group" | "end looped group" => RowType::Repeat,
        "note" | "add note prompt" | "q note" => RowType::Note,
        "start" | "end" | "today" | "deviceid" | "subscriberid" | "simserial" | "phonenumber"
        | "username" | "email" | "audit" | "background-audio" | "imei" | "hidden"
        | "start time" | "end time" | "device id" | "sim id" | "subscriber id"
        | "get device id" | "get end time" | "get phone number" | "get sim id"
        | "get start time" | "get subscriber id" | "get today" => RowType::Metadata,
        k if k.starts_with("uri:") => RowType::Metadata,
        // `begin loop over LIST`: a repeat over the choices of a list.
        k if k.starts_with("begin loop ") || k.starts_with("begin_loop ") => RowType::Repeat,
        "text" | "string" | "add text prompt" | "q string" | "phone number" => {
            RowType::Plain("text")
        }
        "integer" | "int" | "add integer prompt" | "q int" => RowType::Plain("integer"),
        "decimal" | "add decimal prompt" | "q decimal" => RowType::Plain("decimal"),
        "date" | "add date prompt" | "q date" => RowType::Plain("date"),
        "percentage" => RowType::Percentage,
        "acknowledge" | "add acknowledge prompt" | "q acknowledge" => RowType::Acknowledge,
        "range" => RowType::Range,
        "time"
        | "datetime"
        | "date time"
        | "add date time prompt"
        | "add datetime prompt"
        | "q date time"
        | "q datetime" => RowType::Refused("xlsform.refused.time"),
        "geopoint"
        | "geotrace"
        | "geoshape"
        | "gps"
        | "location"
        | "add location prompt"
        | "q geopoint"
        | "q geotrace"
        | "q geoshape"
        | "q location"
        | "start-geopoint"
        | "background-geopoint" => RowType::Refused("xlsform.refused.geo"),
        "image" | "photo" | "audio" | "video" | "file" | "barcode" | "add image prompt"
        | "add photo prompt" | "add audio prompt" | "add video prompt" | "add file prompt"
        | "add barcode prompt" | "q image" | "q picture" | "q audio" | "q video" | "q barcode" => {
            RowType::Refused("xlsform.refused.media_type")
        }
        "csv-external" | "xml-external" => RowType::Refused("xlsform.refused.external"),
        other => RowType::Other(other.to_owned()),
    }
}

/// Media columns: pictures, sound and film that khaosat does not show.
pub(super) const MEDIA_KEYS: [&str; 4] = ["image", "big-image", "audio", "video"];

#[cfg(test)]
mod tests {
    use super::*;

    fn read(header: &str) -> (String, ColumnLang) {
        let h = parse_header(header, header.contains("::"));
        (h.key, h.lang)
    }

    #[test]
    fn every_label_spelling_pyxform_accepts_reads_as_a_label_in_its_language() {
        let vi = ColumnLang::Ours(Lang::Vi);
        let en = ColumnLang::Ours(Lang::En);
        for (header, lang) in [
            ("label", ColumnLang::Plain),
            ("Label", ColumnLang::Plain),
            ("  LABEL ", ColumnLang::Plain),
            ("caption", ColumnLang::Plain),
            ("label:english", en.clone()),
            ("label::english", en.clone()),
            ("label::English", en.clone()),
            ("label::English (en)", en.clone()),
            ("label::en", en.clone()),
            ("label::en-US", en.clone()),
            ("label :: English", en.clone()),
            ("label::Tiếng Việt", vi.clone()),
            ("label::tieng viet", vi.clone()),
            ("label::Vietnamese (vi)", vi.clone()),
            ("label::Vietnamese", vi.clone()),
            ("label::vi", vi.clone()),
            ("label:Vietnamese", vi.clone()),
            ("label::Tiếng Việt (vi)", vi.clone()),
            (
                "label::French (fr)",
                ColumnLang::Other("French (fr)".into()),
            ),
        ] {
            assert_eq!(read(header), ("label".to_owned(), lang), "{header}");
        }
    }

    #[test]
    fn column_aliases_and_prefixes_read_as_the_column_they_stand_for() {
        for (header, key) in [
            ("list name", "list_name"),
            ("List Name", "list_name"),
            ("list_name", "list_name"),
            ("constraint message", "constraint_message"),
            ("constraining message", "constraint_message"),
            ("jr:constraintMsg", "constraint_message"),
            ("bind::jr:constraintMsg", "constraint_message"),
            ("bind:jr:constraintMsg", "constraint_message"),
            ("required message", "required_message"),
            ("jr:requiredMsg", "required_message"),
            ("bind::relevant", "relevant"),
            ("relevance", "relevant"),
            ("body::appearance", "appearance"),
            ("control::appearance", "appearance"),
            ("media::image", "image"),
            ("image", "image"),
            ("calculate", "calculation"),
            ("jr:count", "repeat_count"),
            ("Value", "name"),
            ("Type", "type"),
        ] {
            assert_eq!(read(header).0, key, "{header}");
        }
        assert_eq!(
            parse_header("media::image::English (en)", true),
            Header {
                key: "image".into(),
                lang: ColumnLang::Ours(Lang::En)
            }
        );
        // With `::` elsewhere in the sheet, one colon is part of the name, as in pyxform.
        assert_eq!(
            parse_header("label:english", true).key,
            "label:english".to_owned()
        );
        assert!(
            parse_header("instance::odk:saveto", true)
                .key
                .starts_with("instance::")
        );
    }

    #[test]
    fn every_select_spelling_reads_as_single_or_multiple_with_its_list() {
        for (cell, kind, list) in [
            ("select_one yes_no", "single", "yes_no"),
            ("select one yes_no", "single", "yes_no"),
            ("select one from yes_no", "single", "yes_no"),
            ("Select One From YesNo", "single", "YesNo"),
            ("add select one prompt using yes_no", "single", "yes_no"),
            ("select1 yes_no", "single", "yes_no"),
            ("select_multiple fruits", "multiple", "fruits"),
            ("select all that apply from fruits", "multiple", "fruits"),
            ("select all that apply fruits", "multiple", "fruits"),
            (
                "add select multiple prompt using fruits",
                "multiple",
                "fruits",
            ),
            ("select_one   yes_no  ", "single", "yes_no"),
        ] {
            assert_eq!(
                row_type(cell),
                RowType::Select {
                    kind,
                    list: Some(list.to_owned()),
                    extra: Vec::new()
                },
                "{cell}"
            );
        }
        assert_eq!(
            row_type("select_one yes_no or_other"),
            RowType::Select {
                kind: "single",
                list: Some("yes_no".into()),
                extra: vec!["or_other".into()]
            }
        );
    }

    #[test]
    fn type_aliases_map_to_khaosat_kinds_or_to_a_refusal() {
        for (cell, expected) in [
            ("string", RowType::Plain("text")),
            ("int", RowType::Plain("integer")),
            ("add decimal prompt", RowType::Plain("decimal")),
            ("phone number", RowType::Plain("text")),
            ("Date", RowType::Plain("date")),
            ("begin_group", RowType::BeginGroup),
            ("Begin Group", RowType::BeginGroup),
            ("begin repeat", RowType::Repeat),
            ("begin_repeat", RowType::Repeat),
            ("begin loop over types", RowType::Repeat),
            ("start", RowType::Metadata),
            ("deviceid", RowType::Metadata),
            ("percentage", RowType::Percentage),
            ("acknowledge", RowType::Acknowledge),
            ("range", RowType::Range),
            ("geopoint", RowType::Refused("xlsform.refused.geo")),
            ("geotrace", RowType::Refused("xlsform.refused.geo")),
            ("geoshape", RowType::Refused("xlsform.refused.geo")),
            ("start-geopoint", RowType::Refused("xlsform.refused.geo")),
            ("time", RowType::Refused("xlsform.refused.time")),
            ("dateTime", RowType::Refused("xlsform.refused.time")),
            ("image", RowType::Refused("xlsform.refused.media_type")),
            ("barcode", RowType::Refused("xlsform.refused.media_type")),
            ("file", RowType::Refused("xlsform.refused.media_type")),
            (
                "select_one_from_file villages.csv",
                RowType::Refused("xlsform.refused.from_file"),
            ),
            (
                "select_multiple_from_file a.xml",
                RowType::Refused("xlsform.refused.from_file"),
            ),
            (
                "select_one_external towns",
                RowType::Refused("xlsform.refused.external"),
            ),
            ("calculate", RowType::Other("calculate".into())),
        ] {
            assert_eq!(row_type(cell), expected, "{cell}");
        }
    }

    #[test]
    fn free_text_becomes_a_valid_instrument_code() {
        assert_eq!(
            code_from_text("Khảo sát 2024 (bản cuối)"),
            "khao_sat_2024_ban_cuoi"
        );
        assert_eq!(code_from_text("Đánh giá"), "danh_gia");
        assert_eq!(code_from_text("YesNo"), "yesno");
        assert_eq!(code_from_text("household-survey_v2"), "household-survey_v2");
        assert_eq!(code_from_text("__x__"), "x");
        assert_eq!(code_from_text("!!!"), "form");
        assert_eq!(code_from_text(&"a".repeat(100)).len(), MAX_CODE_CHARS);
    }

    #[test]
    fn free_text_versions_become_whole_numbers_that_keep_dates_in_order() {
        assert_eq!(version_from_text("3"), (3, true));
        assert_eq!(version_from_text("2024-03-01"), (20_240_301, false));
        assert_eq!(version_from_text("202403011200"), (20_240_301, false));
        assert_eq!(version_from_text("v2"), (2, false));
        assert_eq!(version_from_text("0"), (1, false));
        assert_eq!(version_from_text("draft"), (1, false));
        assert_eq!(version_from_text("99999999999999999999"), (1, false));
        assert!(version_from_text("2024-03-02").0 > version_from_text("2024-03-01 23:59").0);
    }
}
