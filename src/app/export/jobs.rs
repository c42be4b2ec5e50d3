//! Downloads of a round: small files (aggregates, codebooks, syntax) made on request, and
//! export jobs that stream microdata to a file in the background with visible progress, so
//! no request ever waits on a large export.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::microdata::{
    MicrodataCsv, MicrodataXlsx, Record, STATUS_COLUMNS, ValueLabel, VarKind, Variable, Variant,
    status_values, status_variables,
};
use super::{CsvOptions, aggregates, codebook, syntax};
use crate::app::catalog;
use crate::app::results::{self, Scope, Viewer};
use crate::db::{self, AnyConnection};
use crate::domain::answers::{AnswerValue, Answers};
use crate::domain::export_job::ExportJobStatus;
use crate::domain::instrument::{Instrument, QuestionKind, Text};
use crate::domain::methodology::Methodology;
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::server::state::AppState;

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
    fn parse(raw: &str) -> Option<Self> {
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
fn check_variant(kind: ExportKind, include_excluded: bool) -> AppResult<()> {
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

/// Makes a small file: aggregates, codebook or syntax. Returns name, content type and bytes.
pub fn small_file(
    conn: &mut AnyConnection,
    round_id: i64,
    viewer: Viewer,
    file: &FileRequest,
    csv: CsvOptions,
    lang: Lang,
) -> AppResult<(String, &'static str, Vec<u8>)> {
    check_variant(file.kind, file.include_excluded)?;
    let request = ExportRequest {
        kind: file.kind,
        format: file.format.clone(),
        group: file.group.clone(),
        table: file.table.clone(),
        by: file.by.clone(),
        csv,
        lang,
        include_excluded: file.include_excluded,
    };
    let bytes = render_small(conn, round_id, viewer, &request)?;
    Ok((request.file_name(round_id), request.content_type(), bytes))
}

fn render_small(
    conn: &mut AnyConnection,
    round_id: i64,
    viewer: Viewer,
    request: &ExportRequest,
) -> AppResult<Vec<u8>> {
    match request.kind {
        ExportKind::Aggregates => {
            // The same visibility rules as the pages: published for all, live for staff.
            let r = results::round_results(conn, round_id, viewer)?;
            let tables = aggregates::tables(&r);
            match request.format.as_str() {
                "xlsx" => aggregates::to_xlsx(&tables).map_err(AppError::internal),
                "json" => serde_json::to_vec_pretty(&aggregates::to_json(&tables))
                    .map_err(AppError::internal),
                _ => {
                    let name = request.table.as_deref().unwrap_or("scores");
                    let table = tables
                        .iter()
                        .find(|t| t.name == name)
                        .ok_or(AppError::NotFound)?;
                    aggregates::to_csv(table, &request.csv).map_err(AppError::internal)
                }
            }
        }
        ExportKind::Codebook | ExportKind::Syntax => {
            let (variables, title) = group_variables(conn, round_id, viewer, request)?;
            let lang = request.lang;
            let mut opts =
                syntax::SyntaxOptions::new(csv_name(round_id, request), request.csv, lang);
            opts.variant = request.variant();
            let text = match (request.kind, request.format.as_str()) {
                (ExportKind::Codebook, "csv") => {
                    return codebook::codebook_csv(&variables, &request.csv)
                        .map_err(AppError::internal);
                }
                (ExportKind::Codebook, _) => codebook::codebook_html(
                    &variables,
                    &title,
                    request.variant(),
                    &codebook::CodebookLabels::bilingual(),
                )
                .into_string(),
                (_, "sps") => syntax::spss_syntax(&variables, &opts).map_err(AppError::internal)?,
                (_, "do") => syntax::stata_syntax(&variables, &opts).map_err(AppError::internal)?,
                _ => syntax::r_syntax(&variables, &opts).map_err(AppError::internal)?,
            };
            Ok(text.into_bytes())
        }
        ExportKind::Breakdown => {
            let visible = results::round_results(conn, round_id, viewer)?;
            let bd = crate::app::results::breakdown::breakdown(
                conn,
                &visible,
                request.group.as_deref().unwrap_or_default(),
                request.by.as_deref().unwrap_or_default(),
            )?;
            breakdown_csv(&bd, &request.csv).map_err(AppError::internal)
        }
        ExportKind::Microdata => Err(AppError::BadRequest("export.use_job")),
    }
}

/// A protected breakdown in long form: one row per unit (or `TOTAL`) and category, hidden
/// cells with empty numbers and `suppressed` = 1.
fn breakdown_csv(
    bd: &crate::app::results::breakdown::Breakdown,
    opts: &CsvOptions,
) -> anyhow::Result<Vec<u8>> {
    use crate::app::results::breakdown::PublicCell;
    let mut out = Vec::new();
    {
        let mut w = super::microdata::csv_writer(&mut out, opts)?;
        w.write_record([
            "unit",
            "unit_name",
            "question",
            "answer",
            "answer_label",
            "n",
            "percent",
            "suppressed",
        ])?;
        let mut row = |unit: &str,
                       name: &str,
                       answer: &str,
                       label: &str,
                       e: Option<crate::domain::disclosure::Entry>| {
            let c = e.map(PublicCell::from);
            w.write_record([
                super::safe_cell(unit).as_ref(),
                super::safe_cell(name).as_ref(),
                bd.by.as_str(),
                super::safe_cell(answer).as_ref(),
                super::safe_cell(label).as_ref(),
                &c.and_then(|c| c.n)
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
                &c.and_then(|c| c.percent)
                    .map(|p| opts.float(p))
                    .unwrap_or_default(),
                if c.is_some_and(|c| c.suppressed) {
                    "1"
                } else {
                    "0"
                },
            ])
        };
        let total = ("TOTAL".to_owned(), "Tổng / Total".to_owned());
        for (i, (code, vi, _)) in bd.units.iter().enumerate() {
            for (c, (value, label)) in bd.categories.iter().enumerate() {
                row(code, vi, value, &label.vi, bd.table.cell(i, c))?;
            }
            row(code, vi, "TOTAL", "Tổng", bd.table.row_total(i))?;
        }
        for (c, (value, label)) in bd.categories.iter().enumerate() {
            row(
                &total.0,
                &total.1,
                value,
                &label.vi,
                bd.table.column_total(c),
            )?;
        }
        row(&total.0, &total.1, "TOTAL", "Tổng", bd.table.grand_total())?;
        w.flush()?;
    }
    Ok(out)
}

/// The microdata CSV file name the syntax files read.
fn csv_name(round_id: i64, request: &ExportRequest) -> String {
    ExportRequest {
        kind: ExportKind::Microdata,
        format: "csv".to_owned(),
        ..request.clone()
    }
    .file_name(round_id)
}

/// Checks the viewer may have respondent-level files of the round and group, and returns
/// the group's variables and a title. The file with excluded responses starts its variables
/// with the [`status_variables`], and only those who review data quality (administrators and
/// analysts) may have it: coordinators never see exclusions or flags.
fn group_variables(
    conn: &mut AnyConnection,
    round_id: i64,
    viewer: Viewer,
    request: &ExportRequest,
) -> AppResult<(Vec<Variable>, String)> {
    if viewer == Viewer::Public {
        return Err(AppError::LoginRequired);
    }
    if !viewer.may_download_microdata() {
        return Err(AppError::Forbidden);
    }
    if request.include_excluded && !may_see_exclusions(viewer) {
        return Err(AppError::Forbidden);
    }
    let round = db::rounds::by_id(conn, round_id)?.ok_or(AppError::NotFound)?;
    let group = request.group.as_deref().unwrap_or_default();
    let (_, instrument, methodology) = catalog::load_round_group(conn, round_id, group)?;
    let title = format!(
        "{} — {} ({} v{})",
        round.name_vi,
        group,
        instrument.code(),
        instrument.version()
    );
    let mut vars = variables(&instrument, &methodology, group);
    if request.include_excluded {
        vars.splice(0..0, status_variables());
    }
    Ok((vars, title))
}

/// Whether the viewer reviews data quality (the quality page's roles), and so may have the
/// exclusions, their reasons and the flags.
fn may_see_exclusions(viewer: Viewer) -> bool {
    matches!(
        viewer,
        Viewer::Staff {
            role: crate::domain::account::Role::Admin | crate::domain::account::Role::Analyst,
            ..
        }
    )
}

/// The microdata columns of an instrument: one per question or battery item, one 0/1 column
/// per option of a multiple-choice question; scored items carry their criterion and
/// component from the methodology.
pub fn variables(instrument: &Instrument, m: &Methodology, group: &str) -> Vec<Variable> {
    let criterion_of = |item: &str| -> (Option<String>, Option<String>) {
        let rule = m
            .group(group)
            .and_then(|g| g.items.iter().find(|r| r.item == item));
        if let Some(rule) = rule {
            let component = m
                .criteria
                .iter()
                .find(|c| c.code == rule.criterion)
                .map(|c| c.component.clone());
            return (Some(rule.criterion.clone()), component);
        }
        let element = m.sipas.as_ref().filter(|s| s.group == group).and_then(|s| {
            s.elements
                .iter()
                .find(|e| e.items.iter().any(|i| i == item))
                .map(|e| (e.code.clone(), e.part.clone()))
        });
        element.map_or((None, None), |(e, p)| (Some(e), Some(p)))
    };
    let labels = |options: &[crate::domain::instrument::ChoiceOption]| -> Vec<ValueLabel> {
        options
            .iter()
            .map(|o| ValueLabel {
                value: o.value.clone(),
                label: o.label.clone(),
                valid: o.valid,
            })
            .collect()
    };
    let mut out = Vec::new();
    for section in instrument.sections() {
        for q in &section.questions {
            let var = |name: &str, label: super::microdata::Text, kind, value_labels| {
                let (criterion, component) = criterion_of(name);
                Variable {
                    name: name.to_owned(),
                    question: q.code.clone(),
                    section: section.code.clone(),
                    label,
                    kind,
                    value_labels,
                    criterion,
                    component,
                }
            };
            let options = q.options().unwrap_or_default();
            match &q.kind {
                QuestionKind::Battery { items, .. } => {
                    for item in items {
                        out.push(var(
                            &item.code,
                            item.label.clone(),
                            VarKind::Categorical,
                            labels(&options),
                        ));
                    }
                }
                QuestionKind::Multiple { .. } => {
                    for o in &options {
                        let label = super::microdata::Text::new(
                            format!("{} — {}", q.label.vi, o.label.vi),
                            format!("{} — {}", q.label.en, o.label.en),
                        );
                        out.push(var(
                            &format!("{}__{}", q.code, o.value),
                            label,
                            VarKind::MultipleDummy,
                            Vec::new(),
                        ));
                    }
                }
                QuestionKind::Single { .. } | QuestionKind::YesNo { .. } => {
                    out.push(var(
                        &q.code,
                        q.label.clone(),
                        VarKind::Categorical,
                        labels(&options),
                    ));
                }
                QuestionKind::Integer { .. } => {
                    out.push(var(&q.code, q.label.clone(), VarKind::Integer, Vec::new()))
                }
                QuestionKind::Decimal { .. } => {
                    out.push(var(&q.code, q.label.clone(), VarKind::Decimal, Vec::new()))
                }
                QuestionKind::Text { .. } | QuestionKind::LongText { .. } => {
                    out.push(var(&q.code, q.label.clone(), VarKind::Text, Vec::new()));
                }
                QuestionKind::Date => {
                    out.push(var(&q.code, q.label.clone(), VarKind::Date, Vec::new()))
                }
            }
        }
    }
    out
}

/// One response's values in the order of `variables`.
pub fn values(variables: &[Variable], answers: &Answers) -> Vec<Option<String>> {
    variables
        .iter()
        .map(|v| {
            if v.kind == VarKind::MultipleDummy {
                // The dummy is named `{question}__{option}`; read the option back without allocating.
                let option = v
                    .name
                    .strip_prefix(v.question.as_str())
                    .and_then(|rest| rest.strip_prefix("__"))?;
                return match answers.get(&v.question)? {
                    AnswerValue::Choices(chosen) => Some(
                        if chosen.iter().any(|c| c == option) {
                            "1"
                        } else {
                            "0"
                        }
                        .to_owned(),
                    ),
                    _ => None,
                };
            }
            Some(match answers.get(&v.name)? {
                AnswerValue::Choice(s) | AnswerValue::Decimal(s) | AnswerValue::Text(s) => {
                    s.clone()
                }
                AnswerValue::Choices(all) => all.join(" "),
                AnswerValue::Integer(n) => n.to_string(),
                AnswerValue::Date(d) => d.to_string(),
            })
        })
        .collect()
}

/// The labels of each scored item, for charts: (group, item) → question text and options.
pub type ItemLabels =
    BTreeMap<(String, String), (Text, Vec<crate::domain::instrument::ChoiceOption>)>;

/// Question texts and option labels of every answer code of the round's instruments.
pub fn item_labels(conn: &mut AnyConnection, round_id: i64) -> AppResult<ItemLabels> {
    let mut out = ItemLabels::new();
    for g in db::rounds::groups(conn, round_id)? {
        let Some(stored) = catalog::load_instrument(conn, g.instrument_id)? else {
            continue;
        };
        for q in stored.instrument.questions() {
            let options = q.options().unwrap_or_default();
            match &q.kind {
                QuestionKind::Battery { items, .. } => {
                    for item in items {
                        out.insert(
                            (g.group_code.clone(), item.code.clone()),
                            (item.label.clone(), options.clone()),
                        );
                    }
                }
                _ => {
                    out.insert(
                        (g.group_code.clone(), q.code.clone()),
                        (q.label.clone(), options),
                    );
                }
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Background jobs
// ---------------------------------------------------------------------------------------------

/// Rows read per database round trip; progress is recorded once per page.
const PAGE: i64 = 2_000;

/// The path of a job's file while it is written and once it is done.
fn paths(dir: &std::path::Path, job: &str) -> (PathBuf, PathBuf) {
    (dir.join(format!("{job}.part")), dir.join(job))
}

/// Queues an export for the viewer and starts it on a background thread. Returns the job id.
pub async fn start(
    state: &web::Data<AppState>,
    viewer: Viewer,
    round_id: i64,
    request: ExportRequest,
) -> AppResult<String> {
    let Viewer::Staff { user_id, .. } = viewer else {
        return Err(AppError::LoginRequired);
    };
    let job = uuid::Uuid::new_v4().simple().to_string();
    let job_id = job.clone();
    let params = serde_json::to_string(&request).map_err(AppError::internal)?;
    let checked = request.clone();
    state
        .db(move |conn| {
            // Permissions and existence are checked now, so the user gets the error at once.
            if checked.kind == ExportKind::Microdata || checked.kind.needs_group() {
                group_variables(conn, round_id, viewer, &checked)?;
                if checked.kind == ExportKind::Breakdown {
                    let group = checked.group.as_deref().unwrap_or_default();
                    let questions =
                        crate::app::results::breakdown::breakdown_questions(conn, round_id, group)?;
                    let by = checked.by.as_deref().unwrap_or_default();
                    if !questions.iter().any(|(code, _)| code == by) {
                        return Err(AppError::BadRequest("results.bad_breakdown"));
                    }
                }
            } else {
                results::round_results(conn, round_id, viewer)?;
            }
            db::export_jobs::insert(
                conn,
                &job_id,
                user_id,
                round_id,
                checked.kind.code(),
                &checked.format,
                &params,
                db::now(),
            )?;
            Ok(())
        })
        .await?;
    let pool = state.pool.clone();
    let dir = state.settings.export_dir.clone();
    let secret = state.secret.clone();
    let job_id = job.clone();
    std::thread::Builder::new()
        .name("export".to_owned())
        .spawn(move || {
            let outcome = (|| -> AppResult<()> {
                let mut conn = pool.get()?;
                run(&mut conn, &dir, &secret, &job_id, round_id, viewer, &request)
            })();
            if let Err(e) = outcome {
                tracing::error!(job = %job_id, error = %crate::error::cause_chain(&e), "export failed");
                if let Ok(mut conn) = pool.get() {
                    let message = match e {
                        AppError::Internal(_) | AppError::Unavailable(_) => "the export failed; please try again",
                        _ => "the export is not allowed or the round changed",
                    };
                    let _ = db::export_jobs::fail(&mut conn, &job_id, message, db::now());
                }
            }
        })
        .map_err(AppError::internal)?;
    Ok(job)
}

/// Runs one job to completion: writes `JOB.part`, then renames it to `JOB` and marks it done.
/// A job that fails leaves no `.part` file behind.
pub fn run(
    conn: &mut AnyConnection,
    dir: &std::path::Path,
    secret: &crate::app::auth::tokens::SecretKey,
    job: &str,
    round_id: i64,
    viewer: Viewer,
    request: &ExportRequest,
) -> AppResult<()> {
    std::fs::create_dir_all(dir).map_err(AppError::internal)?;
    let (part, done) = paths(dir, job);
    let outcome = (|| -> AppResult<()> {
        let file = std::fs::File::create(&part).map_err(AppError::internal)?;
        let mut out = std::io::BufWriter::with_capacity(256 * 1024, file);
        let rows = if request.kind == ExportKind::Microdata {
            microdata(conn, &mut out, secret, job, round_id, viewer, request)?
        } else {
            db::export_jobs::claim(conn, job, 1)?;
            out.write_all(&render_small(conn, round_id, viewer, request)?)
                .map_err(AppError::internal)?;
            1
        };
        let file = out
            .into_inner()
            .map_err(|e| AppError::internal(e.into_error()))?;
        file.sync_all().map_err(AppError::internal)?;
        std::fs::rename(&part, &done).map_err(AppError::internal)?;
        db::export_jobs::finish(conn, job, &request.file_name(round_id), rows, db::now())?;
        Ok(())
    })();
    if outcome.is_err() {
        // Not found is fine: the failure may have come before the file was created.
        let _ = std::fs::remove_file(&part);
    }
    outcome
}

/// Streams one group's responses as microdata: one page of rows in memory at a time. As
/// scored, only the responses the scores count; with exclusions, every response with its
/// status columns (the exclusion reasons are read once per page, for that page's excluded
/// responses only).
fn microdata(
    conn: &mut AnyConnection,
    out: &mut std::io::BufWriter<std::fs::File>,
    secret: &crate::app::auth::tokens::SecretKey,
    job: &str,
    round_id: i64,
    viewer: Viewer,
    request: &ExportRequest,
) -> AppResult<i64> {
    let (variables, _) = group_variables(conn, round_id, viewer, request)?;
    let group = request.group.clone().unwrap_or_default();
    let group_id = db::rounds::group_id(conn, &group)?.ok_or(AppError::NotFound)?;
    let units = db::rounds::units(conn, round_id)?;
    let scope = results::scope_of(conn, viewer)?;
    let unit_ids: Option<Vec<i64>> = match &scope {
        Scope::All => None,
        Scope::Only(codes) => Some(
            units
                .iter()
                .filter(|u| codes.contains(&u.code))
                .map(|u| u.id)
                .collect(),
        ),
    };
    let by_id: BTreeMap<i64, &db::units::UnitRow> = units.iter().map(|u| (u.id, u)).collect();
    let with_excluded = request.include_excluded;
    let status = if with_excluded {
        STATUS_COLUMNS.len()
    } else {
        0
    };
    let questions = variables.get(status..).unwrap_or_default();
    let total = db::responses::count_for_microdata(
        conn,
        round_id,
        group_id,
        unit_ids.as_deref(),
        with_excluded,
    )?;
    if !db::export_jobs::claim(conn, job, total)? {
        return Err(AppError::internal(anyhow::anyhow!(
            "job {job} was already claimed"
        )));
    }
    let mut written = 0i64;
    // Every row goes to `emit`; one page of responses is in memory at a time.
    let mut each_record = |emit: &mut dyn FnMut(&Record) -> anyhow::Result<()>| -> AppResult<()> {
        let mut after = 0;
        loop {
            let page = db::responses::page_for_microdata(
                conn,
                round_id,
                group_id,
                unit_ids.as_deref(),
                with_excluded,
                (after, PAGE),
            )?;
            let Some(last) = page.last() else {
                return Ok(());
            };
            after = last.id;
            let reasons = if with_excluded {
                let excluded: Vec<i64> = page.iter().filter(|r| r.excluded).map(|r| r.id).collect();
                db::responses::exclusion_reasons(conn, &excluded)?
            } else {
                BTreeMap::new()
            };
            for row in &page {
                let answers = Answers::from_json(&row.answers).map_err(AppError::internal)?;
                let unit = by_id.get(&row.unit_id);
                let mut row_values = Vec::with_capacity(variables.len());
                if with_excluded {
                    // Unreadable stored flags are reported as none rather than failing the
                    // export: flags only inform.
                    let flags = row
                        .flags
                        .as_deref()
                        .and_then(|f| crate::domain::quality::Flags::from_json(f).ok())
                        .map(|f| f.codes())
                        .unwrap_or_default();
                    let reason = reasons.get(&row.id).map(String::as_str);
                    row_values.extend(status_values(row.excluded, reason, &flags));
                }
                row_values.extend(values(questions, &answers));
                emit(&Record {
                    // A keyed hash: stable across exports, meaningless without the server's
                    // key, and unrelated to receipts, invitations or submission order.
                    response_id: secret
                        .sign("response-id", &row.id.to_string())
                        .chars()
                        .take(16)
                        .collect(),
                    unit: unit.map(|u| u.code.clone()).unwrap_or_default(),
                    unit_name: unit.map(|u| u.name_vi.clone()).unwrap_or_default(),
                    region: unit.and_then(|u| u.region_code.clone()).unwrap_or_default(),
                    group: group.clone(),
                    channel: row.source.clone(),
                    submitted_date: row.submitted_on.to_string(),
                    values: row_values,
                })
                .map_err(AppError::internal)?;
                written += 1;
            }
            db::export_jobs::set_progress(conn, job, written)?;
        }
    };
    if request.format == "xlsx" {
        let mut sheet = MicrodataXlsx::new(&variables).map_err(AppError::internal)?;
        each_record(&mut |r| sheet.write(r))?;
        sheet.finish(&mut *out).map_err(AppError::internal)?;
    } else {
        // PSPP and SPSS read one case per line and split a case at a quoted line break, so one
        // file serves every reader only without them.
        let mut csv = MicrodataCsv::new(&mut *out, &variables, &request.csv)
            .map_err(AppError::internal)?
            .flatten_line_breaks(true);
        each_record(&mut |r| csv.write(r))?;
        csv.finish().map_err(AppError::internal)?;
    }
    Ok(written)
}

/// What an export job's page says about its file: the group, the CSV layout and the
/// files that read it as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFile {
    /// The respondent group.
    pub group: Option<String>,
    /// The CSV layout; `None` for other formats.
    pub csv: Option<CsvOptions>,
    /// Links (label, address) to the syntax files that read this very CSV (its delimiter,
    /// decimal mark and BOM); empty unless it is a microdata CSV.
    pub syntax: Vec<(&'static str, String)>,
    /// The address of the group's codebook, for a microdata file.
    pub codebook: Option<String>,
    /// Which responses the file holds; `None` for kinds without variants.
    pub variant: Option<Variant>,
}

/// The [`JobFile`] of a job, from its stored request; `None` when the request cannot be read.
pub fn job_file(job: &db::export_jobs::ExportJobRow) -> Option<JobFile> {
    let request: ExportRequest = serde_json::from_str(&job.params).ok()?;
    let csv = (request.format == "csv").then_some(request.csv);
    let mut syntax = Vec::new();
    let mut codebook = None;
    if let (ExportKind::Microdata, Some(csv), Some(round), Some(group)) =
        (request.kind, csv, job.round_id, &request.group)
    {
        let mut query = Vec::new();
        if csv.decimal == super::Decimal::Comma {
            query.push("decimal=comma");
        }
        if !csv.bom {
            query.push("bom=0");
        }
        let variant = request.include_excluded.then_some("include_excluded=1");
        query.extend(variant);
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{}", query.join("&"))
        };
        let group = url_segment(group);
        let base = format!("/results/{round}/download");
        syntax = vec![
            ("SPSS", format!("{base}/syntax-{group}.sps{query}")),
            ("Stata", format!("{base}/syntax-{group}.do{query}")),
            ("R", format!("{base}/syntax-{group}.R{query}")),
        ];
        let codebook_query = variant.map(|v| format!("?{v}")).unwrap_or_default();
        codebook = Some(format!("{base}/codebook-{group}.html{codebook_query}"));
    }
    Some(JobFile {
        variant: request.kind.has_variants().then(|| request.variant()),
        group: request.group,
        csv,
        syntax,
        codebook,
    })
}

/// Whether a job's file holds excluded responses (from its stored request; false when it
/// cannot be read), for the API's job description.
pub fn includes_excluded(job: &db::export_jobs::ExportJobRow) -> bool {
    serde_json::from_str::<ExportRequest>(&job.params).is_ok_and(|r| r.include_excluded)
}

/// `text` with everything but ASCII letters, digits, `-` and `_` percent-encoded, for a path.
fn url_segment(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A job of `user_id` (someone else's is "not found").
pub async fn owned(
    state: &web::Data<AppState>,
    user_id: i64,
    job: String,
) -> AppResult<db::export_jobs::ExportJobRow> {
    state
        .db(move |conn| {
            db::export_jobs::get(conn, &job)?
                .filter(|j| j.user_id == user_id)
                .ok_or(AppError::NotFound)
        })
        .await
}

/// The finished file of a job as a streamed download.
pub async fn file_response(
    state: &web::Data<AppState>,
    job: &db::export_jobs::ExportJobRow,
) -> AppResult<HttpResponse> {
    let name = job
        .file_name
        .clone()
        .filter(|_| job.status == ExportJobStatus::Done)
        .ok_or(AppError::NotFound)?;
    let (_, path) = paths(&state.settings.export_dir, &job.id);
    let file = web::block(move || std::fs::File::open(path))
        .await?
        .map_err(|_| AppError::NotFound)?;
    let length = file.metadata().map_err(AppError::internal)?.len();
    let request = ExportRequest {
        kind: ExportKind::parse(&job.kind).unwrap_or(ExportKind::Microdata),
        format: job.format.clone(),
        group: None,
        table: None,
        by: None,
        csv: CsvOptions::default(),
        lang: Lang::Vi,
        include_excluded: false,
    };
    let stream = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let read = web::block(move || {
            let mut buf = vec![0u8; 256 * 1024];
            let n = std::io::Read::read(&mut file, &mut buf)?;
            buf.truncate(n);
            Ok::<_, std::io::Error>((buf, file))
        })
        .await;
        match read {
            Ok(Ok((buf, _))) if buf.is_empty() => None,
            Ok(Ok((buf, file))) => Some((Ok(web::Bytes::from(buf)), Some(file))),
            Ok(Err(e)) => Some((Err(AppError::internal(e)), None)),
            Err(e) => Some((Err(AppError::from(e)), None)),
        }
    });
    Ok(crate::routes::download(
        &name,
        request.content_type(),
        actix_web::body::SizedStream::new(length, stream),
    ))
}
