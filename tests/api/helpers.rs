//! Test harness: starts the real application on port 0 with an isolated database (a temp
//! SQLite file, or a fresh PostgreSQL database when `KHAOSAT_TEST_DATABASE_URL` is set) and
//! gives tests an HTTP client with a cookie jar.

use std::sync::Arc;

use diesel::connection::SimpleConnection;
use khaosat::app::config::{DatabaseUrl, Settings};
use khaosat::server::startup::Application;
use reqwest::cookie::{CookieStore, Jar};

/// Password used for every test account.
pub const PASSWORD: &str = "correct horse battery staple";

/// The PostgreSQL server that the whole suite runs against, if configured.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var("KHAOSAT_TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty())
}

/// A PostgreSQL server for tests that need PostgreSQL whatever the suite's backend:
/// `KHAOSAT_TEST_POSTGRES`, else `KHAOSAT_TEST_DATABASE_URL`.
pub fn postgres_server_url() -> Option<String> {
    std::env::var("KHAOSAT_TEST_POSTGRES")
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(postgres_admin_url)
}

/// Skips a test that needs something this machine may lack (PostgreSQL, Chromium). CI sets
/// `KHAOSAT_TEST_REQUIRE_ALL=1`, which turns the skip into a failure.
pub fn skip(reason: &str) {
    if std::env::var("KHAOSAT_TEST_REQUIRE_ALL").is_ok_and(|v| v == "1") {
        panic!("required test prerequisite missing: {reason}");
    }
    eprintln!("skipped: {reason}");
}

/// An isolated database that disappears with the test.
pub enum TestDb {
    /// A SQLite file in a temporary directory.
    Sqlite {
        /// Removed (with the file) on drop.
        _dir: tempfile::TempDir,
        /// `sqlite://...`.
        url: String,
    },
    /// A database created for this test on the PostgreSQL server.
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
}

impl TestDb {
    /// A fresh, empty database on the backend under test.
    pub fn new() -> Self {
        match postgres_admin_url() {
            Some(admin_url) => Self::postgres(&admin_url),
            None => Self::sqlite(),
        }
    }

    /// A fresh SQLite file.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("khaosat.db").display());
        TestDb::Sqlite { _dir: dir, url }
    }

    /// A fresh database on the PostgreSQL server at `admin_url`.
    pub fn postgres(admin_url: &str) -> Self {
        let name = format!("khaosat_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = khaosat::db::connect_postgres(admin_url)
            .unwrap_or_else(|e| panic!("PostgreSQL test server {admin_url} unreachable: {e}"));
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let mut url = url::Url::parse(admin_url).unwrap();
        url.set_path(&name);
        TestDb::Postgres {
            admin_url: admin_url.to_owned(),
            name,
            url: url.to_string(),
        }
    }

    /// The `DATABASE_URL` of this database.
    pub fn url(&self) -> &str {
        match self {
            TestDb::Sqlite { url, .. } => url,
            TestDb::Postgres { url, .. } => url,
        }
    }

    /// Parsed form of [`TestDb::url`].
    pub fn database_url(&self) -> DatabaseUrl {
        DatabaseUrl::parse(self.url()).unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres {
            admin_url, name, ..
        } = self
            && let Ok(mut conn) = khaosat::db::connect_postgres(admin_url)
        {
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// A running application and a client for it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// Client with a cookie jar; redirects are not followed so tests can assert them.
    pub client: reqwest::Client,
    /// The jar behind `client`.
    pub jar: Arc<Jar>,
    /// The one-time setup link printed at start.
    pub setup_url: Option<String>,
    /// The application's pool, for direct assertions on the database.
    pub pool: khaosat::db::DbPool,
    /// The database (dropped with the app).
    pub _db: TestDb,
}

/// Starts the application on a fresh database with default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the application on a fresh database after `configure` adjusts the settings.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_on(TestDb::new(), configure).await
}

/// Starts the application on an existing test database.
pub async fn spawn_app_on(db: TestDb, configure: impl FnOnce(&mut Settings)) -> TestApp {
    khaosat::server::telemetry::init_for_tests();
    let mut settings = Settings::for_database(db.database_url());
    settings.bind = "127.0.0.1:0".parse().unwrap();
    settings.base_url = url::Url::parse("http://127.0.0.1:0").unwrap();
    settings.workers = 2;
    configure(&mut settings);
    let app = Application::build(settings)
        .await
        .expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let setup_url = app.setup_url().map(str::to_owned);
    let pool = app.pool();
    tokio::spawn(app.run_until_stopped());
    let jar = Arc::new(Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        // Idle connections are dropped well before the server's 5 s keep-alive, so a request
        // never races the server closing the connection it is sent on.
        .pool_idle_timeout(std::time::Duration::from_secs(1))
        .build()
        .unwrap();
    TestApp {
        address,
        client,
        jar,
        setup_url,
        pool,
        _db: db,
    }
}

/// The value of the hidden CSRF field in an HTML page.
pub fn csrf_from(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("page has a CSRF field") + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

impl TestApp {
    /// An absolute URL for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// GET `path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// GET `path` and return its body, asserting 200.
    pub async fn get_html(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.text().await.unwrap()
    }

    /// POST a form to `path` as is (no token added).
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Loads `page` for its CSRF token, then POSTs `form` plus the token to `action`.
    pub async fn submit(
        &self,
        page: &str,
        action: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let token = csrf_from(&self.get_html(page).await);
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        fields.push(("csrf_token", &token));
        self.post_form(action, &fields).await
    }

    /// Uses the setup link to create the first administrator (who is then logged in).
    pub async fn create_first_admin(&self, email: &str) -> reqwest::Response {
        let link = self
            .setup_url
            .clone()
            .expect("a setup link on a fresh database");
        let path = link.trim_start_matches(&self.address).to_owned();
        self.submit(
            &path,
            &path,
            &[
                ("name", "Nguyễn Văn An"),
                ("email", email),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await
    }

    /// Logs in through the form.
    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.submit(
            "/admin/login",
            "/admin/login",
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// Creates an account with `role` directly in the database and logs this client in as it.
    pub async fn login_as(&self, email: &str, role: khaosat::domain::account::Role) {
        let hash = khaosat::app::auth::password::hash(PASSWORD).unwrap();
        let email_parsed = khaosat::domain::account::Email::parse(email).unwrap();
        let mut conn = self.pool.get().unwrap();
        khaosat::db::write_transaction(&mut conn, |conn| {
            khaosat::app::accounts::create_user(
                conn,
                &email_parsed,
                "Test",
                role,
                &hash,
                "test",
                None,
            )
        })
        .unwrap();
        let response = self.login(email, PASSWORD).await;
        assert_eq!(response.status(), 303, "login as {email}");
    }

    /// Uploads `bytes` as the `file` field of a multipart form, with the CSRF token of `page`.
    pub async fn upload(
        &self,
        page: &str,
        action: &str,
        file_name: &str,
        bytes: Vec<u8>,
    ) -> reqwest::Response {
        let token = csrf_from(&self.get_html(page).await);
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", token)
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned()),
            );
        self.client
            .post(self.url(action))
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// The `Cookie` header the jar would send to this app.
    pub fn cookies(&self) -> String {
        self.jar
            .cookies(&self.address.parse().unwrap())
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }
}

/// Every `Set-Cookie` header of a response.
pub fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}
