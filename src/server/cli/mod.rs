//! The command line: `serve` (default), `migrate`, account administration, demo data and
//! backups here; questionnaire and methodology files in `files`, rounds and scores in `rounds`.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::app::accounts::{CreateUserError, create_user, reset_password};
use crate::app::config::Settings;
use crate::db;
use crate::domain::account::{AccountError, Email, NewPassword, Role, parse_name};
use crate::i18n::{Lang, t, tf};
use crate::server::startup::Application;

mod accounts;
mod files;
mod rounds;
mod samples;

use accounts::{Change, change_account};
use files::{InstrumentCommand, Kind, catalog_file, instrument_file};
use rounds::{compute, round_command};

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
    /// Check, import or export questionnaires (TOML, or XLSForm .xlsx).
    Instrument {
        #[command(subcommand)]
        command: InstrumentCommand,
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
    /// Import the CSV or XLSX submission export of ODK Central or KoboToolbox (a questionnaire
    /// exported to XLSForm and collected offline) as responses of an open round. Every row is
    /// checked like a web response and a file with errors stores nothing; submissions imported
    /// before are skipped, so the same export can be imported again.
    ImportSubmissions {
        /// The round id.
        round: i64,
        /// The export (.csv or .xlsx).
        file: std::path::PathBuf,
        /// The unit (code or name) of rows without a `unit` column.
        #[arg(long)]
        unit: Option<String>,
        /// The respondent group (code or name) of rows without a `group` column.
        #[arg(long)]
        group: Option<String>,
    },
    /// Commit the round's random sample before the seed is known: the frame (the respondent
    /// list as it is now) with its hash, the sample size of every unit × group, and where the
    /// seed will come from (docs/sampling.md). Once only; no code may have been issued.
    #[command(group(clap::ArgGroup::new("sizes_from").required(true).args(["sizes", "rate"])))]
    CommitSample {
        /// The round id.
        round: i64,
        /// A CSV file `unit,group,size` naming every unit × group of the list.
        #[arg(long)]
        sizes: Option<std::path::PathBuf>,
        /// An expected response rate (0.6 or 60%): each size is ceil(target / rate), at most
        /// the number listed.
        #[arg(long)]
        rate: Option<String>,
        /// Where the seed will come from, e.g. "special prize of the northern lottery of
        /// 2026-12-20".
        #[arg(long)]
        seed_source: String,
    },
    /// Draw the committed sample with the seed: within each unit × group, the list ordered by
    /// HMAC-SHA256(seed, respondent key); the first n are the sample, the rest the reserve.
    DrawSample {
        /// The round id.
        round: i64,
        /// The seed, as published or typed in front of witnesses.
        #[arg(long)]
        seed: String,
    },
    /// Recompute the draw from a frame file (the respondent list, CSV or XLSX) and the seed
    /// alone, and print whether it matches the draw made, unit × group by unit × group; exits
    /// non-zero on any mismatch.
    VerifySample {
        /// The round id.
        round: i64,
        /// The respondent list the sample was drawn from.
        #[arg(long)]
        frame: std::path::PathBuf,
        /// The seed.
        #[arg(long)]
        seed: String,
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
    /// Give an account another role (the last active administrator keeps theirs).
    Role {
        /// Login e-mail.
        email: String,
        /// admin, coordinator or analyst.
        role: String,
    },
    /// Replace a coordinator's units: unit codes or names, comma-separated (`01,Đà Nẵng`);
    /// an empty list removes them all.
    Units {
        /// Login e-mail.
        email: String,
        /// Unit codes or names, comma-separated.
        units: String,
    },
    /// Deactivate an account: it cannot log in, its sessions end and its API tokens are revoked.
    Deactivate {
        /// Login e-mail.
        email: String,
    },
    /// Reactivate a deactivated account.
    Activate {
        /// Login e-mail.
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
        Err(e) => return fail(&e.text(lang)),
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
        Command::Admin {
            command: AdminCommand::Role { email, role },
        } => role
            .parse()
            .map_err(|e| account_error(lang, "ROLE", &e))
            .and_then(|role| change_account(&settings, lang, &email, &Change::Role(role))),
        Command::Admin {
            command: AdminCommand::Units { email, units },
        } => change_account(&settings, lang, &email, &Change::Units(units)),
        Command::Admin {
            command: AdminCommand::Deactivate { email },
        } => change_account(&settings, lang, &email, &Change::Active(false)),
        Command::Admin {
            command: AdminCommand::Activate { email },
        } => change_account(&settings, lang, &email, &Change::Active(true)),
        Command::Instrument { command } => instrument_file(&settings, lang, &command),
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

/// A refused round operation in `lang`.
fn round_error(lang: Lang, round: i64, e: crate::app::rounds::RoundError) -> anyhow::Error {
    use crate::app::rounds::RoundError;
    match e {
        RoundError::NotFound => anyhow::anyhow!(tf(
            lang,
            "cli.round.not_found",
            &[("round", &round.to_string())]
        )),
        other => match other.messages(lang) {
            Ok(lines) => anyhow::anyhow!(lines.join("\n")),
            Err(failure) => anyhow::anyhow!("{failure}"),
        },
    }
}

/// Prints the catalogue message `key` in `lang`, with `args` filled in, as one line on
/// standard output: how every command reports what it did.
fn say(lang: Lang, key: &str, args: &[(&str, &str)]) -> std::io::Result<()> {
    writeln!(std::io::stdout(), "{}", tf(lang, key, args))
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
    say(
        lang,
        "cli.migrate.applied",
        &[("count", &applied.to_string())],
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
    say(
        lang,
        "cli.admin.created",
        &[
            ("role", &user.role.to_string()),
            ("role_name", t(lang, user.role.label_key())),
            ("email", &user.email),
            ("name", &user.name),
        ],
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
    say(
        lang,
        "admin.cli.password_reset",
        &[
            ("email", email.as_str()),
            ("sessions", &reset.sessions_ended.to_string()),
            ("tokens", &reset.tokens_revoked.to_string()),
        ],
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
    say(
        lang,
        "cli.demo.created",
        &[
            ("round", &round.to_string()),
            ("responses", &responses.to_string()),
            (
                "seconds",
                &format!("{:.1}", started.elapsed().as_secs_f64()),
            ),
        ],
    )?;
    Ok(())
}

fn report_backup(
    lang: Lang,
    key: &str,
    file: &std::path::Path,
    s: crate::app::backup::Summary,
) -> anyhow::Result<()> {
    say(
        lang,
        key,
        &[
            ("file", &file.display().to_string()),
            ("rounds", &s.rounds.to_string()),
            ("responses", &s.responses.to_string()),
        ],
    )?;
    Ok(())
}

fn openapi() -> anyhow::Result<()> {
    use utoipa::OpenApi;
    let json = crate::routes::api::ApiDoc::openapi().to_pretty_json()?;
    writeln!(std::io::stdout(), "{json}")?;
    Ok(())
}
