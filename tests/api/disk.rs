//! A full disk under a SQLite database: submissions get a clear 503 (never a 500 or a
//! half-written response), reading goes on, and once space is freed everything acknowledged is
//! there, the database passes its integrity check and submissions work again. Needs root to
//! mount a small tmpfs (CI runs as root); elsewhere it says so and skips.

use std::process::Command;

use crate::helpers::{TestDb, skip, spawn_app_on};
use crate::respond::{complete_journey, open_round_with_codes};

/// A small tmpfs, unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> Option<Self> {
        let dir = tempfile::tempdir().ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Self { dir })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazy: the server under test may still hold the database open while the test unwinds.
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Fills the disk up to `leave` free bytes with a file; returns its path.
fn fill(dir: &std::path::Path, leave: u64) -> std::path::PathBuf {
    let path = dir.join("filler");
    let stat = Command::new("df")
        .args(["-B1", "--output=avail"])
        .arg(dir)
        .output()
        .unwrap();
    let avail: u64 = String::from_utf8_lossy(&stat.stdout)
        .lines()
        .nth(1)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    std::fs::write(
        &path,
        vec![0u8; usize::try_from(avail.saturating_sub(leave)).unwrap()],
    )
    .ok();
    path
}

#[tokio::test]
async fn a_full_disk_gives_503_and_loses_nothing() {
    if std::env::var("KHAOSAT_TEST_DATABASE_URL").is_ok() {
        return; // SQLite only: PostgreSQL's disk is the server's business.
    }
    let Some(disk) = SmallDisk::mount(24) else {
        skip("mounting a tmpfs needs root (CI runs as root)");
        return;
    };
    let db_dir = tempfile::tempdir_in(disk.dir.path()).unwrap();
    let url = format!("sqlite://{}", db_dir.path().join("khaosat.db").display());
    let app = spawn_app_on(TestDb::Sqlite { _dir: db_dir, url }, |_| {}).await;
    let (round, codes) = open_round_with_codes(&app, 12);
    assert_eq!(
        complete_journey(&app, codes[0].as_canonical())
            .await
            .status(),
        303
    );
    let filler = fill(disk.dir.path(), 0);
    // Drafts and submissions now fail to write: a clear 503, never a 500.
    let mut refused = 0;
    for code in &codes[1..6] {
        let code = code.as_canonical();
        let start = app
            .submit(&format!("/s/{code}"), &format!("/s/{code}/start"), &[])
            .await;
        let status = start.status().as_u16();
        assert!(matches!(status, 303 | 503), "{status}");
        if status == 503 {
            assert!(start.headers().contains_key("retry-after"));
            refused += 1;
        }
    }
    assert!(refused > 0, "the full disk refused writes");
    // Reading still works.
    assert_eq!(app.get("/healthz").await.status(), 200);
    std::fs::remove_file(&filler).unwrap();
    // Space again: everything acknowledged is there, and new submissions are accepted.
    for code in &codes[6..8] {
        assert_eq!(
            complete_journey(&app, code.as_canonical()).await.status(),
            303
        );
    }
    let mut conn = app.pool.get().unwrap();
    use diesel::prelude::*;
    use khaosat::db::schema::responses;
    let stored: i64 = responses::table
        .filter(responses::round_id.eq(round))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(stored, 3, "the three acknowledged responses, and only they");
    #[derive(QueryableByName)]
    struct Check {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let check: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut conn)
        .unwrap();
    assert_eq!(check[0].integrity_check, "ok");
    let live = khaosat::app::scores::live_tallies(&mut conn, round).unwrap();
    let recomputed = khaosat::app::scores::recompute_tallies(&mut conn, round).unwrap();
    assert_eq!(live, recomputed);
}
