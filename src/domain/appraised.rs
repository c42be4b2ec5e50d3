//! Appraised points files: the figures the appraisal council sets for each unit and component,
//! imported as CSV (`unit,component,points`, UTF-8, header required) through
//! [`crate::domain::tabular`]. Every row is checked (unknown unit or component, a number outside
//! 0 to the component's appraised maximum, duplicates) and a file with any bad row is refused
//! whole; storing the result is the application layer's business.

use std::collections::BTreeSet;

use crate::domain::methodology::Methodology;
use crate::domain::tabular::{Row, RowCells, RowError, map_header, msg, read_csv};

/// The header an appraised points file must have, in this order.
const COLUMNS: [(&str, bool); 3] = [("unit", true), ("component", true), ("points", true)];

/// Slack when comparing points with a component's maximum, so `12.3` is not refused because
/// `max_points - survey_points` came out as `12.299999999999999`.
const LIMIT_SLACK: f64 = 1e-9;

/// One checked row: the appraised points of a unit for a component.
#[derive(Debug, Clone, PartialEq)]
pub struct AppraisedPoints {
    /// The unit's id, as the caller's lookup returned it.
    pub unit_id: i64,
    /// The component's code.
    pub component: String,
    /// The points, from 0 to the component's appraised maximum.
    pub points: f64,
}

/// An appraised points file decoded into rows, not yet checked against a round.
#[derive(Debug, Clone)]
pub struct AppraisedFile {
    file: String,
    rows: Vec<Row>,
}

impl AppraisedFile {
    /// Decodes `bytes` (UTF-8, optional BOM) into rows; `file_name` names the file in errors.
    pub fn read(bytes: &[u8], file_name: &str) -> Result<AppraisedFile, Vec<RowError>> {
        // No size or row cap of its own: the upload limit bounds the file.
        let rows = read_csv(bytes, file_name, usize::MAX, usize::MAX)?;
        Ok(AppraisedFile {
            file: file_name.to_owned(),
            rows: rows.into_iter().filter(|r| !r.is_blank()).collect(),
        })
    }

    /// Checks every row against the round: `unit_id` resolves a unit code of the round, and
    /// `methodology` (the round's main one) names the components and their maxima. Returns
    /// every row, or every problem.
    pub fn check(
        self,
        unit_id: impl Fn(&str) -> Option<i64>,
        methodology: &Methodology,
    ) -> Result<Vec<AppraisedPoints>, Vec<RowError>> {
        let file = self.file.as_str();
        let mut rows = self.rows.iter();
        let header = rows.next();
        let header_ok = header.is_some_and(|h| {
            h.cells.iter().map(|c| c.text.trim()).collect::<Vec<_>>()
                == ["unit", "component", "points"]
        });
        let columns = match header {
            Some(h) if header_ok => map_header(h, file, &COLUMNS, &[])?,
            _ => {
                return Err(vec![RowError::at(
                    file,
                    header.map_or(1, |h| h.row),
                    None,
                    msg("list.points_header", &[]),
                )]);
            }
        };
        let mut errors = Vec::new();
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        for row in rows {
            let mut cells = RowCells::new(row, &columns, file, &mut errors, true);
            let (unit, component, points) = (
                cells.raw("unit"),
                cells.raw("component"),
                cells.raw("points"),
            );
            let Some(unit_id) = unit_id(unit) else {
                cells.error("unit", msg("list.unit_unknown", &[("value", unit)]));
                continue;
            };
            let Some(comp) = methodology.component(component) else {
                cells.error(
                    "component",
                    msg(
                        "list.component_unknown",
                        &[("value", component), ("methodology", &methodology.code)],
                    ),
                );
                continue;
            };
            let limit = comp.max_points - comp.survey_points.unwrap_or(0.0);
            match points.replace(',', ".").parse::<f64>() {
                Ok(p) if p.is_finite() && (0.0..=limit + LIMIT_SLACK).contains(&p) => {
                    if seen.insert((unit_id, component.to_owned())) {
                        out.push(AppraisedPoints {
                            unit_id,
                            component: component.to_owned(),
                            points: p,
                        });
                    } else {
                        cells.row_error(msg(
                            "list.points_repeated",
                            &[("unit", unit), ("component", component)],
                        ));
                    }
                }
                _ => cells.error(
                    "points",
                    msg(
                        "list.points_range",
                        &[("value", points), ("max", &limit.to_string())],
                    ),
                ),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }
}
