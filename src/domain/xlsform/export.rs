//! XLSForm export: a stored [`Instrument`] as a workbook that pyxform converts for ODK Collect
//! and KoboCollect, and that [`super::import_xlsform`] reads back to the same content hash.
//!
//! The mapping (documented in `docs/instrument-format.md`, "Export to XLSForm"):
//! - `survey`: the instructions as a first `note` (`khaosat_type = instructions`); each section
//!   a `begin_group` named by its code with appearance `field-list`, its introduction a `note`
//!   as the group's first row; a battery a nested `begin_group` (`khaosat_type = battery`)
//!   holding one `select_one` row per item; yes/no a `select_one` of a generated yes/no list
//!   (`khaosat_type = yes_no`); a long text `text` with appearance `multiline`
//!   (`khaosat_type = long_text`); min/max in the `constraint` (`. >= min and . <= max`).
//! - `choices`: the shared lists, then one generated list per question with inline options
//!   (`khaosat_choices = inline` on the question) and the yes/no list; `valid = no` marks
//!   options left out of scoring.
//! - `settings`: `form_id`, `version`, `form_title` (Vietnamese), `default_language`, `group`,
//!   and `khaosat_title_en`, `khaosat_provenance`, `khaosat_continues_instrument` /
//!   `khaosat_continues_version`.
//! - Extension columns for what XLSForm cannot say: `khaosat_scored`, `khaosat_continues`,
//!   `khaosat_max_length`, and `khaosat_relevant` / `khaosat_constraint` / `khaosat_min` /
//!   `khaosat_max` where the XPath alone would not read back as the same condition.

use std::collections::{BTreeMap, BTreeSet};

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::question::numeric_bounds;
use super::to_xpath::{RefKind, constraint_xpath, to_xpath};
use super::xpath::translate_xpath;
use crate::domain::expr::{Expr, SELF_REF};
use crate::domain::instrument::{
    Choices, Continuation, DEFAULT_LONG_TEXT_MAX, DEFAULT_TEXT_MAX, Instrument, Question,
    QuestionKind, Text, yes_no_options,
};

/// The name of the Vietnamese columns (`label::Tiếng Việt (vi)`), also the default language.
const LANG_VI: &str = "Tiếng Việt (vi)";

/// The khaosat extension columns and their values, shared with the importer.
pub(super) mod ext {
    /// What XLSForm cannot say about a row's type: one of the values below.
    pub const TYPE: &str = "khaosat_type";
    /// `khaosat_type` of a `text` row holding a multi-line answer.
    pub const LONG_TEXT: &str = "long_text";
    /// `khaosat_type` of a `select_one` row that is a yes/no question.
    pub const YES_NO: &str = "yes_no";
    /// `khaosat_type` of a `begin_group` row that is a battery.
    pub const BATTERY: &str = "battery";
    /// `khaosat_type` of the `note` row holding the instrument's instructions.
    pub const INSTRUCTIONS: &str = "instructions";
    /// `khaosat_type` of a `note` question that opens its group but is not the page's
    /// introduction (which a plain first note would be read as).
    pub const NOTE: &str = "note";
    /// `inline` when the row's choice list holds the question's own options, not a shared list.
    pub const CHOICES: &str = "khaosat_choices";
    /// The value of [`CHOICES`].
    pub const INLINE: &str = "inline";
    /// `no` for a question scoring must not use.
    pub const SCORED: &str = "khaosat_scored";
    /// The earlier question a question or battery item continues, or [`NEW`].
    pub const CONTINUES: &str = "khaosat_continues";
    /// [`CONTINUES`] of an item not comparable with the earlier version.
    pub const NEW: &str = "(new)";
    /// The longest accepted text answer, when not the default.
    pub const MAX_LENGTH: &str = "khaosat_max_length";
    /// The condition in khaosat's syntax, where the XPath alone would read back differently.
    pub const RELEVANT: &str = "khaosat_relevant";
    /// The constraint's own condition in khaosat's syntax (see [`RELEVANT`]).
    pub const CONSTRAINT: &str = "khaosat_constraint";
    /// The smallest accepted number, when the constraint also holds a condition.
    pub const MIN: &str = "khaosat_min";
    /// The largest accepted number (see [`MIN`]).
    pub const MAX: &str = "khaosat_max";
    /// Settings: the English title (pyxform's `form_title` takes one language).
    pub const TITLE_EN: &str = "khaosat_title_en";
    /// Settings: where the content comes from.
    pub const PROVENANCE: &str = "khaosat_provenance";
    /// Settings: the code of the instrument this version continues.
    pub const CONTINUES_INSTRUMENT: &str = "khaosat_continues_instrument";
    /// Settings: the version of the instrument this version continues.
    pub const CONTINUES_VERSION: &str = "khaosat_continues_version";
}

const SURVEY_COLUMNS: [&str; 26] = [
    "type",
    "name",
    "label::Tiếng Việt (vi)",
    "label::English (en)",
    "hint::Tiếng Việt (vi)",
    "hint::English (en)",
    "required",
    "relevant",
    "constraint",
    "constraint_message::Tiếng Việt (vi)",
    "constraint_message::English (en)",
    "required_message::Tiếng Việt (vi)",
    "required_message::English (en)",
    "calculation",
    "default",
    "appearance",
    "choice_filter",
    ext::TYPE,
    ext::CHOICES,
    ext::SCORED,
    ext::CONTINUES,
    ext::MAX_LENGTH,
    ext::RELEVANT,
    ext::CONSTRAINT,
    ext::MIN,
    ext::MAX,
];

const CHOICES_COLUMNS: [&str; 5] = [
    "list_name",
    "name",
    "label::Tiếng Việt (vi)",
    "label::English (en)",
    "valid",
];

const SETTINGS_COLUMNS: [&str; 9] = [
    "form_id",
    "version",
    "form_title",
    "default_language",
    "group",
    ext::TITLE_EN,
    ext::PROVENANCE,
    ext::CONTINUES_INSTRUMENT,
    ext::CONTINUES_VERSION,
];

/// One row of a sheet: header → value (empty values are left out).
#[derive(Debug, Default)]
struct Row(BTreeMap<String, String>);

impl Row {
    fn new(kind: &str) -> Self {
        let mut row = Row::default();
        row.set("type", kind);
        row
    }

    fn set(&mut self, column: &str, value: impl Into<String>) {
        let value = value.into();
        if !value.is_empty() {
            self.0.insert(column.to_owned(), value);
        }
    }

    /// Both languages of a text, under `label`, `hint` or `constraint_message`.
    fn text(&mut self, key: &str, text: &Text) {
        let (vi, en) = match key {
            "label" => ("label::Tiếng Việt (vi)", "label::English (en)"),
            "hint" => ("hint::Tiếng Việt (vi)", "hint::English (en)"),
            "required_message" => (
                "required_message::Tiếng Việt (vi)",
                "required_message::English (en)",
            ),
            _ => (
                "constraint_message::Tiếng Việt (vi)",
                "constraint_message::English (en)",
            ),
        };
        self.set(vi, text.vi.clone());
        self.set(en, text.en.clone());
    }
}

/// Writes `instrument` as an XLSForm workbook (`survey`, `choices`, `settings`). Fails only
/// when the spreadsheet writer refuses a value (a text longer than Excel's 32,767 characters).
pub fn export_xlsform(instrument: &Instrument) -> Result<Vec<u8>, XlsxError> {
    let plan = ListPlan::new(instrument);
    let kinds = ref_kinds(instrument);
    let kind_of = |code: &str| kinds.get(code).copied().unwrap_or(RefKind::Text);
    let mut used = used_names(instrument);
    let mut survey: Vec<Row> = Vec::new();

    if let Some(text) = instrument.instructions() {
        let mut row = Row::new("note");
        row.set("name", fresh("instructions", &mut used));
        row.text("label", text);
        row.set(ext::TYPE, ext::INSTRUCTIONS);
        survey.push(row);
    }
    for section in instrument.sections() {
        let mut begin = Row::new("begin_group");
        begin.set("name", section.code.clone());
        begin.text("label", &section.title);
        begin.set("appearance", "field-list");
        relevant(&mut begin, section.relevant.as_ref(), &kind_of);
        survey.push(begin);
        if let Some(intro) = &section.intro {
            let mut note = Row::new("note");
            note.set("name", fresh(&format!("{}_intro", section.code), &mut used));
            note.text("label", intro);
            survey.push(note);
        }
        for (i, q) in section.questions.iter().enumerate() {
            question(&mut survey, q, &plan, &kind_of);
            // A note opening a page without an introduction would read back as one.
            let opens_page = i == 0 && section.intro.is_none();
            if opens_page
                && matches!(q.kind, QuestionKind::Note)
                && let Some(row) = survey.last_mut()
            {
                row.set(ext::TYPE, ext::NOTE);
            }
        }
        survey.push(Row::new("end_group"));
    }

    let mut choices: Vec<Row> = Vec::new();
    let lists = plan.lists(instrument);
    for (name, options) in &lists {
        for o in options {
            let mut row = Row::default();
            row.set("list_name", name.clone());
            row.set("name", o.value.clone());
            row.text("label", &o.label);
            if !o.valid {
                row.set("valid", "no");
            }
            for (column, value) in &o.attributes {
                row.set(column, value.clone());
            }
            choices.push(row);
        }
    }

    let mut settings = Row::default();
    settings.set("form_id", instrument.code());
    settings.set("version", instrument.version().to_string());
    settings.set("form_title", instrument.title().vi.clone());
    settings.set("default_language", LANG_VI);
    settings.set("group", instrument.group().code());
    settings.set(ext::TITLE_EN, instrument.title().en.clone());
    settings.set(ext::PROVENANCE, instrument.provenance());
    if let Some(c) = instrument.continues() {
        settings.set(ext::CONTINUES_INSTRUMENT, c.instrument.clone());
        settings.set(ext::CONTINUES_VERSION, c.version.to_string());
    }

    let mut workbook = Workbook::new();
    // The choice filters' columns follow the fixed ones.
    let attributes: BTreeSet<&str> = lists
        .iter()
        .flat_map(|(_, options)| options.iter())
        .flat_map(|o| o.attributes.keys().map(String::as_str))
        .collect();
    let choice_columns: Vec<&str> = CHOICES_COLUMNS.iter().copied().chain(attributes).collect();
    write_sheet(&mut workbook, "survey", &SURVEY_COLUMNS, &survey)?;
    write_sheet(&mut workbook, "choices", &choice_columns, &choices)?;
    write_sheet(&mut workbook, "settings", &SETTINGS_COLUMNS, &[settings])?;
    workbook.save_to_buffer()
}

/// The rows of one question (a battery: its group, items and end).
fn question(
    survey: &mut Vec<Row>,
    q: &Question,
    plan: &ListPlan,
    kind_of: &dyn Fn(&str) -> RefKind,
) {
    let list = |choices: &Choices| plan.name_for(&q.code, choices);
    let mut row = Row::default();
    row.set("name", q.code.clone());
    row.text("label", &q.label);
    if let Some(h) = &q.hint {
        row.text("hint", h);
    }
    relevant(&mut row, q.relevant.as_ref(), kind_of);
    let required = if q.required { "yes" } else { "" };
    let scored = |row: &mut Row, scored: bool| {
        if !scored {
            row.set(ext::SCORED, "no");
        }
    };
    let inline = |row: &mut Row, choices: &Choices| {
        if choices.list.is_none() {
            row.set(ext::CHOICES, ext::INLINE);
        }
    };
    let (kind, bounds): (String, (Option<String>, Option<String>)) = match &q.kind {
        QuestionKind::Battery {
            choices,
            items,
            scored: s,
        } => {
            row.set("type", "begin_group");
            row.set("appearance", "field-list");
            row.set(ext::TYPE, ext::BATTERY);
            scored(&mut row, *s);
            inline(&mut row, choices);
            survey.push(row);
            for item in items {
                let mut r = Row::new(&format!("select_one {}", list(choices)));
                r.set("name", item.code.clone());
                r.text("label", &item.label);
                r.set("required", required);
                continuation(&mut r, &item.continues);
                survey.push(r);
            }
            survey.push(Row::new("end_group"));
            return;
        }
        QuestionKind::Single { choices, scored: s } => {
            scored(&mut row, *s);
            inline(&mut row, choices);
            (format!("select_one {}", list(choices)), (None, None))
        }
        QuestionKind::Multiple { choices } => {
            inline(&mut row, choices);
            (format!("select_multiple {}", list(choices)), (None, None))
        }
        QuestionKind::YesNo { scored: s } => {
            scored(&mut row, *s);
            row.set(ext::TYPE, ext::YES_NO);
            (format!("select_one {}", plan.yes_no), (None, None))
        }
        QuestionKind::Integer { min, max } => (
            "integer".to_owned(),
            (min.map(|m| m.to_string()), max.map(|m| m.to_string())),
        ),
        QuestionKind::Decimal { min, max } => (
            "decimal".to_owned(),
            (min.map(|m| m.to_string()), max.map(|m| m.to_string())),
        ),
        QuestionKind::Text { max_length } => {
            if *max_length != DEFAULT_TEXT_MAX {
                row.set(ext::MAX_LENGTH, max_length.to_string());
            }
            ("text".to_owned(), (None, None))
        }
        QuestionKind::LongText { max_length } => {
            if *max_length != DEFAULT_LONG_TEXT_MAX {
                row.set(ext::MAX_LENGTH, max_length.to_string());
            }
            row.set("appearance", "multiline");
            row.set(ext::TYPE, ext::LONG_TEXT);
            ("text".to_owned(), (None, None))
        }
        QuestionKind::Date => ("date".to_owned(), (None, None)),
        QuestionKind::Calculate { calculation } => {
            row.set(
                "calculation",
                calculation.write_with(&|e| to_xpath(e, kind_of)),
            );
            ("calculate".to_owned(), (None, None))
        }
        QuestionKind::Note => ("note".to_owned(), (None, None)),
    };
    if let Some(m) = &q.required_message {
        row.text("required_message", m);
    }
    if let Some(d) = &q.default {
        row.set("default", d.clone());
    }
    if let Some(a) = q.appearance {
        row.set("appearance", a.code());
    }
    if let Some(f) = &q.choice_filter {
        row.set("choice_filter", f.to_string());
    }
    row.set("type", kind);
    row.set("required", required);
    continuation(&mut row, &q.continues);
    let own = RefKind::of_type(q.kind.type_name());
    let with_self = |code: &str| if code == SELF_REF { own } else { kind_of(code) };
    let condition = q.constraint.as_ref().map(|c| &c.expr);
    let (min, max) = (bounds.0.as_deref(), bounds.1.as_deref());
    if let Some(x) = constraint_xpath(min, max, condition, &with_self) {
        // The importer reads bounds alone, and a condition alone, from the XPath; anything else
        // also goes into the extension columns (see `reads_back`).
        if !reads_back(&x, min.is_some() || max.is_some(), condition, q) {
            row.set(ext::MIN, min.unwrap_or_default());
            row.set(ext::MAX, max.unwrap_or_default());
            if let Some(c) = condition {
                row.set(ext::CONSTRAINT, c.to_string());
            }
        }
        row.set("constraint", x);
    }
    if let Some(m) = q.constraint.as_ref().and_then(|c| c.message.as_ref()) {
        row.text("constraint_message", m);
    }
    survey.push(row);
}

/// True when the importer's plain reading of the `constraint` cell `x` gives back exactly the
/// question's bounds and condition.
fn reads_back(x: &str, has_bounds: bool, condition: Option<&Expr>, q: &Question) -> bool {
    match (has_bounds, condition) {
        // `. >= min and . <= max` alone reads back as the bounds.
        (_, None) => true,
        (true, Some(_)) => false,
        (false, Some(c)) => {
            let numeric = q.kind.type_name();
            translate_xpath(x, true).is_ok_and(|back| back == *c)
                && numeric_bounds(c, numeric).is_none()
        }
    }
}

/// The `relevant` cell, and `khaosat_relevant` when the XPath would not read back the same.
fn relevant(row: &mut Row, condition: Option<&Expr>, kind_of: &dyn Fn(&str) -> RefKind) {
    let Some(e) = condition else {
        return;
    };
    let x = to_xpath(e, kind_of);
    if translate_xpath(&x, false).ok().as_ref() != Some(e) {
        row.set(ext::RELEVANT, e.to_string());
    }
    row.set("relevant", x);
}

fn continuation(row: &mut Row, c: &Continuation) {
    match c {
        Continuation::Same => {}
        Continuation::From(code) => row.set(ext::CONTINUES, code.clone()),
        Continuation::New => row.set(ext::CONTINUES, ext::NEW),
    }
}

/// What each answer code is, for writing comparisons with it.
fn ref_kinds(instrument: &Instrument) -> BTreeMap<String, RefKind> {
    let mut out = BTreeMap::new();
    for q in instrument.questions() {
        match &q.kind {
            QuestionKind::Battery { items, .. } => {
                for i in items {
                    out.insert(i.code.clone(), RefKind::Text);
                }
            }
            kind => {
                out.insert(q.code.clone(), RefKind::of_type(kind.type_name()));
            }
        }
    }
    out
}

/// Every name the survey sheet already uses, so that generated note names do not collide.
fn used_names(instrument: &Instrument) -> BTreeSet<String> {
    let mut used: BTreeSet<String> = instrument
        .sections()
        .iter()
        .map(|s| s.code.to_lowercase())
        .collect();
    for q in instrument.questions() {
        used.insert(q.code.to_lowercase());
        used.extend(q.answer_codes().into_iter().map(str::to_lowercase));
    }
    used
}

/// `base`, or `base_2`, `base_3`, ... when taken (ignoring case, as pyxform does).
fn fresh(base: &str, used: &mut BTreeSet<String>) -> String {
    let mut name = base.to_owned();
    let mut n = 1;
    while used.contains(&name.to_lowercase()) {
        n += 1;
        name = format!("{base}_{n}");
    }
    used.insert(name.to_lowercase());
    name
}

/// The names of the choice lists: shared lists keep theirs; each question with inline options
/// and the yes/no questions get a generated list whose name no shared list uses.
struct ListPlan {
    yes_no: String,
    inline: BTreeMap<String, String>,
}

impl ListPlan {
    fn new(instrument: &Instrument) -> Self {
        let mut used: BTreeSet<String> = instrument
            .choice_lists()
            .keys()
            .map(|k| k.to_lowercase())
            .collect();
        let yes_no = fresh("yes_no", &mut used);
        let mut inline = BTreeMap::new();
        for q in instrument.questions() {
            if q.kind.choices().is_some_and(|c| c.list.is_none()) {
                inline.insert(q.code.clone(), fresh(&q.code, &mut used));
            }
        }
        Self { yes_no, inline }
    }

    fn name_for(&self, code: &str, choices: &Choices) -> String {
        match &choices.list {
            Some(name) => name.clone(),
            None => self
                .inline
                .get(code)
                .map_or(code, String::as_str)
                .to_owned(),
        }
    }

    /// Every list of the `choices` sheet, in order: shared, inline, then yes/no when used.
    fn lists(
        &self,
        instrument: &Instrument,
    ) -> Vec<(String, Vec<crate::domain::instrument::ChoiceOption>)> {
        let mut out: Vec<_> = instrument
            .choice_lists()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for q in instrument.questions() {
            if let Some(c) = q.kind.choices().filter(|c| c.list.is_none()) {
                out.push((self.name_for(&q.code, c), c.options.clone()));
            }
        }
        if instrument
            .questions()
            .any(|q| matches!(q.kind, QuestionKind::YesNo { .. }))
        {
            out.push((self.yes_no.clone(), yes_no_options()));
        }
        out
    }
}

fn write_sheet(
    workbook: &mut Workbook,
    name: &str,
    columns: &[&str],
    rows: &[Row],
) -> Result<(), XlsxError> {
    // Only the columns some row uses (and the always-read ones) are written, so that a short
    // form is not padded with empty extension columns.
    let shown: Vec<&str> = columns
        .iter()
        .copied()
        .filter(|c| {
            matches!(*c, "type" | "name" | "list_name" | "form_id" | "version")
                || c.starts_with("label::")
                || rows.iter().any(|r| r.0.contains_key(*c))
        })
        .collect();
    let bold = Format::new().set_bold();
    let sheet = workbook.add_worksheet();
    sheet.set_name(name)?;
    for (c, header) in shown.iter().enumerate() {
        let col = u16::try_from(c).unwrap_or(u16::MAX);
        sheet.write_string_with_format(0, col, *header, &bold)?;
        let width = if header.starts_with("label::") {
            50
        } else {
            18
        };
        sheet.set_column_width(col, width)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let at = u32::try_from(r + 1).unwrap_or(u32::MAX);
        for (c, header) in shown.iter().enumerate() {
            if let Some(value) = row.0.get(*header) {
                sheet.write_string(at, u16::try_from(c).unwrap_or(u16::MAX), value)?;
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{XlsFormOptions, import_xlsform};
    use super::*;
    use crate::app::bundled::INSTRUMENTS;

    const EVERY_KIND: &str = include_str!("../../../tests/api/fixtures/every-kind.toml");
    use crate::domain::instrument::test_support::FEATURES;

    fn parse(name: &str, bytes: &[u8]) -> Instrument {
        Instrument::from_toml(bytes, name).unwrap_or_else(|errors| {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!("{}", lines.join("\n"))
        })
    }

    fn reimport(original: &Instrument) -> Instrument {
        let bytes = export_xlsform(original).unwrap();
        import_xlsform(&bytes, "export.xlsx", &XlsFormOptions::default()).unwrap_or_else(|errors| {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!("{}", lines.join("\n"))
        })
    }

    /// The rows of one sheet of an exported workbook, as text.
    fn sheet(bytes: &[u8], name: &str) -> Vec<Vec<String>> {
        let mut wb = crate::domain::xlsx::Workbook::open(bytes, super::super::XLSX_LIMITS).unwrap();
        wb.read_sheet(name)
            .unwrap()
            .into_iter()
            .map(|r| r.cells.iter().map(super::super::sheet::cell_text).collect())
            .collect()
    }

    #[test]
    fn every_bundled_questionnaire_reads_back_with_the_same_content_hash() {
        for file in INSTRUMENTS {
            let original = parse(file.name, file.bytes);
            let again = reimport(&original);
            assert_eq!(again, original, "{}", file.name);
            assert_eq!(
                again.content_hash(),
                original.content_hash(),
                "{}",
                file.name
            );
        }
    }

    #[test]
    fn every_kind_and_option_reads_back_with_the_same_content_hash() {
        let original = parse("every-kind.toml", EVERY_KIND.as_bytes());
        let again = reimport(&original);
        assert_eq!(again, original);
        assert_eq!(again.content_hash(), original.content_hash());
    }

    #[test]
    fn calculations_notes_filters_defaults_and_layouts_read_back_with_the_same_hash() {
        let original = parse("features.toml", FEATURES.as_bytes());
        let again = reimport(&original);
        assert_eq!(again, original);
        assert_eq!(again.content_hash(), original.content_hash());
        let bytes = export_xlsform(&original).unwrap();
        let survey = sheet(&bytes, "survey");
        let col = |name: &str| survey[0].iter().position(|h| h == name).unwrap();
        let size = survey
            .iter()
            .find(|r| cell(r, col("name")) == "size_class")
            .unwrap();
        assert_eq!(
            cell(size, col("calculation")),
            "if(${household} >= 5, 'large', 'small')",
            "the condition inside if() is XPath in XLSForm"
        );
        let choices = sheet(&bytes, "choices");
        assert!(
            choices[0].iter().any(|h| h == "province"),
            "{:?}",
            choices[0]
        );
        // A page opening with a note (and no introduction) keeps the note as a question.
        let opening = FEATURES.replacen(
            "[[sections.questions]]\ncode = \"name\"",
            "[[sections.questions]]\ncode = \"welcome\"\ntype = \"note\"\nlabel = { vi = \"Chào\", en = \"Hello\" }\n\n[[sections.questions]]\ncode = \"name\"",
            1,
        );
        let original = parse("opening.toml", opening.as_bytes());
        assert!(matches!(
            original.sections()[0].questions[0].kind,
            QuestionKind::Note
        ));
        assert_eq!(reimport(&original), original);
    }

    #[test]
    fn sections_batteries_and_yes_no_questions_become_groups_and_lists() {
        let original = parse("every-kind.toml", EVERY_KIND.as_bytes());
        let bytes = export_xlsform(&original).unwrap();
        let survey = sheet(&bytes, "survey");
        let col = |name: &str| survey[0].iter().position(|h| h == name).unwrap();
        let (ty, nm, ext_type) = (col("type"), col("name"), col("khaosat_type"));
        let rows: Vec<(&str, &str, &str)> = survey
            .iter()
            .skip(1)
            .map(|r| (cell(r, ty), cell(r, nm), cell(r, ext_type)))
            .collect();
        assert_eq!(rows[0], ("note", "instructions", "instructions"));
        assert_eq!(rows[1], ("begin_group", "s1", ""));
        assert_eq!(rows[2], ("note", "s1_intro", ""));
        assert_eq!(rows[4], ("select_one yes_no_2", "q2", "yes_no"));
        // The inline options get a list named by the question; the shared list keeps its name.
        assert_eq!(rows[5], ("select_one q3", "q3", ""));
        assert_eq!(rows[7], ("select_one yes_no", "yn", ""));
        let battery = rows.iter().position(|r| r.1 == "b").unwrap();
        assert_eq!(rows[battery], ("begin_group", "b", "battery"));
        assert_eq!(rows[battery + 1], ("select_one agree4", "b_1", ""));
        assert_eq!(rows[battery + 4], ("end_group", "", ""));
        let relevant = col("relevant");
        let q3 = &survey[6];
        assert_eq!(cell(q3, nm), "q3");
        assert_eq!(
            cell(q3, relevant),
            "${q2} = 'yes' and (${q1} = '1' or ${q1} = '2')"
        );
        let n = survey.iter().find(|r| cell(r, nm) == "n").unwrap();
        assert_eq!(
            cell(n, col("constraint")),
            ". >= 0 and . <= 50 and ((. != '' and . != 13))"
        );
        assert_eq!(cell(n, col("khaosat_constraint")), ". != 13");
        let settings = sheet(&bytes, "settings");
        assert_eq!(
            &settings[0][..5],
            [
                "form_id",
                "version",
                "form_title",
                "default_language",
                "group"
            ]
        );
        assert_eq!(
            &settings[1][..5],
            [
                "every-kind",
                "3",
                "Mọi loại câu hỏi",
                "Tiếng Việt (vi)",
                "civil_servant"
            ]
        );
    }

    #[test]
    fn an_edited_xpath_cell_wins_over_the_stale_khaosat_condition() {
        let original = parse("every-kind.toml", EVERY_KIND.as_bytes());
        let bytes = export_xlsform(&original).unwrap();
        let mut survey = sheet(&bytes, "survey");
        let relevant = survey[0].iter().position(|h| h == "relevant").unwrap();
        let nm = survey[0].iter().position(|h| h == "name").unwrap();
        let q3 = survey.iter_mut().find(|r| cell(r, nm) == "q3").unwrap();
        q3[relevant] = "${q1} = '3'".to_owned();
        let edited = rewrite(&bytes, &survey);
        let again = import_xlsform(&edited, "edited.xlsx", &XlsFormOptions::default()).unwrap();
        let q3 = again.question("q3").unwrap();
        assert_eq!(q3.relevant.as_ref().unwrap().to_string(), "q1 == \"3\"");
        assert_ne!(again.content_hash(), original.content_hash());
    }

    /// The errors of importing the every-kind export after `edit` changed its survey sheet.
    fn errors_after(edit: impl FnOnce(&mut Vec<Vec<String>>, usize, usize)) -> Vec<String> {
        let original = parse("every-kind.toml", EVERY_KIND.as_bytes());
        let bytes = export_xlsform(&original).unwrap();
        let mut survey = sheet(&bytes, "survey");
        let nm = survey[0].iter().position(|h| h == "name").unwrap();
        let ty = survey[0].iter().position(|h| h == "type").unwrap();
        edit(&mut survey, nm, ty);
        import_xlsform(
            &rewrite(&bytes, &survey),
            "f.xlsx",
            &XlsFormOptions::default(),
        )
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect()
    }

    #[test]
    fn a_misplaced_or_unknown_khaosat_type_names_its_cell() {
        let errors = errors_after(|survey, nm, _| {
            let mark = survey[0].iter().position(|h| h == "khaosat_type").unwrap();
            let row = survey.iter().position(|r| cell(r, nm) == "n").unwrap();
            survey[row][mark] = "long_text".to_owned();
            let row = survey.iter().position(|r| cell(r, nm) == "lt").unwrap();
            survey[row][mark] = "memo".to_owned();
        });
        assert_eq!(
            errors,
            [
                "f.xlsx: survey!M20 (khaosat_type): khaosat_type 'long_text' does not fit this row's type (long_text goes with text, yes_no with select_one, battery with begin_group, instructions with note)",
                "f.xlsx: survey!M29 (khaosat_type): unknown khaosat_type 'memo' (expected one of: long_text, yes_no, battery, instructions, note)",
            ]
        );
    }

    #[test]
    fn a_battery_group_holds_only_select_one_rows_of_one_list() {
        let errors = errors_after(|survey, nm, ty| {
            let row = survey.iter().position(|r| cell(r, nm) == "b_2").unwrap();
            survey[row][ty] = "select_one yes_no".to_owned();
            let row = survey.iter().position(|r| cell(r, nm) == "b_3").unwrap();
            survey[row][ty] = "integer".to_owned();
        });
        assert_eq!(
            errors,
            [
                "f.xlsx: survey!A14 (type): every item of battery 'b' must use the same choice list ('agree4')",
                "f.xlsx: survey!A15 (type): battery 'b' may only hold 'select_one' rows, one per item, until its 'end group'",
            ]
        );
    }

    fn cell(row: &[String], i: usize) -> &str {
        row.get(i).map_or("", String::as_str)
    }

    /// The workbook `bytes` with its survey sheet replaced by `survey`.
    fn rewrite(bytes: &[u8], survey: &[Vec<String>]) -> Vec<u8> {
        let mut wb = Workbook::new();
        for name in ["survey", "choices", "settings"] {
            let rows = if name == "survey" {
                survey.to_vec()
            } else {
                sheet(bytes, name)
            };
            let ws = wb.add_worksheet();
            ws.set_name(name).unwrap();
            for (r, row) in rows.iter().enumerate() {
                for (c, value) in row.iter().enumerate() {
                    if !value.is_empty() {
                        ws.write_string(r as u32, c as u16, value).unwrap();
                    }
                }
            }
        }
        wb.save_to_buffer().unwrap()
    }
}
