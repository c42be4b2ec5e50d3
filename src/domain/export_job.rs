//! The states of a background export job: queued by a user, run by a worker, then done or failed.

crate::stored_code! {
    /// Where an export job is; stored as the TEXT of [`ExportJobStatus::code`].
    pub enum ExportJobStatus ("export job status") {
        /// Waiting for a worker.
        Queued = "queued",
        /// A worker is writing the file.
        Running = "running",
        /// The file is ready for download.
        Done = "done",
        /// It stopped; the job says why.
        Failed = "failed",
    }
}
