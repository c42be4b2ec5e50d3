//! Where the database lives and how SQLite syncs: the two settings the connection code needs,
//! owned here so that `db` depends on nothing above it (the settings reader re-exports them).

/// Where the database lives; the variant picks the backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file path (from `sqlite://path` or `sqlite:path`).
    Sqlite(String),
    /// A PostgreSQL URL (`postgres://` or `postgresql://`), passed to libpq unchanged.
    Postgres(String),
}

/// Why a database URL is refused; the settings reader words it for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatabaseUrlError {
    /// `sqlite://` with nothing after it.
    #[error("a sqlite URL needs a file name, e.g. sqlite://khaosat.db")]
    NoFile,
    /// A scheme that is neither SQLite nor PostgreSQL.
    #[error("unknown database scheme '{0}': use sqlite://FILE or postgres://USER@HOST/DB")]
    UnknownScheme(String),
}

impl DatabaseUrl {
    /// Parses a URL, choosing the backend from its scheme.
    pub fn parse(raw: &str) -> Result<Self, DatabaseUrlError> {
        let raw = raw.trim();
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_owned()));
        }
        if let Some(rest) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            if rest.is_empty() {
                return Err(DatabaseUrlError::NoFile);
            }
            return Ok(Self::Sqlite(rest.to_owned()));
        }
        let scheme = raw.split_once(':').map_or(raw, |(s, _)| s);
        Err(DatabaseUrlError::UnknownScheme(scheme.to_owned()))
    }

    /// The backend this URL selects.
    pub fn backend(&self) -> super::Backend {
        match self {
            Self::Sqlite(_) => super::Backend::Sqlite,
            Self::Postgres(_) => super::Backend::Postgres,
        }
    }

    /// A form safe to print: the password of a PostgreSQL URL is masked.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{path}"),
            Self::Postgres(url) => match url::Url::parse(url) {
                Ok(mut parsed) if parsed.password().is_some() => {
                    // set_password only fails for URLs that cannot have one.
                    let _ = parsed.set_password(Some("****"));
                    parsed.to_string()
                }
                _ => url.clone(),
            },
        }
    }
}

/// SQLite's `synchronous` pragma: `Normal` is durable against process crashes, `Full` also
/// against power loss, at some cost per commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteSync {
    /// `PRAGMA synchronous = NORMAL` (default; safe with WAL against application crashes).
    Normal,
    /// `PRAGMA synchronous = FULL`.
    Full,
}
