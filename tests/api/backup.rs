//! `khaosat backup` taken while respondents keep submitting is a consistent snapshot: it holds
//! every response acknowledged before it began, nothing that was never acknowledged, passes
//! SQLite's integrity check, and `khaosat restore` brings exactly it back.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::helpers::{TestDb, spawn_app};
use crate::respond::{complete_journey, open_round_with_codes};

#[tokio::test]
async fn a_backup_taken_under_load_restores_every_acknowledged_response() {
    let app = Arc::new(spawn_app().await);
    let TestDb::Sqlite { url, .. } = &app._db else {
        // PostgreSQL is backed up with pg_dump; the command says so instead of guessing.
        let url = khaosat::app::config::DatabaseUrl::parse(app._db.url()).unwrap();
        let error = khaosat::app::backup::backup(&url, std::path::Path::new("/tmp/never.db"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("pg_dump"), "{error}");
        return;
    };
    let url = khaosat::app::config::DatabaseUrl::parse(url).unwrap();
    let (_, codes) = open_round_with_codes(&app, 24);
    // One CSRF cookie for the shared jar before the concurrent journeys start.
    app.get_html("/").await;
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for chunk in codes.chunks(6) {
        let app = app.clone();
        let acknowledged = acknowledged.clone();
        let chunk: Vec<String> = chunk.iter().map(|c| c.as_canonical().to_owned()).collect();
        tasks.push(tokio::spawn(async move {
            for code in chunk {
                assert_eq!(complete_journey(&app, &code).await.status(), 303);
                acknowledged.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    // Wait until some responses are in, then back up while the rest keep coming.
    while acknowledged.load(Ordering::SeqCst) < 4 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.db");
    let before = acknowledged.load(Ordering::SeqCst);
    let (backup_url, backup_file) = (url.clone(), file.clone());
    let summary = tokio::task::spawn_blocking(move || {
        khaosat::app::backup::backup(&backup_url, &backup_file).unwrap()
    })
    .await
    .unwrap();
    let after = acknowledged.load(Ordering::SeqCst);
    for t in tasks {
        t.await.unwrap();
    }
    let responses = usize::try_from(summary.responses).unwrap();
    assert!(
        (before..=after.max(before) + 6).contains(&responses),
        "{before} acknowledged before the backup, {after} after, {responses} in it"
    );
    assert!(
        responses < codes.len(),
        "the backup is a snapshot, not the final state"
    );
    // Restoring into another database file brings back exactly the snapshot.
    let restored_path = dir.path().join("restored.db");
    std::fs::write(&restored_path, b"").unwrap();
    let restored_url =
        khaosat::app::config::DatabaseUrl::parse(&format!("sqlite://{}", restored_path.display()))
            .unwrap();
    let restored = khaosat::app::backup::restore(&restored_url, &file).unwrap();
    assert_eq!(restored, summary);
    assert_eq!(
        khaosat::app::backup::inspect(&restored_path).unwrap(),
        summary
    );
    // A corrupt file is refused and leaves the database as it was.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database").unwrap();
    assert!(khaosat::app::backup::restore(&restored_url, &junk).is_err());
    assert_eq!(
        khaosat::app::backup::inspect(&restored_path).unwrap(),
        summary
    );
}
