//! The `settings` sheet: the instrument's code, version, respondent group, title, provenance
//! and the instrument it continues, each from the import options when given, else from the
//! sheet's first row, else XLSForm's defaults.

use super::export::ext;
use super::sheet::Sheet;
use super::{Importer, XlsFormOptions, headers};
use crate::domain::instrument::{
    At, DraftInstrument, DraftList, DraftSection, Location, RespondentGroup, Text,
};

/// The group an instrument carries while no group was given, so that a form can be checked
/// before anyone has said who answers it. [`super::XlsFormImport::group_missing`] says so;
/// such an instrument is never stored.
const PLACEHOLDER_GROUP: RespondentGroup = RespondentGroup::Citizen;

impl Importer<'_> {
    /// Completes the draft read from the other sheets with the header the options and the
    /// `settings` sheet give.
    pub(super) fn with_settings(
        &mut self,
        settings: Option<&Sheet>,
        options: &XlsFormOptions,
        choice_lists: Vec<DraftList>,
        sections: Vec<DraftSection>,
    ) -> DraftInstrument {
        let setting = |key: &str| -> Option<(String, Location)> {
            let s = settings?;
            let row = s.rows.first()?;
            s.get(row, key).map(|(v, i)| (v.to_owned(), s.loc(row, i)))
        };
        let code = match &options.code {
            Some(c) => At::new(c.clone(), Location::File),
            None => {
                let (text, at) = setting("form_id").unwrap_or_else(|| {
                    let stem = std::path::Path::new(self.file)
                        .file_stem()
                        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
                    (stem, Location::File)
                });
                let code = headers::code_from_text(&text);
                if at == Location::File {
                    self.warn(
                        at.clone(),
                        "xlsform.warn.code_from_file",
                        &[("code", &code)],
                    );
                } else if code != text {
                    self.warn(
                        at.clone(),
                        "xlsform.warn.code_changed",
                        &[("form_id", &text), ("code", &code)],
                    );
                }
                At::new(code, at)
            }
        };
        let version = match options.version {
            Some(v) => At::new(i64::from(v), Location::File),
            None => match setting("version") {
                Some((v, at)) => {
                    let (n, exact) = headers::version_from_text(&v);
                    if !exact {
                        self.warn(
                            at.clone(),
                            "xlsform.warn.version",
                            &[("version", &v), ("number", &n.to_string())],
                        );
                    }
                    At::new(i64::from(n), at)
                }
                None => At::new(1, Location::File),
            },
        };
        let group = match options.group {
            Some(g) => At::new(g.code().to_owned(), Location::File),
            None => match setting("group") {
                // `Civil servant` and `civil_servant` both name the group.
                Some((v, at)) => At::new(
                    v.split_whitespace()
                        .collect::<Vec<_>>()
                        .join("_")
                        .to_lowercase(),
                    at,
                ),
                None => {
                    self.group_missing = true;
                    At::new(PLACEHOLDER_GROUP.code().to_owned(), Location::File)
                }
            },
        };
        let title = settings
            .and_then(|s| s.rows.first().and_then(|row| s.text(row, "form_title")))
            .unwrap_or_else(|| Text::new(code.value.clone(), code.value.clone()));
        let title = match setting(ext::TITLE_EN) {
            Some((en, _)) => Text::new(title.vi, en),
            None => title,
        };
        // An exported questionnaire keeps its own provenance.
        let provenance = setting(ext::PROVENANCE)
            .map(|(p, _)| p)
            .unwrap_or_else(|| format!("Imported from XLSForm '{}'", self.file));
        let continues = self.settings_continues(
            setting(ext::CONTINUES_INSTRUMENT),
            setting(ext::CONTINUES_VERSION),
        );
        DraftInstrument {
            at: Location::File,
            code: Some(code),
            version: Some(version),
            group: Some(group),
            provenance: Some(provenance),
            title: Some(title),
            instructions: self.ext.instructions.take(),
            continues,
            choice_lists,
            sections,
        }
    }
}
