//! Respondent lists imported into a round.

use super::*;
use crate::db::upload_previews::PreviewKind;
use crate::domain::respondent_list::{RespondentRow, STANDARD_GROUP_NAMES};
use crate::domain::unit_match::Matcher;
use crate::i18n::Lang;

/// Imports a respondent list (CSV or XLSX) into a draft or open round at once: every row is
/// checked, including e-mails already in the round, and a file with any bad row imports
/// nothing. The pages preview first ([`preview_respondents`], [`confirm_respondents`]); the
/// command line and tests import directly.
pub fn import_respondents(
    conn: &mut AnyConnection,
    round_id: i64,
    file_name: &str,
    bytes: &[u8],
    actor: Actor<'_>,
) -> Result<usize> {
    db::write_transaction(conn, |conn| {
        let round = round_or_404(conn, round_id)?;
        require_list_open(&round)?;
        let rows = check_list(conn, round_id, file_name, bytes)?;
        store_rows(conn, round_id, file_name, &rows, actor)
    })
}

/// Respondents can be added to draft and open rounds only.
fn require_list_open(round: &RoundRow) -> Result<()> {
    if !matches!(status_of(round)?, RoundStatus::Draft | RoundStatus::Open) {
        return Err(invalid("round.invalid.respondents_state", &[]));
    }
    Ok(())
}

/// Parses and checks a file against the round's units and groups and the e-mail addresses
/// already listed; every problem comes back as [`RoundError::Rows`].
fn check_list(
    conn: &mut AnyConnection,
    round_id: i64,
    file_name: &str,
    bytes: &[u8],
) -> Result<Vec<RespondentRow>> {
    let RoundLookups {
        units: unit_matcher,
        groups: group_matcher,
        ..
    } = round_lookups(conn, round_id)?;
    let xlsx =
        file_name.to_ascii_lowercase().ends_with(".xlsx") || bytes.starts_with(b"PK\x03\x04");
    let rows = if xlsx {
        parse_respondent_xlsx(bytes, file_name, &unit_matcher, &group_matcher)
    } else {
        parse_respondent_csv(bytes, file_name, &unit_matcher, &group_matcher)
    }
    .map_err(RoundError::Rows)?;
    let duplicates = already_listed(conn, round_id, file_name, &rows)?;
    if !duplicates.is_empty() {
        return Err(RoundError::Rows(duplicates));
    }
    Ok(rows)
}

/// The rows whose e-mail address is already in the round, each as an error at its row.
fn already_listed(
    conn: &mut AnyConnection,
    round_id: i64,
    file_name: &str,
    rows: &[RespondentRow],
) -> Result<Vec<RowError>> {
    let existing: HashSet<String> = db::respondents::emails_in_round(conn, round_id)?
        .into_iter()
        .collect();
    Ok(rows
        .iter()
        .filter_map(|r| {
            let email = r.email.as_ref()?;
            existing.contains(email).then(|| {
                RowError::at(
                    file_name,
                    r.row,
                    Some("email".to_owned()),
                    crate::i18n::Localized::new("list.already_invited", &[("email", email)]),
                )
            })
        })
        .collect())
}

/// Stores checked rows as respondents of the round (refusing e-mails listed meanwhile) and
/// audits the import.
fn store_rows(
    conn: &mut AnyConnection,
    round_id: i64,
    file_name: &str,
    rows: &[RespondentRow],
    actor: Actor<'_>,
) -> Result<usize> {
    let duplicates = already_listed(conn, round_id, file_name, rows)?;
    if !duplicates.is_empty() {
        return Err(RoundError::Rows(duplicates));
    }
    let by_code: HashMap<String, i64> = db::rounds::units(conn, round_id)?
        .into_iter()
        .map(|u| (u.code, u.id))
        .collect();
    let groups: HashMap<String, i64> = db::rounds::all_groups(conn)?
        .into_iter()
        .map(|(id, code)| (code, id))
        .collect();
    let now = db::now();
    let new: Vec<NewRespondent<'_>> = rows
        .iter()
        .filter_map(|r| {
            Some(NewRespondent {
                round_id,
                unit_id: *by_code.get(&r.unit)?,
                group_id: *groups.get(&r.group)?,
                name: &r.name,
                email: r.email.as_deref(),
                phone: r.phone.as_deref(),
                position: r.position.as_deref(),
                level: r.level.as_deref(),
                created_at: now,
            })
        })
        .collect();
    if new.len() != rows.len() {
        return Err(invalid("round.invalid.file_not_in_round", &[]));
    }
    let inserted = db::respondents::insert_all(conn, &new)?;
    // The audit entry records the import, never the personal data in it.
    audit(
        conn,
        actor,
        "round:import_respondents",
        round_id,
        None,
        Some(serde_json::json!({ "file": file_name, "rows": inserted }).to_string()),
    )?;
    Ok(inserted)
}

/// How many rows of a list the preview shows.
pub const PREVIEW_ROWS: usize = 10;

/// How long a previewed list can be confirmed.
pub const PREVIEW_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// A checked respondent list before anything is stored.
#[derive(Debug, Clone)]
pub struct ListPreview {
    /// The round.
    pub round: RoundRow,
    /// The uploaded file's name.
    pub file_name: String,
    /// The token that confirms this list; `None` when the file has errors (nothing kept).
    pub token: Option<String>,
    /// How many respondents the file lists.
    pub total: usize,
    /// The first [`PREVIEW_ROWS`] rows as they would be stored.
    pub first_rows: Vec<PreviewRow>,
    /// The groups present in the file, in their usual order (codes).
    pub groups: Vec<String>,
    /// Respondents per unit (in the round's order) and group (in the order of `groups`).
    pub counts: Vec<UnitCounts>,
    /// Every problem found, located by row and column; the list cannot be imported while any.
    pub errors: Vec<RowError>,
}

/// One row of a previewed list.
#[derive(Debug, Clone)]
pub struct PreviewRow {
    /// The checked row.
    pub row: RespondentRow,
    /// The unit's Vietnamese name.
    pub unit_vi: String,
    /// The unit's English name.
    pub unit_en: String,
}

/// How many respondents a previewed list has in one unit, per group.
#[derive(Debug, Clone)]
pub struct UnitCounts {
    /// The unit's Vietnamese name.
    pub unit_vi: String,
    /// The unit's English name.
    pub unit_en: String,
    /// Respondents per group, in the order of [`ListPreview::groups`].
    pub per_group: Vec<usize>,
    /// All respondents of the unit.
    pub total: usize,
}

/// Checks a respondent list and keeps it for `user_id` to confirm, storing no respondent. A
/// file with problems comes back with every problem and no token; a clean one with a token
/// that [`confirm_respondents`] takes within [`PREVIEW_LIFETIME`]. Previews older than that,
/// and the user's earlier preview for the round, are forgotten.
pub fn preview_respondents(
    conn: &mut AnyConnection,
    round_id: i64,
    file_name: &str,
    bytes: &[u8],
    user_id: i64,
) -> Result<ListPreview> {
    let round = round_or_404(conn, round_id)?;
    require_list_open(&round)?;
    let rows = match check_list(conn, round_id, file_name, bytes) {
        Ok(rows) => rows,
        Err(RoundError::Rows(errors)) => {
            return Ok(ListPreview {
                round,
                file_name: file_name.to_owned(),
                token: None,
                total: 0,
                first_rows: Vec::new(),
                groups: Vec::new(),
                counts: Vec::new(),
                errors,
            });
        }
        Err(other) => return Err(other),
    };
    let units = db::rounds::units(conn, round_id)?;
    let group_order: Vec<String> = db::rounds::all_groups(conn)?
        .into_iter()
        .map(|(_, code)| code)
        .filter(|code| rows.iter().any(|r| &r.group == code))
        .collect();
    let unit_names: HashMap<&str, (&str, &str)> = units
        .iter()
        .map(|u| (u.code.as_str(), (u.name_vi.as_str(), u.name_en.as_str())))
        .collect();
    let first_rows = rows
        .iter()
        .take(PREVIEW_ROWS)
        .map(|r| {
            let (vi, en) = unit_names.get(r.unit.as_str()).copied().unwrap_or_default();
            PreviewRow {
                row: r.clone(),
                unit_vi: vi.to_owned(),
                unit_en: en.to_owned(),
            }
        })
        .collect();
    let counts = units
        .iter()
        .filter_map(|u| {
            let per_group: Vec<usize> = group_order
                .iter()
                .map(|g| {
                    rows.iter()
                        .filter(|r| r.unit == u.code && &r.group == g)
                        .count()
                })
                .collect();
            let total: usize = per_group.iter().sum();
            (total > 0).then(|| UnitCounts {
                unit_vi: u.name_vi.clone(),
                unit_en: u.name_en.clone(),
                per_group,
                total,
            })
        })
        .collect();
    let token = crate::app::auth::tokens::random_token();
    let rows_json = serde_json::to_string(&rows)
        .map_err(|e| RoundError::App(AppError::internal(anyhow::anyhow!(e))))?;
    db::write_transaction(conn, |conn| {
        let now = db::now();
        db::upload_previews::forget_stale(
            conn,
            PreviewKind::Respondents,
            now - PREVIEW_LIFETIME,
            round_id,
            user_id,
        )?;
        let listed_before = db::respondents::count_in_round(conn, round_id)?;
        db::upload_previews::insert(
            conn,
            PreviewKind::Respondents,
            &db::upload_previews::NewPreview {
                token_hash: &hash_token(&token),
                round_id,
                user_id,
                round_status: round.status.code(),
                listed_before: Some(listed_before),
                file_name,
                payload_json: &rows_json,
                created_at: now,
            },
        )?;
        Ok::<_, RoundError>(())
    })?;
    Ok(ListPreview {
        round,
        file_name: file_name.to_owned(),
        token: Some(token),
        total: rows.len(),
        first_rows,
        groups: group_order,
        counts,
        errors: Vec::new(),
    })
}

/// Stores exactly the list previewed under `token`, for the user who previewed it, and
/// forgets the preview (a second confirm finds nothing). Refused, storing nothing, when the
/// preview is unknown, someone else's or expired, when the round's status changed, or when
/// respondents were added or removed since the preview (the list may have been imported
/// meanwhile).
pub fn confirm_respondents(
    conn: &mut AnyConnection,
    round_id: i64,
    token: &str,
    actor: Actor<'_>,
) -> Result<usize> {
    let user_id = actor
        .user_id
        .ok_or_else(|| invalid("list.preview_gone", &[]))?;
    // The outer result carries database failures (rolled back); the inner one a refusal,
    // returned after the transaction committed the forgotten preview.
    db::write_transaction(conn, |conn| {
        let round = round_or_404(conn, round_id)?;
        let Some(upload) = db::upload_previews::find(
            conn,
            PreviewKind::Respondents,
            &hash_token(token),
            round_id,
            user_id,
        )?
        else {
            return Err(invalid("list.preview_gone", &[]));
        };
        // This preview is used up whether it is stored or refused below (a failure to store
        // rolls everything back, and the preview can then be tried again within its hour).
        db::upload_previews::delete(conn, upload.id)?;
        let refusal = if upload.created_at < db::now() - PREVIEW_LIFETIME {
            Some(invalid("list.preview_gone", &[]))
        } else if upload.round_status != round.status.code() {
            Some(invalid("list.preview_state_changed", &[]))
        } else if Some(db::respondents::count_in_round(conn, round_id)?) != upload.listed_before {
            Some(invalid("list.preview_list_changed", &[]))
        } else {
            None
        };
        if let Some(refusal) = refusal {
            // Committed with the preview forgotten; the refusal is returned after.
            return Ok(Err(refusal));
        }
        require_list_open(&round)?;
        let rows: Vec<RespondentRow> = serde_json::from_str(&upload.payload_json)
            .map_err(|e| RoundError::App(AppError::internal(anyhow::anyhow!(e))))?;
        store_rows(conn, round_id, &upload.file_name, &rows, actor).map(Ok)
    })?
}
/// What a respondent list is checked against: the round's units and the respondent groups,
/// each matchable by code or name, and their row ids by code.
pub struct RoundLookups {
    /// The round's units by code, Vietnamese or English name.
    pub units: Matcher,
    /// The groups by code or label (database names, both catalogues, short forms).
    pub groups: Matcher,
    /// Unit code → unit id.
    pub unit_ids: HashMap<String, i64>,
    /// Group code → group id.
    pub group_ids: HashMap<String, i64>,
}

/// The lookups for importing into `round_id`. Every group may be named, as before: a draft
/// round need not have its groups assigned yet.
pub fn round_lookups(conn: &mut AnyConnection, round_id: i64) -> Result<RoundLookups> {
    let units = db::rounds::units(conn, round_id)?;
    let unit_matcher = Matcher::units(
        units
            .iter()
            .map(|u| (u.code.as_str(), u.name_vi.as_str(), u.name_en.as_str())),
    );
    let unit_ids = units.iter().map(|u| (u.code.clone(), u.id)).collect();
    let mut groups = Matcher::new();
    for (code, name_vi, name_en) in db::rounds::group_names(conn)? {
        let key = format!("group.{code}");
        let vi = crate::i18n::t(Lang::Vi, &key).to_owned();
        let en = crate::i18n::t(Lang::En, &key).to_owned();
        let mut names: Vec<&str> = vec![&name_en, &vi, &en];
        if let Some((_, std_vi, std_en, short)) = STANDARD_GROUP_NAMES.iter().find(|g| g.0 == code)
        {
            names.extend([*std_vi, *std_en]);
            names.extend_from_slice(short);
        }
        // A catalogue without the key answers with the key itself: not a name.
        names.retain(|n| !n.starts_with("group."));
        groups.add(&code, &name_vi, &names);
    }
    let group_ids = db::rounds::all_groups(conn)?
        .into_iter()
        .map(|(id, code)| (code, id))
        .collect();
    Ok(RoundLookups {
        units: unit_matcher,
        groups,
        unit_ids,
        group_ids,
    })
}

/// The file format of a respondent-list template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateFormat {
    /// UTF-8 CSV with a BOM (Excel opens it with the diacritics intact).
    Csv,
    /// A workbook: the list on the first sheet, the round's units and groups on a second.
    Xlsx,
}

/// The Vietnamese headers of a template, in the order the importer reads them best.
const TEMPLATE_HEADERS: [&str; 7] = [
    "Họ và tên",
    "Thư điện tử",
    "Số điện thoại",
    "Đơn vị",
    "Nhóm",
    "Chức vụ",
    "Cấp",
];

/// A respondent-list template for `round_id`: the headers the importer reads and one example
/// row per group, each in the round's first unit, written with the names the pages show (so
/// the file imports as it is). The workbook adds a sheet listing every unit and group with
/// its code; the importer reads only the first sheet.
pub fn respondent_template(
    conn: &mut AnyConnection,
    round_id: i64,
    format: TemplateFormat,
) -> Result<Vec<u8>> {
    round_or_404(conn, round_id)?;
    let units = db::rounds::units(conn, round_id)?;
    let groups = db::rounds::group_names(conn)?;
    let first_unit = units.first().map_or("", |u| u.name_vi.as_str());
    let examples: Vec<[String; 7]> = groups
        .iter()
        .enumerate()
        .map(|(i, (_, name_vi, _))| {
            [
                format!("Nguyễn Văn Mẫu {}", i + 1),
                String::new(),
                String::new(),
                first_unit.to_owned(),
                name_vi.clone(),
                String::new(),
                String::new(),
            ]
        })
        .collect();
    let failed = |e: String| RoundError::App(AppError::Internal(anyhow::anyhow!(e)));
    match format {
        TemplateFormat::Csv => {
            let mut out = "\u{FEFF}".as_bytes().to_vec();
            {
                let mut w = csv::Writer::from_writer(&mut out);
                w.write_record(TEMPLATE_HEADERS)
                    .map_err(|e| failed(e.to_string()))?;
                for row in &examples {
                    w.write_record(row).map_err(|e| failed(e.to_string()))?;
                }
                w.flush().map_err(|e| failed(e.to_string()))?;
            }
            Ok(out)
        }
        TemplateFormat::Xlsx => {
            let xlsx = |e: rust_xlsxwriter::XlsxError| failed(e.to_string());
            let mut workbook = rust_xlsxwriter::Workbook::new();
            let bold = rust_xlsxwriter::Format::new().set_bold();
            let list = workbook.add_worksheet();
            list.set_name("Danh sách").map_err(xlsx)?;
            for (c, h) in (0u16..).zip(TEMPLATE_HEADERS) {
                list.write_string_with_format(0, c, h, &bold)
                    .map_err(xlsx)?;
                list.set_column_width(c, 24).map_err(xlsx)?;
            }
            for (r, row) in (1u32..).zip(&examples) {
                for (c, value) in (0u16..).zip(row) {
                    if !value.is_empty() {
                        list.write_string(r, c, value).map_err(xlsx)?;
                    }
                }
            }
            let lists = workbook.add_worksheet();
            lists.set_name("Danh mục").map_err(xlsx)?;
            for (c, h) in (0u16..).zip(["Đơn vị", "Mã đơn vị", "", "Nhóm", "Mã nhóm", "Group"])
            {
                lists
                    .write_string_with_format(0, c, h, &bold)
                    .map_err(xlsx)?;
                lists.set_column_width(c, 28).map_err(xlsx)?;
            }
            for (r, u) in (1u32..).zip(&units) {
                lists.write_string(r, 0, &u.name_vi).map_err(xlsx)?;
                lists.write_string(r, 1, &u.code).map_err(xlsx)?;
            }
            for (r, (code, vi, en)) in (1u32..).zip(&groups) {
                lists.write_string(r, 3, vi).map_err(xlsx)?;
                lists.write_string(r, 4, code).map_err(xlsx)?;
                lists.write_string(r, 5, en).map_err(xlsx)?;
            }
            workbook.save_to_buffer().map_err(xlsx)
        }
    }
}
