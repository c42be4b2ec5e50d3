//! Reading the khaosat extension columns (`khaosat_*`) and the nested battery groups that the
//! export writes (see `export.rs`), so that an exported questionnaire reads back as the same
//! instrument. A workbook without them reads exactly as before.
//!
//! The XLSForm columns stay authoritative: `khaosat_relevant`, `khaosat_constraint`,
//! `khaosat_min` and `khaosat_max` are used only while the `relevant` / `constraint` cell
//! still holds exactly the XPath the export wrote for them. Someone who edits the XPath in a
//! spreadsheet program gets their edit, read the plain way.

use std::collections::{BTreeMap, BTreeSet};

use super::export::ext;
use super::sheet::{Sheet, SheetRow};
use super::to_xpath::{RefKind, constraint_xpath, to_xpath};
use super::{Importer, yes_no};
use crate::domain::expr::{Expr, SELF_REF};
use crate::domain::instrument::{
    At, DraftChoices, DraftContinuation, DraftItem, DraftList, DraftQuestion, DraftSection,
    Location, Number, Text,
};
use crate::i18n::Localized;

/// What the extension columns told about the workbook beyond single rows.
#[derive(Debug, Default)]
pub(super) struct Found {
    /// The instructions, from the `note` marked `khaosat_type = instructions`.
    pub instructions: Option<Text>,
    /// What each answer code read so far is, to recognise the XPath the export wrote.
    pub kinds: BTreeMap<String, RefKind>,
    /// Choice lists the export generated for yes/no questions.
    pub yes_no_lists: BTreeSet<String>,
    /// Choice lists the export generated for one question's own (inline) options.
    pub inline_lists: BTreeSet<String>,
}

/// A battery group being read: the question so far and where it started.
pub(super) struct OpenBattery {
    question: DraftQuestion,
    name: String,
    items: Vec<DraftItem>,
    list: Option<String>,
    inline: bool,
}

impl OpenBattery {
    /// The battery's name, for messages.
    pub(super) fn name(&self) -> &str {
        &self.name
    }

    /// Where the battery's group begins.
    pub(super) fn at(&self) -> &Location {
        &self.question.at
    }
}

impl Importer<'_> {
    /// The row's `khaosat_type`, lowercased, with its cell.
    pub(super) fn khaosat_type(&self, sheet: &Sheet, row: &SheetRow) -> Option<(String, Location)> {
        sheet
            .get(row, ext::TYPE)
            .map(|(v, i)| (v.to_lowercase(), sheet.loc(row, i)))
    }

    /// The khaosat type of a question row read as `kind` from its XLSForm type, refined by
    /// `khaosat_type` (`text` + `long_text`, `select_one` + `yes_no`).
    pub(super) fn refined_kind<'k>(
        &mut self,
        sheet: &Sheet,
        row: &SheetRow,
        kind: &'k str,
    ) -> &'k str {
        let Some((mark, at)) = self.khaosat_type(sheet, row) else {
            return kind;
        };
        match (mark.as_str(), kind) {
            (ext::LONG_TEXT, "text") => "long_text",
            (ext::YES_NO, "single") => "yes_no",
            (ext::NOTE, "note") => "note",
            _ => {
                self.mismatched_type(at, &mark);
                kind
            }
        }
    }

    /// Reports a `khaosat_type` that does not fit its row.
    pub(super) fn mismatched_type(&mut self, at: Location, mark: &str) {
        let known = [
            ext::LONG_TEXT,
            ext::YES_NO,
            ext::BATTERY,
            ext::INSTRUCTIONS,
            ext::NOTE,
        ];
        if known.contains(&mark) {
            self.err(at, "xlsform.khaosat_type_mismatch", &[("value", mark)]);
        } else {
            self.err(
                at,
                "xlsform.khaosat_type_unknown",
                &[("value", mark), ("known", &known.join(", "))],
            );
        }
    }

    /// `khaosat_scored`: `no` for a question scoring must not use.
    pub(super) fn scored(&mut self, sheet: &Sheet, row: &SheetRow) -> Option<At<bool>> {
        let (v, i) = sheet.get(row, ext::SCORED)?;
        let at = sheet.loc(row, i);
        match yes_no(v) {
            Some(b) => Some(At::new(b, at)),
            None => {
                let column = ext::SCORED;
                self.err(
                    at,
                    "xlsform.khaosat_yes_no",
                    &[("column", column), ("value", v)],
                );
                None
            }
        }
    }

    /// `khaosat_max_length`: the longest accepted text answer.
    pub(super) fn max_length(&mut self, sheet: &Sheet, row: &SheetRow) -> Option<At<i64>> {
        let (v, i) = sheet.get(row, ext::MAX_LENGTH)?;
        let at = sheet.loc(row, i);
        match v.parse::<i64>() {
            Ok(n) => Some(At::new(n, at)),
            Err(_) => {
                let column = ext::MAX_LENGTH;
                self.err(
                    at,
                    "xlsform.khaosat_whole",
                    &[("column", column), ("value", v)],
                );
                None
            }
        }
    }

    /// `khaosat_continues`: the earlier question's code, or `(new)`.
    pub(super) fn continues(
        &mut self,
        sheet: &Sheet,
        row: &SheetRow,
    ) -> Option<At<DraftContinuation>> {
        let (v, i) = sheet.get(row, ext::CONTINUES)?;
        let value = if v == ext::NEW {
            DraftContinuation::New
        } else {
            DraftContinuation::Code(v.to_owned())
        };
        Some(At::new(value, sheet.loc(row, i)))
    }

    /// `khaosat_choices = inline`: the row's list holds the question's own options.
    pub(super) fn inline_choices(&mut self, sheet: &Sheet, row: &SheetRow) -> bool {
        match sheet.get(row, ext::CHOICES) {
            None => false,
            Some((v, _)) if v.eq_ignore_ascii_case(ext::INLINE) => true,
            Some((v, i)) => {
                let at = sheet.loc(row, i);
                self.err(at, "xlsform.khaosat_choices", &[("value", v)]);
                false
            }
        }
    }

    /// How a condition referring to `code` was written; `own` is the row's own kind (`.`).
    fn kind_of(&self, own: RefKind) -> impl Fn(&str) -> RefKind + '_ {
        move |code: &str| {
            if code == SELF_REF {
                own
            } else {
                self.ext.kinds.get(code).copied().unwrap_or(RefKind::Text)
            }
        }
    }

    /// A khaosat condition from an extension cell, or `None` (reported) when it does not parse.
    fn khaosat_condition(&mut self, sheet: &Sheet, row: &SheetRow, key: &str) -> Option<Expr> {
        let (src, i) = sheet.get(row, key)?;
        match Expr::parse(src) {
            Ok(e) => Some(e),
            Err(e) => {
                let message = Localized::new("xlsform.khaosat_condition", &[("column", key)])
                    .with("detail", e.localized());
                self.report(sheet.loc(row, i), message);
                None
            }
        }
    }

    /// The row's `relevant`: `khaosat_relevant` while the XPath cell is the export's spelling
    /// of it, else the XPath cell read the plain way.
    pub(super) fn relevant(
        &mut self,
        sheet: &Sheet,
        row: &SheetRow,
        own: RefKind,
    ) -> Option<At<Expr>> {
        if let Some(e) = self.khaosat_condition(sheet, row, ext::RELEVANT)
            && let Some((cell, i)) = sheet.get(row, "relevant")
            && to_xpath(&e, &self.kind_of(own)) == cell
        {
            return Some(At::new(e, sheet.loc(row, i)));
        }
        self.condition(sheet, row, "relevant", false)
    }

    /// Reads the constraint of a row the export wrote with `khaosat_min` / `khaosat_max` /
    /// `khaosat_constraint` into `q`. False when the row has none or its `constraint` cell was
    /// edited since: the caller then reads the cell the plain way.
    pub(super) fn exported_constraint(
        &mut self,
        sheet: &Sheet,
        row: &SheetRow,
        q: &mut DraftQuestion,
        kind: &str,
    ) -> bool {
        let min = self.bound(sheet, row, ext::MIN, kind);
        let max = self.bound(sheet, row, ext::MAX, kind);
        let condition = self.khaosat_condition(sheet, row, ext::CONSTRAINT);
        if min.is_none() && max.is_none() && condition.is_none() {
            return false;
        }
        let Some((cell, i)) = sheet.get(row, "constraint") else {
            return false;
        };
        let text = |b: &Option<At<Number>>| {
            b.as_ref().map(|b| match b.value {
                Number::Int(n) => n.to_string(),
                Number::Float(f) => f.to_string(),
            })
        };
        let (min_text, max_text) = (text(&min), text(&max));
        let own = RefKind::of_type(kind);
        let expected = constraint_xpath(
            min_text.as_deref(),
            max_text.as_deref(),
            condition.as_ref(),
            &self.kind_of(own),
        );
        if expected.as_deref() != Some(cell) {
            return false;
        }
        let at = sheet.loc(row, i);
        q.min = min;
        q.max = max;
        if let Some(e) = condition {
            q.constraint_message = sheet
                .text(row, "constraint_message")
                .map(|m| At::new(m, at.clone()));
            q.constraint = Some(At::new(e, at));
        }
        true
    }

    /// `khaosat_min` / `khaosat_max`, a number of the question's kind.
    fn bound(
        &mut self,
        sheet: &Sheet,
        row: &SheetRow,
        key: &'static str,
        kind: &str,
    ) -> Option<At<Number>> {
        let (v, i) = sheet.get(row, key)?;
        let at = sheet.loc(row, i);
        let number = if kind == "integer" {
            v.parse::<i64>().ok().map(Number::Int)
        } else {
            v.parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Number::Float)
        };
        if number.is_none() {
            self.err(
                at.clone(),
                "xlsform.khaosat_number",
                &[("column", key), ("value", v)],
            );
        }
        number.map(|n| At::new(n, at))
    }

    /// Opens a battery at a `begin_group` row marked `khaosat_type = battery`.
    pub(super) fn begin_battery(
        &mut self,
        sheet: &Sheet,
        row: &SheetRow,
        type_at: Location,
    ) -> OpenBattery {
        let mut q = DraftQuestion::new(type_at.clone());
        let name = sheet.get(row, "name").map(|(n, i)| (n, sheet.loc(row, i)));
        if name.is_none() {
            self.err(sheet.loc_of(row, "name"), "xlsform.group_needs_name", &[]);
        }
        q.code = name
            .as_ref()
            .map(|(n, at)| At::new((*n).to_owned(), at.clone()));
        q.kind = Some(At::new("battery".to_owned(), type_at.clone()));
        q.label = sheet.text(row, "label");
        if q.label.is_none() {
            self.err(sheet.loc_of(row, "label"), "xlsform.missing_label", &[]);
        }
        q.hint = sheet.text(row, "hint");
        q.relevant = self.relevant(sheet, row, RefKind::Text);
        q.scored = self.scored(sheet, row);
        for key in ["constraint", "required"] {
            if let Some((_, i)) = sheet.get(row, key) {
                let at = sheet.loc(row, i);
                self.err(at, "xlsform.battery_group_column", &[("column", key)]);
            }
        }
        OpenBattery {
            question: q,
            name: name.map(|(n, _)| n.to_owned()).unwrap_or_default(),
            items: Vec::new(),
            list: None,
            inline: self.inline_choices(sheet, row),
        }
    }

    /// One row inside a battery group: a `select_one LIST` row is an item.
    pub(super) fn battery_row(
        &mut self,
        sheet: &Sheet,
        row: &SheetRow,
        kind: &str,
        type_at: Location,
        battery: &mut OpenBattery,
    ) {
        let mut parts = kind.split(' ');
        let (Some("select_one"), Some(_), None) = (parts.next(), parts.next(), parts.next()) else {
            self.err(
                type_at,
                "xlsform.battery_row",
                &[("battery", &battery.name)],
            );
            return;
        };
        // The list name keeps its original case (the type cell was lowercased for matching).
        let list = sheet
            .get(row, "type")
            .and_then(|(t, _)| t.split_whitespace().nth(1))
            .unwrap_or_default()
            .to_owned();
        match &battery.list {
            None => battery.list = Some(list),
            Some(first) if *first == list => {}
            Some(first) => {
                let args = [("battery", battery.name.as_str()), ("list", first.as_str())];
                self.err(type_at.clone(), "xlsform.battery_list", &args);
            }
        }
        for key in ["relevant", "constraint", "hint"] {
            if let Some((_, i)) = sheet.get(row, key) {
                let at = sheet.loc(row, i);
                self.err(at, "xlsform.battery_item_column", &[("column", key)]);
            }
        }
        if let Some((v, i)) = sheet.get(row, "required") {
            match yes_no(v) {
                Some(b) => battery.question.required |= b,
                None => self.err(
                    sheet.loc(row, i),
                    "xlsform.required_yes_no",
                    &[("value", v)],
                ),
            }
        }
        let code = match sheet.get(row, "name") {
            Some((n, i)) => Some(At::new(n.to_owned(), sheet.loc(row, i))),
            None => {
                self.err(sheet.loc_of(row, "name"), "xlsform.missing_name", &[]);
                None
            }
        };
        let label = sheet.text(row, "label");
        if label.is_none() {
            self.err(sheet.loc_of(row, "label"), "xlsform.missing_label", &[]);
        }
        if let Some(c) = &code {
            self.ext.kinds.insert(c.value.clone(), RefKind::Text);
        }
        battery.items.push(DraftItem {
            code,
            label,
            continues: self.continues(sheet, row),
        });
    }

    /// The battery question, at its `end_group` row.
    pub(super) fn finish_battery(&mut self, battery: OpenBattery) -> DraftQuestion {
        let mut q = battery.question;
        if let Some(list) = battery.list {
            if battery.inline {
                self.ext.inline_lists.insert(list.clone());
            }
            q.choices = Some(At::new(DraftChoices::List(list), q.at.clone()));
        }
        q.items = Some(At::new(battery.items, q.at.clone()));
        q
    }

    /// Turns the lists the export generated back into what they were: a question's own options,
    /// or nothing (yes/no). A generated list some plain question also uses stays shared.
    pub(super) fn settle_generated_lists(
        &mut self,
        lists: &mut Vec<DraftList>,
        sections: &mut [DraftSection],
    ) {
        let mut still_used = BTreeSet::new();
        for q in sections.iter_mut().flat_map(|s| s.questions.iter_mut()) {
            let Some(At {
                value: DraftChoices::List(name),
                at,
            }) = &q.choices
            else {
                continue;
            };
            let own = self.ext.inline_lists.contains(name);
            match lists.iter().find(|l| l.name.value == *name).filter(|_| own) {
                Some(list) => {
                    q.choices = Some(At::new(
                        DraftChoices::Inline(list.options.clone()),
                        at.clone(),
                    ));
                }
                None => {
                    still_used.insert(name.clone());
                }
            }
        }
        let generated = |name: &String| {
            (self.ext.inline_lists.contains(name) || self.ext.yes_no_lists.contains(name))
                && !still_used.contains(name)
        };
        lists.retain(|l| !generated(&l.name.value));
    }

    /// `khaosat_continues_instrument` / `khaosat_continues_version` of the settings sheet.
    pub(super) fn settings_continues(
        &mut self,
        instrument: Option<(String, Location)>,
        version: Option<(String, Location)>,
    ) -> Option<At<(String, i64)>> {
        let (code, at) = instrument?;
        let Some((v, v_at)) = version else {
            let column = ext::CONTINUES_VERSION;
            self.err(
                at,
                "xlsform.khaosat_whole",
                &[("column", column), ("value", "")],
            );
            return None;
        };
        match v.parse::<i64>() {
            Ok(n) => Some(At::new((code, n), at)),
            Err(_) => {
                let column = ext::CONTINUES_VERSION;
                self.err(
                    v_at,
                    "xlsform.khaosat_whole",
                    &[("column", column), ("value", &v)],
                );
                None
            }
        }
    }
}
