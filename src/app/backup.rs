//! `khaosat backup` and `khaosat restore` for the embedded SQLite database. A backup is taken
//! online with `VACUUM INTO`: one read transaction, so it is a consistent snapshot even while
//! the server keeps accepting responses, and the result is a compact, ordinary database file.
//! PostgreSQL has its own tools (`pg_dump`/`pg_restore`, see the README).

use std::path::Path;

use anyhow::{Context, bail};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

use crate::db::DatabaseUrl;

/// What a backup or restore holds, for the operator to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Stored responses.
    pub responses: i64,
    /// Rounds.
    pub rounds: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Check {
    #[diesel(sql_type = diesel::sql_types::Text)]
    integrity_check: String,
}

fn sqlite_path(url: &DatabaseUrl) -> anyhow::Result<&str> {
    match url {
        DatabaseUrl::Sqlite(path) => Ok(path),
        DatabaseUrl::Postgres(_) => bail!(
            "DATABASE_URL is PostgreSQL: back it up with pg_dump -Fc and restore with pg_restore (see the README)"
        ),
    }
}

/// Checks a database file and counts what it holds; fails unless SQLite's integrity check
/// passes and the file has khaosat's tables.
pub fn inspect(path: &Path) -> anyhow::Result<Summary> {
    let location = path.to_string_lossy();
    let mut conn = SqliteConnection::establish(&format!("file:{location}?mode=ro"))
        .with_context(|| format!("{location}: cannot open as a SQLite database"))?;
    let check: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut conn)
        .with_context(|| format!("{location}: not a SQLite database"))?;
    if check.first().map(|c| c.integrity_check.as_str()) != Some("ok") {
        bail!("{location}: the integrity check failed; this file cannot be used");
    }
    let count = |conn: &mut SqliteConnection, table: &str| -> anyhow::Result<i64> {
        let rows: Vec<Count> = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
            .load(conn)
            .with_context(|| format!("{location}: not a khaosat database (no {table} table)"))?;
        Ok(rows.first().map_or(0, |c| c.n))
    };
    Ok(Summary {
        responses: count(&mut conn, "responses")?,
        rounds: count(&mut conn, "rounds")?,
    })
}

/// Writes a consistent copy of the live database to `to` (which must not exist yet) while
/// the server may keep running. A failed backup leaves no file behind, neither at `to` nor a
/// new empty database where the live one was expected.
pub fn backup(url: &DatabaseUrl, to: &Path) -> anyhow::Result<Summary> {
    let from = sqlite_path(url)?;
    if to.exists() {
        bail!("{}: already exists; choose a new file name", to.display());
    }
    if !Path::new(from).is_file() {
        let looked_at = std::path::absolute(from).unwrap_or_else(|_| from.into());
        bail!(
            "no database at {} (from DATABASE_URL); nothing was written. Run the command \
             where the server's database is, or set DATABASE_URL",
            looked_at.display()
        );
    }
    // `mode=rw`: open the existing file only; SQLite would otherwise create an empty one.
    let mut conn = SqliteConnection::establish(&format!("file:{from}?mode=rw"))
        .with_context(|| format!("{from}: cannot open the database"))?;
    conn.batch_execute("PRAGMA busy_timeout = 10000;")?;
    // Written under a temporary name and renamed once checked, so `to` appears only whole.
    let staged = staging_path(to);
    let written = (|| {
        // The target is passed as a bound parameter, so no file name can change the statement.
        diesel::sql_query("VACUUM INTO ?")
            .bind::<diesel::sql_types::Text, _>(staged.to_string_lossy().into_owned())
            .execute(&mut conn)
            .with_context(|| format!("cannot write the backup to {}", to.display()))?;
        let summary = inspect(&staged).with_context(|| format!("{from}: the copy is unusable"))?;
        std::fs::rename(&staged, to)
            .with_context(|| format!("cannot move the backup to {}", to.display()))?;
        Ok(summary)
    })();
    if written.is_err() {
        // Not found is fine: the copy may have failed before the file was created.
        let _ = std::fs::remove_file(&staged);
    }
    written
}

/// `backup.db` → `.backup.db.partial` in the same directory (so the rename stays on one
/// file system).
fn staging_path(to: &Path) -> std::path::PathBuf {
    let name = to
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    to.with_file_name(format!(".{name}.partial"))
}

/// Replaces the database with a backup. Stop the server first: the old file is swapped out
/// underneath it. The backup is checked before anything is touched, and the swap is one
/// rename, so a failure leaves the current database as it was.
pub fn restore(url: &DatabaseUrl, from: &Path) -> anyhow::Result<Summary> {
    let target = Path::new(sqlite_path(url)?);
    let summary = inspect(from)?;
    let staged = target.with_extension("restoring");
    std::fs::copy(from, &staged).with_context(|| {
        format!(
            "cannot copy {} next to {}",
            from.display(),
            target.display()
        )
    })?;
    std::fs::File::open(&staged)?.sync_all()?;
    // The old write-ahead log belongs to the old file; applied to the restored one it would
    // corrupt it.
    for suffix in ["-wal", "-shm"] {
        let side = format!("{}{suffix}", target.display());
        match std::fs::remove_file(&side) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot remove {side}")),
        }
    }
    std::fs::rename(&staged, target)
        .with_context(|| format!("cannot move the restored file to {}", target.display()))?;
    Ok(summary)
}
