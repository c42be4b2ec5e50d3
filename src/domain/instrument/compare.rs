//! Year-over-year comparability: which answer codes continue which codes of an earlier version.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Continuation, Instrument, Question, QuestionKind};
use crate::i18n::Localized;

/// How one new answer code relates to the earlier version it is compared with.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Comparability {
    /// New code → earlier code, for items that can be compared.
    pub pairs: BTreeMap<String, String>,
    /// New codes that cannot be compared with the earlier version.
    pub not_comparable: Vec<String>,
    /// Why declared continuations do not hold (missing earlier code, different options, ...).
    /// Catalogue messages; they serialise as English.
    pub problems: Vec<Localized>,
}

fn answer_shape(q: &Question) -> (String, Option<Vec<(String, bool)>>) {
    let options = q.options().map(|os| {
        os.into_iter()
            .map(|o| (o.value, o.valid))
            .collect::<Vec<_>>()
    });
    let kind = match &q.kind {
        // A battery item is answered exactly like a single-choice question.
        QuestionKind::Battery { .. } => "single".to_owned(),
        k => k.type_name().to_owned(),
    };
    (kind, options)
}

impl Instrument {
    /// For every answer code: the earlier code it continues, or `None` when it is new (or the
    /// instrument declares no earlier version).
    pub fn continuation_map(&self) -> BTreeMap<String, Option<String>> {
        let resolve = |code: &str, c: &Continuation| match (&self.continues, c) {
            (None, _) | (_, Continuation::New) => None,
            (Some(_), Continuation::Same) => Some(code.to_owned()),
            (Some(_), Continuation::From(old)) => Some(old.clone()),
        };
        let mut out = BTreeMap::new();
        for q in self.questions() {
            match &q.kind {
                QuestionKind::Battery { items, .. } => {
                    for i in items {
                        out.insert(i.code.clone(), resolve(&i.code, &i.continues));
                    }
                }
                _ => {
                    out.insert(q.code.clone(), resolve(&q.code, &q.continues));
                }
            }
        }
        out
    }

    /// Answer codes that are not comparable with the earlier version, in instrument order.
    pub fn not_comparable(&self) -> Vec<String> {
        let map = self.continuation_map();
        self.answer_codes()
            .filter(|c| map.get(*c).is_some_and(Option::is_none))
            .map(str::to_owned)
            .collect()
    }

    /// Checks the declared continuations against the earlier instrument: an item is comparable
    /// when its earlier code exists there and is answered the same way (same type, same option
    /// codes and validity).
    pub fn comparability_with(&self, previous: &Instrument) -> Comparability {
        let mut out = Comparability::default();
        let declared = self
            .continues
            .as_ref()
            .is_some_and(|c| c.instrument == previous.code && c.version == previous.version);
        if !declared {
            out.problems.push(Localized::new(
                "instrument.compare.not_declared",
                &[
                    ("code", &self.code),
                    ("version", &self.version.to_string()),
                    ("earlier", &previous.code),
                    ("earlier_version", &previous.version.to_string()),
                ],
            ));
            out.not_comparable = self.answer_codes().map(str::to_owned).collect();
            return out;
        }
        let map = self.continuation_map();
        for code in self.answer_codes() {
            let Some(Some(old)) = map.get(code) else {
                out.not_comparable.push(code.to_owned());
                continue;
            };
            let new_shape = self.locate(code).map(|(q, _)| answer_shape(q));
            let old_shape = previous.locate(old).map(|(q, _)| answer_shape(q));
            match (new_shape, old_shape) {
                (Some(a), Some(b)) if a == b => {
                    out.pairs.insert(code.to_owned(), old.clone());
                }
                (_, None) => {
                    out.problems.push(Localized::new(
                        "instrument.compare.missing_earlier",
                        &[
                            ("code", code),
                            ("old", old),
                            ("earlier", &previous.code),
                            ("earlier_version", &previous.version.to_string()),
                        ],
                    ));
                    out.not_comparable.push(code.to_owned());
                }
                _ => {
                    out.problems.push(Localized::new(
                        "instrument.compare.answered_differently",
                        &[("code", code), ("old", old)],
                    ));
                    out.not_comparable.push(code.to_owned());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::instrument::test_support::*;

    #[test]
    fn continuation_map_and_comparability_follow_the_declarations() {
        let old = valid();
        let header = format!(
            "{}continues = {{ instrument = \"demo\", version = 2 }}\n",
            HEADER.replace("version = 2", "version = 3")
        );
        let body = BODY
            .replace("code = \"q1\"", "code = \"q1n\"\ncontinues = \"q1\"")
            .replace("code = \"q3\"", "code = \"q3\"\ncontinues = false")
            .replace("{ code = \"b_2\", label = { vi = \"Mục 2\", en = \"Item 2\" } }", "{ code = \"b_2\", label = { vi = \"Mục 2\", en = \"Item 2\" } },\n  { code = \"b_3\", label = { vi = \"Mục 3\", en = \"Item 3\" }, continues = false }")
            .replace("q1 in [1, 2]", "q1n in [1, 2]");
        let new = parse(&format!("{header}{body}")).unwrap();
        let map = new.continuation_map();
        assert_eq!(map["q1n"], Some("q1".to_owned()));
        assert_eq!(map["q3"], None);
        assert_eq!(map["b_1"], Some("b_1".to_owned()));
        assert_eq!(map["b_3"], None);
        assert_eq!(new.not_comparable(), ["q3", "b_3"]);
        let c = new.comparability_with(&old);
        assert_eq!(c.not_comparable, ["q3", "b_3"]);
        assert_eq!(c.pairs.len(), 5);
        assert!(c.problems.is_empty());
        assert!(
            old.not_comparable().len() == 6,
            "a first version compares with nothing"
        );
        let back = old.comparability_with(&new);
        let problems: Vec<String> = back.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            problems,
            ["demo version 2 does not declare that it continues demo version 3"]
        );
        assert_eq!(
            back.problems[0].text(crate::i18n::Lang::Vi),
            "demo phiên bản 2 không khai báo là tiếp nối demo phiên bản 3"
        );
    }
}
