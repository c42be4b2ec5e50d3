//! `khaosat backup` and `khaosat restore` for the embedded SQLite database. A backup is taken
//! online with `VACUUM INTO`: one read transaction, so it is a consistent snapshot even while
//! the server keeps accepting responses, and the result is a compact, ordinary database file.
//! PostgreSQL has its own tools (`pg_dump`/`pg_restore`, see the README).

use std::path::Path;

use anyhow::bail;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

use crate::db::DatabaseUrl;
use crate::i18n::Message;

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
        DatabaseUrl::Postgres(_) => Err(Message::new("backup.postgres", &[]).into()),
    }
}

/// Checks a database file and counts what it holds; fails unless SQLite's integrity check
/// passes and the file has khaosat's tables.
pub fn inspect(path: &Path) -> Result<Summary, Message> {
    let location = path.to_string_lossy();
    let file = [("file", location.as_ref())];
    let mut conn = SqliteConnection::establish(&format!("file:{location}?mode=ro"))
        .map_err(|e| Message::new("backup.cannot_open_sqlite", &file).because(e))?;
    let check: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut conn)
        .map_err(|e| Message::new("backup.not_sqlite", &file).because(e))?;
    if check.first().map(|c| c.integrity_check.as_str()) != Some("ok") {
        return Err(Message::new("backup.integrity_failed", &file));
    }
    let count = |conn: &mut SqliteConnection, table: &str| -> Result<i64, Message> {
        let rows: Vec<Count> = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
            .load(conn)
            .map_err(|e| {
                Message::new(
                    "backup.not_khaosat",
                    &[("file", location.as_ref()), ("table", table)],
                )
                .because(e)
            })?;
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
    let to_text = to.display().to_string();
    let to_file = [("file", to_text.as_str())];
    if to.exists() {
        bail!(Message::new("backup.exists", &to_file));
    }
    if !Path::new(from).is_file() {
        let looked_at = std::path::absolute(from).unwrap_or_else(|_| from.into());
        bail!(Message::new(
            "backup.no_database",
            &[("path", &looked_at.display().to_string())]
        ));
    }
    let cannot_open = |e: diesel::ConnectionError| {
        Message::new("backup.cannot_open", &[("file", from)]).because(e)
    };
    // `mode=rw`: open the existing file only; SQLite would otherwise create an empty one.
    let mut conn =
        SqliteConnection::establish(&format!("file:{from}?mode=rw")).map_err(cannot_open)?;
    conn.batch_execute("PRAGMA busy_timeout = 10000;")
        .map_err(|e| Message::new("backup.cannot_open", &[("file", from)]).because(e))?;
    // Written under a temporary name and renamed once checked, so `to` appears only whole.
    let staged = staging_path(to);
    let written = (|| {
        // The target is passed as a bound parameter, so no file name can change the statement.
        diesel::sql_query("VACUUM INTO ?")
            .bind::<diesel::sql_types::Text, _>(staged.to_string_lossy().into_owned())
            .execute(&mut conn)
            .map_err(|e| Message::new("backup.cannot_write", &to_file).because(e))?;
        let summary = inspect(&staged)
            .map_err(|e| Message::new("backup.copy_unusable", &[("file", from)]).because(e))?;
        std::fs::rename(&staged, to)
            .map_err(|e| Message::new("backup.cannot_move", &to_file).because(e))?;
        Ok::<_, Message>(summary)
    })();
    if written.is_err() {
        // Not found is fine: the copy may have failed before the file was created.
        let _ = std::fs::remove_file(&staged);
    }
    Ok(written?)
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
    let (from_text, target_text) = (from.display().to_string(), target.display().to_string());
    let cannot_copy = |e: std::io::Error| {
        Message::new(
            "backup.cannot_copy",
            &[("from", &from_text), ("to", &target_text)],
        )
        .because(e)
    };
    std::fs::copy(from, &staged).map_err(cannot_copy)?;
    std::fs::File::open(&staged)
        .and_then(|f| f.sync_all())
        .map_err(cannot_copy)?;
    // The old write-ahead log belongs to the old file; applied to the restored one it would
    // corrupt it.
    for suffix in ["-wal", "-shm"] {
        let side = format!("{}{suffix}", target.display());
        match std::fs::remove_file(&side) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => bail!(Message::new("backup.cannot_remove", &[("file", &side)]).because(e)),
        }
    }
    std::fs::rename(&staged, target).map_err(|e| {
        Message::new("backup.cannot_move_restored", &[("file", &target_text)]).because(e)
    })?;
    Ok(summary)
}
