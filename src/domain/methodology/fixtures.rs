//! Small hand-checkable methodology files shared by the tests of this module and `scoring`;
//! their text lives in [`crate::domain::test_fixtures`].

/// See [`crate::domain::test_fixtures::METHODOLOGY_PAR`].
pub(crate) const PAR: &str = crate::domain::test_fixtures::METHODOLOGY_PAR;

/// See [`crate::domain::test_fixtures::METHODOLOGY_SIPAS`].
pub(crate) const SIPAS: &str = crate::domain::test_fixtures::METHODOLOGY_SIPAS;
