//! Group commit on SQLite: the respondents' writes (a draft started or saved, a submission)
//! are handed to one writer thread, which writes as many as are waiting in one transaction and
//! answers each only after that transaction has committed.
//!
//! Why: SQLite takes one writer at a time. With a transaction per request, every write pays
//! for the lock handover, `BEGIN IMMEDIATE` and its own commit, and a blocking thread that
//! holds the lock is descheduled by the other threads on the same cores while the rest wait
//! (BENCHMARKS.md, scenario 2: 35 % of the persistence ceiling). One thread that writes back to
//! back holds the lock only while it works, and a burst of writes shares one commit.
//!
//! What stays true:
//! - **Acknowledged means stored.** A reply is sent only after the commit that holds the write
//!   has returned; a crash before it loses only writes nobody was told about.
//! - **Each write is its own.** A write sees the writes queued before it (a duplicate
//!   submission finds the first one's receipt). A write that fails ends its batch: the batch
//!   is rolled back and each of its writes is written again alone, in a transaction of its
//!   own, so that each gets its own answer and no failure of one reaches another.
//! - **Nothing changes on PostgreSQL**, whose writers do not exclude each other: there
//!   [`AppState::write`](crate::app::state::AppState::write) runs the write on the pool.

use std::sync::mpsc;

use tokio::sync::oneshot;

use crate::db::{self, AnyConnection, DbPool};
use crate::error::{AppError, AppResult};

/// The most writes one transaction takes, so that the writer lock is never held for long
/// (a write of a respondent takes a fraction of a millisecond).
pub const MAX_BATCH: usize = 64;

/// A write waiting for the writer thread, with the way back to the request that sent it.
trait QueuedWrite: Send {
    /// Runs the write inside the batch's transaction; false when it failed.
    fn run(&mut self, conn: &mut AnyConnection) -> bool;
    /// Sends the outcome kept by [`QueuedWrite::run`]: called after the batch has committed.
    fn answer(self: Box<Self>);
    /// Runs the write in a transaction of its own and sends that outcome: the batch it was in
    /// did not commit.
    fn run_alone(self: Box<Self>, pool: &DbPool);
    /// Sends `error`: the database took no write of the batch.
    fn refuse(self: Box<Self>, error: AppError);
}

/// One write and its reply channel.
struct Pending<T, F> {
    work: F,
    outcome: Option<AppResult<T>>,
    reply: oneshot::Sender<AppResult<T>>,
}

impl<T, F> QueuedWrite for Pending<T, F>
where
    T: Send,
    F: FnMut(&mut AnyConnection) -> AppResult<T> + Send,
{
    fn run(&mut self, conn: &mut AnyConnection) -> bool {
        // No savepoint of its own: a failed write rolls the whole batch back, and each write
        // is then written alone, so what a failed write left behind is never committed.
        let outcome = (self.work)(conn);
        let ok = outcome.is_ok();
        self.outcome = Some(outcome);
        ok
    }

    fn answer(self: Box<Self>) {
        let outcome = self.outcome.unwrap_or_else(|| {
            Err(AppError::internal(anyhow::anyhow!(
                "a queued write was answered before it ran"
            )))
        });
        // The request may have gone (the client hung up); its write stands all the same.
        let _ = self.reply.send(outcome);
    }

    fn run_alone(self: Box<Self>, pool: &DbPool) {
        let Pending {
            mut work, reply, ..
        } = *self;
        let outcome = pool
            .get()
            .map_err(AppError::from)
            .and_then(|mut conn| db::write_transaction(&mut conn, &mut work));
        let _ = reply.send(outcome);
    }

    fn refuse(self: Box<Self>, error: AppError) {
        let _ = self.reply.send(Err(error));
    }
}

/// The queue of one server's writer thread. Dropping it ends the thread once the writes
/// already queued are answered.
#[derive(Debug)]
pub struct GroupCommit {
    queue: mpsc::Sender<Box<dyn QueuedWrite>>,
}

impl GroupCommit {
    /// Starts the writer thread on `pool`.
    pub fn start(pool: DbPool) -> std::io::Result<Self> {
        let (queue, waiting) = mpsc::channel::<Box<dyn QueuedWrite>>();
        std::thread::Builder::new()
            .name("khaosat-writer".into())
            .spawn(move || {
                while let Ok(first) = waiting.recv() {
                    let mut batch = vec![first];
                    batch.extend(waiting.try_iter().take(MAX_BATCH - 1));
                    // A write that panics must not stop every later write of the server: the
                    // requests of its batch get an error (their reply channels are dropped),
                    // the pool discards the connection left in a transaction, and the thread
                    // goes on with the next batch.
                    let written = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        write_batch(&pool, batch);
                    }));
                    if written.is_err() {
                        tracing::error!("a batch of writes panicked; its requests got an error");
                    }
                }
            })?;
        Ok(Self { queue })
    }

    /// Queues `work` and waits until it is stored (or failed). `work` may run twice, the second
    /// time alone after its batch was rolled back, so it must be a whole write that reads what
    /// it needs inside (as every respondent write is: idempotent by its key or an overwrite).
    pub async fn write<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnMut(&mut AnyConnection) -> AppResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Box::new(Pending {
                work,
                outcome: None,
                reply,
            }))
            .map_err(|_| AppError::internal(anyhow::anyhow!("the writer thread has stopped")))?;
        answer.await.map_err(|_| {
            AppError::internal(anyhow::anyhow!(
                "the writer thread stopped before answering"
            ))
        })?
    }
}

/// Writes `batch` in one transaction and answers each write after the commit. If a write
/// fails, writes each again alone. If the database takes no writes now (locked by another
/// process past the busy timeout, read-only, full, gone), every write gets that answer at
/// once: written alone, each would only wait out the same busy timeout in turn.
fn write_batch(pool: &DbPool, mut batch: Vec<Box<dyn QueuedWrite>>) {
    let committed = pool.get().map_err(AppError::from).and_then(|mut conn| {
        db::write_transaction(&mut conn, |conn| {
            for write in &mut batch {
                if !write.run(conn) {
                    return Err(AppError::internal(anyhow::anyhow!(
                        "a write of the batch failed"
                    )));
                }
            }
            Ok(())
        })
    });
    match committed {
        Ok(()) => batch.into_iter().for_each(|write| write.answer()),
        Err(AppError::Unavailable(cause)) => {
            let cause = crate::error::cause_chain(cause.as_ref());
            for write in batch {
                write.refuse(AppError::Unavailable(anyhow::anyhow!("{cause}")));
            }
        }
        Err(error) => {
            if batch.len() > 1 {
                tracing::debug!(
                    error = %crate::error::cause_chain(&error),
                    writes = batch.len(),
                    "a batch of writes was rolled back; writing each alone"
                );
            }
            batch.into_iter().for_each(|write| write.run_alone(pool));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{GroupCommit, Pending, QueuedWrite, write_batch};
    use crate::db::{self, AnyConnection, DatabaseUrl, DbPool, SqliteSync};
    use crate::error::{AppError, AppResult};
    use diesel::RunQueryDsl;
    use diesel::sql_types::BigInt;

    /// The SQLite connection inside: these tests run plain SQL on a scratch table.
    fn sqlite(conn: &mut AnyConnection) -> &mut diesel::SqliteConnection {
        match conn {
            AnyConnection::Sqlite(sqlite) => sqlite,
            AnyConnection::Postgresql(_) => unreachable!("the scratch pool is SQLite"),
        }
    }

    fn scratch_pool(dir: &tempfile::TempDir) -> DbPool {
        let path = dir.path().join("writes.db");
        let url = DatabaseUrl::parse(&format!("sqlite://{}", path.display())).expect("url");
        let pool = db::build_pool(&url, SqliteSync::Normal, 4);
        let mut conn = pool.get().expect("connection");
        diesel::sql_query("CREATE TABLE written (n BIGINT PRIMARY KEY)")
            .execute(sqlite(&mut conn))
            .expect("table");
        pool
    }

    fn insert(conn: &mut AnyConnection, n: i64) -> AppResult<i64> {
        diesel::sql_query("INSERT INTO written (n) VALUES (?)")
            .bind::<BigInt, _>(n)
            .execute(sqlite(conn))?;
        Ok(n)
    }

    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    fn stored(pool: &DbPool) -> Vec<i64> {
        let mut conn = pool.get().expect("connection");
        diesel::sql_query("SELECT n FROM written ORDER BY n")
            .load::<Row>(sqlite(&mut conn))
            .expect("rows")
            .into_iter()
            .map(|r| r.n)
            .collect()
    }

    fn queued(
        n: i64,
        fail_after_insert: bool,
    ) -> (
        Box<dyn QueuedWrite>,
        tokio::sync::oneshot::Receiver<AppResult<i64>>,
    ) {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let mut first_try = true;
        let work = move |conn: &mut AnyConnection| {
            insert(conn, n)?;
            if fail_after_insert && std::mem::take(&mut first_try) {
                return Err(AppError::internal(anyhow::anyhow!("failed on purpose")));
            }
            Ok(n)
        };
        let pending = Pending {
            work,
            outcome: None,
            reply,
        };
        (Box::new(pending), answer)
    }

    #[test]
    fn a_batch_commits_every_write_and_answers_each_with_its_own_outcome() {
        let dir = tempfile::tempdir().expect("dir");
        let pool = scratch_pool(&dir);
        let (writes, answers): (Vec<_>, Vec<_>) = (1..=5).map(|n| queued(n, false)).unzip();
        write_batch(&pool, writes);
        let got: Vec<i64> = answers
            .into_iter()
            .map(|a| a.blocking_recv().expect("answered").expect("stored"))
            .collect();
        assert_eq!(got, vec![1, 2, 3, 4, 5]);
        assert_eq!(stored(&pool), vec![1, 2, 3, 4, 5]);
    }

    #[test]
    fn a_write_that_fails_once_leaves_the_others_of_its_batch_stored_and_is_written_alone() {
        let dir = tempfile::tempdir().expect("dir");
        let pool = scratch_pool(&dir);
        let (a, a_answer) = queued(1, false);
        let (b, b_answer) = queued(2, true);
        let (c, c_answer) = queued(3, false);
        write_batch(&pool, vec![a, b, c]);
        assert_eq!(a_answer.blocking_recv().expect("answered").expect("a"), 1);
        // The failing write's first run was undone; written alone it succeeds.
        assert_eq!(b_answer.blocking_recv().expect("answered").expect("b"), 2);
        assert_eq!(c_answer.blocking_recv().expect("answered").expect("c"), 3);
        assert_eq!(stored(&pool), vec![1, 2, 3]);
    }

    #[test]
    fn a_write_that_always_fails_gets_its_error_and_stores_nothing() {
        let dir = tempfile::tempdir().expect("dir");
        let pool = scratch_pool(&dir);
        let (a, a_answer) = queued(1, false);
        // 1 again: the primary key refuses it, in the batch and alone.
        let (b, b_answer) = queued(1, false);
        write_batch(&pool, vec![a, b]);
        assert_eq!(a_answer.blocking_recv().expect("answered").expect("a"), 1);
        assert!(b_answer.blocking_recv().expect("answered").is_err());
        assert_eq!(stored(&pool), vec![1]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_that_panics_gets_an_error_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().expect("dir");
        let pool = scratch_pool(&dir);
        let writer = GroupCommit::start(pool.clone()).expect("thread");
        let panicked = writer
            .write(|_: &mut AnyConnection| -> AppResult<i64> { panic!("a bug in a write") })
            .await;
        assert!(panicked.is_err());
        assert_eq!(
            writer.write(|conn| insert(conn, 7)).await.expect("stored"),
            7
        );
        assert_eq!(stored(&pool), vec![7]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_through_the_queue_are_all_stored_and_acknowledged() {
        let dir = tempfile::tempdir().expect("dir");
        let pool = scratch_pool(&dir);
        let writer = std::sync::Arc::new(GroupCommit::start(pool.clone()).expect("thread"));
        let tasks: Vec<_> = (1..=200)
            .map(|n| {
                let writer = writer.clone();
                tokio::spawn(async move { writer.write(move |conn| insert(conn, n)).await })
            })
            .collect();
        let mut acknowledged = Vec::new();
        for task in tasks {
            acknowledged.push(task.await.expect("task").expect("stored"));
        }
        acknowledged.sort_unstable();
        assert_eq!(acknowledged, (1..=200).collect::<Vec<_>>());
        assert_eq!(stored(&pool), acknowledged);
    }
}
