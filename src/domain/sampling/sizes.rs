//! Sample-size files: `unit,group,size` (CSV, UTF-8, header required; `đơn vị`, `nhóm`,
//! `cỡ mẫu` accepted), one row per unit × group, read through [`crate::domain::tabular`].
//! Every row is checked and a file with any bad row is refused whole.

use std::collections::BTreeSet;

use crate::domain::respondent_list::{GroupLookup, UnitLookup};
use crate::domain::tabular::{RowCells, RowError, map_header_with, msg, read_csv};
use crate::domain::unit_match::Match;

/// Largest sizes file accepted, in bytes.
pub const MAX_SIZES_BYTES: usize = 1024 * 1024;

/// The columns: (canonical name, required).
const COLUMNS: [(&str, bool); 3] = [("unit", true), ("group", true), ("size", true)];

/// Header aliases after header normalisation → canonical column.
const ALIASES: [(&str, &str); 3] = [("don_vi", "unit"), ("nhom", "group"), ("co_mau", "size")];

/// One checked row: the sample size of a unit × group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SizeRow {
    /// Unit code, as the lookup returned it.
    pub unit: String,
    /// Group code, as the lookup returned it.
    pub group: String,
    /// The sample size.
    pub size: u64,
}

/// Reads a sizes file: units and groups by code or name through the lookups, sizes as whole
/// numbers. Returns every row, or every problem.
pub fn parse_sizes_csv(
    bytes: &[u8],
    file: &str,
    units: &impl UnitLookup,
    groups: &impl GroupLookup,
) -> Result<Vec<SizeRow>, Vec<RowError>> {
    let rows = read_csv(bytes, file, MAX_SIZES_BYTES, 100_000)?;
    let mut rows = rows.into_iter().filter(|r| !r.is_blank());
    let Some(header) = rows.next() else {
        return Err(vec![RowError::file(file, msg("list.file_empty", &[]))]);
    };
    let columns = map_header_with(&header, file, &COLUMNS, &ALIASES, &[])?;
    let mut errors = Vec::new();
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for row in rows {
        let mut cells = RowCells::new(&row, &columns, file, &mut errors, false);
        let (unit, group, size) = (cells.raw("unit"), cells.raw("group"), cells.raw("size"));
        let unit_code = match units.resolve_unit(unit) {
            Match::Found(code) => Some(code),
            _ => {
                cells.error("unit", msg("list.unit_unknown", &[("value", unit)]));
                None
            }
        };
        let group_code = match groups.resolve_group(group) {
            Match::Found(code) => Some(code),
            _ => {
                cells.error("group", msg("list.group_unknown", &[("value", group)]));
                None
            }
        };
        let size = match size.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => {
                cells.error("size", msg("list.sample_size_invalid", &[("value", size)]));
                None
            }
        };
        let (Some(unit_code), Some(group_code), Some(size)) = (unit_code, group_code, size) else {
            continue;
        };
        if !seen.insert((unit_code.clone(), group_code.clone())) {
            cells.row_error(msg(
                "list.sample_size_repeated",
                &[("unit", unit), ("group", group)],
            ));
            continue;
        }
        out.push(SizeRow {
            unit: unit_code,
            group: group_code,
            size,
        });
    }
    if errors.is_empty() && out.is_empty() {
        errors.push(RowError::file(file, msg("list.sample_sizes_empty", &[])));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::respondent_list::StandardGroups;

    fn units(code: &str) -> Option<String> {
        ["01", "79"].contains(&code).then(|| code.to_owned())
    }

    #[test]
    fn a_sizes_file_reads_units_groups_by_name_and_sizes() {
        let file = "đơn vị,nhóm,cỡ mẫu\n01,Công chức,40\n79,citizen,120\n";
        let rows = parse_sizes_csv(file.as_bytes(), "sizes.csv", &units, &StandardGroups).unwrap();
        assert_eq!(
            rows,
            [
                SizeRow {
                    unit: "01".into(),
                    group: "civil_servant".into(),
                    size: 40
                },
                SizeRow {
                    unit: "79".into(),
                    group: "citizen".into(),
                    size: 120
                }
            ]
        );
    }

    #[test]
    fn every_bad_row_of_a_sizes_file_is_reported_where_it_is() {
        let file = "unit,group,size\n02,leader,5\n01,leader,năm\n01,leader,3\n01,leader,4\n";
        let errors =
            parse_sizes_csv(file.as_bytes(), "sizes.csv", &units, &StandardGroups).unwrap_err();
        let texts: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 3, "{texts:?}");
        assert!(
            texts[0].contains("row 2") && texts[0].contains("'02'"),
            "{texts:?}"
        );
        assert!(
            texts[1].contains("row 3") && texts[1].contains("năm"),
            "{texts:?}"
        );
        assert!(texts[2].contains("row 5"), "{texts:?}");
    }
}
