//! The command line: `serve` (default), `migrate`, and account administration.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::app::accounts::{CreateUserError, create_user, reset_password};
use crate::app::config::Settings;
use crate::db;
use crate::domain::account::{AccountError, Email, NewPassword, Role, parse_name};
use crate::i18n::{Lang, t, tf};
use crate::server::startup::Application;

/// khaosat: online surveys for the Public Administration Reform Index.
#[derive(Debug, Parser)]
#[command(name = "khaosat", version, about)]
pub struct Cli {
    /// Language of messages, vi or en (default: KHAOSAT_LANG, else en when the locale is
    /// English, else vi).
    #[arg(long, global = true, value_parser = ["vi", "en"])]
    lang: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage administrator, coordinator and analyst accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Check or import questionnaires (TOML, or XLSForm .xlsx).
    Instrument {
        #[command(subcommand)]
        command: FileCommand,
    },
    /// Check or import scoring methodologies (TOML).
    Methodology {
        #[command(subcommand)]
        command: FileCommand,
    },
    /// Create a complete demo round with synthetic responses (same seed, same data).
    Demo {
        /// Survey year (up to 2024: 63 provinces; from 2025: 34 units).
        #[arg(long, default_value_t = 2023)]
        round_year: i32,
        /// Responses in all, spread over units and groups.
        #[arg(long, default_value_t = 18_900)]
        responses: u64,
        /// Random seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Recompute a round's scores from the raw answers, check the live tallies against them,
    /// and print the ranking.
    Compute {
        /// The round id.
        round: i64,
    },
    /// Print the OpenAPI document of the JSON API (the same as `/api/openapi.json`).
    Openapi,
    /// Write a consistent copy of the SQLite database to FILE while the server runs.
    Backup {
        /// The backup file to create (must not exist).
        file: std::path::PathBuf,
    },
    /// Replace the SQLite database with a backup (stop the server first).
    Restore {
        /// The backup file.
        file: std::path::PathBuf,
    },
    /// Survey round operations.
    Round {
        #[command(subcommand)]
        command: RoundCommand,
    },
}

#[derive(Debug, Subcommand)]
enum RoundCommand {
    /// Give codes to every listed respondent with an e-mail address who has none yet, queue
    /// their invitations and deliver the queue (shows progress; safe to interrupt and rerun).
    SendInvitations {
        /// The round id.
        round: i64,
    },
    /// Import appraised (non-survey) points per unit and component from a CSV file
    /// (`unit,component,points`), composing the full index; a file with errors changes nothing.
    ImportAppraised {
        /// The round id.
        round: i64,
        /// The CSV file.
        file: std::path::PathBuf,
    },
    /// Queue reminders for those who have not responded, and deliver the queue.
    SendReminders {
        /// The round id.
        round: i64,
        /// Most reminders per person.
        #[arg(long, default_value_t = 2)]
        max: u32,
        /// Fewest days between two messages to one person.
        #[arg(long, default_value_t = 7)]
        min_days: u32,
    },
}

#[derive(Debug, Subcommand)]
enum FileCommand {
    /// Validate a file without importing it; exits non-zero on errors.
    Check {
        /// The file to check.
        file: std::path::PathBuf,
    },
    /// Validate and store a file as a new version.
    Import {
        /// The file to import.
        file: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create an account. The password is read from a prompt, or from stdin when piped.
    Create {
        /// Login e-mail.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// admin, coordinator or analyst.
        #[arg(long)]
        role: String,
    },
    /// Set a new password for an account and end its sessions.
    ResetPassword {
        /// Login e-mail.
        #[arg(long)]
        email: String,
    },
}

/// Parses the command line, runs the command and returns the process exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let var = |name: &str| std::env::var(name).ok();
    let lang = crate::i18n::cli_lang(
        cli.lang.as_deref(),
        var("KHAOSAT_LANG").as_deref(),
        [
            var("LC_ALL").as_deref(),
            var("LC_MESSAGES").as_deref(),
            var("LANG").as_deref(),
        ],
    );
    crate::server::telemetry::init();
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string()),
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings, lang),
        Command::Migrate => migrate(&settings, lang),
        Command::Admin {
            command: AdminCommand::Create { email, name, role },
        } => admin_create(&settings, lang, &email, &name, &role),
        Command::Admin {
            command: AdminCommand::ResetPassword { email },
        } => admin_reset_password(&settings, lang, &email),
        Command::Instrument { command } => {
            catalog_file(&settings, lang, Kind::Instrument, &command)
        }
        Command::Methodology { command } => {
            catalog_file(&settings, lang, Kind::Methodology, &command)
        }
        Command::Round { command } => round_command(&settings, lang, &command),
        Command::Demo {
            round_year,
            responses,
            seed,
        } => demo(&settings, lang, round_year, responses, seed),
        Command::Compute { round } => compute(&settings, lang, round),
        Command::Openapi => openapi(),
        Command::Backup { file } => crate::app::backup::backup(&settings.database_url, &file)
            .and_then(|s| report_backup(lang, "cli.backup.done", &file, s)),
        Command::Restore { file } => crate::app::backup::restore(&settings.database_url, &file)
            .and_then(|s| report_backup(lang, "cli.restore.done", &file, s)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&crate::i18n::error_text(&e, lang)),
    }
}

/// An account input error for `option` (`--email`, ...) in `lang`, keeping the option name.
fn account_error(lang: Lang, option: &str, e: &AccountError) -> anyhow::Error {
    let text = match e {
        AccountError::UnknownRole(role) => tf(lang, "cli.admin.role_unknown", &[("role", role)]),
        other => t(lang, other.message_key()).to_owned(),
    };
    if option.is_empty() {
        anyhow::anyhow!(text)
    } else {
        anyhow::anyhow!("{option}: {text}")
    }
}

fn fail(message: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "khaosat: {message}");
    ExitCode::FAILURE
}

fn serve(settings: Settings, lang: Lang) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings.clone()).await?;
        let mut out = std::io::stdout().lock();
        let url = settings.base().replace(":0", &format!(":{}", app.port()));
        let database = settings.database_url.redacted().to_string();
        writeln!(
            out,
            "{}",
            tf(
                lang,
                "cli.serve.listening",
                &[("url", &url), ("database", &database)]
            )
        )?;
        if let Some(url) = app.setup_url() {
            writeln!(out, "\n{}\n\n    {url}\n", t(lang, "cli.serve.setup"))?;
        }
        drop(out);
        app.run_until_stopped().await?;
        Ok(())
    })
}

fn migrate(settings: &Settings, lang: Lang) -> anyhow::Result<()> {
    let pool = db::build_pool(&settings.database_url, settings.sqlite_sync, 1);
    let mut conn = pool.get()?;
    let applied = db::run_migrations(&mut conn)?;
    writeln!(
        std::io::stdout(),
        "{}",
        tf(
            lang,
            "cli.migrate.applied",
            &[("count", &applied.to_string())]
        )
    )?;
    Ok(())
}

/// Reads a new password: from a hidden prompt (asked twice) on a terminal, else the first
/// line of stdin. Never from the command line, where it would land in shell history.
fn read_new_password(lang: Lang) -> anyhow::Result<NewPassword> {
    let raw = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(t(lang, "cli.password.prompt"))?;
        let second = rpassword::prompt_password(t(lang, "cli.password.repeat"))?;
        if first != second {
            return Err(account_error(lang, "", &AccountError::PasswordMismatch));
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    NewPassword::parse(&raw).map_err(|e| account_error(lang, "", &e))
}

fn admin_create(
    settings: &Settings,
    lang: Lang,
    email: &str,
    name: &str,
    role: &str,
) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(|e| account_error(lang, "--email", &e))?;
    let name = parse_name(name).map_err(|e| account_error(lang, "--name", &e))?;
    let role: Role = role
        .parse()
        .map_err(|e| account_error(lang, "--role", &e))?;
    let password = read_new_password(lang)?;
    let hash = crate::app::auth::password::hash(password.expose())?;
    let pool = db::build_pool(&settings.database_url, settings.sqlite_sync, 1);
    let mut conn = pool.get()?;
    if settings.migrate_on_start {
        db::run_migrations(&mut conn)?;
    }
    let user = db::write_transaction(&mut conn, |conn| {
        create_user(conn, &email, &name, role, &hash, "cli", None)
    })
    .map_err(|e| match e {
        CreateUserError::EmailTaken => {
            anyhow::anyhow!(tf(
                lang,
                "cli.admin.email_taken",
                &[("email", email.as_str())]
            ))
        }
        CreateUserError::App(e) => anyhow::anyhow!(crate::error::cause_chain(&e)),
    })?;
    writeln!(
        std::io::stdout(),
        "{}",
        tf(
            lang,
            "cli.admin.created",
            &[
                ("role", &user.role.to_string()),
                ("role_name", t(lang, user.role.label_key())),
                ("email", &user.email),
                ("name", &user.name),
            ],
        )
    )?;
    Ok(())
}

fn admin_reset_password(settings: &Settings, lang: Lang, email: &str) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(|e| account_error(lang, "--email", &e))?;
    let password = read_new_password(lang)?;
    let hash = crate::app::auth::password::hash(password.expose())?;
    let pool = db::build_pool(&settings.database_url, settings.sqlite_sync, 1);
    let mut conn = pool.get()?;
    let reset = reset_password(&mut conn, &email, &hash, "cli")
        .map_err(|e| anyhow::anyhow!(crate::error::cause_chain(&e)))?
        .ok_or_else(|| {
            anyhow::anyhow!(tf(
                lang,
                "cli.admin.no_account",
                &[("email", email.as_str())]
            ))
        })?;
    writeln!(
        std::io::stdout(),
        "{}",
        tf(
            lang,
            "admin.cli.password_reset",
            &[
                ("email", email.as_str()),
                ("sessions", &reset.sessions_ended.to_string()),
                ("tokens", &reset.tokens_revoked.to_string()),
            ],
        )
    )?;
    Ok(())
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Instrument,
    Methodology,
}

/// Reads a file for checking or importing, with the size limit applied before reading it all.
fn read_catalog_file(lang: Lang, path: &std::path::Path) -> anyhow::Result<(String, Vec<u8>)> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let size = std::fs::metadata(path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        .len();
    let limit = crate::app::catalog::max_upload_bytes();
    if usize::try_from(size).map_or(true, |s| s > limit) {
        anyhow::bail!(tf(
            lang,
            "cli.file.too_large",
            &[
                ("file", &name),
                ("size", &size.to_string()),
                ("limit", &limit.to_string())
            ]
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok((name, bytes))
}

fn catalog_file(
    settings: &Settings,
    lang: Lang,
    kind: Kind,
    command: &FileCommand,
) -> anyhow::Result<()> {
    use crate::app::catalog::{self, Actor, Imported};
    let (path, import) = match command {
        FileCommand::Check { file } => (file, false),
        FileCommand::Import { file } => (file, true),
    };
    let (name, bytes) = read_catalog_file(lang, path)?;
    let mut out = std::io::stdout().lock();
    let checked = match kind {
        Kind::Instrument => catalog::check_instrument(&name, &bytes).map(|c| {
            let i = &c.instrument;
            let questions = i.questions().count();
            let summary = tf(
                lang,
                "cli.instrument.ok",
                &[
                    ("file", &name),
                    ("code", i.code()),
                    ("version", &i.version().to_string()),
                    ("group", i.group().code()),
                    ("sections", &i.sections().len().to_string()),
                    ("questions", &questions.to_string()),
                    ("items", &i.scorable_items().len().to_string()),
                    ("hash", &i.content_hash()[..12]),
                ],
            );
            (summary, Some(c), None)
        }),
        Kind::Methodology => catalog::check_methodology(&name, &bytes).map(|c| {
            let m = &c.methodology;
            let summary = tf(
                lang,
                "cli.methodology.ok",
                &[
                    ("file", &name),
                    ("code", &m.code),
                    ("version", &m.version.to_string()),
                    ("components", &m.components.len().to_string()),
                    ("groups", &m.groups.len().to_string()),
                    ("sipas", if m.sipas.is_some() { " + SIPAS" } else { "" }),
                    ("hash", &m.content_hash()[..12]),
                ],
            );
            (summary, None, Some(c))
        }),
    };
    let (summary, instrument, methodology) = checked.map_err(|e| import_error(lang, &e))?;
    writeln!(out, "{summary}")?;
    if !import {
        return Ok(());
    }
    let pool = db::build_pool(&settings.database_url, settings.sqlite_sync, 1);
    let mut conn = pool.get()?;
    if settings.migrate_on_start {
        db::run_migrations(&mut conn)?;
    }
    let actor = Actor::service("cli");
    let outcome = match (instrument, methodology) {
        (Some(c), _) => catalog::import_instrument(&mut conn, &name, &c, false, actor),
        (_, Some(c)) => catalog::import_methodology(&mut conn, &name, &c, false, actor),
        (None, None) => unreachable!("one of the two was checked"),
    }
    .map_err(|e| import_error(lang, &e))?;
    let (key, id) = match outcome {
        Imported::New(id) => ("cli.import.new", id),
        Imported::AlreadyPresent(id) => ("cli.import.present", id),
    };
    writeln!(out, "{}", tf(lang, key, &[("id", &id.to_string())]))?;
    Ok(())
}

/// A refused import in `lang`. The located validation messages come from the file checks
/// and stay as they are.
fn import_error(lang: Lang, e: &crate::app::catalog::ImportError) -> anyhow::Error {
    match e {
        crate::app::catalog::ImportError::VersionExists {
            file,
            code,
            version,
        } => anyhow::anyhow!(tf(
            lang,
            "cli.import.version_exists",
            &[
                ("file", file),
                ("code", code),
                ("version", &version.to_string())
            ]
        )),
        other => anyhow::anyhow!("{other}"),
    }
}

/// A refused round operation in `lang`.
fn round_error(lang: Lang, round: i64, e: crate::app::rounds::RoundError) -> anyhow::Error {
    use crate::app::rounds::RoundError;
    match e {
        RoundError::Invalid(refusal) => anyhow::anyhow!(refusal.text(lang)),
        RoundError::NotFound => anyhow::anyhow!(tf(
            lang,
            "cli.round.not_found",
            &[("round", &round.to_string())]
        )),
        other => anyhow::anyhow!("{other}"),
    }
}

fn round_command(settings: &Settings, lang: Lang, command: &RoundCommand) -> anyhow::Result<()> {
    use crate::app::rounds::{self, Actor};
    if let RoundCommand::ImportAppraised { round, file } = command {
        let (name, bytes) = read_catalog_file(lang, file)?;
        let pool = open_pool(settings)?;
        let mut conn = pool.get()?;
        let outcome =
            crate::app::scores::import_appraised(&mut conn, *round, &name, &bytes, None, "cli")
                .map_err(|e| anyhow::anyhow!(crate::error::cause_chain(&e)))?;
        return match outcome {
            Ok(n) => Ok(writeln!(
                std::io::stdout(),
                "{}",
                tf(lang, "cli.appraised.imported", &[("count", &n.to_string())])
            )?),
            Err(errors) => anyhow::bail!("{}", errors.join("\n")),
        };
    }
    let mailer = crate::app::mail::Mailer::from_settings(settings)?
        .ok_or_else(|| anyhow::anyhow!(t(lang, "cli.mail.no_smtp").to_owned()))?;
    let pool = db::build_pool(&settings.database_url, settings.sqlite_sync, 2);
    let mut conn = pool.get()?;
    if settings.migrate_on_start {
        db::run_migrations(&mut conn)?;
    }
    let secret = crate::server::startup::load_secret(&mut conn, settings)?;
    let actor = Actor::service("cli");
    let base = settings.base();
    let (round_id, queued) = match command {
        RoundCommand::SendInvitations { round } => (
            *round,
            rounds::queue_invitations(&mut conn, &secret, &base, *round, actor)
                .map_err(|e| round_error(lang, *round, e))?,
        ),
        RoundCommand::ImportAppraised { .. } => unreachable!("handled above"),
        RoundCommand::SendReminders {
            round,
            max,
            min_days,
        } => {
            let policy = crate::domain::reminders::ReminderPolicy {
                max_reminders: *max,
                min_days_between: *min_days,
            };
            (
                *round,
                rounds::queue_reminders(
                    &mut conn,
                    &secret,
                    &base,
                    *round,
                    &policy,
                    db::now(),
                    actor,
                )
                .map_err(|e| round_error(lang, *round, e))?,
            )
        }
    };
    drop(conn);
    deliver_round_queue(
        lang,
        &pool,
        &mailer,
        round_id,
        queued,
        chrono::Duration::seconds(settings.mail_lease_seconds),
    )
}

/// Delivers the outbox of a round with a progress bar until nothing is due.
fn deliver_round_queue(
    lang: Lang,
    pool: &db::DbPool,
    mailer: &crate::app::mail::Mailer,
    round_id: i64,
    queued: usize,
    lease: chrono::Duration,
) -> anyhow::Result<()> {
    use crate::domain::mail_outbox::OutboxStatus as MailStatus;
    let prefix = crate::app::rounds::message_prefix(round_id);
    let pending = |pool: &db::DbPool| -> anyhow::Result<u64> {
        let mut conn = pool.get()?;
        let counts = db::outbox::counts_by_status(&mut conn, &prefix)?;
        Ok(counts
            .iter()
            .filter(|(status, _)| matches!(status, MailStatus::Pending | MailStatus::Sending))
            .map(|(_, n)| u64::try_from(*n).unwrap_or(0))
            .sum())
    };
    let total = pending(pool)?;
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(t(lang, "cli.mail.progress"))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut sent = 0;
    let mut failed = 0;
    loop {
        let report = crate::app::mail::sender::send_batch(pool, mailer, 10, lease)?;
        sent += report.sent;
        failed += report.failed;
        bar.inc(u64::try_from(report.sent + report.failed).unwrap_or(0));
        if report.handled() == 0 {
            break;
        }
    }
    bar.finish_and_clear();
    let waiting = pending(pool)?;
    writeln!(
        std::io::stdout(),
        "{}",
        tf(
            lang,
            "cli.mail.delivered",
            &[
                ("queued", &queued.to_string()),
                ("sent", &sent.to_string()),
                ("failed", &failed.to_string()),
                ("waiting", &waiting.to_string()),
            ],
        )
    )?;
    Ok(())
}

fn open_pool(settings: &Settings) -> anyhow::Result<db::DbPool> {
    let pool = db::build_pool(&settings.database_url, settings.sqlite_sync, 2);
    let mut conn = pool.get()?;
    if settings.migrate_on_start {
        db::run_migrations(&mut conn)?;
    }
    Ok(pool)
}

fn demo(
    settings: &Settings,
    lang: Lang,
    year: i32,
    responses: u64,
    seed: u64,
) -> anyhow::Result<()> {
    let pool = open_pool(settings)?;
    let mut conn = pool.get()?;
    let started = std::time::Instant::now();
    let round = crate::app::demo::create(
        &mut conn,
        crate::app::demo::DemoSpec {
            year,
            responses,
            seed,
        },
    )
    .map_err(|e| anyhow::anyhow!(crate::error::cause_chain(&e)))?;
    writeln!(
        std::io::stdout(),
        "{}",
        tf(
            lang,
            "cli.demo.created",
            &[
                ("round", &round.to_string()),
                ("responses", &responses.to_string()),
                (
                    "seconds",
                    &format!("{:.1}", started.elapsed().as_secs_f64())
                ),
            ],
        )
    )?;
    Ok(())
}

fn report_backup(
    lang: Lang,
    key: &str,
    file: &std::path::Path,
    s: crate::app::backup::Summary,
) -> anyhow::Result<()> {
    writeln!(
        std::io::stdout(),
        "{}",
        tf(
            lang,
            key,
            &[
                ("file", &file.display().to_string()),
                ("rounds", &s.rounds.to_string()),
                ("responses", &s.responses.to_string()),
            ],
        )
    )?;
    Ok(())
}

fn openapi() -> anyhow::Result<()> {
    use utoipa::OpenApi;
    let json = crate::routes::api::ApiDoc::openapi().to_pretty_json()?;
    writeln!(std::io::stdout(), "{json}")?;
    Ok(())
}

fn compute(settings: &Settings, lang: Lang, round: i64) -> anyhow::Result<()> {
    use crate::domain::scoring::{Standing, fmt_points};
    let pool = open_pool(settings)?;
    let mut conn = pool.get()?;
    let fail = |e: crate::error::AppError| anyhow::anyhow!(crate::error::cause_chain(&e));
    // The same check as the round page's Compute action.
    let check = crate::app::scores::verify_tallies(&mut conn, round).map_err(fail)?;
    let scores = crate::app::scores::compute(&mut conn, round, &check.recomputed).map_err(fail)?;
    let elapsed = check.elapsed.as_secs_f64();
    let differences = &check.differences;
    let mut out = std::io::stdout().lock();
    let responses = check.responses;
    writeln!(
        out,
        "{}",
        tf(
            lang,
            "cli.compute.recomputed",
            &[
                ("round", &round.to_string()),
                ("responses", &responses.to_string()),
                ("seconds", &format!("{elapsed:.2}")),
            ],
        )
    )?;
    let col = |name: &str| t(lang, &format!("cli.compute.col.{name}")).to_owned();
    writeln!(
        out,
        "{:>7}  {:<28} {:<7} {:>8} {:>9} {:>9} {:>12} {:>12} {:>9}",
        col("rank"),
        col("unit"),
        col("region"),
        col("leaders"),
        col("leaders_percent"),
        col("sipas_percent"),
        col("survey_part"),
        col("index_total"),
        col("regional")
    )?;
    // A missing value prints "-", never 0.00; incomplete units come last, unranked.
    let opt = |x: Option<f64>| x.map_or("-".to_owned(), fmt_points);
    for (u, rank) in scores.by_rank() {
        let national = rank
            .and_then(|r| r.national)
            .map_or("-".to_owned(), |p| format!("{}/{}", p.rank, p.of));
        let regional = rank
            .and_then(|r| r.regional)
            .map_or("-".to_owned(), |p| format!("{}/{}", p.rank, p.of));
        let leader = u.groups.iter().find(|g| g.group == "leader");
        writeln!(
            out,
            "{national:>7}  {:<28} {:<7} {:>8} {:>9} {:>9} {:>12} {:>12} {regional:>9}{}",
            u.name_vi.chars().take(28).collect::<String>(),
            u.region,
            opt(leader.and_then(|g| g.points)),
            opt(leader.and_then(|g| g.percent)),
            opt(u.sipas.as_ref().and_then(|s| s.overall_percent)),
            opt(u.index.survey_points),
            opt(u.index_total()),
            match scores.standing(u) {
                Standing::Ranked => String::new(),
                Standing::Incomplete => format!("  {}", t(lang, "cli.compute.incomplete")),
                Standing::InsufficientData => {
                    format!("  {}", t(lang, "cli.compute.insufficient_data"))
                }
                Standing::SurveyPartOnly => {
                    format!("  {}", t(lang, "cli.compute.survey_part_only"))
                }
            },
        )?;
    }
    let complete = scores
        .units
        .iter()
        .filter(|u| scores.standing(u) == Standing::Ranked)
        .count();
    let basis = if scores.full_index() {
        t(lang, "cli.compute.basis_total")
    } else {
        t(lang, "cli.compute.basis_survey")
    };
    writeln!(
        out,
        "{}",
        tf(
            lang,
            "cli.compute.ranked",
            &[
                ("complete", &complete.to_string()),
                ("units", &scores.units.len().to_string()),
                ("basis", basis),
            ],
        )
    )?;
    if differences.is_empty() {
        writeln!(out, "{}", t(lang, "cli.compute.tallies_equal"))?;
        Ok(())
    } else {
        for d in differences.iter().take(20) {
            writeln!(
                out,
                "{}",
                tf(
                    lang,
                    "cli.compute.difference",
                    &[("difference", &d.to_string())]
                )
            )?;
        }
        anyhow::bail!(tf(
            lang,
            "cli.compute.differences",
            &[("count", &differences.len().to_string())]
        ))
    }
}
