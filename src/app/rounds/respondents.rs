//! Respondent lists imported into a round.

use super::*;
use crate::domain::respondent_list::STANDARD_GROUP_NAMES;
use crate::domain::unit_match::Matcher;
use crate::i18n::Lang;

/// Imports a respondent list (CSV or XLSX) into a draft or open round: every row is checked,
/// including e-mails already in the round, and a file with any bad row imports nothing.
pub fn import_respondents(
    conn: &mut AnyConnection,
    round_id: i64,
    file_name: &str,
    bytes: &[u8],
    actor: Actor<'_>,
) -> Result<usize> {
    db::write_transaction(conn, |conn| {
        let round = round_or_404(conn, round_id)?;
        if !matches!(status_of(&round)?, RoundStatus::Draft | RoundStatus::Open) {
            return Err(invalid("round.invalid.respondents_state", &[]));
        }
        let RoundLookups {
            units: unit_matcher,
            groups: group_matcher,
            unit_ids: by_code,
            group_ids: groups,
        } = round_lookups(conn, round_id)?;
        let xlsx =
            file_name.to_ascii_lowercase().ends_with(".xlsx") || bytes.starts_with(b"PK\x03\x04");
        let rows = if xlsx {
            parse_respondent_xlsx(bytes, file_name, &unit_matcher, &group_matcher)
        } else {
            parse_respondent_csv(bytes, file_name, &unit_matcher, &group_matcher)
        }
        .map_err(RoundError::Rows)?;
        let existing: HashSet<String> = db::respondents::emails_in_round(conn, round_id)?
            .into_iter()
            .collect();
        let duplicates: Vec<RowError> = rows
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
            .collect();
        if !duplicates.is_empty() {
            return Err(RoundError::Rows(duplicates));
        }
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
    })
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
