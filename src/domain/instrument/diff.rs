//! Structured differences between two instruments, field by field.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{ChoiceOption, Continuation, Instrument, Question, QuestionKind, Text};
/// What happened to a diffed element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DiffKind {
    /// Only in the newer instrument.
    Added,
    /// Only in the older instrument.
    Removed,
    /// In both, with a different field.
    Changed,
}

/// The element a diff entry is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum DiffTarget {
    /// The instrument header.
    Instrument,
    /// A section, by code.
    Section(String),
    /// A question, by code.
    Question(String),
    /// A battery item, by code.
    Item(String),
}

/// One difference between two instruments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffEntry {
    /// Added, removed or changed.
    pub kind: DiffKind,
    /// What it is about.
    pub target: DiffTarget,
    /// The changed field (`label.vi`, `options`, `relevant`, ...) for [`DiffKind::Changed`].
    pub field: Option<String>,
    /// The older value.
    pub before: Option<String>,
    /// The newer value.
    pub after: Option<String>,
}

type Facets = Vec<(&'static str, String)>;

fn text_facets(out: &mut Facets, vi: &'static str, en: &'static str, t: Option<&Text>) {
    out.push((vi, t.map(|t| t.vi.clone()).unwrap_or_default()));
    out.push((en, t.map(|t| t.en.clone()).unwrap_or_default()));
}

fn options_facet(options: &[ChoiceOption]) -> String {
    options
        .iter()
        .map(|o| {
            format!(
                "{}: {} / {}{}",
                o.value,
                o.label.vi,
                o.label.en,
                if o.valid { "" } else { " (not valid)" }
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn cont_facet(c: &Continuation) -> String {
    match c {
        Continuation::Same => "same code".to_owned(),
        Continuation::From(old) => old.clone(),
        Continuation::New => "new".to_owned(),
    }
}

fn question_facets(section: &str, q: &Question) -> Facets {
    let mut f: Facets = vec![
        ("section", section.to_owned()),
        ("type", q.kind.type_name().to_owned()),
    ];
    text_facets(&mut f, "label.vi", "label.en", Some(&q.label));
    text_facets(&mut f, "hint.vi", "hint.en", q.hint.as_ref());
    f.push(("required", q.required.to_string()));
    f.push((
        "relevant",
        q.relevant
            .as_ref()
            .map(|r| r.to_string())
            .unwrap_or_default(),
    ));
    f.push((
        "constraint",
        q.constraint
            .as_ref()
            .map(|c| c.expr.to_string())
            .unwrap_or_default(),
    ));
    f.push((
        "options",
        q.kind
            .choices()
            .map(|c| options_facet(&c.options))
            .unwrap_or_default(),
    ));
    let (min, max, max_length, scored) = match &q.kind {
        QuestionKind::Integer { min, max } => (
            min.map(|m| m.to_string()),
            max.map(|m| m.to_string()),
            None,
            None,
        ),
        QuestionKind::Decimal { min, max } => (
            min.map(|m| m.to_string()),
            max.map(|m| m.to_string()),
            None,
            None,
        ),
        QuestionKind::Text { max_length } | QuestionKind::LongText { max_length } => {
            (None, None, Some(max_length.to_string()), None)
        }
        QuestionKind::Single { scored, .. }
        | QuestionKind::Battery { scored, .. }
        | QuestionKind::YesNo { scored } => (None, None, None, Some(scored.to_string())),
        _ => (None, None, None, None),
    };
    f.push(("min", min.unwrap_or_default()));
    f.push(("max", max.unwrap_or_default()));
    f.push(("max_length", max_length.unwrap_or_default()));
    f.push(("scored", scored.unwrap_or_default()));
    f.push(("continues", cont_facet(&q.continues)));
    f
}

fn compare_facets(out: &mut Vec<DiffEntry>, target: &DiffTarget, a: &Facets, b: &Facets) {
    for ((name, before), (_, after)) in a.iter().zip(b.iter()) {
        if before != after {
            out.push(DiffEntry {
                kind: DiffKind::Changed,
                target: target.clone(),
                field: Some((*name).to_owned()),
                before: Some(before.clone()),
                after: Some(after.clone()),
            });
        }
    }
}

fn keyed_diff(
    out: &mut Vec<DiffEntry>,
    old: &[(String, Facets)],
    new: &[(String, Facets)],
    target: fn(String) -> DiffTarget,
) {
    let old_map: BTreeMap<&str, &Facets> = old.iter().map(|(k, f)| (k.as_str(), f)).collect();
    let new_keys: BTreeSet<&str> = new.iter().map(|(k, _)| k.as_str()).collect();
    for (key, facets) in old {
        if !new_keys.contains(key.as_str()) {
            out.push(DiffEntry {
                kind: DiffKind::Removed,
                target: target(key.clone()),
                field: None,
                before: facets
                    .iter()
                    .find(|(n, _)| *n == "label.vi" || *n == "title.vi")
                    .map(|(_, v)| v.clone()),
                after: None,
            });
        }
    }
    for (key, facets) in new {
        match old_map.get(key.as_str()) {
            None => out.push(DiffEntry {
                kind: DiffKind::Added,
                target: target(key.clone()),
                field: None,
                before: None,
                after: facets
                    .iter()
                    .find(|(n, _)| *n == "label.vi" || *n == "title.vi")
                    .map(|(_, v)| v.clone()),
            }),
            Some(old_facets) => compare_facets(out, &target(key.clone()), old_facets, facets),
        }
    }
}

/// The differences from `a` (older) to `b` (newer): header fields, sections, questions and
/// battery items matched by code, each changed field listed with its before/after value.
pub fn diff(a: &Instrument, b: &Instrument) -> Vec<DiffEntry> {
    let mut out = Vec::new();
    let header = |i: &Instrument| -> Facets {
        let mut f: Facets = vec![
            ("code", i.code.clone()),
            ("version", i.version.to_string()),
            ("group", i.group.code().to_owned()),
            ("provenance", i.provenance.clone()),
        ];
        text_facets(&mut f, "title.vi", "title.en", Some(&i.title));
        text_facets(
            &mut f,
            "instructions.vi",
            "instructions.en",
            i.instructions.as_ref(),
        );
        f.push((
            "continues",
            i.continues
                .as_ref()
                .map(|c| format!("{} version {}", c.instrument, c.version))
                .unwrap_or_default(),
        ));
        f
    };
    compare_facets(&mut out, &DiffTarget::Instrument, &header(a), &header(b));

    let sections = |i: &Instrument| -> Vec<(String, Facets)> {
        i.sections
            .iter()
            .map(|s| {
                let mut f = Facets::new();
                text_facets(&mut f, "title.vi", "title.en", Some(&s.title));
                text_facets(&mut f, "intro.vi", "intro.en", s.intro.as_ref());
                f.push((
                    "relevant",
                    s.relevant
                        .as_ref()
                        .map(|r| r.to_string())
                        .unwrap_or_default(),
                ));
                (s.code.clone(), f)
            })
            .collect()
    };
    keyed_diff(&mut out, &sections(a), &sections(b), DiffTarget::Section);

    let questions = |i: &Instrument| -> Vec<(String, Facets)> {
        i.sections
            .iter()
            .flat_map(|s| {
                s.questions
                    .iter()
                    .map(|q| (q.code.clone(), question_facets(&s.code, q)))
            })
            .collect()
    };
    keyed_diff(&mut out, &questions(a), &questions(b), DiffTarget::Question);

    let items = |i: &Instrument| -> Vec<(String, Facets)> {
        i.questions()
            .filter_map(|q| match &q.kind {
                QuestionKind::Battery { items, .. } => Some(items.iter().map(|it| {
                    let mut f: Facets = vec![("battery", q.code.clone())];
                    text_facets(&mut f, "label.vi", "label.en", Some(&it.label));
                    f.push(("continues", cont_facet(&it.continues)));
                    (it.code.clone(), f)
                })),
                _ => None,
            })
            .flatten()
            .collect()
    };
    keyed_diff(&mut out, &items(a), &items(b), DiffTarget::Item);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::instrument::test_support::*;

    #[test]
    fn diff_lists_added_removed_and_changed_fields() {
        let a = valid();
        let body = BODY
            .replace("Câu 1", "Câu một")
            .replace("required = true", "")
            .replace(
                "{ code = \"b_2\", label = { vi = \"Mục 2\", en = \"Item 2\" } },",
                "{ code = \"b_3\", label = { vi = \"Mục 3\", en = \"Item 3\" } },",
            );
        let b = parse(&format!("{HEADER}{body}")).unwrap();
        let d = diff(&a, &b);
        let summary: Vec<String> = d
            .iter()
            .map(|e| format!("{:?} {:?} {:?}", e.kind, e.target, e.field))
            .collect();
        assert_eq!(
            summary,
            [
                "Changed Question(\"q1\") Some(\"label.vi\")",
                "Changed Question(\"q1\") Some(\"required\")",
                "Removed Item(\"b_2\") None",
                "Added Item(\"b_3\") None",
            ]
        );
        assert_eq!(d[0].before.as_deref(), Some("Câu 1"));
        assert_eq!(d[0].after.as_deref(), Some("Câu một"));
        assert!(diff(&a, &a).is_empty());
    }
}
