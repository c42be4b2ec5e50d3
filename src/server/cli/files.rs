//! `khaosat instrument|methodology check|import FILE`: questionnaire and methodology files;
//! `khaosat instrument export-xlsform CODE`: a stored questionnaire as an XLSForm workbook.

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

/// `khaosat instrument export-xlsform CODE [--version N] [-o FILE]`: writes the stored
/// questionnaire (its latest version unless one is given) as an XLSForm workbook, by default
/// to `CODE-vVERSION.xlsx` in the current directory, and prints the path.
pub(super) fn export_xlsform(
    settings: &Settings,
    lang: Lang,
    code: &str,
    version: Option<u32>,
    output: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    use crate::app::catalog;
    let pool = db::build_pool(&settings.database_url, settings.sqlite_sync, 1);
    let mut conn = pool.get()?;
    if settings.migrate_on_start {
        db::run_migrations(&mut conn)?;
    }
    // The bundled questionnaires are stored at the server's first start; a fresh database
    // gets them here too, so that they can be exported before that.
    catalog::load_bundled(&mut conn).map_err(|e| import_error(lang, &e))?;
    let not_stored = || {
        let version = version.map_or_else(String::new, |v| format!(" v{v}"));
        anyhow::anyhow!(tf(
            lang,
            "cli.instrument.not_stored",
            &[("code", code), ("version", &version)]
        ))
    };
    let found = catalog::find_instrument(&mut conn, code, version)?.ok_or_else(not_stored)?;
    let (name, bytes) = catalog::xlsform_file(&mut conn, found.id)?.ok_or_else(not_stored)?;
    let path = output.map_or_else(
        || std::path::PathBuf::from(&name),
        std::path::Path::to_path_buf,
    );
    // Written beside the target and renamed over it, so that a failure leaves no half file.
    let mut part = path.clone().into_os_string();
    part.push(".part");
    let part = std::path::PathBuf::from(part);
    let written = std::fs::File::create(&part)
        .and_then(|mut f| f.write_all(&bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&part, &path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&part);
        anyhow::bail!("{}: {e}", path.display());
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}",
        tf(
            lang,
            "cli.instrument.exported",
            &[
                ("file", &path.display().to_string()),
                ("code", &found.code),
                ("version", &found.version.to_string()),
            ]
        )
    )?;
    Ok(())
}
