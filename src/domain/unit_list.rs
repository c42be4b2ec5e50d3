//! The units a round covers: the bundled province reference sets (63 provinces of 2023, 34 of
//! the 2025 reorganisation) and custom unit lists administrators import from CSV (read and
//! checked through [`crate::domain::tabular`]).
//!
//! # Reference sets
//!
//! * **2023** — `provinces-2023.csv` (`code,name_vi,name_en,region_code,region_vi`). The file
//!   has no `kind` column; the five centrally-governed cities of that time (Hà Nội, Hải Phòng,
//!   Đà Nẵng, Thành phố Hồ Chí Minh, Cần Thơ: codes 01, 31, 48, 79, 92) are `city`, every other
//!   unit is a `province`. English region names come from [`REGIONS`].
//! * **2025** — `provinces-2025.csv` (`name_vi,name_en,kind,predecessors_2023`), predecessors
//!   listed by Vietnamese name separated by `;`.
//!   * **Codes** are the ASCII slug of the English name (`Ho Chi Minh City` → `ho-chi-minh-city`).
//!     Deliberately *not* the 2023 numeric code of a same-named predecessor: after a merger
//!     `25` (Phú Thọ) would name a different territory in each set, so year-on-year comparisons
//!     would silently compare unlike units, and the slugs cannot be mistaken for the official
//!     numeric codes issued for the new units either. Slugs are deterministic and readable in a
//!     respondent list.
//!   * **Predecessors** resolve to 2023 codes by exact Vietnamese name, else by the name with
//!     diacritics folded (so `Hoà`/`Hòa` spelling variants and NFD text still match) when that
//!     is unique. Every name must resolve and every 2023 province must be absorbed by exactly
//!     one 2025 unit, or the set is refused.
//!   * **Region**: that of the first-listed predecessor, the unit whose name the merged unit
//!     carries (Huế has a single predecessor). Where predecessors straddle regions (Bắc Ninh
//!     with Bắc Giang, Tây Ninh with Long An, Gia Lai with Bình Định…) this keeps the namesake's
//!     region; no unit in this file has a majority of predecessors elsewhere. The government may
//!     redraw the regions for the 34 units; this rule is only a deterministic default.
//!
//! # Custom unit lists
//!
//! CSV (UTF-8, optional BOM; `,` or — as Excel writes it under a Vietnamese locale — `;`),
//! header row required, columns `code,name_vi,name_en,kind` plus optional
//! `region_code,region_vi,region_en`. Every row is checked and every problem reported with its
//! spreadsheet row number (header = row 1); the import is all-or-nothing. Codes and `kind`
//! are at most 32 ASCII letters, digits, `-`, `_` or `.`, and codes must be unique ignoring
//! case (`ab` and `AB` in one list is a mistake, not two units). A `region_code` of one of the
//! six [`REGIONS`] fills in blank region names; any other region code needs `region_vi`.
//! No cell may look like a formula: a leading `=`, `+`, `-`, `@`, tab or carriage return is
//! refused outright, since these files are opened in Excel and unit lists hold no numbers.

use std::collections::HashMap;

use crate::domain::tabular::{
    Row, RowCells, RowError, fold, header_key, map_header, msg, read_csv, shown, split_csv,
    strip_bom,
};

/// The bundled 2023 reference file (63 provinces and centrally-governed cities).
pub const PROVINCES_2023_CSV: &str = include_str!("../../assets/reference/provinces-2023.csv");

/// The bundled 2025 reference file (34 units after the 2025 reorganisation).
pub const PROVINCES_2025_CSV: &str = include_str!("../../assets/reference/provinces-2025.csv");

/// Longest code (unit, region, kind) accepted, in characters.
pub const MAX_CODE_CHARS: usize = 32;

/// Longest name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// Most units in one custom list.
pub const MAX_UNITS: usize = 10_000;

/// Largest custom unit file accepted, in bytes.
pub const MAX_UNIT_FILE_BYTES: usize = 5 * 1024 * 1024;

/// Codes of the 2023 centrally-governed cities; the reference file has no `kind` column.
const CENTRAL_CITIES_2023: [&str; 5] = ["01", "31", "48", "79", "92"];

/// One of Vietnam's six socio-economic regions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// The code used in the reference files.
    pub code: &'static str,
    /// Vietnamese name.
    pub name_vi: &'static str,
    /// English name.
    pub name_en: &'static str,
}

/// The six regions, with the codes the reference files use.
pub const REGIONS: [Region; 6] = [
    Region {
        code: "DBSH",
        name_vi: "Đồng bằng sông Hồng",
        name_en: "Red River Delta",
    },
    Region {
        code: "TDMNPB",
        name_vi: "Trung du và miền núi phía Bắc",
        name_en: "Northern Midlands and Mountains",
    },
    Region {
        code: "BTBDHMT",
        name_vi: "Bắc Trung Bộ và Duyên hải miền Trung",
        name_en: "North Central and Central Coast",
    },
    Region {
        code: "TN",
        name_vi: "Tây Nguyên",
        name_en: "Central Highlands",
    },
    Region {
        code: "DNB",
        name_vi: "Đông Nam Bộ",
        name_en: "South East",
    },
    Region {
        code: "DBSCL",
        name_vi: "Đồng bằng sông Cửu Long",
        name_en: "Mekong River Delta",
    },
];

/// The standard region with this code (case-insensitive).
pub fn region(code: &str) -> Option<&'static Region> {
    REGIONS.iter().find(|r| r.code.eq_ignore_ascii_case(code))
}

/// One unit a round can cover.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UnitRecord {
    /// Stable identifier, unique in its set.
    pub code: String,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
    /// What kind of unit it is (`province`, `city`, or a custom list's own word).
    pub kind: String,
    /// Region code, when the unit belongs to one.
    pub region_code: Option<String>,
    /// Region name in Vietnamese.
    pub region_vi: Option<String>,
    /// Region name in English.
    pub region_en: Option<String>,
    /// Codes of the 2023 units merged into this one (2025 set only; empty otherwise).
    pub absorbed: Vec<String>,
}

/// A list of units with unique codes.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UnitSet {
    /// The units in file order.
    pub units: Vec<UnitRecord>,
}

impl UnitSet {
    /// The unit with exactly this code.
    pub fn get(&self, code: &str) -> Option<&UnitRecord> {
        self.units.iter().find(|u| u.code == code)
    }

    /// The unit whose code matches ignoring ASCII case (codes are unique that way too).
    pub fn find_ignoring_case(&self, code: &str) -> Option<&UnitRecord> {
        self.get(code).or_else(|| {
            self.units
                .iter()
                .find(|u| u.code.eq_ignore_ascii_case(code))
        })
    }

    /// True when a unit has exactly this code.
    pub fn contains(&self, code: &str) -> bool {
        self.get(code).is_some()
    }

    /// The codes in file order.
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.units.iter().map(|u| u.code.as_str())
    }
}

// ---------------------------------------------------------------------------------------------
// Reference sets
// ---------------------------------------------------------------------------------------------

/// Why a bundled reference file cannot be used. These files ship with the program, so any of
/// these is a packaging bug caught by the tests, not a user error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// The CSV itself is malformed.
    #[error("line {line}: {message}")]
    Csv {
        /// Row of the problem (header = 1).
        line: u32,
        /// What is wrong.
        message: String,
    },
    /// A column the parser needs is missing from the header.
    #[error("the reference file has no '{0}' column")]
    MissingColumn(&'static str),
    /// A region code outside [`REGIONS`].
    #[error("line {line}: unknown region code '{code}'")]
    UnknownRegion {
        /// Row of the problem.
        line: u32,
        /// The code found.
        code: String,
    },
    /// Two units share a code.
    #[error("line {line}: duplicate unit code '{code}'")]
    DuplicateCode {
        /// Row of the second occurrence.
        line: u32,
        /// The code.
        code: String,
    },
    /// A 2025 unit lists no predecessor.
    #[error("'{unit}' lists no 2023 predecessor")]
    NoPredecessor {
        /// The 2025 unit's name.
        unit: String,
    },
    /// A predecessor name matches no 2023 unit (or several after folding diacritics).
    #[error("'{unit}': predecessor '{name}' is not a 2023 unit")]
    UnresolvedPredecessor {
        /// The 2025 unit's name.
        unit: String,
        /// The predecessor name that did not resolve.
        name: String,
    },
    /// A 2023 unit is listed as a predecessor of two 2025 units (or twice by one).
    #[error("2023 unit {code} is absorbed by both '{first}' and '{second}'")]
    AbsorbedTwice {
        /// The 2023 code.
        code: String,
        /// The first 2025 unit claiming it.
        first: String,
        /// The second one.
        second: String,
    },
    /// A 2023 unit no 2025 unit absorbs.
    #[error("2023 unit {code} ({name}) is absorbed by no 2025 unit")]
    NotAbsorbed {
        /// The 2023 code.
        code: String,
        /// Its name.
        name: String,
    },
}

/// A parsed CSV with its header, cells looked up by column name.
struct NamedTable {
    columns: Vec<String>,
    rows: Vec<Row>,
}

impl NamedTable {
    fn parse(text: &str) -> Result<NamedTable, ReferenceError> {
        let rows = split_csv(strip_bom(text), usize::MAX).map_err(|(line, message)| {
            ReferenceError::Csv {
                line,
                message: message.to_string(),
            }
        })?;
        let mut rows = rows.into_iter().filter(|r| !r.is_blank());
        let columns = rows
            .next()
            .map(|h| h.cells.iter().map(|c| header_key(&c.text)).collect())
            .unwrap_or_default();
        Ok(NamedTable {
            columns,
            rows: rows.collect(),
        })
    }

    fn column(&self, name: &'static str) -> Result<usize, ReferenceError> {
        self.columns
            .iter()
            .position(|c| c == name)
            .ok_or(ReferenceError::MissingColumn(name))
    }
}

fn cell(row: &Row, index: usize) -> String {
    row.trimmed(index).to_owned()
}

/// Parses the 2023 reference file (see the module notes for `kind` and English region names).
pub fn parse_reference_2023(csv: &str) -> Result<UnitSet, ReferenceError> {
    let table = NamedTable::parse(csv)?;
    let code_col = table.column("code")?;
    let vi_col = table.column("name_vi")?;
    let en_col = table.column("name_en")?;
    let region_col = table.column("region_code")?;
    let region_vi_col = table.column("region_vi")?;
    let mut units: Vec<UnitRecord> = Vec::new();
    for row in &table.rows {
        let code = cell(row, code_col);
        if code.is_empty() {
            return Err(ReferenceError::Csv {
                line: row.row,
                message: "the code is empty".to_owned(),
            });
        }
        if units.iter().any(|u| u.code == code) {
            return Err(ReferenceError::DuplicateCode {
                line: row.row,
                code,
            });
        }
        let region_code = cell(row, region_col);
        let Some(std_region) = region(&region_code) else {
            return Err(ReferenceError::UnknownRegion {
                line: row.row,
                code: region_code,
            });
        };
        let region_vi = Some(cell(row, region_vi_col))
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| std_region.name_vi.to_owned());
        let kind = if CENTRAL_CITIES_2023.contains(&code.as_str()) {
            "city"
        } else {
            "province"
        };
        units.push(UnitRecord {
            code,
            name_vi: cell(row, vi_col),
            name_en: cell(row, en_col),
            kind: kind.to_owned(),
            region_code: Some(std_region.code.to_owned()),
            region_vi: Some(region_vi),
            region_en: Some(std_region.name_en.to_owned()),
            absorbed: Vec::new(),
        });
    }
    Ok(UnitSet { units })
}

/// The 2023 unit a predecessor name refers to: exact name first, then the unique match with
/// diacritics folded.
fn resolve_predecessor<'a>(units_2023: &'a UnitSet, name: &str) -> Option<&'a UnitRecord> {
    if let Some(unit) = units_2023.units.iter().find(|u| u.name_vi == name) {
        return Some(unit);
    }
    let folded = fold(name);
    let mut matches = units_2023
        .units
        .iter()
        .filter(|u| fold(&u.name_vi) == folded);
    match (matches.next(), matches.next()) {
        (Some(unit), None) => Some(unit),
        _ => None,
    }
}

/// Parses the 2025 reference file, resolving predecessors against `units_2023` (see the module
/// notes for codes and regions).
pub fn parse_reference_2025(csv: &str, units_2023: &UnitSet) -> Result<UnitSet, ReferenceError> {
    let table = NamedTable::parse(csv)?;
    let vi_col = table.column("name_vi")?;
    let en_col = table.column("name_en")?;
    let kind_col = table.column("kind")?;
    let pred_col = table.column("predecessors_2023")?;
    let mut units: Vec<UnitRecord> = Vec::new();
    // 2023 code → the 2025 unit that absorbed it.
    let mut absorbed_by: HashMap<String, String> = HashMap::new();
    for row in &table.rows {
        let name_vi = cell(row, vi_col);
        let name_en = cell(row, en_col);
        let code = slug(&name_en);
        if code.is_empty() {
            return Err(ReferenceError::Csv {
                line: row.row,
                message: "name_en is empty, so the unit has no code".to_owned(),
            });
        }
        if units.iter().any(|u| u.code == code) {
            return Err(ReferenceError::DuplicateCode {
                line: row.row,
                code,
            });
        }
        let mut absorbed = Vec::new();
        let mut first_region = None;
        for name in cell(row, pred_col)
            .split(';')
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            let Some(pred) = resolve_predecessor(units_2023, name) else {
                return Err(ReferenceError::UnresolvedPredecessor {
                    unit: name_vi,
                    name: name.to_owned(),
                });
            };
            if let Some(first) = absorbed_by.insert(pred.code.clone(), name_vi.clone()) {
                return Err(ReferenceError::AbsorbedTwice {
                    code: pred.code.clone(),
                    first,
                    second: name_vi,
                });
            }
            if first_region.is_none() {
                first_region = Some(pred);
            }
            absorbed.push(pred.code.clone());
        }
        let Some(namesake) = first_region else {
            return Err(ReferenceError::NoPredecessor { unit: name_vi });
        };
        units.push(UnitRecord {
            code,
            name_vi,
            name_en,
            kind: cell(row, kind_col),
            region_code: namesake.region_code.clone(),
            region_vi: namesake.region_vi.clone(),
            region_en: namesake.region_en.clone(),
            absorbed,
        });
    }
    if let Some(missing) = units_2023
        .units
        .iter()
        .find(|u| !absorbed_by.contains_key(&u.code))
    {
        return Err(ReferenceError::NotAbsorbed {
            code: missing.code.clone(),
            name: missing.name_vi.clone(),
        });
    }
    Ok(UnitSet { units })
}

/// The bundled 2023 set.
pub fn provinces_2023() -> Result<UnitSet, ReferenceError> {
    parse_reference_2023(PROVINCES_2023_CSV)
}

/// The bundled 2025 set, resolved against the bundled 2023 set.
pub fn provinces_2025() -> Result<UnitSet, ReferenceError> {
    parse_reference_2025(PROVINCES_2025_CSV, &provinces_2023()?)
}

/// A lower-case ASCII slug: diacritics folded, every run of other characters turned into one
/// `-` (`Bà Rịa - Vũng Tàu` → `ba-ria-vung-tau`).
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in fold(name).chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Custom unit lists
// ---------------------------------------------------------------------------------------------

/// Columns of a custom unit list: (name, required).
const UNIT_COLUMNS: [(&str, bool); 7] = [
    ("code", true),
    ("name_vi", true),
    ("name_en", true),
    ("region_code", false),
    ("region_vi", false),
    ("region_en", false),
    ("kind", true),
];

/// Parses a custom unit list (see the module notes). Returns every unit, or every problem.
pub fn parse_unit_csv(bytes: &[u8], file_name: &str) -> Result<UnitSet, Vec<RowError>> {
    let file_error = |message| vec![RowError::file(file_name, message)];
    let rows = read_csv(bytes, file_name, MAX_UNIT_FILE_BYTES, MAX_UNITS)?;
    let mut rows = rows.into_iter().filter(|r| !r.is_blank());
    let Some(header) = rows.next() else {
        return Err(file_error(msg("list.file_empty", &[])));
    };
    let columns = map_header(&header, file_name, &UNIT_COLUMNS, &[])?;
    let mut errors = Vec::new();
    let mut units = Vec::new();
    // Lower-cased code → row it first appeared on.
    let mut seen: HashMap<String, u32> = HashMap::new();
    for row in rows {
        // Unit lists hold no numbers, so a leading sign is always refused.
        let mut cells = RowCells::new(&row, &columns, file_name, &mut errors, false);
        let code = code_of(&mut cells, "code", true);
        let name_vi = cells.text("name_vi", MAX_NAME_CHARS, true);
        let name_en = cells.text("name_en", MAX_NAME_CHARS, true);
        let kind = code_of(&mut cells, "kind", true);
        let region_code = code_of(&mut cells, "region_code", false);
        let region_vi = cells.text("region_vi", MAX_NAME_CHARS, false);
        let region_en = cells.text("region_en", MAX_NAME_CHARS, false);
        cells.unheaded_values();
        let column_of = |name: &str| columns.header_of(name);
        if let Some(code) = &code {
            match seen.get(&code.to_ascii_lowercase()) {
                Some(&first) => errors.push(RowError::at(
                    file_name,
                    row.row,
                    column_of("code"),
                    msg(
                        "list.unit_code_repeated",
                        &[("code", &shown(code)), ("row", &first.to_string())],
                    ),
                )),
                None => {
                    seen.insert(code.to_ascii_lowercase(), row.row);
                }
            }
        }
        let (region_vi, region_en) = match (&region_code, region_vi, region_en) {
            (None, None, None) => (None, None),
            (None, vi, en) => {
                let which = if vi.is_some() {
                    "region_vi"
                } else {
                    "region_en"
                };
                errors.push(RowError::at(
                    file_name,
                    row.row,
                    column_of(which),
                    msg("list.region_without_code", &[]),
                ));
                (vi, en)
            }
            (Some(code), vi, en) => match region(code) {
                // A standard region needs no names; given ones (e.g. a shorter label) win.
                Some(std) => (
                    vi.or_else(|| Some(std.name_vi.to_owned())),
                    en.or_else(|| Some(std.name_en.to_owned())),
                ),
                None if vi.is_none() => {
                    errors.push(RowError::at(
                        file_name,
                        row.row,
                        column_of("region_vi").or_else(|| column_of("region_code")),
                        msg("list.region_unknown", &[("code", &shown(code))]),
                    ));
                    (vi, en)
                }
                None => (vi, en),
            },
        };
        if let (Some(code), Some(name_vi), Some(name_en), Some(kind)) =
            (code, name_vi, name_en, kind)
        {
            units.push(UnitRecord {
                code,
                name_vi,
                name_en,
                kind,
                region_code,
                region_vi,
                region_en,
                absorbed: Vec::new(),
            });
        }
    }
    if errors.is_empty() && units.is_empty() {
        errors.push(RowError::file(
            file_name,
            msg("list.header_only_units", &[]),
        ));
    }
    if errors.is_empty() {
        Ok(UnitSet { units })
    } else {
        Err(errors)
    }
}

/// A code-like value: letters, digits, `-`, `_`, `.`, at most [`MAX_CODE_CHARS`].
fn code_of(cells: &mut RowCells<'_>, column: &str, required: bool) -> Option<String> {
    let value = cells.text(column, MAX_CODE_CHARS, required)?;
    if value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        Some(value)
    } else {
        cells.error(
            column,
            msg(
                "list.code_invalid",
                &[("value", &shown(&value)), ("column", column)],
            ),
        );
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_2023() -> UnitSet {
        provinces_2023().unwrap()
    }

    fn set_2025() -> UnitSet {
        provinces_2025().unwrap()
    }

    const HEADER: &str = "code,name_vi,name_en,region_code,region_vi,region_en,kind\n";

    fn messages(result: Result<UnitSet, Vec<RowError>>) -> Vec<String> {
        result
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn the_2023_set_has_63_units_in_six_regions_with_english_names() {
        let set = set_2023();
        assert_eq!(set.units.len(), 63);
        let hanoi = set.get("01").unwrap();
        assert_eq!(hanoi.name_vi, "Hà Nội");
        assert_eq!(hanoi.kind, "city");
        assert_eq!(hanoi.region_code.as_deref(), Some("DBSH"));
        assert_eq!(hanoi.region_en.as_deref(), Some("Red River Delta"));
        assert_eq!(
            set.get("94").unwrap().region_en.as_deref(),
            Some("Mekong River Delta")
        );
        let cities: Vec<&str> = set
            .units
            .iter()
            .filter(|u| u.kind == "city")
            .map(|u| u.name_en.as_str())
            .collect();
        assert_eq!(
            cities,
            [
                "Ha Noi",
                "Hai Phong",
                "Da Nang",
                "Ho Chi Minh City",
                "Can Tho"
            ]
        );
        for region in REGIONS {
            assert!(
                set.units
                    .iter()
                    .any(|u| u.region_code.as_deref() == Some(region.code))
            );
        }
        assert!(set.units.iter().all(|u| u.absorbed.is_empty()));
    }

    #[test]
    fn every_2025_predecessor_resolves_to_a_2023_code() {
        let set = set_2025();
        assert_eq!(set.units.len(), 34);
        let hcmc = set.get("ho-chi-minh-city").unwrap();
        assert_eq!(hcmc.absorbed, ["79", "74", "77"]);
        assert_eq!(hcmc.kind, "city");
        assert_eq!(set.get("hue").unwrap().absorbed, ["46"]);
        assert_eq!(set.get("can-tho").unwrap().absorbed, ["92", "94", "93"]);
    }

    #[test]
    fn every_2023_province_is_absorbed_by_exactly_one_2025_unit() {
        let old = set_2023();
        let new = set_2025();
        for unit in &old.units {
            let absorbers: Vec<&str> = new
                .units
                .iter()
                .filter(|n| n.absorbed.contains(&unit.code))
                .map(|n| n.code.as_str())
                .collect();
            assert_eq!(
                absorbers.len(),
                1,
                "{} absorbed by {absorbers:?}",
                unit.code
            );
        }
        let total: usize = new.units.iter().map(|u| u.absorbed.len()).sum();
        assert_eq!(total, 63);
    }

    #[test]
    fn the_2025_codes_are_unique_readable_slugs() {
        let set = set_2025();
        let codes: Vec<&str> = set.codes().collect();
        assert!(codes.contains(&"ha-noi"));
        assert!(codes.contains(&"dak-lak"));
        let mut unique = codes.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), 34);
        assert!(codes.iter().all(|c| {
            c.chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
        }));
        // Parsing twice gives the same codes: they are a pure function of the file.
        assert_eq!(set, set_2025());
    }

    #[test]
    fn a_merged_unit_takes_the_region_of_its_first_listed_predecessor() {
        let set = set_2025();
        let region_of = |code: &str| set.get(code).unwrap().region_code.clone().unwrap();
        assert_eq!(region_of("bac-ninh"), "DBSH"); // Bắc Ninh (DBSH) + Bắc Giang (TDMNPB)
        assert_eq!(region_of("tay-ninh"), "DNB"); // Tây Ninh (DNB) + Long An (DBSCL)
        assert_eq!(region_of("gia-lai"), "TN"); // Gia Lai (TN) + Bình Định (BTBDHMT)
        assert_eq!(region_of("phu-tho"), "TDMNPB");
        assert_eq!(
            set.get("lam-dong").unwrap().region_en.as_deref(),
            Some("Central Highlands")
        );
    }

    #[test]
    fn no_merged_unit_has_most_of_its_predecessors_in_another_region() {
        let old = set_2023();
        for unit in set_2025().units {
            let region_of = |code: &String| old.get(code).unwrap().region_code.clone();
            let count = |region: &Option<String>| {
                unit.absorbed
                    .iter()
                    .filter(|c| region_of(c) == *region)
                    .count()
            };
            let own = count(&unit.region_code);
            for code in &unit.absorbed {
                assert!(count(&region_of(code)) <= own, "{}", unit.code);
            }
        }
    }

    #[test]
    fn values_beyond_the_last_header_cell_are_refused() {
        let csv = "code,name_vi,name_en,kind\n01,A,B,k,,extra\n";
        let errors = messages(parse_unit_csv(csv.as_bytes(), "u.csv"));
        assert_eq!(
            errors,
            ["u.csv row 2, column F: a value in a column without a header"]
        );
    }

    #[test]
    fn a_predecessor_spelled_with_other_accents_still_resolves() {
        let old = set_2023();
        let csv = "name_vi,name_en,kind,predecessors_2023\nX,X,province,Hoà Bình\n";
        let err = parse_reference_2025(csv, &old).unwrap_err();
        // Resolves (no UnresolvedPredecessor) and then complains that the rest is missing.
        assert!(matches!(err, ReferenceError::NotAbsorbed { .. }));
    }

    #[test]
    fn an_unknown_predecessor_or_a_double_absorption_is_refused() {
        let old = set_2023();
        let csv = "name_vi,name_en,kind,predecessors_2023\nX,X,province,Hà Tây\n";
        assert_eq!(
            parse_reference_2025(csv, &old),
            Err(ReferenceError::UnresolvedPredecessor {
                unit: "X".to_owned(),
                name: "Hà Tây".to_owned()
            })
        );
        let csv = "name_vi,name_en,kind,predecessors_2023\nX,X,province,Hà Nội\nY,Y,city,Hà Nội\n";
        assert!(matches!(
            parse_reference_2025(csv, &old),
            Err(ReferenceError::AbsorbedTwice { .. })
        ));
    }

    #[test]
    fn slugs_fold_vietnamese_and_collapse_punctuation() {
        assert_eq!(slug("Bà Rịa - Vũng Tàu"), "ba-ria-vung-tau");
        assert_eq!(slug("  Đắk Lắk "), "dak-lak");
        assert_eq!(slug("Ho Chi Minh City"), "ho-chi-minh-city");
        assert_eq!(slug("--"), "");
        // Decomposed (NFD) input folds the same way.
        assert_eq!(slug("Ha\u{0300} No\u{0323}i"), "ha-noi");
    }

    #[test]
    fn a_clean_custom_list_is_imported_with_standard_region_names_filled_in() {
        let csv = format!(
            "\u{FEFF}{HEADER}BNV,Bộ Nội vụ,Ministry of Home Affairs,,,,ministry\n\
             HN,Hà Nội,Hanoi,DBSH,,,city\n\
             X1,Đơn vị X,Unit X,R9,Vùng 9,,province\n"
        );
        let set = parse_unit_csv(csv.as_bytes(), "units.csv").unwrap();
        assert_eq!(set.units.len(), 3);
        assert_eq!(set.units[0].region_code, None);
        assert_eq!(
            set.units[1].region_vi.as_deref(),
            Some("Đồng bằng sông Hồng")
        );
        assert_eq!(set.units[1].region_en.as_deref(), Some("Red River Delta"));
        assert_eq!(set.units[2].region_vi.as_deref(), Some("Vùng 9"));
        assert_eq!(set.units[2].region_en, None);
    }

    #[test]
    fn region_columns_are_optional_and_headers_ignore_case_and_order() {
        let csv = "Kind, Name_EN ,NAME_VI,Code\r\nprovince,Ha Noi,Hà Nội,01\r\n";
        let set = parse_unit_csv(csv.as_bytes(), "u.csv").unwrap();
        assert_eq!(set.units[0].code, "01");
        assert_eq!(set.units[0].name_en, "Ha Noi");
    }

    #[test]
    fn every_bad_row_is_reported_with_its_spreadsheet_row_and_column() {
        let csv = format!(
            "{HEADER}01,Hà Nội,Ha Noi,,,,city\n\
             ,Thiếu mã,Missing code,,,,province\n\
             \n\
             01,Trùng,Duplicate,,,,province\n\
             a b,Mã sai,Bad code,,,,province\n\
             02,=HYPERLINK(\"x\"),Formula,,,,province\n\
             03,Tên,{long},,,,province\n\
             04,@SUM(A1),-cmd,,,,province\n",
            long = "x".repeat(201)
        );
        let errors = messages(parse_unit_csv(csv.as_bytes(), "units.csv"));
        assert_eq!(
            errors,
            [
                "units.csv row 3, column code: code is required",
                "units.csv row 5, column code: duplicate code '01' (already on row 2)",
                "units.csv row 6, column code: 'a b' is not a valid code: use only letters A–Z \
                 without accents, digits, '-', '_' or '.'",
                "units.csv row 7, column name_vi: '=HYPERLINK(\"x\")' looks like a spreadsheet \
                 formula; values may not start with =, +, -, @, a tab or a carriage return",
                "units.csv row 8, column name_en: the value is 201 characters long; at most 200 \
                 are allowed",
                "units.csv row 9, column name_vi: '@SUM(A1)' looks like a spreadsheet formula; \
                 values may not start with =, +, -, @, a tab or a carriage return",
                "units.csv row 9, column name_en: '-cmd' looks like a spreadsheet formula; \
                 values may not start with =, +, -, @, a tab or a carriage return",
            ]
        );
    }

    #[test]
    fn a_leading_plus_or_minus_is_refused_even_before_digits_in_unit_lists() {
        let csv = format!("{HEADER}05,+84,-1,,,,province\n");
        let errors = parse_unit_csv(csv.as_bytes(), "u.csv").unwrap_err();
        assert_eq!(errors.len(), 2);
    }

    #[test]
    fn a_tab_or_carriage_return_at_the_start_of_a_cell_is_refused() {
        let csv = format!("{HEADER}05,\tTên,\"\rName\",,,,province\n");
        let errors = messages(parse_unit_csv(csv.as_bytes(), "u.csv"));
        assert_eq!(errors.len(), 2);
        assert!(errors[0].contains("column name_vi"));
        assert!(errors[1].contains("column name_en"));
    }

    #[test]
    fn codes_differing_only_in_case_are_duplicates() {
        let csv = format!("{HEADER}ab,A,A,,,,k\nAB,B,B,,,,k\n");
        let errors = messages(parse_unit_csv(csv.as_bytes(), "u.csv"));
        assert_eq!(
            errors,
            ["u.csv row 3, column code: duplicate code 'AB' (already on row 2)"]
        );
    }

    #[test]
    fn a_non_utf8_file_is_refused_with_the_offset_and_line() {
        let mut bytes = HEADER.as_bytes().to_vec();
        bytes.extend_from_slice(b"01,H\xe0 N\xf4i,Ha Noi,,,,city\n");
        let errors = messages(parse_unit_csv(&bytes, "u.csv"));
        assert_eq!(
            errors,
            [format!(
                "u.csv row 2: the file is not UTF-8 (first invalid byte at offset {}); save it \
                 as 'CSV UTF-8' in Excel",
                HEADER.len() + 4
            )]
        );
    }

    #[test]
    fn unknown_repeated_and_missing_header_columns_are_all_reported() {
        let csv = "code,ten,name_en,code\n01,A,B,01\n";
        let errors = messages(parse_unit_csv(csv.as_bytes(), "u.csv"));
        assert_eq!(
            errors,
            [
                "u.csv row 1, column ten: unknown column; the columns are code, name_vi, \
                 name_en, region_code, region_vi, region_en, kind",
                "u.csv row 1, column code: the column code appears twice",
                "u.csv row 1: the header has no name_vi column",
                "u.csv row 1: the header has no kind column",
            ]
        );
    }

    #[test]
    fn empty_files_and_header_only_files_are_refused() {
        assert_eq!(
            messages(parse_unit_csv(b"", "u.csv")),
            ["u.csv: the file is empty"]
        );
        assert_eq!(
            messages(parse_unit_csv(b"\xEF\xBB\xBF\n\n", "u.csv")),
            ["u.csv: the file is empty"]
        );
        assert_eq!(
            messages(parse_unit_csv(HEADER.as_bytes(), "u.csv")),
            ["u.csv: the file has a header row but no units"]
        );
    }

    #[test]
    fn a_region_name_without_a_region_code_or_a_custom_region_without_a_name_is_refused() {
        let csv = format!("{HEADER}01,A,A,,Vùng,,k\n02,B,B,R1,,,k\n");
        let errors = messages(parse_unit_csv(csv.as_bytes(), "u.csv"));
        assert_eq!(
            errors,
            [
                "u.csv row 2, column region_vi: a region name is given but region_code is empty",
                "u.csv row 3, column region_vi: region 'R1' is not a standard region, so \
                 region_vi is required",
            ]
        );
    }

    #[test]
    fn semicolon_separated_files_from_a_vietnamese_excel_are_read() {
        let csv = "code;name_vi;name_en;kind\n01;Hà Nội, thủ đô;Ha Noi;city\n";
        let set = parse_unit_csv(csv.as_bytes(), "u.csv").unwrap();
        assert_eq!(set.units[0].name_vi, "Hà Nội, thủ đô");
    }

    #[test]
    fn values_under_a_blank_header_are_refused_but_blank_extra_columns_are_fine() {
        let csv = "code,name_vi,name_en,kind,,\n01,A,B,k,,\n02,C,D,k,,oops\n";
        let errors = messages(parse_unit_csv(csv.as_bytes(), "u.csv"));
        assert_eq!(
            errors,
            ["u.csv row 3, column F: a value in a column without a header"]
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_unit_parser() {
        let samples: [&[u8]; 6] = [
            b"\"",
            b"code\n\"",
            b",,,,\n,,,\n",
            b"\xff\xfe\x00c\x00o",
            b"code,name_vi,name_en,kind\n\"a\"b,\"\",x,\r",
            b"\r\r\r\n\n;;;\t\t",
        ];
        for bytes in samples {
            assert!(parse_unit_csv(bytes, "x.csv").is_err());
        }
    }
}
