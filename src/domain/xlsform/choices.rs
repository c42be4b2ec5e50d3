//! The `choices` sheet: its rows read into choice lists, with the extra columns a choice
//! filter reads kept on each option.

use std::collections::BTreeSet;

use super::headers::MEDIA_KEYS;
use super::sheet::Sheet;
use super::{Importer, yes_no};
use crate::domain::instrument::{At, DraftList, DraftOption, Location, Text};

impl Importer<'_> {
    /// The choice lists of the sheet, in the order they first appear.
    pub(super) fn choices(
        &mut self,
        sheet: &Sheet,
        filter_columns: &BTreeSet<String>,
    ) -> Vec<DraftList> {
        if sheet.col("list_name").is_none() || sheet.col("name").is_none() {
            self.err(Location::File, "xlsform.choices_columns", &[]);
            return Vec::new();
        }
        let mut lists: Vec<DraftList> = Vec::new();
        let mut media_warned = false;
        for row in &sheet.rows {
            let Some((list, list_i)) = sheet.get(row, "list_name") else {
                continue;
            };
            let name = sheet.get(row, "name");
            let value = match name {
                Some((v, i)) => Some(At::new(v.to_owned(), sheet.loc(row, i))),
                None => {
                    self.err(
                        sheet.loc_of(row, "name"),
                        "xlsform.missing_choice_name",
                        &[],
                    );
                    None
                }
            };
            let media = sheet.first_of(row, &MEDIA_KEYS);
            if let Some(i) = media
                && !media_warned
            {
                media_warned = true;
                let column = sheet.columns.get(i).map_or("", |c| c.key.as_str());
                self.warn(
                    sheet.loc(row, i),
                    "xlsform.warn.choice_media",
                    &[("column", column)],
                );
            }
            let label = match (sheet.text(row, "label"), media, name) {
                (Some(label), _, _) => Some(label),
                // A picture choice: its name is the only text there is to show.
                (None, Some(_), Some((n, _))) => Some(Text::new(n, n)),
                (None, _, _) => {
                    self.err(
                        sheet.loc_of(row, "label"),
                        "xlsform.missing_choice_label",
                        &[],
                    );
                    None
                }
            };
            let valid = match sheet.get(row, "valid") {
                None => true,
                Some((v, i)) => match yes_no(v) {
                    Some(b) => b,
                    None => {
                        self.err(sheet.loc(row, i), "xlsform.valid_yes_no", &[("value", v)]);
                        true
                    }
                },
            };
            // Only the columns a choice filter reads are kept with the option.
            let attributes = filter_columns
                .iter()
                .filter_map(|c| sheet.get(row, c).map(|(v, _)| (c.clone(), v.to_owned())))
                .collect();
            let option = DraftOption {
                value,
                label,
                valid,
                attributes,
            };
            match lists.iter_mut().find(|l| l.name.value == list) {
                Some(l) => l.options.push(option),
                None => lists.push(DraftList {
                    name: At::new(list.to_owned(), sheet.loc(row, list_i)),
                    options: vec![option],
                }),
            }
        }
        lists
    }
}
