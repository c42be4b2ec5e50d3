//! Fixtures shared by the instrument tests: one valid document and helpers that parse it.

use super::{Instrument, InstrumentError};

/// The header of the test document ([`crate::domain::test_fixtures::DEMO_HEADER`]).
pub(super) const HEADER: &str = crate::domain::test_fixtures::DEMO_HEADER;

/// The body of the test document ([`crate::domain::test_fixtures::DEMO_BODY`]).
pub(super) const BODY: &str = crate::domain::test_fixtures::DEMO_BODY;

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
