//! The states of a message in the mail outbox: queued, leased by a sender, then sent, failed
//! for good, or cancelled (its respondent opted out).

crate::stored_code! {
    /// Where a queued message is; stored as the TEXT of [`OutboxStatus::code`].
    pub enum OutboxStatus ("outbox status") {
        /// Waiting for its next attempt.
        Pending = "pending",
        /// Leased by a sender.
        Sending = "sending",
        /// Delivered to the mail server.
        Sent = "sent",
        /// Given up after its last attempt.
        Failed = "failed",
        /// Withdrawn before sending (the respondent opted out).
        Cancelled = "cancelled",
    }
}
