//! Questionnaires (instruments) and scoring methodologies as versioned data: checking and
//! importing files, loading the bundled defaults, and reading stored versions back. Shared by
//! the CLI and the admin pages so both apply exactly the same rules.

use std::sync::Arc;

use crate::app::bundled;
use crate::db::audit::{AuditEntry, record};
use crate::db::instruments::{InstrumentSummary, NewInstrument};
use crate::db::methodologies::{MethodologySummary, NewMethodology};
use crate::db::versioned::CatalogueEntry;
use crate::db::{self, AnyConnection};
use crate::domain::instrument::{Instrument, MAX_FILE_BYTES};
use crate::domain::methodology::{Methodology, MethodologyError};
use crate::domain::xlsform::{
    XlsFormOptions, export_xlsform, is_legacy_xls, no_group_error, read_xlsform,
};
use crate::error::AppError;

/// The largest XLSForm workbook accepted.
pub const MAX_XLSX_BYTES: usize = 10 * 1024 * 1024;

/// How an instrument file was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    /// khaosat's TOML format.
    Toml,
    /// An XLSForm workbook (KoboToolbox / ODK).
    XlsForm,
}

impl SourceFormat {
    /// The code stored in `instruments.source_format`.
    pub fn code(self) -> &'static str {
        match self {
            SourceFormat::Toml => "toml",
            SourceFormat::XlsForm => "xlsform",
        }
    }
}

/// A checked instrument file, ready to import.
#[derive(Debug, Clone)]
pub struct CheckedInstrument {
    /// The validated instrument.
    pub instrument: Instrument,
    /// What the file was.
    pub format: SourceFormat,
    /// The TOML to store: the file itself, or the TOML equivalent of a workbook.
    pub source_text: String,
    /// Located remarks that did not stop the check (a language not shown, a version read
    /// from free text); shown beside the result.
    pub warnings: Vec<crate::domain::instrument::InstrumentError>,
    /// A workbook that names no respondent group and was given none: it checks, but
    /// [`import_instrument`] refuses it until a group is chosen.
    pub group_missing: bool,
}

/// A checked methodology file, ready to import.
#[derive(Debug, Clone)]
pub struct CheckedMethodology {
    /// The validated methodology.
    pub methodology: Methodology,
    /// The file's text.
    pub source_text: String,
}

/// Why a file cannot be imported. Every message names the file and, where there is one, the
/// line or cell.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The instrument file has errors; each names its place and renders in either language.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    InvalidInstrument(Vec<crate::domain::instrument::InstrumentError>),
    /// The methodology file has errors, kept whole so each reader sees them in their
    /// language ([`crate::domain::methodology::MethodologyError::text`]); English here.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    InvalidMethodology(Vec<MethodologyError>),
    /// This code and version exist already with other content: versions never change.
    #[error(
        "{file}: {code} version {version} already exists with different content; give the edited file a higher `version`"
    )]
    VersionExists {
        /// The uploaded file.
        file: String,
        /// Instrument or methodology code.
        code: String,
        /// The version in the file.
        version: u32,
    },
    /// The database failed.
    #[error(transparent)]
    App(#[from] AppError),
}

impl ImportError {
    /// The refusal as the lines to show a person, in `lang`: one per located problem of a
    /// questionnaire or methodology, or the one reason the import was refused. The page and
    /// the command line both show these.
    pub fn messages(&self, lang: crate::i18n::Lang) -> Vec<String> {
        match self {
            ImportError::InvalidInstrument(errors) => errors.iter().map(|e| e.text(lang)).collect(),
            ImportError::InvalidMethodology(errors) => {
                errors.iter().map(|e| e.text(lang)).collect()
            }
            ImportError::VersionExists {
                file,
                code,
                version,
            } => vec![crate::i18n::tf(
                lang,
                "cli.import.version_exists",
                &[
                    ("file", file),
                    ("code", code),
                    ("version", &version.to_string()),
                ],
            )],
            ImportError::App(e) => vec![e.to_string()],
        }
    }
}

impl From<diesel::result::Error> for ImportError {
    fn from(error: diesel::result::Error) -> Self {
        ImportError::App(error.into())
    }
}

/// The outcome of an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    /// A new version was stored under this id.
    New(i64),
    /// The identical version was already stored under this id; nothing changed.
    AlreadyPresent(i64),
}

impl Imported {
    /// The id of the stored version.
    pub fn id(self) -> i64 {
        match self {
            Imported::New(id) | Imported::AlreadyPresent(id) => id,
        }
    }
}

fn looks_like_xlsx(file_name: &str, bytes: &[u8]) -> bool {
    file_name.to_ascii_lowercase().ends_with(".xlsx")
        || bytes.starts_with(b"PK\x03\x04")
        || is_legacy_xls(file_name, bytes)
}

/// Checks an instrument file (TOML, or an XLSForm `.xlsx`) without touching the database.
pub fn check_instrument(file_name: &str, bytes: &[u8]) -> Result<CheckedInstrument, ImportError> {
    check_instrument_with(file_name, bytes, &XlsFormOptions::default())
}

/// Checks an instrument file with values chosen at import (code, version, group) that win over
/// an XLSForm's settings sheet. A TOML file names its own, so choosing any is refused for it.
pub fn check_instrument_with(
    file_name: &str,
    bytes: &[u8],
    options: &XlsFormOptions,
) -> Result<CheckedInstrument, ImportError> {
    if looks_like_xlsx(file_name, bytes) {
        if bytes.len() > MAX_XLSX_BYTES {
            return Err(ImportError::InvalidInstrument(vec![
                crate::domain::instrument::InstrumentError {
                    file: file_name.to_owned(),
                    location: crate::domain::instrument::Location::File,
                    message: crate::i18n::Localized::new(
                        "xlsform.workbook_too_large",
                        &[
                            ("size", &bytes.len().to_string()),
                            ("limit", &MAX_XLSX_BYTES.to_string()),
                        ],
                    ),
                },
            ]));
        }
        let read =
            read_xlsform(bytes, file_name, options).map_err(ImportError::InvalidInstrument)?;
        let source_text = read.instrument.to_toml();
        return Ok(CheckedInstrument {
            instrument: read.instrument,
            format: SourceFormat::XlsForm,
            source_text,
            warnings: read.warnings,
            group_missing: read.group_missing,
        });
    }
    if *options != XlsFormOptions::default() {
        return Err(ImportError::InvalidInstrument(vec![
            crate::domain::instrument::InstrumentError {
                file: file_name.to_owned(),
                location: crate::domain::instrument::Location::File,
                message: crate::i18n::Localized::new("xlsform.options_for_toml", &[]),
            },
        ]));
    }
    let instrument =
        Instrument::from_toml(bytes, file_name).map_err(ImportError::InvalidInstrument)?;
    // from_toml has checked the encoding, so this cannot fail; stay total anyway.
    let source_text = String::from_utf8_lossy(bytes).into_owned();
    Ok(CheckedInstrument {
        instrument,
        format: SourceFormat::Toml,
        source_text,
        warnings: Vec::new(),
        group_missing: false,
    })
}

/// Checks a methodology file without touching the database.
pub fn check_methodology(file_name: &str, bytes: &[u8]) -> Result<CheckedMethodology, ImportError> {
    let methodology =
        Methodology::parse(file_name, bytes).map_err(ImportError::InvalidMethodology)?;
    let source_text = String::from_utf8_lossy(bytes).into_owned();
    Ok(CheckedMethodology {
        methodology,
        source_text,
    })
}

pub use crate::app::actor::Actor;

fn to_i32(version: u32) -> i32 {
    i32::try_from(version).unwrap_or(i32::MAX)
}

/// Stores a checked instrument as a new version. Importing identical content again changes
/// nothing; other content under an existing code and version is refused.
pub fn import_instrument(
    conn: &mut AnyConnection,
    file_name: &str,
    checked: &CheckedInstrument,
    builtin: bool,
    actor: Actor<'_>,
) -> Result<Imported, ImportError> {
    if checked.group_missing {
        return Err(ImportError::InvalidInstrument(vec![no_group_error(
            file_name,
        )]));
    }
    let instrument = &checked.instrument;
    let hash = instrument.content_hash();
    let definition = serde_json::to_string(instrument).map_err(AppError::internal)?;
    let version = NewVersion {
        entity: "instrument",
        code: instrument.code(),
        version: instrument.version(),
        hash: &hash,
        file_name,
        details: serde_json::json!({
            "code": instrument.code(), "version": instrument.version(),
            "group": instrument.group().code(), "content_hash": hash,
            "file": file_name, "format": checked.format.code(),
        }),
    };
    let queries = VersionQueries {
        id_by_hash: db::instruments::id_by_hash,
        version_exists: db::instruments::version_exists,
    };
    store_version(conn, version, queries, actor, |conn, stored_version| {
        db::instruments::insert(
            conn,
            &NewInstrument {
                entry: CatalogueEntry {
                    code: instrument.code(),
                    version: stored_version,
                    source_text: &checked.source_text,
                    definition: &definition,
                    content_hash: &hash,
                    builtin,
                    created_by: actor.user_id,
                    created_at: db::now(),
                },
                group_code: instrument.group().code(),
                title_vi: &instrument.title().vi,
                title_en: &instrument.title().en,
                source_format: checked.format.code(),
            },
        )
    })
}

/// Stores a checked methodology as a new version (same rules as instruments).
pub fn import_methodology(
    conn: &mut AnyConnection,
    file_name: &str,
    checked: &CheckedMethodology,
    builtin: bool,
    actor: Actor<'_>,
) -> Result<Imported, ImportError> {
    let m = &checked.methodology;
    let hash = m.content_hash();
    let version = NewVersion {
        entity: "methodology",
        code: &m.code,
        version: m.version,
        hash: &hash,
        file_name,
        details: serde_json::json!({
            "code": m.code, "version": m.version, "content_hash": hash, "file": file_name,
        }),
    };
    let queries = VersionQueries {
        id_by_hash: db::methodologies::id_by_hash,
        version_exists: db::methodologies::version_exists,
    };
    store_version(conn, version, queries, actor, |conn, stored_version| {
        db::methodologies::insert(
            conn,
            &NewMethodology {
                entry: CatalogueEntry {
                    code: &m.code,
                    version: stored_version,
                    source_text: &checked.source_text,
                    definition: &m.canonical_json(),
                    content_hash: &hash,
                    builtin,
                    created_by: actor.user_id,
                    created_at: db::now(),
                },
                name_vi: &m.name.vi,
                name_en: &m.name.en,
            },
        )
    })
}

/// A version about to be stored in one of the two catalogues, as the shared rules see it.
struct NewVersion<'a> {
    /// `instrument` or `methodology`: the audit entity and the action's prefix.
    entity: &'static str,
    code: &'a str,
    version: u32,
    hash: &'a str,
    file_name: &'a str,
    /// What the audit log records of the new version.
    details: serde_json::Value,
}

/// The two identity lookups of a catalogue table.
struct VersionQueries {
    id_by_hash: fn(&mut AnyConnection, &str) -> diesel::QueryResult<Option<i64>>,
    version_exists: fn(&mut AnyConnection, &str, i32) -> diesel::QueryResult<bool>,
}

/// The import rules both catalogues share, in one write transaction: identical content is
/// already present (nothing changes); other content under a stored code and version is
/// refused; otherwise `insert` stores it and the import is audited.
fn store_version(
    conn: &mut AnyConnection,
    new: NewVersion<'_>,
    queries: VersionQueries,
    actor: Actor<'_>,
    insert: impl FnOnce(&mut AnyConnection, i32) -> diesel::QueryResult<i64>,
) -> Result<Imported, ImportError> {
    db::write_transaction(conn, |conn| {
        if let Some(id) = (queries.id_by_hash)(conn, new.hash)? {
            return Ok(Imported::AlreadyPresent(id));
        }
        let version = to_i32(new.version);
        if (queries.version_exists)(conn, new.code, version)? {
            return Err(ImportError::VersionExists {
                file: new.file_name.to_owned(),
                code: new.code.to_owned(),
                version: new.version,
            });
        }
        let id = insert(conn, version)?;
        let action = format!("{}:import", new.entity);
        record(
            conn,
            &AuditEntry::new(actor.user_id, actor.label, &action, new.entity, id)
                .after(new.details),
        )?;
        Ok(Imported::New(id))
    })
}

/// Loads the bundled instruments and methodologies that are not stored yet (matched by content
/// hash, so this is cheap and idempotent at every start).
pub fn load_bundled(conn: &mut AnyConnection) -> Result<usize, ImportError> {
    let actor = Actor::service("bundled");
    let mut added = 0;
    for file in &bundled::INSTRUMENTS {
        let checked = check_instrument(file.name, file.bytes)?;
        if matches!(
            import_instrument(conn, file.name, &checked, true, actor)?,
            Imported::New(_)
        ) {
            added += 1;
        }
    }
    for file in &bundled::METHODOLOGIES {
        let checked = check_methodology(file.name, file.bytes)?;
        if matches!(
            import_methodology(conn, file.name, &checked, true, actor)?,
            Imported::New(_)
        ) {
            added += 1;
        }
    }
    Ok(added)
}

/// Which of the two catalogues a file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogKind {
    /// Questionnaires.
    Instrument,
    /// Scoring methodologies.
    Methodology,
}

/// A stored version's file as it was imported: its download name (`CODE-vVERSION.toml`) and
/// its TOML text; `None` when there is no such version.
pub fn source_file(
    conn: &mut AnyConnection,
    kind: CatalogKind,
    id: i64,
) -> Result<Option<(String, String)>, AppError> {
    let stored = match kind {
        CatalogKind::Instrument => db::instruments::with_source(conn, id)?
            .map(|(summary, text)| (summary.code, summary.version, text)),
        CatalogKind::Methodology => db::methodologies::with_source(conn, id)?
            .map(|(summary, text)| (summary.code, summary.version, text)),
    };
    Ok(stored.map(|(code, version, text)| (format!("{code}-v{version}.toml"), text)))
}

/// A stored questionnaire version as an XLSForm workbook for ODK Collect and KoboCollect: its
/// download name (`CODE-vVERSION.xlsx`) and bytes; `None` when there is no such version.
/// Importing the workbook again gives the same content hash.
pub fn xlsform_file(
    conn: &mut AnyConnection,
    id: i64,
) -> Result<Option<(String, Vec<u8>)>, AppError> {
    let Some(stored) = load_instrument(conn, id)? else {
        return Ok(None);
    };
    let i = &stored.instrument;
    let bytes = export_xlsform(i).map_err(AppError::internal)?;
    Ok(Some((format!("{}-v{}.xlsx", i.code(), i.version()), bytes)))
}

/// Questionnaire `code` at `version`, or at its latest stored version when none is given.
pub fn find_instrument(
    conn: &mut AnyConnection,
    code: &str,
    version: Option<u32>,
) -> Result<Option<InstrumentSummary>, AppError> {
    Ok(db::instruments::list(conn)?
        .into_iter()
        .filter(|s| s.code == code)
        .filter(|s| version.is_none_or(|v| i64::from(s.version) == i64::from(v)))
        .max_by_key(|s| s.version))
}

/// A stored instrument version, parsed back into its domain type.
#[derive(Debug, Clone)]
pub struct StoredInstrument {
    /// The row without its source.
    pub summary: InstrumentSummary,
    /// The parsed instrument.
    pub instrument: Instrument,
    /// The stored TOML.
    pub source_text: String,
}

/// Reads and parses a stored instrument version.
pub fn load_instrument(
    conn: &mut AnyConnection,
    id: i64,
) -> Result<Option<StoredInstrument>, AppError> {
    let Some((summary, source_text)) = db::instruments::with_source(conn, id)? else {
        return Ok(None);
    };
    let instrument = parse_instrument(id, &summary, &source_text)?;
    Ok(Some(StoredInstrument {
        summary,
        instrument: Instrument::clone(&instrument),
        source_text,
    }))
}

/// A stored instrument version, parsed, shared rather than copied: what the respondent pages
/// read on every request.
pub fn shared_instrument(
    conn: &mut AnyConnection,
    id: i64,
) -> Result<Option<Arc<Instrument>>, AppError> {
    let Some((summary, source_text)) = db::instruments::with_source(conn, id)? else {
        return Ok(None);
    };
    parse_instrument(id, &summary, &source_text).map(Some)
}

/// Parses a stored instrument through the cache.
fn parse_instrument(
    id: i64,
    summary: &InstrumentSummary,
    source_text: &str,
) -> Result<Arc<Instrument>, AppError> {
    let name = format!("{}-v{}.toml", summary.code, summary.version);
    parsed_once(&INSTRUMENTS_PARSED, source_text, || {
        Instrument::from_toml(source_text.as_bytes(), &name).map_err(|errors| {
            // Stored sources were validated on import; failing now means the parser changed.
            AppError::internal(anyhow::anyhow!(
                "stored instrument {id} no longer parses: {}",
                errors.len()
            ))
        })
    })
}

/// Parsed files by the SHA-256 of their text. Stored versions never change and the same text
/// always parses to the same value, so dashboards and exports parse each file once per process
/// instead of on every request (keyed by content, not id, so several databases in one process
/// cannot mix them up). It is the only cache of parsed values: the application state's map
/// from instrument id (`AppState::instrument`) holds these same values, to skip the lookup.
type ParsedCache<T> =
    std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<[u8; 32], Arc<T>>>>;

static INSTRUMENTS_PARSED: ParsedCache<Instrument> = std::sync::OnceLock::new();
static METHODOLOGIES_PARSED: ParsedCache<Methodology> = std::sync::OnceLock::new();

fn parsed_once<T>(
    cache: &ParsedCache<T>,
    source_text: &str,
    parse: impl FnOnce() -> Result<T, AppError>,
) -> Result<Arc<T>, AppError> {
    use sha2::Digest;
    let key: [u8; 32] = sha2::Sha256::digest(source_text.as_bytes()).into();
    let cache = cache.get_or_init(Default::default);
    if let Some(found) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(found);
    }
    let parsed = Arc::new(parse()?);
    if let Ok(mut c) = cache.lock() {
        c.insert(key, parsed.clone());
    }
    Ok(parsed)
}

/// A stored methodology version, parsed back into its domain type.
#[derive(Debug, Clone)]
pub struct StoredMethodology {
    /// The row without its source.
    pub summary: MethodologySummary,
    /// The parsed methodology.
    pub methodology: Methodology,
    /// The stored TOML.
    pub source_text: String,
}

/// Reads and parses a stored methodology version.
pub fn load_methodology(
    conn: &mut AnyConnection,
    id: i64,
) -> Result<Option<StoredMethodology>, AppError> {
    let Some((summary, source_text)) = db::methodologies::with_source(conn, id)? else {
        return Ok(None);
    };
    let name = format!("{}-v{}.toml", summary.code, summary.version);
    let methodology = parsed_once(&METHODOLOGIES_PARSED, &source_text, || {
        Methodology::parse(&name, source_text.as_bytes()).map_err(|errors| {
            AppError::internal(anyhow::anyhow!(
                "stored methodology {id} no longer parses: {}",
                errors.len()
            ))
        })
    })?;
    Ok(Some(StoredMethodology {
        summary,
        methodology: Methodology::clone(&methodology),
        source_text,
    }))
}

/// Every stored questionnaire and methodology version, for the catalogue's list.
pub fn listing(
    conn: &mut AnyConnection,
) -> Result<(Vec<InstrumentSummary>, Vec<MethodologySummary>), AppError> {
    Ok((db::instruments::list(conn)?, db::methodologies::list(conn)?))
}

/// A stored questionnaire with every stored questionnaire version beside it (the preview
/// links to the other versions and compares with them); `None` when there is no such id.
pub fn instrument_with_versions(
    conn: &mut AnyConnection,
    id: i64,
) -> Result<Option<(StoredInstrument, Vec<InstrumentSummary>)>, AppError> {
    let Some(stored) = load_instrument(conn, id)? else {
        return Ok(None);
    };
    Ok(Some((stored, db::instruments::list(conn)?)))
}

/// The largest instrument or methodology file accepted through an upload.
pub fn max_upload_bytes() -> usize {
    MAX_XLSX_BYTES.max(MAX_FILE_BYTES)
}

/// One respondent group of a round with its questionnaire and methodology, parsed; 404 when the
/// round does not survey that group.
pub fn load_round_group(
    conn: &mut AnyConnection,
    round_id: i64,
    group: &str,
) -> Result<(db::rounds::RoundGroupRow, Instrument, Methodology), AppError> {
    let g = db::rounds::groups(conn, round_id)?
        .into_iter()
        .find(|g| g.group_code == group)
        .ok_or(AppError::NotFound)?;
    let instrument = load_instrument(conn, g.instrument_id)?
        .ok_or(AppError::NotFound)?
        .instrument;
    let methodology = load_methodology(conn, g.methodology_id)?
        .ok_or(AppError::NotFound)?
        .methodology;
    Ok((g, instrument, methodology))
}
