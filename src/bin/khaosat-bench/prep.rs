//! Data preparation through the library, on the database the server process uses: a fresh
//! database (SQLite file or PostgreSQL database), a demo round (`khaosat demo`'s generator)
//! with pre-issued access codes for the leader questionnaire, accounts and API tokens.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use khaosat::app::config::{DatabaseUrl, Settings, SqliteSync};
use khaosat::app::rounds::{self, Actor};
use khaosat::db::{self, DbPool};
use khaosat::domain::account::{Email, Role};
use khaosat::domain::answers::{Answers, decode_section};
use khaosat::domain::instrument::{Instrument, QuestionKind, Section};

/// Who the preparation acts as in the audit log.
const BENCH: Actor<'static> = Actor {
    user_id: None,
    label: "bench",
    role: Role::Admin,
};

/// Password of the bench's analyst accounts.
pub const PASSWORD: &str = "bench horse battery staple";

/// Any error of the library as an `anyhow` error.
pub fn lib_err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("{e}")
}

/// A fresh, empty database and a working directory for the server, both removed on drop
/// (unless kept as a cache).
pub struct BenchDb {
    /// Working directory of the server and the SQLite file.
    pub dir: PathBuf,
    /// `DATABASE_URL`.
    pub url: String,
    /// PostgreSQL: the server URL and database name to drop afterwards.
    postgres: Option<(String, String)>,
    keep: bool,
}

impl BenchDb {
    /// A new temporary directory with a SQLite file in it.
    pub fn sqlite(label: &str) -> Result<Self> {
        let dir = std::env::temp_dir().join(format!(
            "khaosat-bench-{label}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            url: format!("sqlite://{}", dir.join("khaosat.db").display()),
            dir,
            postgres: None,
            keep: false,
        })
    }

    /// A SQLite database kept in `dir` across runs (the large demo round).
    pub fn cached(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Self {
            url: format!("sqlite://{}", dir.join("khaosat.db").display()),
            dir: dir.to_owned(),
            postgres: None,
            keep: true,
        })
    }

    /// A new database on the PostgreSQL server at `server_url`, dropped afterwards.
    pub fn postgres(server_url: &str) -> Result<Self> {
        let name = format!("khaosat_bench_{}", uuid::Uuid::new_v4().simple());
        let mut conn = db::connect_postgres(server_url)
            .with_context(|| format!("connecting to PostgreSQL at {server_url}"))?;
        conn.batch_execute(&format!("CREATE DATABASE {name}"))?;
        let mut url = url::Url::parse(server_url)?;
        url.set_path(&name);
        let dir = std::env::temp_dir().join(format!("khaosat-bench-{name}"));
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            url: url.to_string(),
            dir,
            postgres: Some((server_url.to_owned(), name)),
            keep: false,
        })
    }

    /// A connection pool of `size` for preparation and checks.
    pub fn pool(&self, size: u32) -> Result<DbPool> {
        let url = DatabaseUrl::parse(&self.url).map_err(lib_err)?;
        let pool = db::build_pool(&url, SqliteSync::Normal, size);
        let mut conn = pool.get()?;
        db::run_migrations(&mut conn)?;
        Ok(pool)
    }

    /// Size of the SQLite file and its WAL, bytes (0 on PostgreSQL).
    pub fn file_bytes(&self) -> u64 {
        ["khaosat.db", "khaosat.db-wal"]
            .iter()
            .filter_map(|f| std::fs::metadata(self.dir.join(f)).ok())
            .map(|m| m.len())
            .sum()
    }
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        if let Some((server, name)) = &self.postgres
            && let Ok(mut conn) = db::connect_postgres(server)
        {
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// An open round ready for respondents.
pub struct BenchRound {
    /// Round id.
    pub id: i64,
    /// Access codes in canonical form, never used yet.
    pub codes: Vec<String>,
    /// The leader questionnaire the codes open.
    pub instrument: Instrument,
    /// The leader group and its questionnaire's id.
    pub group_id: i64,
    /// Instrument id of the leader group.
    pub instrument_id: i64,
    /// The round's units.
    pub unit_ids: Vec<i64>,
}

/// A demo round (`khaosat demo` with `base_responses` responses and this seed) plus `codes`
/// respondents of the leader group, spread over the units, each given an access code.
pub fn bench_round(pool: &DbPool, url: &str, codes: usize, seed: u64) -> Result<BenchRound> {
    let mut conn = pool.get()?;
    let round = khaosat::app::demo::create(
        &mut conn,
        khaosat::app::demo::DemoSpec {
            year: 2023,
            responses: 1_000,
            seed,
        },
    )
    .map_err(lib_err)?;
    let units = db::rounds::units(&mut conn, round)?;
    let mut csv = String::from("name,email,phone,unit,group,position,level\n");
    for k in 0..codes {
        let unit = &units[k % units.len()].code;
        csv.push_str(&format!(
            "Người {k},bench{k}@sonoivu.gov.vn,,{unit},leader,,\n"
        ));
    }
    let settings = Settings::for_database(DatabaseUrl::parse(url).map_err(lib_err)?);
    let secret = khaosat::server::startup::load_secret(&mut conn, &settings)?;
    let issued = if codes > 0 {
        rounds::import_respondents(&mut conn, round, "bench.csv", csv.as_bytes(), BENCH)
            .map_err(lib_err)?;
        rounds::issue_codes(&mut conn, &secret, round, false, None, BENCH).map_err(lib_err)?
    } else {
        Vec::new()
    };
    let group = db::rounds::groups(&mut conn, round)?
        .into_iter()
        .find(|g| g.group_code == "leader")
        .context("the demo round has no leader group")?;
    let instrument = khaosat::app::catalog::load_instrument(&mut conn, group.instrument_id)
        .map_err(lib_err)?
        .context("the leader questionnaire is not stored")?
        .instrument;
    Ok(BenchRound {
        id: round,
        codes: issued
            .into_iter()
            .map(|c| c.code.as_canonical().to_owned())
            .collect(),
        instrument,
        group_id: group.group_id,
        instrument_id: group.instrument_id,
        unit_ids: units.iter().map(|u| u.id).collect(),
    })
}

/// Receipts of the round's stored responses.
pub fn receipts(pool: &DbPool, round: i64) -> Result<BTreeSet<String>> {
    use khaosat::db::schema::responses;
    let mut conn = pool.get()?;
    Ok(responses::table
        .filter(responses::round_id.eq(round))
        .select(responses::receipt)
        .load::<String>(&mut conn)?
        .into_iter()
        .collect())
}

/// Compares the acknowledged receipts with what the database gained since `before`: returns
/// (lost, extra), acknowledged but not stored and stored but not acknowledged.
pub fn reconcile(
    pool: &DbPool,
    round: i64,
    before: &BTreeSet<String>,
    acknowledged: &[String],
) -> Result<(usize, usize)> {
    let after = receipts(pool, round)?;
    let stored: BTreeSet<&String> = after.difference(before).collect();
    let acked: BTreeSet<&String> = acknowledged.iter().collect();
    let lost = acked.difference(&stored).count() + (acknowledged.len() - acked.len());
    let extra = stored.difference(&acked).count();
    Ok((lost, extra))
}

/// Creates an analyst account; returns its id.
pub fn analyst(pool: &DbPool, email: &str) -> Result<i64> {
    let hash = khaosat::app::auth::password::hash(PASSWORD)?;
    let email = Email::parse(email).map_err(lib_err)?;
    let mut conn = pool.get()?;
    let user = db::write_transaction(&mut conn, |conn| {
        khaosat::app::accounts::create_user(
            conn,
            &email,
            "Bench",
            Role::Analyst,
            &hash,
            "bench",
            None,
        )
    })
    .map_err(|e| anyhow!("creating the analyst: {e:?}"))?;
    Ok(user.id)
}

/// A write-scoped API token for `user_id`.
pub fn write_token(pool: &DbPool, user_id: i64) -> Result<String> {
    let mut conn = pool.get()?;
    khaosat::app::auth::api_token::create(
        &mut conn,
        user_id,
        "khaosat-bench",
        "bench",
        khaosat::app::auth::api_token::TokenScope::Write,
    )
    .map_err(lib_err)
}

/// The id of the round the demo generator made, with its response count.
pub fn demo_round_of(pool: &DbPool) -> Result<Option<(i64, i64)>> {
    let mut conn = pool.get()?;
    let Some(round) = db::rounds::list(&mut conn)?.into_iter().map(|r| r.id).max() else {
        return Ok(None);
    };
    let n = db::responses::count_in_round(&mut conn, round)?;
    Ok(Some((round, n)))
}

/// Form fields answering every question of a section validly. `variant` varies the options
/// chosen, so responses differ and touch different tally cells; yes/no questions are
/// answered "no", so follow-ups stay hidden (as in the test suite's `fill`).
pub fn fill(section: &Section, variant: usize) -> Vec<(String, String)> {
    let pick = |options: &[khaosat::domain::instrument::ChoiceOption], k: usize| {
        options
            .get((variant + k) % options.len().max(1))
            .map(|o| o.value.clone())
            .unwrap_or_default()
    };
    let mut fields = Vec::new();
    for (k, q) in section.questions.iter().enumerate() {
        if q.relevant.is_some() {
            continue;
        }
        match &q.kind {
            QuestionKind::Battery { choices, items, .. } => {
                for (j, item) in items.iter().enumerate() {
                    fields.push((item.code.clone(), pick(&choices.options, j)));
                }
            }
            QuestionKind::Single { choices, .. } | QuestionKind::Multiple { choices } => {
                fields.push((q.code.clone(), pick(&choices.options, k)));
            }
            QuestionKind::YesNo { .. } => fields.push((q.code.clone(), "no".into())),
            QuestionKind::Integer { min, .. } => {
                fields.push((q.code.clone(), min.unwrap_or(1).max(1).to_string()));
            }
            _ => {}
        }
    }
    fields
}

/// The answers the server stores for the fields of [`fill`] over every section, decoded and
/// merged by the same library functions as the section handler.
pub fn answers(instrument: &Instrument, variant: usize) -> Answers {
    let mut answers = Answers::new();
    for section in instrument.sections() {
        let decoded = decode_section(section, &fill(section, variant), &answers);
        answers =
            khaosat::app::respond::merge_section(instrument, section, answers, &decoded.answers);
    }
    answers
}
