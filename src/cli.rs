//! The command line: `serve` (default), `migrate`, and account administration.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::accounts::{CreateUserError, create_user, reset_password};
use crate::config::Settings;
use crate::db;
use crate::domain::account::{Email, NewPassword, Role, parse_name};
use crate::startup::Application;

/// khaosat: online surveys for the Public Administration Reform Index.
#[derive(Debug, Parser)]
#[command(name = "khaosat", version, about)]
pub struct Cli {
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
    crate::telemetry::init();
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string()),
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::Migrate => migrate(&settings),
        Command::Admin {
            command: AdminCommand::Create { email, name, role },
        } => admin_create(&settings, &email, &name, &role),
        Command::Admin {
            command: AdminCommand::ResetPassword { email },
        } => admin_reset_password(&settings, &email),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("{e:#}")),
    }
}

fn fail(message: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "khaosat: {message}");
    ExitCode::FAILURE
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings.clone()).await?;
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "khaosat listening on {} (database: {})",
            settings.base().replace(":0", &format!(":{}", app.port())),
            settings.database_url.redacted()
        )?;
        if let Some(url) = app.setup_url() {
            writeln!(out, "\nNo account exists yet. Create the first administrator here (valid for one hour, once):\n\n    {url}\n")?;
        }
        drop(out);
        app.run_until_stopped().await?;
        Ok(())
    })
}

fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let pool = db::build_pool(&settings.database_url, settings.sqlite_sync, 1);
    let mut conn = pool.get()?;
    let applied = db::run_migrations(&mut conn)?;
    writeln!(std::io::stdout(), "{applied} migration(s) applied")?;
    Ok(())
}

/// Reads a new password: from a hidden prompt (asked twice) on a terminal, else the first
/// line of stdin. Never from the command line, where it would land in shell history.
fn read_new_password() -> anyhow::Result<NewPassword> {
    let raw = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password (at least 12 characters): ")?;
        let second = rpassword::prompt_password("Repeat the password: ")?;
        if first != second {
            anyhow::bail!("the two passwords differ");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    Ok(NewPassword::parse(&raw)?)
}

fn admin_create(settings: &Settings, email: &str, name: &str, role: &str) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    let name = parse_name(name).map_err(|e| anyhow::anyhow!("--name: {e}"))?;
    let role: Role = role.parse().map_err(|e| anyhow::anyhow!("--role: {e}"))?;
    let password = read_new_password()?;
    let hash = crate::auth::password::hash(password.expose())?;
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
            anyhow::anyhow!("--email: an account with {email} already exists")
        }
        CreateUserError::App(e) => anyhow::anyhow!(crate::error::cause_chain(&e)),
    })?;
    writeln!(
        std::io::stdout(),
        "created {} account {} ({})",
        user.role,
        user.email,
        user.name
    )?;
    Ok(())
}

fn admin_reset_password(settings: &Settings, email: &str) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    let password = read_new_password()?;
    let hash = crate::auth::password::hash(password.expose())?;
    let pool = db::build_pool(&settings.database_url, settings.sqlite_sync, 1);
    let mut conn = pool.get()?;
    let changed = reset_password(&mut conn, &email, &hash, "cli")
        .map_err(|e| anyhow::anyhow!(crate::error::cause_chain(&e)))?;
    if !changed {
        anyhow::bail!("--email: no account with {email}");
    }
    writeln!(
        std::io::stdout(),
        "password changed for {email}; its sessions were ended"
    )?;
    Ok(())
}
