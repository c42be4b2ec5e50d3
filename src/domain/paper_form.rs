//! The states of one keying of a paper form: double entry compares two keyings before the
//! response counts.

crate::stored_code! {
    /// Where a keying of a paper form is; stored as the TEXT of [`PaperEntryStatus::code`].
    pub enum PaperEntryStatus ("paper entry status") {
        /// Keyed once, waiting for the second keying.
        Pending = "pending",
        /// Two keyings disagree; someone must look at the paper.
        Mismatch = "mismatch",
        /// The form counts as a response.
        Accepted = "accepted",
    }
}
