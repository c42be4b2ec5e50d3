//! Downloads of a round: small files (aggregates, codebooks, syntax) made on request, and
//! export jobs that stream microdata to a file in the background with visible progress, so
//! no request ever waits on a large export.

mod background;
mod files;
mod rows;
mod small;
mod stream;
mod variables;

pub use background::{run, start};
pub use files::{
    ExportFile, JobFile, finished_file, includes_excluded, job_file, owned, recent_of_user, started,
};
pub use rows::{RowBuf, RowPlan};
pub use small::small_file;
pub use variables::{ItemLabels, item_labels, variables};

use super::CsvOptions;
use super::microdata::Variant;
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use serde::{Deserialize, Serialize};

/// What an export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportKind {
    /// One row per response (respondent-level, anonymous).
    Microdata,
    /// Scores, rankings, components, year-over-year and items.
    Aggregates,
    /// Variables, labels and the item → criterion map.
    Codebook,
    /// SPSS, Stata or R syntax applying the labels.
    Syntax,
    /// A group's score split by a categorical question, after disclosure control.
    Breakdown,
}

impl ExportKind {
    /// The kind with this stored code.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "microdata" => Some(Self::Microdata),
            "aggregates" => Some(Self::Aggregates),
            "codebook" => Some(Self::Codebook),
            "syntax" => Some(Self::Syntax),
            "breakdown" => Some(Self::Breakdown),
            _ => None,
        }
    }

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Microdata => "microdata",
            Self::Aggregates => "aggregates",
            Self::Codebook => "codebook",
            Self::Syntax => "syntax",
            Self::Breakdown => "breakdown",
        }
    }

    /// The catalogue key of its name on pages ("Dữ liệu vi mô", not `microdata`).
    pub fn label_key(self) -> &'static str {
        match self {
            Self::Microdata => "export.kind.microdata",
            Self::Aggregates => "export.kind.aggregates",
            Self::Codebook => "export.kind.codebook",
            Self::Syntax => "export.kind.syntax",
            Self::Breakdown => "export.kind.breakdown",
        }
    }

    fn formats(self) -> &'static [&'static str] {
        match self {
            Self::Microdata => &["csv", "xlsx"],
            Self::Aggregates => &["csv", "xlsx", "json"],
            Self::Codebook => &["csv", "html"],
            Self::Syntax => &["sps", "do", "r"],
            Self::Breakdown => &["csv"],
        }
    }

    fn needs_group(self) -> bool {
        self != Self::Aggregates
    }

    /// Whether the kind can describe the file with excluded responses (microdata and the files
    /// that read it); aggregates and breakdowns are always as scored.
    fn has_variants(self) -> bool {
        matches!(self, Self::Microdata | Self::Codebook | Self::Syntax)
    }
}

/// The `include_excluded` switch of a form or query: `1`, `true`, `on` or `yes` turn it on;
/// anything else, or no value, keeps the file as scored.
pub fn include_excluded_param(value: Option<&str>) -> bool {
    value.is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "on" | "yes"
        )
    })
}

/// Refuses the variant with excluded responses for a kind that has none.
pub(super) fn check_variant(kind: ExportKind, include_excluded: bool) -> AppResult<()> {
    if include_excluded && !kind.has_variants() {
        return Err(AppError::BadRequest("export.excluded_not_available"));
    }
    Ok(())
}

/// A parsed export request: a known kind, a format it supports and (except aggregates) the
/// respondent group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportRequest {
    /// What.
    pub kind: ExportKind,
    /// File format (`csv`, `xlsx`, `json`, `html`, `sps`, `do`, `r`).
    pub format: String,
    /// Respondent group code.
    pub group: Option<String>,
    /// Aggregate table for CSV (`scores` by default).
    pub table: Option<String>,
    /// The question a breakdown splits by.
    #[serde(default)]
    pub by: Option<String>,
    /// CSV options.
    pub csv: CsvOptions,
    /// Label language of codebooks and syntax files.
    pub lang: Lang,
    /// Microdata (and the codebook and syntax describing it) of every response, with the
    /// status columns; false (the default, also for requests stored before it existed) keeps
    /// the file as scored.
    #[serde(default)]
    pub include_excluded: bool,
}

impl ExportRequest {
    /// Checks kind, format and group; the error key says what is wrong. A breakdown also
    /// names the question it splits by ([`Self::split_by`]).
    pub fn parse(kind: &str, format: &str, group: &str, csv: CsvOptions) -> AppResult<Self> {
        let kind = ExportKind::parse(kind).ok_or(AppError::BadRequest("export.bad_kind"))?;
        let format = format.to_ascii_lowercase();
        if !kind.formats().contains(&format.as_str()) {
            return Err(AppError::BadRequest("export.bad_format"));
        }
        let group = Some(group.trim().to_owned()).filter(|g| !g.is_empty());
        if kind.needs_group() && group.is_none() {
            return Err(AppError::BadRequest("export.group_required"));
        }
        Ok(Self {
            kind,
            format,
            group,
            table: None,
            by: None,
            csv,
            lang: Lang::Vi,
            include_excluded: false,
        })
    }

    /// Asks for every response with exclusions marked ([`Variant::WithExclusions`]) when `on`;
    /// refused for kinds without variants (aggregates, breakdowns).
    pub fn include_excluded(mut self, on: bool) -> AppResult<Self> {
        check_variant(self.kind, on)?;
        self.include_excluded = on;
        Ok(self)
    }

    /// Which responses the file holds.
    pub fn variant(&self) -> Variant {
        Variant::from_include_excluded(self.include_excluded)
    }

    /// Sets the question a breakdown splits by (ignored by other kinds). A breakdown without
    /// one is refused here, before a job is queued.
    pub fn split_by(mut self, by: Option<&str>) -> AppResult<Self> {
        self.by = by
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .map(str::to_owned);
        if self.kind == ExportKind::Breakdown && self.by.is_none() {
            return Err(AppError::BadRequest("results.bad_breakdown"));
        }
        Ok(self)
    }

    /// The download name, e.g. `round-3-leader-microdata.csv`, or
    /// `round-3-leader-microdata-with-excluded.csv` for the file with excluded responses.
    pub fn file_name(&self, round_id: i64) -> String {
        let ext = if self.format == "r" {
            "R"
        } else {
            &self.format
        };
        let suffix = self.variant().file_suffix();
        match &self.group {
            Some(g) => format!("round-{round_id}-{g}-{}{suffix}.{ext}", self.kind.code()),
            None => format!("round-{round_id}-{}{suffix}.{ext}", self.kind.code()),
        }
    }

    fn content_type(&self) -> &'static str {
        match self.format.as_str() {
            "csv" => "text/csv; charset=utf-8",
            "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "json" => "application/json",
            "html" => "text/html; charset=utf-8",
            _ => "text/plain; charset=utf-8",
        }
    }
}

/// A small file named in a download URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRequest {
    kind: ExportKind,
    format: String,
    group: Option<String>,
    table: Option<String>,
    by: Option<String>,
    include_excluded: bool,
}

impl FileRequest {
    /// Parses `scores.csv`, `codebook-leader.html`, `syntax-leader.sps`,
    /// `breakdown-leader.csv` and the like.
    pub fn parse(file: &str, table: Option<&str>, by: Option<&str>) -> Option<Self> {
        let (stem, ext) = file.rsplit_once('.')?;
        let ext = ext.to_ascii_lowercase();
        let (kind, group) = match stem.split_once('-') {
            None if stem == "scores" => (ExportKind::Aggregates, None),
            Some(("codebook", g)) => (ExportKind::Codebook, Some(g.to_owned())),
            Some(("syntax", g)) => (ExportKind::Syntax, Some(g.to_owned())),
            Some(("breakdown", g)) => (ExportKind::Breakdown, Some(g.to_owned())),
            _ => return None,
        };
        kind.formats().contains(&ext.as_str()).then(|| Self {
            kind,
            format: ext,
            group,
            table: table.map(str::to_owned),
            by: by.map(str::to_owned),
            include_excluded: false,
        })
    }

    /// Describes the microdata file with excluded responses (`?include_excluded=1`) when `on`:
    /// its codebook lists the status columns, its syntax reads that file. Refused by
    /// [`small_file`] for aggregates and breakdowns.
    pub fn with_excluded(mut self, on: bool) -> Self {
        self.include_excluded = on;
        self
    }
}
