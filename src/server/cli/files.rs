//! `khaosat instrument|methodology check|import FILE`: questionnaire and methodology files.
//! An XLSForm workbook's code, version and respondent group can be chosen with `--code`,
//! `--version` and `--group`; `check` needs no group, `import` does.
//! `khaosat instrument export-xlsform CODE`: a stored questionnaire as an XLSForm workbook.

use std::io::Write;
use std::path::PathBuf;

use super::{FileCommand, say};
use crate::app::config::Settings;
use crate::db;
use crate::domain::instrument::RespondentGroup;
use crate::domain::xlsform::XlsFormOptions;
use crate::i18n::{Lang, t, tf};

/// `khaosat instrument check|import`.
#[derive(Debug, clap::Subcommand)]
pub(super) enum InstrumentCommand {
    /// Validate a file without importing it; exits non-zero on errors. An XLSForm workbook
    /// is checked even when it names no respondent group.
    Check {
        /// The file to check.
        file: PathBuf,
        #[command(flatten)]
        choices: ImportChoices,
    },
    /// Validate and store a file as a new version.
    Import {
        /// The file to import.
        file: PathBuf,
        #[command(flatten)]
        choices: ImportChoices,
    },
    /// Write a stored questionnaire as an XLSForm workbook for ODK Collect and KoboCollect
    /// (importing it again gives the same questionnaire).
    ExportXlsform {
        /// The questionnaire's code, e.g. `sipas`.
        code: String,
        /// The version (default: the latest stored one).
        #[arg(long)]
        version: Option<u32>,
        /// The file to write (default: CODE-vVERSION.xlsx in the current directory).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

/// Values an XLSForm workbook's `settings` sheet may lack or that should be overridden.
#[derive(Debug, Clone, clap::Args)]
pub(super) struct ImportChoices {
    /// Respondent group (XLSForm only; otherwise the settings sheet's `group` column).
    #[arg(long, value_parser = ["leader", "civil_servant", "citizen"])]
    group: Option<String>,
    /// Instrument code (XLSForm only; otherwise `form_id`, otherwise the file name).
    #[arg(long)]
    code: Option<String>,
    /// Version, a whole number from 1 (XLSForm only; otherwise `version`, otherwise 1).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    version: Option<u32>,
}

impl ImportChoices {
    fn options(&self) -> XlsFormOptions {
        XlsFormOptions {
            code: self.code.clone(),
            version: self.version,
            group: self.group.as_deref().and_then(RespondentGroup::from_code),
        }
    }
}

/// `khaosat instrument check|import FILE [--group G] [--code C] [--version N]`.
pub(super) fn instrument_file(
    settings: &Settings,
    lang: Lang,
    command: &InstrumentCommand,
) -> anyhow::Result<()> {
    let (file, import, choices) = match command {
        InstrumentCommand::Check { file, choices } => (file, false, choices),
        InstrumentCommand::Import { file, choices } => (file, true, choices),
        InstrumentCommand::ExportXlsform {
            code,
            version,
            output,
        } => return export_xlsform(settings, lang, code, *version, output.as_deref()),
    };
    run(
        settings,
        lang,
        Kind::Instrument,
        file,
        import,
        &choices.options(),
    )
}

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
    read_limited_file(lang, path, crate::app::catalog::max_upload_bytes())
}

/// Reads a file of at most `limit` bytes, refusing a larger one (by name, size and limit)
/// before reading it all; returns its name and bytes.
pub(super) fn read_limited_file(
    lang: Lang,
    path: &std::path::Path,
    limit: usize,
) -> anyhow::Result<(String, Vec<u8>)> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let size = std::fs::metadata(path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        .len();
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
    let (path, import) = match command {
        FileCommand::Check { file } => (file, false),
        FileCommand::Import { file } => (file, true),
    };
    run(
        settings,
        lang,
        kind,
        path,
        import,
        &XlsFormOptions::default(),
    )
}

fn run(
    settings: &Settings,
    lang: Lang,
    kind: Kind,
    path: &std::path::Path,
    import: bool,
    options: &XlsFormOptions,
) -> anyhow::Result<()> {
    use crate::app::catalog::{self, Actor, Imported};
    let (name, bytes) = read_catalog_file(lang, path)?;
    let mut out = std::io::stdout().lock();
    let checked = match kind {
        Kind::Instrument => catalog::check_instrument_with(&name, &bytes, options).map(|c| {
            let i = &c.instrument;
            let group = if c.group_missing {
                t(lang, "cli.instrument.no_group_yet")
            } else {
                i.group().code()
            };
            let questions = i.questions().count();
            let summary = tf(
                lang,
                "cli.instrument.ok",
                &[
                    ("file", &name),
                    ("code", i.code()),
                    ("version", &i.version().to_string()),
                    ("group", group),
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
    for warning in instrument.iter().flat_map(|c| &c.warnings) {
        let line = tf(
            lang,
            "cli.instrument.warning",
            &[("warning", &warning.text(lang))],
        );
        writeln!(out, "{line}")?;
    }
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
    say(lang, key, &[("id", &id.to_string())])?;
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
    say(
        lang,
        "cli.instrument.exported",
        &[
            ("file", &path.display().to_string()),
            ("code", &found.code),
            ("version", &found.version.to_string()),
        ],
    )?;
    Ok(())
}
