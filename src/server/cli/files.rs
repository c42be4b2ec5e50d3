//! `khaosat instrument|methodology check|import FILE`: questionnaire and methodology files.

use std::io::Write;

use super::FileCommand;
use crate::app::config::Settings;
use crate::db;
use crate::i18n::{Lang, tf};

#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    Instrument,
    Methodology,
}

/// Reads a file for checking or importing, with the size limit applied before reading it all.
pub(super) fn read_catalog_file(
    lang: Lang,
    path: &std::path::Path,
) -> anyhow::Result<(String, Vec<u8>)> {
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

pub(super) fn catalog_file(
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

/// A refused import in `lang`, one located problem a line.
pub(super) fn import_error(lang: Lang, e: &crate::app::catalog::ImportError) -> anyhow::Error {
    anyhow::anyhow!(e.messages(lang).join("\n"))
}
