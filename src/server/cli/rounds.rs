//! `khaosat round …` and `khaosat compute ROUND`: sending a round's mail, importing field
//! submissions and appraised points, and printing its scores.

use std::io::Write;

use super::files::{read_catalog_file, read_limited_file};
use super::{RoundCommand, open_pool, round_error};
use crate::app::config::Settings;
use crate::db;
use crate::i18n::{Lang, t, tf};

pub(super) fn round_command(
    settings: &Settings,
    lang: Lang,
    command: &RoundCommand,
) -> anyhow::Result<()> {
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
    match command {
        RoundCommand::CommitSample {
            round,
            sizes,
            rate,
            seed_source,
        } => {
            return super::samples::commit(
                settings,
                lang,
                *round,
                sizes.as_deref(),
                rate.as_deref(),
                seed_source,
            );
        }
        RoundCommand::DrawSample { round, seed } => {
            return super::samples::draw(settings, lang, *round, seed);
        }
        RoundCommand::VerifySample { round, frame, seed } => {
            return super::samples::verify(settings, lang, *round, frame, seed);
        }
        _ => {}
    }
    if let RoundCommand::ImportSubmissions {
        round,
        file,
        unit,
        group,
    } = command
    {
        return import_submissions(
            settings,
            lang,
            *round,
            file,
            unit.as_deref(),
            group.as_deref(),
        );
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
            rounds::queue_invitations(&mut conn, &secret, &base, settings.time_zone, *round, actor)
                .map_err(|e| round_error(lang, *round, e))?,
        ),
        RoundCommand::ImportAppraised { .. }
        | RoundCommand::ImportSubmissions { .. }
        | RoundCommand::CommitSample { .. }
        | RoundCommand::DrawSample { .. }
        | RoundCommand::VerifySample { .. } => {
            unreachable!("handled above")
        }
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
                    settings.time_zone,
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
        settings.time_zone,
    )
}

/// `khaosat round import-submissions`: imports a field submission export through the same
/// use case as the round's page, printing what was stored and every ignored column.
fn import_submissions(
    settings: &Settings,
    lang: Lang,
    round: i64,
    path: &std::path::Path,
    unit: Option<&str>,
    group: Option<&str>,
) -> anyhow::Result<()> {
    use crate::app::field_import::{SubmissionFile, import_submissions};
    use crate::domain::field_submissions::MAX_CSV_BYTES;
    let (name, bytes) = read_limited_file(lang, path, MAX_CSV_BYTES)?;
    let pool = open_pool(settings)?;
    let mut conn = pool.get()?;
    let file = SubmissionFile {
        round_id: round,
        file_name: &name,
        bytes: &bytes,
        unit,
        group,
    };
    let outcome = import_submissions(&mut conn, file, crate::app::rounds::Actor::service("cli"))
        .map_err(|e| round_error(lang, round, e))?;
    let mut err = std::io::stderr();
    for warning in &outcome.warnings {
        writeln!(
            err,
            "{}",
            tf(
                lang,
                "cli.field.warning",
                &[("message", &warning.text(lang))]
            )
        )?;
    }
    writeln!(
        std::io::stdout(),
        "{}",
        tf(
            lang,
            "cli.field.imported",
            &[
                ("stored", &outcome.stored.to_string()),
                ("already", &outcome.already.to_string()),
                ("repeated", &outcome.repeated.to_string()),
            ]
        )
    )?;
    Ok(())
}

/// Delivers the outbox of a round with a progress bar until nothing is due. Interrupted
/// (Ctrl+C, SIGTERM), it gives back the messages it holds so that a rerun sends them at once.
pub(super) fn deliver_round_queue(
    lang: Lang,
    pool: &db::DbPool,
    mailer: &crate::app::mail::Mailer,
    round_id: i64,
    queued: usize,
    lease: chrono::Duration,
    zone: crate::domain::local_time::TimeZone,
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
    let held = crate::app::mail::sender::HeldClaims::default();
    release_on_interrupt(lang, pool.clone(), held.clone())?;
    let total = pending(pool)?;
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(t(lang, "cli.mail.progress"))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut sent = 0;
    let mut failed = 0;
    loop {
        let report = crate::app::mail::sender::send_batch_holding(pool, mailer, 10, lease, &held)?;
        sent += report.sent;
        failed += report.failed;
        bar.inc(u64::try_from(report.sent + report.failed).unwrap_or(0));
        if report.handled() == 0 {
            break;
        }
    }
    bar.finish_and_clear();
    let waiting = {
        let mut conn = pool.get()?;
        db::outbox::waiting(&mut conn, &prefix, db::now())?
    };
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}",
        tf(
            lang,
            "cli.mail.delivered",
            &[
                ("queued", &queued.to_string()),
                ("sent", &sent.to_string()),
                ("failed", &failed.to_string()),
            ],
        )
    )?;
    let at = |time| {
        format!(
            "{}, {}",
            crate::views::rounds::fmt_time(lang, zone, time),
            crate::views::rounds::zone_label(lang, zone)
        )
    };
    if waiting.retrying > 0 {
        writeln!(
            out,
            "{}",
            tf(
                lang,
                "cli.mail.retrying",
                &[
                    ("count", &waiting.retrying.to_string()),
                    ("time", &at(waiting.next_retry)),
                ],
            )
        )?;
    }
    if waiting.held > 0 {
        writeln!(
            out,
            "{}",
            tf(
                lang,
                "cli.mail.held",
                &[
                    ("count", &waiting.held.to_string()),
                    ("time", &at(waiting.held_until)),
                ],
            )
        )?;
    }
    Ok(())
}

/// On Ctrl+C or SIGTERM, gives back the messages `held` names, says so, and ends the process:
/// otherwise they would stay locked for the whole lease and a rerun could not send them.
fn release_on_interrupt(
    lang: Lang,
    pool: db::DbPool,
    held: crate::app::mail::sender::HeldClaims,
) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Registered here, before sending starts, so no signal arrives unhandled.
    let (mut interrupt, mut terminate) = {
        let _context = runtime.enter();
        (
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        )
    };
    std::thread::Builder::new()
        .name("khaosat-interrupt".to_owned())
        .spawn(move || {
            let code = runtime.block_on(async {
                tokio::select! {
                    _ = interrupt.recv() => 130,
                    _ = terminate.recv() => 143,
                }
            });
            let message = match held.release(&pool) {
                Ok(n) => tf(lang, "cli.mail.interrupted", &[("count", &n.to_string())]),
                Err(e) => tf(
                    lang,
                    "cli.mail.release_failed",
                    &[("error", &format!("{e:#}"))],
                ),
            };
            let _ = writeln!(std::io::stderr(), "{message}");
            std::process::exit(code);
        })?;
    Ok(())
}

pub(super) fn compute(settings: &Settings, lang: Lang, round: i64) -> anyhow::Result<()> {
    use crate::domain::scoring::{Standing, fmt_points};
    let pool = open_pool(settings)?;
    let mut conn = pool.get()?;
    let fail = |e: crate::error::AppError| anyhow::Error::new(e);
    if db::rounds::by_id(&mut conn, round)?.is_none() {
        return Err(round_error(
            lang,
            round,
            crate::app::rounds::RoundError::NotFound,
        ));
    }
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
            opt(u.sipas_percent()),
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
