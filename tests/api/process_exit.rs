//! A test process (or the server) that exits while threads are still talking to PostgreSQL
//! exits cleanly: the connection pools of finished tests retry in the background until the
//! very end, and the C libraries under them must not be torn down beneath those threads.

use std::process::Command;
use std::time::Duration;

use crate::helpers::{postgres_server_url, skip};

/// Set in the child run of [`exiting_while_connections_are_being_opened_does_not_crash`].
const CHILD: &str = "KHAOSAT_TEST_EXIT_CHILD";

/// How many child processes must exit cleanly. The crash this guards against is a race; before
/// the fix about one child in six crashed, so 30 clean exits in a row do not happen by luck
/// (a chance of (5/6)^30, under 0.5 %).
const CHILDREN: usize = 30;

#[test]
fn exiting_while_connections_are_being_opened_does_not_crash() {
    let Some(server) = postgres_server_url() else {
        skip("PostgreSQL server (KHAOSAT_TEST_POSTGRES or KHAOSAT_TEST_DATABASE_URL) not set");
        return;
    };
    if std::env::var_os(CHILD).is_some() {
        return connect_until_the_process_exits(&server);
    }
    let me = std::env::current_exe().unwrap();
    for child in 0..CHILDREN {
        let output = Command::new(&me)
            .args([
                "--exact",
                "process_exit::exiting_while_connections_are_being_opened_does_not_crash",
                "--test-threads=1",
                "--quiet",
            ])
            .env(CHILD, "1")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "child {child} of {CHILDREN} ended with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Starts threads that open connections to a database that does not exist (as the pool of a
/// finished test does once its database is dropped) and returns while they go on, so that the
/// test harness exits in the middle of their work.
fn connect_until_the_process_exits(server: &str) {
    let mut url = url::Url::parse(server).unwrap();
    url.set_path(&format!("khaosat_gone_{}", uuid::Uuid::new_v4().simple()));
    for _ in 0..16 {
        let url = url.to_string();
        std::thread::spawn(move || {
            loop {
                let _ = khaosat::db::connect_postgres(&url);
            }
        });
    }
    std::thread::sleep(Duration::from_millis(300));
}
