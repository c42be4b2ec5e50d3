//! The server's log never holds a password, an access code or a respondent's name or e-mail:
//! a real `khaosat` process is driven through logins (right and wrong), code entry (right and
//! wrong) and a respondent journey, at the most verbose level, and its whole output is searched.

use std::io::Read;
use std::process::{Command, Stdio};

use crate::helpers::{PASSWORD, TestDb, csrf_from, spawn_app_on};

#[tokio::test]
async fn the_log_holds_no_password_code_name_or_email() {
    // The library prepares the data (an account, an open round with codes) on a database that a
    // separate server process then serves with every log line enabled.
    let prepared = spawn_app_on(TestDb::new(), |_| {}).await;
    let (_, codes) = crate::respond::open_round_with_codes(&prepared, 2);
    let hash = khaosat::app::auth::password::hash(PASSWORD).unwrap();
    {
        let mut conn = prepared.pool.get().unwrap();
        khaosat::db::write_transaction(&mut conn, |conn| {
            khaosat::app::accounts::create_user(
                conn,
                &khaosat::domain::account::Email::parse("an.nguyen@sonoivu.gov.vn").unwrap(),
                "Nguyễn Văn An",
                khaosat::domain::account::Role::Admin,
                &hash,
                "test",
                None,
            )
        })
        .unwrap();
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log_file = tempfile::NamedTempFile::new().unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_khaosat"))
        .env("DATABASE_URL", prepared._db.url())
        .env("KHAOSAT_BIND", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "trace")
        .stdout(log_file.reopen().unwrap())
        .stderr(log_file.reopen().unwrap())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for _ in 0..200 {
        if client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let post = |path: &str, fields: Vec<(&'static str, String)>| {
        let client = client.clone();
        let url = format!("{base}{path}");
        let form_page = format!("{base}/admin/login");
        async move {
            let page = client
                .get(form_page)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let mut fields = fields;
            fields.push(("csrf_token", csrf_from(&page)));
            client
                .post(url)
                .form(&fields)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let email = "an.nguyen@sonoivu.gov.vn".to_owned();
    let wrong = "Sai-mat-khau-2025!".to_owned();
    assert_eq!(
        post(
            "/admin/login",
            vec![("email", email.clone()), ("password", wrong.clone())]
        )
        .await,
        401
    );
    assert_eq!(
        post(
            "/admin/login",
            vec![("email", email.clone()), ("password", PASSWORD.to_owned())]
        )
        .await,
        303
    );
    let code = codes[0].as_canonical().to_owned();
    post("/s", vec![("code", "ZZZZ-ZZZZ-ZZ".to_owned())]).await;
    post("/s", vec![("code", code.clone())]).await;
    client.get(format!("{base}/s/{code}")).send().await.unwrap();
    post(&format!("/s/{code}/start"), vec![]).await;
    client
        .get(format!("{base}/s/{code}/p/1"))
        .send()
        .await
        .unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    let mut log = String::new();
    log_file.reopen().unwrap().read_to_string(&mut log).unwrap();
    assert!(
        log.contains("/s/{code}"),
        "requests are logged by route pattern:\n{log}"
    );
    for secret in [
        PASSWORD,
        wrong.as_str(),
        email.as_str(),
        "Nguyễn Văn An",
        code.as_str(),
        codes[1].as_canonical(),
        "p0@sonoivu.gov.vn",
        "Người 0",
    ] {
        assert!(!log.contains(secret), "the log contains {secret:?}");
    }
}
