//! How XLSForm's question features map onto khaosat's: `appearance` words, the `or_other`
//! shorthand, dynamic defaults, and which extra `choices` columns a `choice_filter` needs.
//! Pure helpers, called by the importer for each row.

use std::collections::BTreeSet;

use crate::domain::expr::{ChoiceFilter, Expr, Literal};
use crate::domain::instrument::{
    Appearance, At, DraftChoices, DraftOption, DraftQuestion, Location, Text,
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
