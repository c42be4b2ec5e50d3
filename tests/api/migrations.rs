//! Migrations apply cleanly from empty, revert cleanly, and the schema enforces its rules.

use diesel::connection::SimpleConnection;
use khaosat::db;

use crate::helpers::TestDb;

fn pool_for(test_db: &TestDb) -> db::DbPool {
    db::build_pool(
        &test_db.database_url(),
        khaosat::app::config::SqliteSync::Normal,
        2,
    )
}

fn assert_migrations_apply_revert_and_apply_again(test_db: &TestDb) {
    let pool = pool_for(test_db);
    let mut conn = pool.get().unwrap();
    let all = db::run_migrations(&mut conn).unwrap();
    assert!(all >= 2, "every migration applies on an empty database");
    assert_eq!(
        db::run_migrations(&mut conn).unwrap(),
        0,
        "a second run applies nothing"
    );
    assert_eq!(db::revert_all_migrations(&mut conn).unwrap(), all);
    assert_eq!(db::run_migrations(&mut conn).unwrap(), all);
}

#[test]
fn migrations_apply_cleanly_on_sqlite_from_empty() {
    assert_migrations_apply_revert_and_apply_again(&TestDb::sqlite());
}

#[test]
fn migrations_apply_cleanly_on_postgresql_from_empty() {
    match crate::helpers::postgres_server_url() {
        Some(server) => assert_migrations_apply_revert_and_apply_again(&TestDb::postgres(&server)),
        None => crate::helpers::skip("PostgreSQL not configured (set KHAOSAT_TEST_POSTGRES)"),
    }
}

#[test]
fn the_three_respondent_groups_are_seeded() {
    let test_db = TestDb::new();
    let pool = pool_for(&test_db);
    let mut conn = pool.get().unwrap();
    db::run_migrations(&mut conn).unwrap();
    use diesel::prelude::*;
    let codes: Vec<String> = db::schema::respondent_groups::table
        .order(db::schema::respondent_groups::sort_order)
        .select(db::schema::respondent_groups::code)
        .load(&mut conn)
        .unwrap();
    assert_eq!(codes, ["leader", "civil_servant", "citizen"]);
}

#[test]
fn the_audit_log_refuses_updates_and_deletes() {
    let test_db = TestDb::new();
    let pool = pool_for(&test_db);
    let mut conn = pool.get().unwrap();
    db::run_migrations(&mut conn).unwrap();
    db::audit::record(
        &mut conn,
        &db::audit::AuditEntry {
            actor: "test",
            action: "test:action",
            entity: "test",
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        conn.batch_execute("UPDATE audit_log SET actor = 'someone else'")
            .is_err()
    );
    assert!(conn.batch_execute("DELETE FROM audit_log").is_err());
    assert_eq!(
        db::audit::count_action(&mut conn, "test:action").unwrap(),
        1
    );
}

#[test]
fn a_failed_write_transaction_leaves_nothing_behind() {
    let test_db = TestDb::new();
    let pool = pool_for(&test_db);
    let mut conn = pool.get().unwrap();
    db::run_migrations(&mut conn).unwrap();
    let result: Result<(), diesel::result::Error> = db::write_transaction(&mut conn, |conn| {
        db::settings::get_or_insert(conn, "probe", "value")?;
        Err(diesel::result::Error::RollbackTransaction)
    });
    assert!(result.is_err());
    assert_eq!(db::settings::get(&mut conn, "probe").unwrap(), None);
    db::write_transaction(&mut conn, |conn| {
        db::settings::get_or_insert(conn, "probe", "value")
    })
    .unwrap();
    assert_eq!(
        db::settings::get(&mut conn, "probe").unwrap().as_deref(),
        Some("value")
    );
}

#[test]
fn sqlite_connections_use_wal_and_enforce_foreign_keys() {
    let test_db = TestDb::new();
    if !matches!(test_db, TestDb::Sqlite { .. }) {
        return; // SQLite-specific pragmas; the PostgreSQL run checks the rest.
    }
    let pool = pool_for(&test_db);
    let mut conn = pool.get().unwrap();
    db::run_migrations(&mut conn).unwrap();
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Mode {
        #[diesel(sql_type = diesel::sql_types::Text)]
        journal_mode: String,
    }
    let mode: Mode = diesel::sql_query("PRAGMA journal_mode")
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(mode.journal_mode, "wal");
    // A session for a user that does not exist violates a foreign key.
    let now = db::now();
    assert!(db::sessions::insert(&mut conn, "hash", 999, now, now).is_err());
}
