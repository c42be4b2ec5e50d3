//! Settings from the environment and an optional `khaosat.toml`, validated once at start so
//! that a bad value stops the server with one line naming the setting.

use std::net::SocketAddr;
use std::path::Path;

use serde::Deserialize;

pub use crate::db::{DatabaseUrl, DatabaseUrlError, SqliteSync};
use crate::domain::local_time::{DEFAULT_ZONE, TimeZone};
use crate::i18n::{Lang, Localized};

/// More proxies than this in front of one application is a misconfiguration.
const MAX_TRUSTED_PROXIES: usize = 10;

/// A metrics token shorter than this could be guessed.
const MIN_METRICS_TOKEN_LEN: usize = 16;

/// Validated settings for every part of the application.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The database to use.
    pub database_url: DatabaseUrl,
    /// Address to listen on.
    pub bind: SocketAddr,
    /// Public base URL used in links (setup link, invitations); no trailing slash.
    pub base_url: url::Url,
    /// Secret for CSRF tokens and other MACs; generated and kept in the database when unset.
    pub secret_key: Option<String>,
    /// SMTP transport URL (e.g. `smtp://127.0.0.1:2525`), if mail is configured.
    pub smtp_url: Option<String>,
    /// The From address of outgoing mail.
    pub smtp_from: Option<String>,
    /// The Reply-To address of outgoing mail, when replies should reach someone else.
    pub smtp_reply_to: Option<String>,
    /// Who respondents can contact, shown at the end of every message (a name, address or
    /// telephone number).
    pub smtp_contact: Option<String>,
    /// Whether to apply pending migrations when the server starts.
    pub migrate_on_start: bool,
    /// SQLite durability level.
    pub sqlite_sync: SqliteSync,
    /// Maximum pooled database connections.
    pub db_pool_size: u32,
    /// Whether requests come through reverse proxies of the operator's own, whose
    /// `X-Forwarded-For` entries then decide client addresses.
    pub trust_proxy: bool,
    /// How many such proxies append to `X-Forwarded-For` (counted from the right); only used
    /// when `trust_proxy` is on.
    pub trusted_proxies: usize,
    /// Bearer token `/metrics` requires; without one, `/metrics` answers loopback clients only.
    pub metrics_token: Option<String>,
    /// Worker threads for the HTTP server (0 = one per core).
    pub workers: usize,
    /// Requests worked on at once before others wait or are refused with 503 (admission
    /// control, see `app::admission`); 0 turns the limit off.
    pub max_in_flight: usize,
    /// How long a request may wait for its turn before it is refused with 503.
    pub queue_wait: std::time::Duration,
    /// Whether respondents' writes on SQLite go through one writer thread that commits them
    /// in groups (`app::group_commit`); off, each request writes in its own transaction.
    pub group_commit: bool,
    /// How long a mail sender holds a claimed message before another sender may take it over
    /// (after a crash).
    pub mail_lease_seconds: i64,
    /// Where finished export files are kept until downloaded (several instances: a shared
    /// directory).
    pub export_dir: std::path::PathBuf,
    /// API requests one bearer token may make per minute on one instance.
    pub api_rate_per_minute: u32,
    /// The zone administrators enter and read times in (storage stays UTC).
    pub time_zone: TimeZone,
}

/// The optional `khaosat.toml`; every key mirrors an environment variable.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    database_url: Option<String>,
    bind: Option<String>,
    base_url: Option<String>,
    secret_key: Option<String>,
    smtp_url: Option<String>,
    smtp_from: Option<String>,
    smtp_reply_to: Option<String>,
    smtp_contact: Option<String>,
    migrate_on_start: Option<bool>,
    sqlite_synchronous: Option<String>,
    db_pool_size: Option<u32>,
    trust_proxy: Option<bool>,
    trusted_proxies: Option<usize>,
    metrics_token: Option<String>,
    workers: Option<usize>,
    max_in_flight: Option<usize>,
    queue_wait_ms: Option<u64>,
    group_commit: Option<bool>,
    mail_lease_seconds: Option<i64>,
    export_dir: Option<String>,
    api_rate_per_minute: Option<u32>,
    time_zone: Option<String>,
}

/// The most HTTP worker threads accepted: far beyond any core count, so a typo (an extra
/// digit) is caught rather than spawning threads by the thousand.
const MAX_WORKERS: usize = 1024;

/// The largest `KHAOSAT_API_RATE_PER_MINUTE` accepted (a bound that only catches typos).
const MAX_API_RATE_PER_MINUTE: u32 = 1_000_000;

/// The largest `KHAOSAT_MAX_IN_FLIGHT` accepted.
const MAX_IN_FLIGHT_LIMIT: usize = 100_000;

/// How long a request waits for its turn by default: long enough to ride out a burst, short
/// enough that an accepted request still answers well within a quarter of a second.
const DEFAULT_QUEUE_WAIT_MS: u64 = 100;

/// Requests worked on at once by default: two per pooled connection, so that while one
/// request holds a connection another is parsing or rendering on a core. Measured in
/// BENCHMARKS.md (the overload scenario).
fn default_max_in_flight(db_pool_size: u32) -> usize {
    2 * db_pool_size as usize
}

/// Exports live beside a SQLite file (`khaosat.db.exports/`); with PostgreSQL in
/// `khaosat-exports/` under the working directory.
fn default_export_dir(database_url: &DatabaseUrl) -> std::path::PathBuf {
    match database_url {
        DatabaseUrl::Sqlite(path) => std::path::PathBuf::from(format!("{path}.exports")),
        DatabaseUrl::Postgres(_) => std::path::PathBuf::from("khaosat-exports"),
    }
}

/// A setting that failed validation; displays as one line naming it (in English; the CLI
/// prints [`ConfigError::text`] in the operator's language).
#[derive(Debug)]
pub struct ConfigError {
    /// The environment variable (or file key) at fault.
    pub setting: String,
    /// Why the value is not accepted, from the catalogues.
    pub message: Localized,
}

impl ConfigError {
    /// The whole line, `configuration error in SETTING: why`, in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        Localized::new("config.error", &[("setting", &self.setting)])
            .with("message", self.message.clone())
            .text(lang)
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text(Lang::En))
    }
}

impl std::error::Error for ConfigError {}

/// The error of `setting`: the catalogue message `key` with its parameters.
fn config_error(setting: &str, key: &'static str, args: &[(&'static str, &str)]) -> ConfigError {
    ConfigError {
        setting: setting.to_owned(),
        message: Localized::new(key, args),
    }
}

/// `raw` as a whole number within `range`, or the error of `setting` that says so.
fn whole_number_in<T>(
    setting: &str,
    raw: &str,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
{
    raw.parse()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            config_error(
                setting,
                "config.not_in_range",
                &[
                    ("value", raw),
                    ("min", &range.start().to_string()),
                    ("max", &range.end().to_string()),
                ],
            )
        })
}

/// `raw` as true or false, or the error of `setting` that says so.
fn boolean(setting: &str, raw: &str) -> Result<bool, ConfigError> {
    parse_bool(raw).ok_or_else(|| config_error(setting, "config.not_bool", &[("value", raw)]))
}

impl Settings {
    /// Reads `khaosat.toml` (or the file `KHAOSAT_CONFIG` names) and the environment; the
    /// environment wins.
    pub fn load() -> Result<Self, ConfigError> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let file = match env("KHAOSAT_CONFIG") {
            Some(path) => read_file(Path::new(&path), "KHAOSAT_CONFIG")?,
            None if Path::new("khaosat.toml").exists() => {
                read_file(Path::new("khaosat.toml"), "khaosat.toml")?
            }
            None => FileSettings::default(),
        };
        Self::from_sources(&env, file)
    }

    /// Builds settings from a variable lookup (the environment in production, a map in tests)
    /// layered over file settings.
    fn from_sources(
        env: &dyn Fn(&str) -> Option<String>,
        file: FileSettings,
    ) -> Result<Self, ConfigError> {
        let database_url = env("DATABASE_URL")
            .or(file.database_url)
            .unwrap_or_else(|| "sqlite://khaosat.db".to_owned());
        let database_url = DatabaseUrl::parse(&database_url).map_err(|e| match e {
            DatabaseUrlError::NoFile => {
                config_error("DATABASE_URL", "config.database_url_no_file", &[])
            }
            DatabaseUrlError::UnknownScheme(scheme) => config_error(
                "DATABASE_URL",
                "config.database_url_scheme",
                &[("scheme", &scheme)],
            ),
        })?;

        let bind = env("KHAOSAT_BIND")
            .or(file.bind)
            .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let bind: SocketAddr = bind
            .parse()
            .map_err(|_| config_error("KHAOSAT_BIND", "config.not_address", &[("value", &bind)]))?;

        let base_url = env("KHAOSAT_BASE_URL")
            .or(file.base_url)
            .unwrap_or_else(|| format!("http://{bind}"));
        let base_url = url::Url::parse(base_url.trim_end_matches('/'))
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| {
                config_error(
                    "KHAOSAT_BASE_URL",
                    "config.not_base_url",
                    &[("value", &base_url)],
                )
            })?;

        let secret_key = env("KHAOSAT_SECRET_KEY").or(file.secret_key);
        if let Some(key) = &secret_key
            && key.len() < 32
        {
            return Err(config_error(
                "KHAOSAT_SECRET_KEY",
                "config.secret_short",
                &[],
            ));
        }

        let smtp_url = env("SMTP_URL").or(file.smtp_url);
        if let Some(smtp) = &smtp_url {
            let parsed = url::Url::parse(smtp)
                .map_err(|_| config_error("SMTP_URL", "config.not_smtp_url", &[]))?;
            if !matches!(parsed.scheme(), "smtp" | "smtps") {
                return Err(config_error("SMTP_URL", "config.smtp_scheme", &[]));
            }
        }
        let smtp_from = env("SMTP_FROM").or(file.smtp_from);
        if let Some(from) = &smtp_from
            && !from.contains('@')
        {
            return Err(config_error(
                "SMTP_FROM",
                "config.not_email",
                &[("value", from)],
            ));
        }

        let smtp_reply_to = env("SMTP_REPLY_TO").or(file.smtp_reply_to);
        if let Some(reply_to) = &smtp_reply_to
            && !reply_to.contains('@')
        {
            return Err(config_error(
                "SMTP_REPLY_TO",
                "config.not_email",
                &[("value", reply_to)],
            ));
        }
        let smtp_contact = env("SMTP_CONTACT").or(file.smtp_contact);

        let migrate_on_start = match env("KHAOSAT_MIGRATE_ON_START") {
            Some(v) => boolean("KHAOSAT_MIGRATE_ON_START", &v)?,
            None => file.migrate_on_start.unwrap_or(true),
        };

        let sync = env("KHAOSAT_SQLITE_SYNCHRONOUS")
            .or(file.sqlite_synchronous)
            .unwrap_or_else(|| "normal".to_owned());
        let sqlite_sync = match sync.to_ascii_lowercase().as_str() {
            "normal" => SqliteSync::Normal,
            "full" => SqliteSync::Full,
            other => {
                return Err(config_error(
                    "KHAOSAT_SQLITE_SYNCHRONOUS",
                    "config.not_sync",
                    &[("value", other)],
                ));
            }
        };

        let db_pool_size = match env("KHAOSAT_DB_POOL_SIZE") {
            Some(v) => whole_number_in("KHAOSAT_DB_POOL_SIZE", &v, 1..=1000)?,
            None => file.db_pool_size.unwrap_or(10),
        };

        let trust_proxy = match env("KHAOSAT_TRUST_PROXY") {
            Some(v) => boolean("KHAOSAT_TRUST_PROXY", &v)?,
            None => file.trust_proxy.unwrap_or(false),
        };

        let trusted_proxies = whole_number_in(
            "KHAOSAT_TRUSTED_PROXIES",
            &env("KHAOSAT_TRUSTED_PROXIES")
                .unwrap_or_else(|| file.trusted_proxies.unwrap_or(1).to_string()),
            1..=MAX_TRUSTED_PROXIES,
        )?;

        let metrics_token = env("KHAOSAT_METRICS_TOKEN").or(file.metrics_token);
        if let Some(token) = &metrics_token
            && token.len() < MIN_METRICS_TOKEN_LEN
        {
            return Err(config_error(
                "KHAOSAT_METRICS_TOKEN",
                "config.token_short",
                &[("min", &MIN_METRICS_TOKEN_LEN.to_string())],
            ));
        }

        let workers = match env("KHAOSAT_WORKERS") {
            Some(v) => whole_number_in("KHAOSAT_WORKERS", &v, 0..=MAX_WORKERS)?,
            None => file.workers.unwrap_or(0),
        };

        let max_in_flight = match env("KHAOSAT_MAX_IN_FLIGHT") {
            Some(v) => whole_number_in("KHAOSAT_MAX_IN_FLIGHT", &v, 0..=MAX_IN_FLIGHT_LIMIT)?,
            None => file
                .max_in_flight
                .unwrap_or_else(|| default_max_in_flight(db_pool_size)),
        };

        let queue_wait_ms = match env("KHAOSAT_QUEUE_WAIT_MS") {
            Some(v) => whole_number_in("KHAOSAT_QUEUE_WAIT_MS", &v, 1..=60_000)?,
            None => file.queue_wait_ms.unwrap_or(DEFAULT_QUEUE_WAIT_MS),
        };

        let group_commit = match env("KHAOSAT_GROUP_COMMIT") {
            Some(v) => boolean("KHAOSAT_GROUP_COMMIT", &v)?,
            None => file.group_commit.unwrap_or(true),
        };

        let mail_lease_seconds = match env("KHAOSAT_MAIL_LEASE_SECONDS") {
            Some(v) => whole_number_in("KHAOSAT_MAIL_LEASE_SECONDS", &v, 1..=86_400)?,
            None => file.mail_lease_seconds.unwrap_or(120),
        };

        // Beside the SQLite file by default, so each database (and each test) has its own.
        let export_dir = env("KHAOSAT_EXPORT_DIR").or(file.export_dir).map_or_else(
            || default_export_dir(&database_url),
            std::path::PathBuf::from,
        );

        let api_rate_per_minute = match env("KHAOSAT_API_RATE_PER_MINUTE") {
            Some(v) => whole_number_in(
                "KHAOSAT_API_RATE_PER_MINUTE",
                &v,
                1..=MAX_API_RATE_PER_MINUTE,
            )?,
            None => file.api_rate_per_minute.unwrap_or(600),
        };

        let zone_name = env("KHAOSAT_TIME_ZONE")
            .or(file.time_zone)
            .unwrap_or_else(|| DEFAULT_ZONE.to_owned());
        let time_zone = TimeZone::parse(&zone_name).ok_or_else(|| {
            config_error(
                "KHAOSAT_TIME_ZONE",
                "config.not_time_zone",
                &[("value", &zone_name), ("example", DEFAULT_ZONE)],
            )
        })?;

        Ok(Self {
            time_zone,
            api_rate_per_minute,
            export_dir,
            mail_lease_seconds,
            database_url,
            bind,
            base_url,
            secret_key,
            smtp_url,
            smtp_from,
            smtp_reply_to,
            smtp_contact,
            migrate_on_start,
            sqlite_sync,
            db_pool_size,
            trust_proxy,
            trusted_proxies,
            metrics_token,
            workers,
            max_in_flight,
            queue_wait: std::time::Duration::from_millis(queue_wait_ms),
            group_commit,
        })
    }

    /// Settings for tests and tools: defaults, with the given database.
    pub fn for_database(database_url: DatabaseUrl) -> Self {
        let mut settings = Self::from_sources(&|_| None, FileSettings::default())
            .unwrap_or_else(|_| unreachable!("the defaults are valid"));
        settings.export_dir = default_export_dir(&database_url);
        settings.database_url = database_url;
        settings
    }

    /// How many `X-Forwarded-For` entries, counted from the right, were written by the
    /// operator's proxies: `0` when the header is not to be trusted at all.
    pub fn proxy_hops(&self) -> usize {
        if self.trust_proxy {
            self.trusted_proxies
        } else {
            0
        }
    }

    /// True when links and cookies are served over HTTPS.
    pub fn is_https(&self) -> bool {
        self.base_url.scheme() == "https"
    }

    /// The base URL as a string without a trailing slash, for building links.
    pub fn base(&self) -> String {
        self.base_url.as_str().trim_end_matches('/').to_owned()
    }
}

fn read_file(path: &Path, setting: &str) -> Result<FileSettings, ConfigError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        config_error(
            setting,
            "config.file_unreadable",
            &[("file", &file), ("error", &e.to_string())],
        )
    })?;
    toml::from_str(&text).map_err(|e| {
        config_error(
            setting,
            "config.file_invalid",
            &[("file", &file), ("error", &e.message().replace('\n', " "))],
        )
    })
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings_from(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_sources(&|k| map.get(k).cloned(), FileSettings::default())
    }

    #[test]
    fn defaults_are_sqlite_on_localhost_8080() {
        let s = settings_from(&[]).unwrap();
        assert_eq!(s.database_url, DatabaseUrl::Sqlite("khaosat.db".into()));
        assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(s.base(), "http://127.0.0.1:8080");
        assert!(s.migrate_on_start);
    }

    #[test]
    fn an_unknown_database_scheme_names_the_setting() {
        let err = settings_from(&[("DATABASE_URL", "mysql://x/y")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "configuration error in DATABASE_URL: unknown database scheme 'mysql': \
             use sqlite://FILE or postgres://USER@HOST/DB"
        );
    }

    #[test]
    fn postgres_urls_select_postgres_and_hide_passwords() {
        let s = settings_from(&[("DATABASE_URL", "postgres://u:secret@db/khaosat")]).unwrap();
        assert_eq!(s.database_url.backend(), crate::db::Backend::Postgres);
        assert!(!s.database_url.redacted().contains("secret"));
    }

    #[test]
    fn admission_control_follows_the_pool_unless_set_and_refuses_nonsense() {
        let s = settings_from(&[("KHAOSAT_DB_POOL_SIZE", "12")]).unwrap();
        assert_eq!(s.max_in_flight, 24);
        assert_eq!(s.queue_wait, std::time::Duration::from_millis(100));
        let s = settings_from(&[
            ("KHAOSAT_MAX_IN_FLIGHT", "0"),
            ("KHAOSAT_QUEUE_WAIT_MS", "250"),
        ])
        .unwrap();
        assert_eq!(s.max_in_flight, 0);
        assert_eq!(s.queue_wait, std::time::Duration::from_millis(250));
        for (setting, value) in [
            ("KHAOSAT_MAX_IN_FLIGHT", "many"),
            ("KHAOSAT_MAX_IN_FLIGHT", "-1"),
            ("KHAOSAT_QUEUE_WAIT_MS", "0"),
            ("KHAOSAT_QUEUE_WAIT_MS", "1s"),
        ] {
            let err = settings_from(&[(setting, value)]).unwrap_err();
            assert_eq!(err.setting, setting, "{value}");
            assert!(err.to_string().contains(value), "{err}");
        }
    }

    #[test]
    fn a_refused_setting_is_worded_in_the_operators_language() {
        let err = settings_from(&[("KHAOSAT_WORKERS", "nhiều")]).unwrap_err();
        assert_eq!(
            err.text(Lang::Vi),
            "lỗi cấu hình ở KHAOSAT_WORKERS: 'nhiều' không phải số nguyên từ 0 đến 1024"
        );
        assert_eq!(
            err.to_string(),
            "configuration error in KHAOSAT_WORKERS: 'nhiều' is not a whole number from 0 to 1024"
        );
        let err = settings_from(&[("KHAOSAT_TRUST_PROXY", "có")]).unwrap_err();
        assert_eq!(
            err.text(Lang::Vi),
            "lỗi cấu hình ở KHAOSAT_TRUST_PROXY: 'có' không phải true hoặc false"
        );
    }

    #[test]
    fn a_bad_bind_address_names_the_setting() {
        let err = settings_from(&[("KHAOSAT_BIND", "localhost")]).unwrap_err();
        assert_eq!(err.setting, "KHAOSAT_BIND");
    }

    #[test]
    fn a_short_secret_key_is_refused() {
        let err = settings_from(&[("KHAOSAT_SECRET_KEY", "short")]).unwrap_err();
        assert_eq!(err.setting, "KHAOSAT_SECRET_KEY");
    }

    #[test]
    fn bad_booleans_and_sync_levels_are_refused() {
        let err = settings_from(&[("KHAOSAT_MIGRATE_ON_START", "maybe")]).unwrap_err();
        assert_eq!(err.setting, "KHAOSAT_MIGRATE_ON_START");
        let err = settings_from(&[("KHAOSAT_SQLITE_SYNCHRONOUS", "off")]).unwrap_err();
        assert_eq!(err.setting, "KHAOSAT_SQLITE_SYNCHRONOUS");
        let s = settings_from(&[("KHAOSAT_SQLITE_SYNCHRONOUS", "FULL")]).unwrap();
        assert_eq!(s.sqlite_sync, SqliteSync::Full);
    }

    #[test]
    fn a_non_smtp_url_is_refused() {
        let err = settings_from(&[("SMTP_URL", "http://mail")]).unwrap_err();
        assert_eq!(err.setting, "SMTP_URL");
    }

    #[test]
    fn https_base_url_marks_the_deployment_as_https() {
        let s = settings_from(&[("KHAOSAT_BASE_URL", "https://khaosat.example.vn/")]).unwrap();
        assert!(s.is_https());
        assert_eq!(s.base(), "https://khaosat.example.vn");
    }

    #[test]
    fn forwarded_hops_count_only_when_the_proxy_is_trusted() {
        let s = settings_from(&[]).unwrap();
        assert_eq!((s.trusted_proxies, s.proxy_hops()), (1, 0));
        let s = settings_from(&[("KHAOSAT_TRUST_PROXY", "true")]).unwrap();
        assert_eq!(s.proxy_hops(), 1);
        let s = settings_from(&[
            ("KHAOSAT_TRUST_PROXY", "true"),
            ("KHAOSAT_TRUSTED_PROXIES", "2"),
        ])
        .unwrap();
        assert_eq!(s.proxy_hops(), 2);
        for bad in ["0", "-1", "many", "11"] {
            let err = settings_from(&[("KHAOSAT_TRUSTED_PROXIES", bad)]).unwrap_err();
            assert_eq!(err.setting, "KHAOSAT_TRUSTED_PROXIES");
        }
    }

    #[test]
    fn a_short_metrics_token_is_refused() {
        let err = settings_from(&[("KHAOSAT_METRICS_TOKEN", "short")]).unwrap_err();
        assert_eq!(err.setting, "KHAOSAT_METRICS_TOKEN");
        let s = settings_from(&[("KHAOSAT_METRICS_TOKEN", "a-long-enough-scrape-token")]).unwrap();
        assert_eq!(
            s.metrics_token.as_deref(),
            Some("a-long-enough-scrape-token")
        );
        assert_eq!(settings_from(&[]).unwrap().metrics_token, None);
    }

    #[test]
    fn times_are_in_vietnam_unless_another_zone_is_named() {
        let s = settings_from(&[]).unwrap();
        assert_eq!(s.time_zone.name(), "Asia/Ho_Chi_Minh");
        let s = settings_from(&[("KHAOSAT_TIME_ZONE", "UTC")]).unwrap();
        assert_eq!(s.time_zone.name(), "UTC");
        let err = settings_from(&[("KHAOSAT_TIME_ZONE", "Giờ Hà Nội")]).unwrap_err();
        assert_eq!(err.setting, "KHAOSAT_TIME_ZONE");
        assert!(err.to_string().contains("Asia/Ho_Chi_Minh"), "{err}");
    }

    #[test]
    fn file_keys_that_do_not_exist_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("khaosat.toml");
        std::fs::write(&path, "databse_url = 'x'\n").unwrap();
        let err = read_file(&path, "khaosat.toml").unwrap_err();
        assert!(err.to_string().contains("databse_url"), "{err}");
    }
}
