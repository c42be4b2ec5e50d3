//! One survey row read into a question: its type mapped onto khaosat's, its label, hint,
//! conditions and features, and a constraint made only of bounds turned into `min` / `max`.

use super::headers::RowType;
use super::sheet::{Sheet, SheetRow};
use super::to_xpath::RefKind;
use super::xpath::translate_xpath;
use super::{Importer, features, yes_no};
use crate::domain::expr::{CmpOp, Expr, Literal, SELF_REF};
use crate::domain::instrument::{
    At, DraftChoices, DraftOption, DraftQuestion, Location, Number, Text,
};

impl Importer<'_> {
    /// The condition in the row's `key` cell translated from XPath; `None` when the cell is
    /// empty or holds external data, or when it does not translate (reported).
    pub(super) fn condition(
        &mut self,
        sheet: &Sheet,
        row: &SheetRow,
        key: &str,
        is_constraint: bool,
    ) -> Option<At<Expr>> {
        let (src, i) = sheet.get(row, key)?;
        let at = sheet.loc(row, i);
        if features::is_external(src) {
            // Refused as external data already (see `external_data`).
            return None;
        }
        match translate_xpath(src, is_constraint) {
            Ok(e) => Some(At::new(e, at)),
            Err(message) => {
                self.report(at, message);
                None
            }
        }
    }

    /// The `start`, `end` and `step` of a `range` row's `parameters` (`start=1 end=10`), as
    /// whole-number bounds when the step is 1; otherwise the range is refused.
    fn range_bounds(
        &mut self,
        sheet: &Sheet,
        row: &SheetRow,
        type_at: &Location,
    ) -> Option<(i64, i64)> {
        let (mut start, mut end, mut step) = (1i64, 10i64, 1i64);
        let (text, at) = match sheet.get(row, "parameters") {
            Some((t, i)) => (t, sheet.loc(row, i)),
            None => ("", type_at.clone()),
        };
        let mut ok = true;
        for pair in text.split([' ', ';', ',']).filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match name.trim().to_lowercase().as_str() {
                "start" => &mut start,
                "end" => &mut end,
                "step" => &mut step,
                _ => continue,
            };
            match value.trim().parse::<i64>() {
                Ok(n) => *slot = n,
                Err(_) => ok = false,
            }
        }
        if !ok || step != 1 {
            self.err(at, "xlsform.refused.range", &[("parameters", text)]);
            return None;
        }
        Some((start.min(end), start.max(end)))
    }

    /// The question a survey row describes; a row whose type is refused keeps only its name,
    /// so that conditions naming it are not reported as unknown as well.
    pub(super) fn question(
        &mut self,
        sheet: &Sheet,
        row: &SheetRow,
        parsed: &RowType,
        type_at: Location,
    ) -> Option<DraftQuestion> {
        let mut q = DraftQuestion::new(type_at.clone());
        q.code = match sheet.get(row, "name") {
            Some((n, i)) => Some(At::new(n.to_owned(), sheet.loc(row, i))),
            None => {
                self.err(sheet.loc_of(row, "name"), "xlsform.missing_name", &[]);
                None
            }
        };
        let raw_type = sheet.get(row, "type").map_or("", |(t, _)| t);
        let kind_text = || {
            raw_type
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase()
        };
        let mut bounds: Option<(i64, i64)> = None;
        let mut inline = false;
        let (our_kind, list) = match parsed {
            RowType::Select {
                kind,
                list: Some(l),
                extra,
            } if extra.is_empty() => (*kind, Some(l.clone())),
            RowType::Select {
                kind,
                list: Some(l),
                extra,
            } if extra.len() == 1 && extra[0].eq_ignore_ascii_case("or_other") => {
                if let Some(code) = &q.code {
                    self.or_other.insert(code.value.clone());
                }
                (*kind, Some(l.clone()))
            }
            RowType::Note => ("note", None),
            RowType::Other(k) if k == "calculate" => ("calculate", None),
            RowType::Select { list: None, .. } => {
                let first = raw_type.split_whitespace().next().unwrap_or_default();
                self.err(type_at, "xlsform.select_needs_list", &[("type", first)]);
                return Some(q);
            }
            RowType::Plain(kind) => (*kind, None),
            RowType::Percentage => {
                bounds = Some((0, 100));
                ("integer", None)
            }
            RowType::Range => match self.range_bounds(sheet, row, &type_at) {
                Some(b) => {
                    bounds = Some(b);
                    ("integer", None)
                }
                None => return Some(q),
            },
            RowType::Acknowledge => {
                inline = true;
                ("single", None)
            }
            RowType::Refused(key) => {
                self.err(type_at, key, &[("type", &kind_text())]);
                // Keep the row's name (without a type) so that conditions referring to it are
                // not reported as unknown on top of this error.
                return Some(q);
            }
            _ => {
                self.err(
                    type_at,
                    "xlsform.unsupported_type",
                    &[("type", &kind_text())],
                );
                return Some(q);
            }
        };
        let our_kind = self.refined_kind(sheet, row, our_kind);
        q.kind = Some(At::new(our_kind.to_owned(), type_at.clone()));
        if let Some((min, max)) = bounds {
            q.min = Some(At::new(Number::Int(min), type_at.clone()));
            q.max = Some(At::new(Number::Int(max), type_at.clone()));
        }
        if inline {
            let ok = DraftOption {
                value: Some(At::new("OK".to_owned(), type_at.clone())),
                label: Some(Text::new("OK", "OK")),
                valid: true,
                attributes: Default::default(),
            };
            q.choices = Some(At::new(DraftChoices::Inline(vec![ok]), type_at.clone()));
        }
        q.label = sheet.text(row, "label");
        // A calculation is never shown, so it needs no label.
        if q.label.is_none() && our_kind != "calculate" {
            self.err(sheet.loc_of(row, "label"), "xlsform.missing_label", &[]);
        }
        q.hint = sheet.text(row, "hint");
        self.features(sheet, row, &mut q, our_kind);
        if let Some((v, i)) = sheet.get(row, "required") {
            match yes_no(v) {
                Some(b) => q.required = b,
                None => self.err(
                    sheet.loc(row, i),
                    "xlsform.required_yes_no",
                    &[("value", v)],
                ),
            }
        }
        let own = RefKind::of_type(our_kind);
        q.relevant = self.relevant(sheet, row, own);
        q.scored = self.scored(sheet, row);
        q.max_length = self.max_length(sheet, row);
        q.continues = self.continues(sheet, row);
        let inline = self.inline_choices(sheet, row);
        match list {
            // A yes/no question's list is the export's fixed yes/no options.
            Some(l) if our_kind == "yes_no" => {
                self.ext.yes_no_lists.insert(l);
            }
            Some(l) => {
                if inline {
                    self.ext.inline_lists.insert(l.clone());
                }
                q.choices = Some(At::new(DraftChoices::List(l), type_at));
            }
            None => {}
        }
        if let Some(code) = &q.code {
            self.ext.kinds.insert(code.value.clone(), own);
        }
        if self.exported_constraint(sheet, row, &mut q, our_kind) {
            return Some(q);
        }
        if let Some(constraint) = self.condition(sheet, row, "constraint", true) {
            let message = sheet.text(row, "constraint_message");
            // Bounds have the standard message; a form's own message keeps the constraint.
            match numeric_bounds(&constraint.value, our_kind) {
                Some((min, max)) if bounds.is_none() && message.is_none() => {
                    q.min = min.map(|n| At::new(n, constraint.at.clone()));
                    q.max = max.map(|n| At::new(n, constraint.at.clone()));
                }
                _ => {
                    q.constraint_message = message.map(|m| At::new(m, constraint.at.clone()));
                    q.constraint = Some(constraint);
                }
            }
        }
        Some(q)
    }
}

/// When a constraint is only bounds on the answer itself, the min and max it implies.
pub(super) fn numeric_bounds(e: &Expr, kind: &str) -> Option<(Option<Number>, Option<Number>)> {
    let parts: Vec<&Expr> = match e {
        Expr::And(xs) => xs.iter().collect(),
        other => vec![other],
    };
    let mut min = None;
    let mut max = None;
    for part in parts {
        let Expr::Compare { code, op, value } = part else {
            return None;
        };
        if code != SELF_REF {
            return None;
        }
        let bound = match (kind, value) {
            ("integer", Literal::Integer(n)) => match op {
                CmpOp::Ge => (true, Number::Int(*n)),
                CmpOp::Gt => (true, Number::Int(n.checked_add(1)?)),
                CmpOp::Le => (false, Number::Int(*n)),
                CmpOp::Lt => (false, Number::Int(n.checked_sub(1)?)),
                _ => return None,
            },
            ("decimal", Literal::Integer(_) | Literal::Decimal(_)) => {
                let n = match value {
                    Literal::Integer(i) => *i as f64,
                    Literal::Decimal(d) => d.parse::<f64>().ok()?,
                    _ => return None,
                };
                match op {
                    CmpOp::Ge => (true, Number::Float(n)),
                    CmpOp::Le => (false, Number::Float(n)),
                    _ => return None,
                }
            }
            _ => return None,
        };
        let slot = if bound.0 { &mut min } else { &mut max };
        if slot.is_some() {
            return None;
        }
        *slot = Some(bound.1);
    }
    Some((min, max))
}
