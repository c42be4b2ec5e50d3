//! Questionnaire and methodology documents shared by the unit tests, each kept once as a file
//! under `tests/fixtures/unit/` so that no test module carries its own copy as a literal.

use super::instrument::Instrument;

/// The text of `tests/fixtures/unit/$name`, read at compile time.
macro_rules! unit_fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/unit/",
            $name
        ))
    };
}

/// The header of the instrument tests' document (code `demo`, version 2).
pub(crate) const DEMO_HEADER: &str = unit_fixture!("demo-header.toml");

/// The body of the instrument tests' document: two sections, a choice list, a battery and
/// conditions.
pub(crate) const DEMO_BODY: &str = unit_fixture!("demo-body.toml");

/// A leader questionnaire, version 1: three questions q1 to q3.
pub(crate) const LEADER_V1: &str = unit_fixture!("leader-v1.toml");

/// Version 2 of [`LEADER_V1`]: q1 renamed q1n (continues q1), q2 unchanged, q3 turned from
/// yes/no into a 4-level question (same code, answered differently), q4 new.
pub(crate) const LEADER_V2_CONTINUES: &str = unit_fixture!("leader-v2-continues.toml");

/// A leader questionnaire of three batteries: five items, six items and a short one of four.
pub(crate) const LEADER_BATTERIES: &str = unit_fixture!("leader-batteries.toml");

/// A citizen questionnaire with one question of every answer kind, conditions, a constraint
/// and a conditional second section.
pub(crate) const CITIZEN_ANSWERS: &str = unit_fixture!("citizen-answers.toml");

/// A citizen questionnaire as a field export carries it: one section, with a battery.
pub(crate) const CITIZEN_FIELD: &str = unit_fixture!("citizen-field.toml");

/// A PAR-style methodology: two components, a leader group worth 22 points (counted), a
/// civil-servant group (reported only) and a linked SIPAS index of 10 points.
pub(crate) const METHODOLOGY_PAR: &str = unit_fixture!("methodology-par.toml");

/// A SIPAS methodology: part I (elements I.A with two items, I.B with one), part II
/// (element II.A with one item); 5-point scale, "0" = no answer.
pub(crate) const METHODOLOGY_SIPAS: &str = unit_fixture!("methodology-sipas.toml");

/// Parses a test document that is known to be valid; `file_name` only shows in errors.
pub(crate) fn instrument(src: &str, file_name: &str) -> Instrument {
    Instrument::from_toml(src.as_bytes(), file_name).unwrap()
}

/// A fixed instant of the tests' clock, `minutes` after 14 November 2023 22:13:20 UTC (Unix
/// time 1,700,000,000): the rules under test compare instants, so any fixed start will do.
pub(crate) fn minute(minutes: i64) -> chrono::NaiveDateTime {
    chrono::DateTime::from_timestamp(1_700_000_000, 0)
        .expect("a fixed instant in range")
        .naive_utc()
        + chrono::Duration::minutes(minutes)
}
