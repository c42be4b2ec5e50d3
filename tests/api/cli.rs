//! The command line: migrations, account creation from stdin, password reset, config errors,
//! and the language of its messages.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::helpers::{PASSWORD, TestDb, spawn_app_on};

fn khaosat(db: &TestDb, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_khaosat"))
        .args(args)
        .env("DATABASE_URL", db.url())
        .env("KHAOSAT_LANG", "en")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn migrate_applies_the_migrations_once() {
    let db = TestDb::new();
    let first = khaosat(&db, &["migrate"], "");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let applied = String::from_utf8_lossy(&first.stdout).trim().to_owned();
    assert!(
        applied.ends_with(" migration(s) applied") && !applied.starts_with("0 "),
        "{applied}"
    );
    let second = khaosat(&db, &["migrate"], "");
    assert_eq!(
        String::from_utf8_lossy(&second.stdout).trim(),
        "0 migration(s) applied"
    );
}

#[tokio::test]
async fn admin_create_reads_the_password_from_stdin_and_the_account_can_log_in() {
    let db = TestDb::new();
    let out = khaosat(
        &db,
        &[
            "admin",
            "create",
            "--email",
            "Analyst@Sonoivu.gov.vn",
            "--name",
            "Trần Thị Bình",
            "--role",
            "analyst",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("created analyst account analyst@sonoivu.gov.vn")
    );

    let app = spawn_app_on(db, |_| {}).await;
    assert!(
        app.setup_url.is_none(),
        "no setup link once an account exists"
    );
    assert_eq!(
        app.login("analyst@sonoivu.gov.vn", PASSWORD).await.status(),
        303
    );
    assert!(
        app.get_html("/admin")
            .await
            .contains("Chuyên viên phân tích")
    );
}

#[test]
fn admin_create_refuses_a_short_password_and_a_duplicate_email() {
    let db = TestDb::new();
    let short = khaosat(
        &db,
        &[
            "admin", "create", "--email", "a@b.vn", "--name", "A", "--role", "admin",
        ],
        "short\n",
    );
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12 characters"));

    let args = [
        "admin", "create", "--email", "a@b.vn", "--name", "A", "--role", "admin",
    ];
    assert!(
        khaosat(&db, &args, &format!("{PASSWORD}\n"))
            .status
            .success()
    );
    let again = khaosat(&db, &args, &format!("{PASSWORD}\n"));
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

#[test]
fn compute_of_a_round_that_does_not_exist_names_the_round_and_no_internal_key() {
    let db = TestDb::new();
    let migrate = khaosat(&db, &["migrate"], "");
    assert!(migrate.status.success());
    let out = khaosat(&db, &["compute", "99"], "");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim(), "khaosat: round 99: no such round");
    let vi = khaosat(&db, &["--lang", "vi", "compute", "99"], "");
    let stderr = String::from_utf8_lossy(&vi.stderr);
    assert!(
        stderr.contains("99") && !stderr.contains("round."),
        "{stderr}"
    );
}

#[test]
fn admin_create_names_a_bad_role() {
    let db = TestDb::new();
    let out = khaosat(
        &db,
        &[
            "admin", "create", "--email", "a@b.vn", "--name", "A", "--role", "root",
        ],
        "",
    );
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "khaosat: --role: unknown role 'root': use admin, coordinator or analyst"
    );
}

#[tokio::test]
async fn reset_password_changes_the_password() {
    let db = TestDb::new();
    let create = [
        "admin", "create", "--email", "a@b.vn", "--name", "A", "--role", "admin",
    ];
    assert!(
        khaosat(&db, &create, &format!("{PASSWORD}\n"))
            .status
            .success()
    );
    let reset = khaosat(
        &db,
        &["admin", "reset-password", "--email", "a@b.vn"],
        "a brand new passphrase\n",
    );
    assert!(
        reset.status.success(),
        "{}",
        String::from_utf8_lossy(&reset.stderr)
    );
    let missing = khaosat(
        &db,
        &["admin", "reset-password", "--email", "nobody@b.vn"],
        "a brand new passphrase\n",
    );
    assert!(!missing.status.success());

    let app = spawn_app_on(db, |_| {}).await;
    assert_eq!(app.login("a@b.vn", PASSWORD).await.status(), 401);
    assert_eq!(
        app.login("a@b.vn", "a brand new passphrase").await.status(),
        303
    );
}

#[tokio::test]
async fn reset_password_revokes_the_api_tokens_and_says_so() {
    let app = spawn_app_on(TestDb::new(), |_| {}).await;
    app.login_as(
        "analyst@sonoivu.gov.vn",
        khaosat::domain::account::Role::Analyst,
    )
    .await;
    let token = crate::results::make_token(&app, "read").await;
    let api = |token: String| {
        let url = app.url("/api/v1/rounds");
        async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(api(token.clone()).await, 200);
    let reset = khaosat(
        &app._db,
        &[
            "admin",
            "reset-password",
            "--email",
            "analyst@sonoivu.gov.vn",
        ],
        "a brand new passphrase\n",
    );
    assert!(
        reset.status.success(),
        "{}",
        String::from_utf8_lossy(&reset.stderr)
    );
    let stdout = String::from_utf8_lossy(&reset.stdout);
    assert!(stdout.contains("1 API token(s) revoked"), "{stdout}");
    assert_eq!(api(token).await, 401);
}

#[test]
fn a_bad_setting_stops_with_one_line_naming_it() {
    let db = TestDb::new();
    let out = Command::new(env!("CARGO_BIN_EXE_khaosat"))
        .arg("migrate")
        .env("DATABASE_URL", "mysql://localhost/khaosat")
        .output()
        .unwrap();
    drop(db);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
}

#[test]
fn a_bad_setting_is_worded_in_the_operators_language() {
    for (lang, expected) in [
        (
            "vi",
            "khaosat: lỗi cấu hình ở KHAOSAT_DB_POOL_SIZE: 'mười' không phải số nguyên từ 1 đến 1000",
        ),
        (
            "en",
            "khaosat: configuration error in KHAOSAT_DB_POOL_SIZE: 'mười' is not a whole number from 1 to 1000",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_khaosat"))
            .arg("migrate")
            .env("KHAOSAT_LANG", lang)
            .env("DATABASE_URL", "sqlite://unused.db")
            .env("KHAOSAT_DB_POOL_SIZE", "mười")
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim_end(), expected);
    }
}

#[test]
fn instrument_check_accepts_every_bundled_file() {
    let db = TestDb::new();
    for file in [
        "par-leader-2022.toml",
        "par-civil-servant-2022.toml",
        "sipas-2023.toml",
    ] {
        let path = format!("{}/assets/instruments/{file}", env!("CARGO_MANIFEST_DIR"));
        let out = khaosat(&db, &["instrument", "check", &path], "");
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("{file}: ok")));
    }
    for file in ["par-2022.toml", "sipas-2023.toml"] {
        let path = format!("{}/assets/methodologies/{file}", env!("CARGO_MANIFEST_DIR"));
        let out = khaosat(&db, &["methodology", "check", &path], "");
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn methodology_check_names_the_problem_in_the_chosen_language() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.toml");
    let source = include_str!("../../assets/methodologies/par-2022.toml");
    let leader_max = "max_points = 22   # [B] 40 items";
    let line = source
        .lines()
        .position(|l| l.contains(leader_max))
        .expect("the leader group's maximum")
        + 1;
    std::fs::write(
        &path,
        source.replacen(leader_max, "max_points = 21   # [B] 40 items", 1),
    )
    .unwrap();
    let path = path.to_str().unwrap();
    let location = format!("broken.toml:{line}:14: group[leader].max_points: ");

    let vi = khaosat(&db, &["--lang", "vi", "methodology", "check", path], "");
    assert!(!vi.status.success());
    let stderr = String::from_utf8_lossy(&vi.stderr);
    assert!(
        stderr.contains(&format!(
            "{location}điểm tối đa của nhóm đối tượng là 21 nhưng tổng điểm các câu hỏi là 22"
        )),
        "{stderr}"
    );

    let en = khaosat(&db, &["methodology", "check", path], "");
    let stderr = String::from_utf8_lossy(&en.stderr);
    assert!(
        stderr.contains(&format!(
            "{location}group max_points is 21 but its items' points sum to 22"
        )),
        "{stderr}"
    );
}

#[test]
fn instrument_check_fails_with_located_errors() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.toml");
    std::fs::write(
        &path,
        "format = \"khaosat-instrument/1\"\ncode = \"x\"\nversion = 0\n",
    )
    .unwrap();
    let out = khaosat(&db, &["instrument", "check", path.to_str().unwrap()], "");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken.toml:"), "{stderr}");
    assert!(
        stderr.contains("version must be a whole number from 1"),
        "{stderr}"
    );

    let vi = khaosat(
        &db,
        &[
            "--lang",
            "vi",
            "instrument",
            "check",
            path.to_str().unwrap(),
        ],
        "",
    );
    assert!(!vi.status.success());
    let stderr = String::from_utf8_lossy(&vi.stderr);
    assert!(stderr.contains("broken.toml:3:"), "{stderr}");
    assert!(
        stderr.contains("phiên bản phải là số nguyên từ 1 đến"),
        "{stderr}"
    );
    assert!(!stderr.contains("must be"), "{stderr}");
}

#[test]
fn instrument_import_stores_a_new_version_once() {
    let db = TestDb::new();
    let source = include_str!("../../assets/instruments/sipas-2023.toml").replacen(
        "version = 1",
        "version = 7",
        1,
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sipas-v7.toml");
    std::fs::write(&path, source).unwrap();
    let first = khaosat(&db, &["instrument", "import", path.to_str().unwrap()], "");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).contains("imported as id"));
    let second = khaosat(&db, &["instrument", "import", path.to_str().unwrap()], "");
    assert!(String::from_utf8_lossy(&second.stdout).contains("nothing changed"));
}

/// Runs `khaosat [extra] backup backup.db` where there is no database (so it fails), with
/// `env` set on top of a neutral locale, and returns its standard error.
fn backup_without_database(extra: &[&str], env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_khaosat"));
    command
        .args(extra)
        .args(["backup", "backup.db"])
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("KHAOSAT_CONFIG")
        .env_remove("KHAOSAT_LANG")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C.UTF-8")
        .env("RUST_LOG", "warn");
    for (name, value) in env {
        command.env(name, value);
    }
    let out = command.output().unwrap();
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).trim().to_owned()
}

#[test]
fn cli_errors_are_vietnamese_by_default_and_english_when_asked() {
    let vi = backup_without_database(&[], &[]);
    assert!(
        vi.starts_with("khaosat: không có cơ sở dữ liệu tại ") && vi.contains("khaosat.db"),
        "{vi}"
    );
    assert!(vi.contains("chưa ghi tệp nào"), "{vi}");
    let english = [
        backup_without_database(&[], &[("KHAOSAT_LANG", "en")]),
        backup_without_database(&["--lang", "en"], &[("KHAOSAT_LANG", "vi")]),
        backup_without_database(&[], &[("LANG", "en_US.UTF-8")]),
    ];
    for en in english {
        assert!(
            en.starts_with("khaosat: no database at ") && en.contains("nothing was written"),
            "{en}"
        );
    }
    // The flag wins over the variable, which wins over the locale.
    let flag = backup_without_database(&["--lang", "vi"], &[("KHAOSAT_LANG", "en")]);
    assert!(flag.contains("chưa ghi tệp nào"), "{flag}");
    let variable = backup_without_database(&[], &[("KHAOSAT_LANG", "vi"), ("LANG", "en_US.UTF-8")]);
    assert!(variable.contains("chưa ghi tệp nào"), "{variable}");
}

/// A real-world XLSForm of the corpus: no settings sheet, `label:english`, `list name`,
/// `select one from yes_or_no`.
fn corpus_form(name: &str) -> String {
    format!(
        "{}/tests/fixtures/xlsform-corpus/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn instrument_check_reads_a_real_xlsform_without_a_group_and_import_asks_for_one() {
    let db = TestDb::new();
    let form = corpus_form("yes_or_no_question.xlsx");
    let check = khaosat(&db, &["instrument", "check", &form], "");
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(
        stdout.contains(
            "yes_or_no_question.xlsx: ok: yes_or_no_question version 1 (none yet (give --group when importing))"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("warning: yes_or_no_question.xlsx: no form_id in the settings sheet"),
        "{stdout}"
    );
    let refused = khaosat(&db, &["instrument", "import", &form], "");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("yes_or_no_question.xlsx: no respondent group: give one with --group"),
        "{stderr}"
    );
}

#[test]
fn group_code_and_version_flags_choose_what_the_workbook_lacks() {
    let db = TestDb::new();
    let form = corpus_form("yes_or_no_question.xlsx");
    let args = [
        "instrument",
        "import",
        &form,
        "--group",
        "citizen",
        "--code",
        "good-day",
        "--version",
        "4",
    ];
    let first = khaosat(&db, &args, "");
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        stdout.contains("ok: good-day version 4 (citizen), 1 sections, 1 questions"),
        "{stdout}"
    );
    assert!(stdout.contains("imported as id"), "{stdout}");
    // A chosen code leaves nothing to warn about.
    assert!(!stdout.contains("warning:"), "{stdout}");
    let again = khaosat(&db, &args, "");
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing changed"));
    // `check` takes the same flags.
    let check = khaosat(
        &db,
        &[
            "instrument",
            "check",
            &form,
            "--group",
            "leader",
            "--version",
            "2",
        ],
        "",
    );
    assert!(
        String::from_utf8_lossy(&check.stdout).contains("version 2 (leader)"),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn instrument_flags_are_refused_for_a_toml_file_and_checked_by_the_parser() {
    let db = TestDb::new();
    let toml = format!(
        "{}/assets/instruments/sipas-2023.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = khaosat(
        &db,
        &["instrument", "check", &toml, "--group", "citizen"],
        "",
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("sipas-2023.toml: a code, version or group chosen at import applies to XLSForm workbooks only"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let form = corpus_form("yes_or_no_question.xlsx");
    for bad in [
        ["--group", "everyone"],
        ["--version", "0"],
        ["--version", "x"],
    ] {
        let mut args = vec!["instrument", "check", form.as_str()];
        args.extend(bad);
        let out = khaosat(&db, &args, "");
        assert!(!out.status.success(), "{bad:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(bad[0]),
            "{bad:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn an_old_xls_workbook_is_refused_with_advice_on_the_command_line() {
    let db = TestDb::new();
    let form = corpus_form("legacy_yes_or_no_question.xls");
    let out = khaosat(&db, &["instrument", "check", &form], "");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "legacy_yes_or_no_question.xls: this is an old-format Excel workbook (.xls), which khaosat does not read: open it in Excel or LibreOffice Calc and save it as .xlsx"
        ),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
