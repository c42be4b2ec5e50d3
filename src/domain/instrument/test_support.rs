//! Fixtures shared by the instrument tests: one valid document and helpers that parse it.

use super::{Instrument, InstrumentError};

/// The header of the test document.
pub(super) const HEADER: &str = r#"format = "khaosat-instrument/1"
code = "demo"
version = 2
group = "leader"
provenance = "written for tests"
title = { vi = "Thử", en = "Test" }
"#;

/// The body of the test document: two sections, a choice list, a battery and conditions.
pub(super) const BODY: &str = r#"
[choices.agree4]
options = [
  { value = "1", label = { vi = "Rất tốt", en = "Very good" } },
  { value = "2", label = { vi = "Tốt", en = "Good" } },
  { value = "3", label = { vi = "Kém", en = "Poor" } },
  { value = "4", label = { vi = "Rất kém", en = "Very poor" } },
  { value = "dk", label = { vi = "Không biết", en = "Don't know" }, valid = false },
]

[[sections]]
code = "s1"
title = { vi = "Phần 1", en = "Part 1" }

[[sections.questions]]
code = "q1"
type = "single"
choices = "agree4"
label = { vi = "Câu 1", en = "Question 1" }
required = true

[[sections.questions]]
code = "q2"
type = "yes_no"
label = { vi = "Câu 2", en = "Question 2" }

[[sections.questions]]
code = "q3"
type = "integer"
min = 0
max = 50
label = { vi = "Câu 3", en = "Question 3" }
relevant = "q2 == 'yes' and q1 in [1, 2]"

[[sections]]
code = "s2"
title = { vi = "Phần 2", en = "Part 2" }

[[sections.questions]]
code = "b"
type = "battery"
choices = "agree4"
label = { vi = "Nhóm", en = "Battery" }
items = [
  { code = "b_1", label = { vi = "Mục 1", en = "Item 1" } },
  { code = "b_2", label = { vi = "Mục 2", en = "Item 2" } },
]

[[sections.questions]]
code = "note"
type = "long_text"
label = { vi = "Ý kiến", en = "Comments" }
relevant = "b_1 != 'dk'"
"#;

pub(super) fn parse(src: &str) -> Result<Instrument, Vec<InstrumentError>> {
    Instrument::from_toml(src.as_bytes(), "demo.toml")
}

pub(super) fn errors(src: &str) -> Vec<String> {
    match parse(src) {
        Ok(_) => panic!("expected errors"),
        Err(es) => es.iter().map(ToString::to_string).collect(),
    }
}

pub(super) fn valid() -> Instrument {
    parse(&format!("{HEADER}{BODY}")).unwrap()
}

/// The 1-based line of the first occurrence of `needle` in the test document.
pub(super) fn line_of(doc: &str, needle: &str) -> usize {
    let at = doc.find(needle).unwrap();
    doc[..at].matches('\n').count() + 1
}

/// A document using every feature that came with XLSForm: calculate, note, default,
/// appearance, a cascading choice filter, required_message and `${code}` placeholders.
pub(crate) const FEATURES: &str = include_str!("../../../tests/api/fixtures/features.toml");
