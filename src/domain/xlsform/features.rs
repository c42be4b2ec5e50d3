//! How XLSForm's question features map onto khaosat's: `appearance` words, the `or_other`
//! shorthand, dynamic defaults, and which extra `choices` columns a `choice_filter` needs.
//! The helpers are pure; the importer's methods at the end apply them to a workbook's rows.

use std::collections::BTreeSet;

use super::Importer;
use super::sheet::{Sheet, SheetRow};
use super::xpath::translate_xpath;
use crate::domain::expr::{Calc, ChoiceFilter, Expr, Literal, is_valid_code};
use crate::domain::instrument::{
    Appearance, At, DraftChoices, DraftList, DraftOption, DraftQuestion, DraftSection,
    InstrumentError, Location, Text,
};
use crate::i18n::Localized;

/// The value of the option `or_other` adds, as pyxform names it.
pub const OTHER_VALUE: &str = "other";

/// What one `appearance` cell means for khaosat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppearanceMeaning {
    /// A layout khaosat draws.
    Layout(Appearance),
    /// `multiline` on a text question: a long text.
    LongText,
    /// Nothing to do: a page is always a field list, and words that only tune ODK Collect's
    /// widgets (`no-calendar`, `quick`, `w2`, ...) change nothing in a web form.
    Nothing,
    /// Needs data khaosat cannot reach (`search()` reads an external file).
    Refused(Localized),
}

/// Reads an `appearance` cell: the first word that means something decides.
pub fn appearance(cell: &str) -> AppearanceMeaning {
    let lower = cell.trim().to_lowercase();
    if lower.contains("search(") || lower.contains("pulldata(") {
        return AppearanceMeaning::Refused(Localized::new("xlsform.appearance_search", &[]));
    }
    for word in lower.split_whitespace() {
        match word {
            "likert" => return AppearanceMeaning::Layout(Appearance::Likert),
            "minimal" | "autocomplete" => return AppearanceMeaning::Layout(Appearance::Minimal),
            w if w == "horizontal"
                || w == "horizontal-compact"
                || w == "compact"
                || w.starts_with("columns")
                || w.starts_with("compact-") =>
            {
                return AppearanceMeaning::Layout(Appearance::Horizontal);
            }
            "multiline" => return AppearanceMeaning::LongText,
            _ => {}
        }
    }
    AppearanceMeaning::Nothing
}

/// A `default` must be a value: ODK's dynamic defaults (`${q}`, `today()`, `once(...)`) are
/// expressions evaluated on a phone, which a web form filled over several sittings cannot
/// reproduce faithfully.
pub fn default_is_dynamic(cell: &str) -> bool {
    cell.contains("${") || cell.contains('(')
}

/// The option `or_other` appends to a question's list: not scored, like pyxform's "Other".
pub fn other_option(at: &Location) -> DraftOption {
    DraftOption {
        value: Some(At::new(OTHER_VALUE.to_owned(), at.clone())),
        label: Some(Text::new("Khác", "Other")),
        valid: false,
        attributes: Default::default(),
    }
}

/// The text question `or_other` adds after `question`, named `{code}_other` as pyxform names
/// it, shown only when "other" is chosen.
pub fn other_question(question: &DraftQuestion) -> Option<DraftQuestion> {
    let code = question.code.as_ref()?;
    let mut other = DraftQuestion::new(question.at.clone());
    other.code = Some(At::new(format!("{}_other", code.value), code.at.clone()));
    other.kind = Some(At::new("text".to_owned(), question.at.clone()));
    other.label = Some(Text::new("Xin ghi rõ", "Specify other"));
    let condition = Expr::Compare {
        code: code.value.clone(),
        op: crate::domain::expr::CmpOp::Eq,
        value: Literal::Text(OTHER_VALUE.to_owned()),
    };
    let condition = match &question.relevant {
        // Shown only when the question itself is, and "other" is chosen.
        Some(r) => Expr::And(vec![r.value.clone(), condition]),
        None => condition,
    };
    other.relevant = Some(At::new(condition, question.at.clone()));
    Some(other)
}

/// Turns a question's list into inline options with "other" appended, so that other
/// questions sharing the list keep it as it is.
pub fn with_other(list: Vec<DraftOption>, at: &Location) -> DraftChoices {
    let mut options = list;
    if !options
        .iter()
        .any(|o| o.value.as_ref().is_some_and(|v| v.value == OTHER_VALUE))
    {
        options.push(other_option(at));
    }
    DraftChoices::Inline(options)
}

/// The extra `choices` columns the form's filters compare: only these are kept with the
/// options (a `choices` sheet often carries columns no filter reads).
pub fn filter_columns<'f>(filters: impl Iterator<Item = &'f ChoiceFilter>) -> BTreeSet<String> {
    filters
        .flat_map(|f| f.columns().into_iter().map(str::to_owned))
        .collect()
}

impl Importer<'_> {
    /// XLSForm names may contain `-`, which khaosat codes cannot (a code is also a name in
    /// conditions): `q-1` becomes `q_1` in its name cell and in every `${q-1}` of the sheet,
    /// unless that name is taken. Warns once.
    pub(super) fn hyphenated_names(&mut self, survey: &mut Sheet) {
        let Some(name_col) = survey.col("name") else {
            return;
        };
        let names: BTreeSet<String> = survey
            .rows
            .iter()
            .filter_map(|r| r.cells.get(name_col).cloned())
            .collect();
        let renamed: Vec<(String, String)> = names
            .iter()
            .filter(|n| n.contains('-'))
            .map(|n| (n.clone(), n.replace('-', "_")))
            .filter(|(_, new)| !names.contains(new) && is_valid_code(new))
            .collect();
        let Some((first_old, first_new)) = renamed.first().cloned() else {
            return;
        };
        for row in &mut survey.rows {
            for (i, cell) in row.cells.iter_mut().enumerate() {
                for (old, new) in &renamed {
                    if i == name_col && cell == old {
                        cell.clone_from(new);
                    } else if cell.contains("${") {
                        *cell = cell.replace(&format!("${{{old}}}"), &format!("${{{new}}}"));
                    }
                }
            }
        }
        self.warn(
            Location::File,
            "xlsform.warn.hyphens",
            &[
                ("old", &first_old),
                ("new", &first_new),
                ("count", &renamed.len().to_string()),
            ],
        );
    }

    /// `${start}`, `${deviceid}` and other metadata in labels and hints would always show
    /// empty, since khaosat does not collect them: they are left out, with one warning each.
    pub(super) fn metadata_placeholders(&mut self, sections: &mut [DraftSection]) {
        let mut warned = BTreeSet::new();
        for q in sections.iter_mut().flat_map(|s| s.questions.iter_mut()) {
            for text in [&mut q.label, &mut q.hint].into_iter().flatten() {
                for name in &self.metadata {
                    let placeholder = format!("${{{name}}}");
                    if text.vi.contains(&placeholder) || text.en.contains(&placeholder) {
                        text.vi = text.vi.replace(&placeholder, "");
                        text.en = text.en.replace(&placeholder, "");
                        if warned.insert(name.clone()) {
                            self.warnings.push(InstrumentError {
                                file: self.file.to_owned(),
                                location: q.at.clone(),
                                message: Localized::new(
                                    "xlsform.warn.metadata_placeholder",
                                    &[("name", name)],
                                ),
                            });
                        }
                    }
                }
            }
        }
    }

    /// The questions written `select_one LIST or_other` get the list with "other" appended,
    /// as their own inline options (other questions sharing the list keep it unchanged).
    pub(super) fn expand_or_other(&self, sections: &mut [DraftSection], lists: &mut [DraftList]) {
        for q in sections.iter_mut().flat_map(|s| s.questions.iter_mut()) {
            let Some(code) = &q.code else { continue };
            if !self.or_other.contains(&code.value) {
                continue;
            }
            if let Some(At {
                value: DraftChoices::List(name),
                at,
            }) = &q.choices
                && let Some(list) = lists.iter().find(|l| &l.name.value == name)
            {
                let at = at.clone();
                q.choices = Some(At::new(with_other(list.options.clone(), &at), at));
            }
        }
    }

    /// The columns of the features khaosat shares with XLSForm: `calculation`,
    /// `required_message`, `default`, `appearance` and `choice_filter`.
    pub(super) fn features(
        &mut self,
        sheet: &Sheet,
        row: &SheetRow,
        q: &mut DraftQuestion,
        kind: &str,
    ) {
        if let Some((src, i)) = sheet.get(row, "calculation") {
            let at = sheet.loc(row, i);
            let parsed = if is_external(src) {
                // Refused as external data already (see `external_data`).
                None
            } else {
                match Calc::parse(src, &|c| translate_xpath(c, false)) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        self.report(
                            at.clone(),
                            Localized::new("instrument.invalid_field", &[("field", "calculation")])
                                .with("detail", e.localized()),
                        );
                        None
                    }
                }
            };
            match parsed {
                Some(c) => q.calculation = Some(At::new(c, at)),
                // Without its formula the row is kept by name only, so that nothing else is
                // reported about it.
                None => q.kind = None,
            }
        }
        // Often written only per language (`required_message::English (en)`).
        if let Some(m) = sheet.text(row, "required_message") {
            q.required_message = Some(At::new(m, sheet.loc_of(row, "required_message")));
        }
        if let Some((value, i)) = sheet.get(row, "default") {
            let at = sheet.loc(row, i);
            if default_is_dynamic(value) {
                self.err(at, "xlsform.dynamic_default", &[("value", value)]);
            } else {
                q.default = Some(At::new(value.to_owned(), at));
            }
        }
        if let Some((value, i)) = sheet.get(row, "appearance") {
            match appearance(value) {
                AppearanceMeaning::Layout(a) if matches!(kind, "single" | "multiple") => {
                    q.appearance = Some(At::new(a.code().to_owned(), sheet.loc(row, i)));
                }
                AppearanceMeaning::LongText if kind == "text" => {
                    q.kind = Some(At::new("long_text".to_owned(), sheet.loc(row, i)));
                }
                // Layout words on other types change nothing in a web form, and `search()`
                // is refused once as external data.
                _ => {}
            }
        }
        if let Some((src, i)) = sheet
            .get(row, "choice_filter")
            .filter(|(src, _)| !is_always_true(src) && !is_external(src))
        {
            let at = sheet.loc(row, i);
            match ChoiceFilter::parse(src) {
                Ok(f) => q.choice_filter = Some(At::new(f, at)),
                Err(e) => self.report(
                    at,
                    Localized::new("instrument.invalid_field", &[("field", "choice_filter")])
                        .with("detail", e.localized()),
                ),
            }
        }
    }
}

/// The conditions of the enclosing groups and a question's own, all of which must hold.
pub(super) fn all_of(
    enclosing: impl Iterator<Item = At<Expr>>,
    own: Option<At<Expr>>,
) -> Option<At<Expr>> {
    let all: Vec<At<Expr>> = enclosing.chain(own).collect();
    let at = all.last()?.at.clone();
    let mut exprs: Vec<Expr> = Vec::new();
    for c in all {
        match c.value {
            Expr::And(parts) => exprs.extend(parts),
            other => exprs.push(other),
        }
    }
    match exprs.len() {
        1 => exprs.pop().map(|e| At::new(e, at)),
        _ => Some(At::new(Expr::And(exprs), at)),
    }
}

/// Whether an expression reads external data (`pulldata()`, `instance()`), which is refused
/// once where it is found.
pub(super) fn is_external(src: &str) -> bool {
    let compact: String = src.chars().filter(|c| !c.is_whitespace()).collect();
    compact.contains("pulldata(") || compact.contains("instance(")
}

/// `true()` as a choice filter keeps every option: no filter at all.
pub(super) fn is_always_true(src: &str) -> bool {
    matches!(src.trim(), "true()" | "1" | "true")
}

/// The extra `choices` columns that the survey's choice filters compare.
pub(super) fn choice_filter_columns(survey: &Sheet) -> BTreeSet<String> {
    let filters: Vec<ChoiceFilter> = survey
        .rows
        .iter()
        .filter_map(|row| survey.get(row, "choice_filter"))
        .filter_map(|(src, _)| ChoiceFilter::parse(src).ok())
        .collect();
    filter_columns(filters.iter())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_words_map_and_phone_only_words_change_nothing() {
        assert_eq!(
            appearance("likert"),
            AppearanceMeaning::Layout(Appearance::Likert)
        );
        assert_eq!(
            appearance("minimal quick"),
            AppearanceMeaning::Layout(Appearance::Minimal)
        );
        assert_eq!(
            appearance("columns-4"),
            AppearanceMeaning::Layout(Appearance::Horizontal)
        );
        assert_eq!(appearance("multiline"), AppearanceMeaning::LongText);
        assert_eq!(appearance("field-list"), AppearanceMeaning::Nothing);
        assert_eq!(appearance("no-calendar"), AppearanceMeaning::Nothing);
        assert!(matches!(
            appearance("search('districts')"),
            AppearanceMeaning::Refused(_)
        ));
    }

    #[test]
    fn or_other_adds_an_unscored_option_and_a_conditional_text_question() {
        let mut q = DraftQuestion::new(Location::File);
        q.code = Some(At::new("job".to_owned(), Location::File));
        let other = other_question(&q).unwrap();
        assert_eq!(other.code.unwrap().value, "job_other");
        assert_eq!(
            other.relevant.unwrap().value.to_string(),
            "job == \"other\""
        );
        let DraftChoices::Inline(options) = with_other(Vec::new(), &Location::File) else {
            panic!("inline options")
        };
        assert!(!options[0].valid);
        assert!(default_is_dynamic("${age}") && default_is_dynamic("today()"));
        assert!(!default_is_dynamic("14"));
    }
}
