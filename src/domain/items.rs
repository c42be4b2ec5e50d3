//! The view of an instrument that scoring needs: which items can be scored and which of their
//! answer values are valid for scoring. Shared by `instrument` (which produces it) and
//! `methodology` (which checks its item map against it).

/// One scorable item: a single-choice question, a yes/no question, or one item of a battery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScorableItem {
    /// The item's stable code, unique within the instrument (for a battery item, the item's own code).
    pub code: String,
    /// The answer values (option codes) the item accepts, in scale order.
    pub options: Vec<ScorableOption>,
}

/// One answer value of a scorable item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScorableOption {
    /// The stored answer value (the option code, e.g. "1" or "dk").
    pub value: String,
    /// False for "don't know" / "no answer": such answers are left out of every mean.
    pub valid_for_scoring: bool,
}
