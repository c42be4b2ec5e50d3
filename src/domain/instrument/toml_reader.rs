//! The TOML reader: turns an instrument file into a draft, with a line, column and field path
//! for every problem.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{
    At, DraftChoices, DraftContinuation, DraftInstrument, DraftItem, DraftList, DraftOption,
    DraftQuestion, DraftSection, FORMAT, Instrument, InstrumentError, Location, MAX_FILE_BYTES,
    MAX_REPORTED_ERRORS, Number, Text, limit_errors, more_errors, validate,
};
use crate::domain::expr::{Calc, ChoiceFilter, Expr, ExprError};
use crate::domain::source::{LineIndex, line_of_byte};
use crate::i18n::Localized;
type Val<'i> = Spanned<DeValue<'i>>;

/// The kind of a TOML value, named in "expected ..., found ..." messages.
fn found(value: &DeValue<'_>) -> Localized {
    let key = match value {
        DeValue::String(_) => "instrument.toml_type.string",
        DeValue::Integer(_) => "instrument.toml_type.integer",
        DeValue::Float(_) => "instrument.toml_type.float",
        DeValue::Boolean(_) => "instrument.toml_type.boolean",
        DeValue::Datetime(_) => "instrument.toml_type.datetime",
        DeValue::Array(_) => "instrument.toml_type.array",
        DeValue::Table(_) => "instrument.toml_type.table",
    };
    Localized::new(key, &[])
}

/// "expected `expected_key`, found (the value's kind)".
fn expected(expected_key: &'static str, value: &DeValue<'_>) -> Localized {
    Localized::new("instrument.expected", &[])
        .with("expected", Localized::new(expected_key, &[]))
        .with("found", found(value))
}

/// The known keys of one TOML table, with the table's place.
struct Fields<'t, 'i> {
    map: BTreeMap<&'t str, &'t Val<'i>>,
    span: Range<usize>,
    path: String,
}

fn join_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

struct TomlReader<'a> {
    file: &'a str,
    text: &'a str,
    lines: LineIndex,
    errors: Vec<InstrumentError>,
}

impl<'a> TomlReader<'a> {
    fn loc(&self, span: &Range<usize>, path: &str) -> Location {
        let (line, column) = self.lines.line_col(self.text, span.start);
        Location::Toml {
            line,
            column,
            path: path.to_owned(),
        }
    }

    fn error(&mut self, span: &Range<usize>, path: &str, message: Localized) {
        let location = self.loc(span, path);
        self.errors.push(InstrumentError {
            file: self.file.to_owned(),
            location,
            message,
        });
    }

    fn fields<'t, 'i>(
        &mut self,
        value: &'t Val<'i>,
        path: &str,
        allowed: &[&str],
    ) -> Option<Fields<'t, 'i>> {
        let DeValue::Table(table) = value.get_ref() else {
            self.error(
                &value.span(),
                path,
                expected("instrument.expected.table", value.get_ref()),
            );
            return None;
        };
        Some(self.table_fields(table, value.span(), path, allowed))
    }

    fn table_fields<'t, 'i>(
        &mut self,
        table: &'t DeTable<'i>,
        span: Range<usize>,
        path: &str,
        allowed: &[&str],
    ) -> Fields<'t, 'i> {
        let mut map = BTreeMap::new();
        for (key, value) in table.iter() {
            let name: &str = key.get_ref().as_ref();
            if allowed.contains(&name) {
                map.insert(name, value);
            } else {
                self.error(
                    &key.span(),
                    &join_path(path, name),
                    Localized::new(
                        "instrument.unknown_field",
                        &[("field", name), ("fields", &allowed.join(", "))],
                    ),
                );
            }
        }
        Fields {
            map,
            span,
            path: path.to_owned(),
        }
    }

    fn get<'t, 'i>(
        &mut self,
        f: &Fields<'t, 'i>,
        key: &str,
        required: bool,
    ) -> Option<(&'t Val<'i>, String)> {
        let path = join_path(&f.path, key);
        match f.map.get(key) {
            Some(v) => Some((*v, path)),
            None => {
                if required {
                    self.error(
                        &f.span,
                        &path,
                        Localized::new("instrument.missing_field", &[("field", key)]),
                    );
                }
                None
            }
        }
    }

    /// A value of the wrong kind; `expected_key` names the kind wanted.
    fn type_error(&mut self, v: &Val<'_>, path: &str, expected_key: &'static str) {
        self.error(&v.span(), path, expected(expected_key, v.get_ref()));
    }

    /// A number TOML itself refused (out of range), its own words kept as the detail.
    fn number_error(&mut self, v: &Val<'_>, path: &str, detail: &str) {
        self.error(
            &v.span(),
            path,
            Localized::new("instrument.bad_number", &[("detail", detail)]),
        );
    }

    fn string(&mut self, f: &Fields<'_, '_>, key: &str, required: bool) -> Option<At<String>> {
        let (v, path) = self.get(f, key, required)?;
        match v.get_ref() {
            DeValue::String(s) => Some(At::new(s.to_string(), self.loc(&v.span(), &path))),
            _ => {
                self.type_error(v, &path, "instrument.expected.string");
                None
            }
        }
    }

    fn integer(&mut self, f: &Fields<'_, '_>, key: &str, required: bool) -> Option<At<i64>> {
        let (v, path) = self.get(f, key, required)?;
        self.integer_value(v, &path)
    }

    fn integer_value(&mut self, v: &Val<'_>, path: &str) -> Option<At<i64>> {
        if !matches!(v.get_ref(), DeValue::Integer(_)) {
            self.type_error(v, path, "instrument.expected.integer");
            return None;
        }
        match i64::deserialize(toml::de::ValueDeserializer::from(v.clone())) {
            Ok(n) => Some(At::new(n, self.loc(&v.span(), path))),
            Err(e) => {
                self.number_error(v, path, e.message());
                None
            }
        }
    }

    fn boolean(&mut self, f: &Fields<'_, '_>, key: &str) -> Option<At<bool>> {
        let (v, path) = self.get(f, key, false)?;
        match v.get_ref() {
            DeValue::Boolean(b) => Some(At::new(*b, self.loc(&v.span(), &path))),
            _ => {
                self.type_error(v, &path, "instrument.expected.boolean");
                None
            }
        }
    }

    fn number(&mut self, f: &Fields<'_, '_>, key: &str) -> Option<At<Number>> {
        let (v, path) = self.get(f, key, false)?;
        match v.get_ref() {
            DeValue::Integer(_) => self
                .integer_value(v, &path)
                .map(|n| At::new(Number::Int(n.value), n.at)),
            DeValue::Float(_) => {
                match f64::deserialize(toml::de::ValueDeserializer::from(v.clone())) {
                    Ok(n) => Some(At::new(Number::Float(n), self.loc(&v.span(), &path))),
                    Err(e) => {
                        self.number_error(v, &path, e.message());
                        None
                    }
                }
            }
            _ => {
                self.type_error(v, &path, "instrument.expected.number");
                None
            }
        }
    }

    fn text(&mut self, f: &Fields<'_, '_>, key: &str, required: bool) -> Option<At<Text>> {
        let (v, path) = self.get(f, key, required)?;
        let fields = self.fields(v, &path, &["vi", "en"])?;
        let vi = self.string(&fields, "vi", true);
        let en = self.string(&fields, "en", true);
        Some(At::new(
            Text::new(vi?.value, en?.value),
            self.loc(&v.span(), &path),
        ))
    }

    fn expr(&mut self, f: &Fields<'_, '_>, key: &str) -> Option<At<Expr>> {
        let s = self.string(f, key, false)?;
        match Expr::parse(&s.value) {
            Ok(e) => Some(At::new(e, s.at)),
            Err(e) => {
                self.errors.push(InstrumentError {
                    file: self.file.to_owned(),
                    location: s.at,
                    message: Localized::new("instrument.invalid_condition", &[])
                        .with("detail", e.localized()),
                });
                None
            }
        }
    }

    /// A string field read by `parse`; its errors are placed inside the string.
    fn parsed<T>(
        &mut self,
        f: &Fields<'_, '_>,
        key: &str,
        parse: impl Fn(&str) -> Result<T, ExprError>,
    ) -> Option<At<T>> {
        let s = self.string(f, key, false)?;
        match parse(&s.value) {
            Ok(value) => Some(At::new(value, s.at)),
            Err(e) => {
                self.errors.push(InstrumentError {
                    file: self.file.to_owned(),
                    location: s.at,
                    message: Localized::new("instrument.invalid_field", &[("field", key)])
                        .with("detail", e.localized()),
                });
                None
            }
        }
    }

    /// A calculation; the conditions of its `if(...)` are written like `relevant`.
    fn calculation(&mut self, f: &Fields<'_, '_>) -> Option<At<Calc>> {
        self.parsed(f, "calculation", |src| {
            Calc::parse(src, &|c| Expr::parse(c).map_err(|e| e.localized()))
        })
    }

    /// A value written as a string, a number or a boolean, kept as text (a `default`).
    fn scalar_text(&mut self, f: &Fields<'_, '_>, key: &str) -> Option<At<String>> {
        let (v, path) = self.get(f, key, false)?;
        let at = self.loc(&v.span(), &path);
        let text = match v.get_ref() {
            DeValue::String(s) => s.to_string(),
            DeValue::Integer(_) => self.integer_value(v, &path)?.value.to_string(),
            DeValue::Float(x) => x.to_string(),
            DeValue::Boolean(b) => if *b { "yes" } else { "no" }.to_owned(),
            _ => {
                self.type_error(v, &path, "instrument.expected.string");
                return None;
            }
        };
        Some(At::new(text, at))
    }

    fn array<'t, 'i>(
        &mut self,
        f: &Fields<'t, 'i>,
        key: &str,
        required: bool,
    ) -> Option<(&'t [Val<'i>], String, Location)> {
        let (v, path) = self.get(f, key, required)?;
        match v.get_ref() {
            DeValue::Array(items) => Some((items, path.clone(), self.loc(&v.span(), &path))),
            _ => {
                self.type_error(v, &path, "instrument.expected.array");
                None
            }
        }
    }

    fn continuation(&mut self, f: &Fields<'_, '_>) -> Option<At<DraftContinuation>> {
        let (v, path) = self.get(f, "continues", false)?;
        let at = self.loc(&v.span(), &path);
        match v.get_ref() {
            DeValue::String(s) => Some(At::new(DraftContinuation::Code(s.to_string()), at)),
            DeValue::Boolean(false) => Some(At::new(DraftContinuation::New, at)),
            _ => {
                self.type_error(v, &path, "instrument.expected.continuation");
                None
            }
        }
    }

    fn option(&mut self, v: &Val<'_>, path: &str) -> Option<DraftOption> {
        let f = self.fields(v, path, &["value", "label", "valid", "filter"])?;
        let value = match f.map.get("value") {
            Some(val) if matches!(val.get_ref(), DeValue::Integer(_)) => {
                // Numeric codes may be written without quotes; they are stored as text.
                self.integer_value(val, &join_path(path, "value"))
                    .map(|n| At::new(n.value.to_string(), n.at))
            }
            _ => self.string(&f, "value", true),
        };
        let label = self.text(&f, "label", true).map(|t| t.value);
        let valid = self.boolean(&f, "valid").is_none_or(|b| b.value);
        let mut attributes = BTreeMap::new();
        if let Some((table, tpath)) = self.get(&f, "filter", false) {
            match table.get_ref() {
                DeValue::Table(t) => {
                    for (key, value) in t.iter() {
                        let vpath = join_path(&tpath, key.get_ref());
                        match value.get_ref() {
                            DeValue::String(s) => {
                                attributes.insert(key.get_ref().to_string(), s.to_string());
                            }
                            DeValue::Integer(_) => {
                                if let Some(n) = self.integer_value(value, &vpath) {
                                    attributes
                                        .insert(key.get_ref().to_string(), n.value.to_string());
                                }
                            }
                            _ => self.type_error(value, &vpath, "instrument.expected.string"),
                        }
                    }
                }
                _ => self.type_error(table, &tpath, "instrument.expected.table"),
            }
        }
        Some(DraftOption {
            value,
            label,
            valid,
            attributes,
        })
    }

    fn root(&mut self, root: &Spanned<DeTable<'_>>) -> Option<DraftInstrument> {
        let f = self.table_fields(
            root.get_ref(),
            root.span(),
            "",
            &[
                "format",
                "code",
                "version",
                "group",
                "provenance",
                "title",
                "instructions",
                "continues",
                "choices",
                "sections",
            ],
        );
        // An unknown format means the rest cannot be understood: report only that.
        let format = self.string(&f, "format", false);
        match format {
            None if !f.map.contains_key("format") => {
                self.errors.clear();
                self.error(
                    &(0..0),
                    "format",
                    Localized::new("instrument.missing_format", &[("format", FORMAT)]),
                );
                return None;
            }
            Some(fmt) if fmt.value != FORMAT => {
                self.errors.clear();
                self.errors.push(InstrumentError {
                    file: self.file.to_owned(),
                    location: fmt.at,
                    message: Localized::new(
                        "instrument.unknown_format",
                        &[("value", &fmt.value), ("format", FORMAT)],
                    ),
                });
                return None;
            }
            _ => {}
        }
        let code = self.string(&f, "code", true);
        let version = self.integer(&f, "version", true);
        let group = self.string(&f, "group", true);
        let provenance = self.string(&f, "provenance", true).map(|s| s.value);
        let title = self.text(&f, "title", true).map(|t| t.value);
        let instructions = self.text(&f, "instructions", false).map(|t| t.value);
        let continues = self.get(&f, "continues", false).and_then(|(v, path)| {
            let cf = self.fields(v, &path, &["instrument", "version"])?;
            let instrument = self.string(&cf, "instrument", true);
            let ver = self.integer(&cf, "version", true);
            Some(At::new(
                (instrument?.value, ver?.value),
                self.loc(&v.span(), &path),
            ))
        });

        let mut choice_lists = Vec::new();
        if let Some((v, path)) = self.get(&f, "choices", false) {
            if let DeValue::Table(t) = v.get_ref() {
                for (name, list) in t.iter() {
                    let name_str: &str = name.get_ref().as_ref();
                    let list_path = join_path(&path, name_str);
                    let Some(lf) = self.fields(list, &list_path, &["options"]) else {
                        continue;
                    };
                    let mut options = Vec::new();
                    if let Some((items, opath, _)) = self.array(&lf, "options", true) {
                        for (i, item) in items.iter().enumerate() {
                            options.extend(self.option(item, &format!("{opath}[{i}]")));
                        }
                    }
                    choice_lists.push(DraftList {
                        name: At::new(name_str.to_owned(), self.loc(&name.span(), &list_path)),
                        options,
                    });
                }
            } else {
                self.type_error(v, &path, "instrument.expected.choice_lists");
            }
        }

        let mut sections = Vec::new();
        if let Some((items, path, _)) = self.array(&f, "sections", true) {
            for (i, s) in items.iter().enumerate() {
                let spath = format!("{path}[{i}]");
                sections.extend(self.section(s, &spath));
            }
        }
        Some(DraftInstrument {
            at: self.loc(&(0..0), ""),
            code,
            version,
            group,
            provenance,
            title,
            instructions,
            continues,
            choice_lists,
            sections,
        })
    }

    fn section(&mut self, v: &Val<'_>, path: &str) -> Option<DraftSection> {
        let f = self.fields(
            v,
            path,
            &["code", "title", "intro", "relevant", "questions"],
        )?;
        let mut questions = Vec::new();
        if let Some((items, qpath, _)) = self.array(&f, "questions", true) {
            for (i, q) in items.iter().enumerate() {
                questions.extend(self.question(q, &format!("{qpath}[{i}]")));
            }
        }
        Some(DraftSection {
            at: self.loc(&v.span(), path),
            code: self.string(&f, "code", true),
            title: self.text(&f, "title", true).map(|t| t.value),
            intro: self.text(&f, "intro", false).map(|t| t.value),
            relevant: self.expr(&f, "relevant"),
            questions,
        })
    }

    fn question(&mut self, v: &Val<'_>, path: &str) -> Option<DraftQuestion> {
        let f = self.fields(
            v,
            path,
            &[
                "code",
                "type",
                "label",
                "hint",
                "required",
                "relevant",
                "constraint",
                "constraint_message",
                "choices",
                "items",
                "min",
                "max",
                "max_length",
                "scored",
                "continues",
                "calculation",
                "required_message",
                "default",
                "appearance",
                "choice_filter",
            ],
        )?;
        let mut q = DraftQuestion::new(self.loc(&v.span(), path));
        q.code = self.string(&f, "code", true);
        q.kind = self.string(&f, "type", true);
        // A calculation is never shown, so it needs no label.
        let is_calculation = q.kind.as_ref().is_some_and(|k| k.value == "calculate");
        q.label = self.text(&f, "label", !is_calculation).map(|t| t.value);
        q.calculation = self.calculation(&f);
        q.required_message = self.text(&f, "required_message", false);
        q.default = self.scalar_text(&f, "default");
        q.appearance = self.string(&f, "appearance", false);
        q.choice_filter = self.parsed(&f, "choice_filter", ChoiceFilter::parse);
        q.hint = self.text(&f, "hint", false).map(|t| t.value);
        q.required = self.boolean(&f, "required").is_some_and(|b| b.value);
        q.relevant = self.expr(&f, "relevant");
        q.constraint = self.expr(&f, "constraint");
        q.constraint_message = self.text(&f, "constraint_message", false);
        q.min = self.number(&f, "min");
        q.max = self.number(&f, "max");
        q.max_length = self.integer(&f, "max_length", false);
        q.scored = self.boolean(&f, "scored");
        q.continues = self.continuation(&f);
        if let Some((c, cpath)) = self.get(&f, "choices", false) {
            let at = self.loc(&c.span(), &cpath);
            match c.get_ref() {
                DeValue::String(name) => {
                    q.choices = Some(At::new(DraftChoices::List(name.to_string()), at));
                }
                DeValue::Array(items) => {
                    let options = items
                        .iter()
                        .enumerate()
                        .filter_map(|(i, o)| self.option(o, &format!("{cpath}[{i}]")))
                        .collect();
                    q.choices = Some(At::new(DraftChoices::Inline(options), at));
                }
                _ => self.type_error(c, &cpath, "instrument.expected.choices"),
            }
        }
        if let Some((items, ipath, at)) = self.array(&f, "items", false) {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let p = format!("{ipath}[{i}]");
                let Some(itf) = self.fields(item, &p, &["code", "label", "continues"]) else {
                    continue;
                };
                out.push(DraftItem {
                    code: self.string(&itf, "code", true),
                    label: self.text(&itf, "label", true).map(|t| t.value),
                    continues: self.continuation(&itf),
                });
            }
            q.items = Some(At::new(out, at));
        }
        Some(q)
    }
}

impl Instrument {
    /// Parses and validates an instrument file. `file_name` is only used in error messages.
    pub fn from_toml(bytes: &[u8], file_name: &str) -> Result<Instrument, Vec<InstrumentError>> {
        let fail = |location, message: Localized| {
            Err(vec![InstrumentError {
                file: file_name.to_owned(),
                location,
                message,
            }])
        };
        if bytes.len() > MAX_FILE_BYTES {
            return fail(
                Location::File,
                Localized::new(
                    "instrument.file_too_large",
                    &[
                        ("size", &bytes.len().to_string()),
                        ("limit", &MAX_FILE_BYTES.to_string()),
                    ],
                ),
            );
        }
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let offset = e.valid_up_to();
                let line = line_of_byte(bytes, offset);
                let bad = bytes.get(offset).copied().unwrap_or(0);
                return fail(
                    Location::Byte { offset, line },
                    Localized::new(
                        "instrument.not_utf8",
                        &[
                            ("byte", &format!("{bad:02X}")),
                            ("offset", &offset.to_string()),
                            ("line", &line.to_string()),
                        ],
                    ),
                );
            }
        };
        // Editors on Windows like to add a byte-order mark; TOML does not allow one.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let (root, syntax) = DeTable::parse_recoverable(text);
        let mut reader = TomlReader {
            file: file_name,
            text,
            lines: LineIndex::new(text),
            errors: Vec::new(),
        };
        if !syntax.is_empty() {
            // Locating an error costs a scan of the text, so only the listed ones are located.
            let total = syntax.len();
            for e in syntax.into_iter().take(MAX_REPORTED_ERRORS) {
                let span = e.span().unwrap_or(0..0);
                let message = Localized::new(
                    "instrument.toml_syntax",
                    &[("detail", &e.message().replace('\n', "; "))],
                );
                reader.error(&span, "", message);
            }
            if total > MAX_REPORTED_ERRORS {
                reader
                    .errors
                    .push(more_errors(file_name, total - MAX_REPORTED_ERRORS));
            }
            return Err(reader.errors);
        }
        match reader.root(&root) {
            Some(draft) => {
                validate(draft, file_name, reader.errors).map_err(|e| limit_errors(e, file_name))
            }
            None => Err(limit_errors(reader.errors, file_name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::instrument::test_support::*;

    #[test]
    fn a_syntax_error_in_a_condition_names_the_column_inside_it() {
        let doc = format!("{HEADER}{}", BODY.replace("q2 == 'yes'", "q2 == "));
        let line = line_of(&doc, "relevant = \"q2 == ");
        assert_eq!(
            errors(&doc),
            [format!(
                "demo.toml:{line}:12: sections[0].questions[2].relevant: invalid condition: expected a value after '==', found 'and' (comparisons are between a question and a literal; quote text values) at column 8"
            )]
        );
    }

    #[test]
    fn oversized_file_is_rejected() {
        let doc = format!("{HEADER}{BODY}#{}\n", "x".repeat(MAX_FILE_BYTES));
        assert_eq!(
            errors(&doc),
            [format!(
                "demo.toml: file is too large ({} bytes; the limit is 1 MiB = 1048576 bytes)",
                doc.len()
            )]
        );
    }

    #[test]
    fn non_utf8_input_reports_the_first_bad_byte() {
        let mut bytes = HEADER.as_bytes().to_vec();
        let offset = bytes.len();
        bytes.extend_from_slice(b"provenance2 = \"\xFF\"\n");
        let es = Instrument::from_toml(&bytes, "demo.toml").unwrap_err();
        assert_eq!(es.len(), 1);
        assert_eq!(
            es[0].location,
            Location::Byte {
                offset: offset + 15,
                line: 7
            }
        );
        assert_eq!(
            es[0].to_string(),
            format!(
                "demo.toml:7: byte {}: file is not valid UTF-8: byte 0xFF at offset {} (line 7); save it as UTF-8",
                offset + 15,
                offset + 15
            )
        );
    }

    #[test]
    fn toml_syntax_errors_have_line_and_column() {
        let doc = format!(
            "{HEADER}{}",
            BODY.replace("type = \"yes_no\"", "type = yes_no\"")
        );
        let line = line_of(&doc, "type = yes_no");
        let es = errors(&doc);
        assert!(!es.is_empty());
        assert!(
            es[0].starts_with(&format!("demo.toml:{line}:8: TOML syntax error: ")),
            "{es:?}"
        );
    }

    #[test]
    fn unknown_fields_are_all_reported() {
        let doc = format!(
            "{HEADER}colour = \"red\"\n{}",
            BODY.replace("required = true", "requried = true")
                .replace("{ code = \"b_1\", label", "{ code = \"b_1\", lable")
        );
        let es = errors(&doc);
        assert_eq!(es.len(), 4, "{es:?}");
        assert_eq!(
            es[0],
            "demo.toml:7:1: colour: unknown field `colour` (expected one of: format, code, version, group, provenance, title, instructions, continues, choices, sections)"
        );
        let line = line_of(&doc, "requried");
        assert!(es[1].starts_with(&format!(
            "demo.toml:{line}:1: sections[0].questions[0].requried: unknown field `requried` (expected one of: code, type,"
        )));
        let line = line_of(&doc, "lable");
        assert_eq!(
            es[2],
            format!(
                "demo.toml:{line}:3: sections[1].questions[0].items[0].label: missing field `label`"
            )
        );
        assert_eq!(
            es[3],
            format!(
                "demo.toml:{line}:19: sections[1].questions[0].items[0].lable: unknown field `lable` (expected one of: code, label, continues)"
            )
        );
    }

    #[test]
    fn unknown_format_is_the_only_error_reported() {
        let doc = format!(
            "{}colour = 1\n{BODY}",
            HEADER.replace("khaosat-instrument/1", "khaosat-instrument/2")
        );
        assert_eq!(
            errors(&doc),
            [
                "demo.toml:1:10: format: unknown format 'khaosat-instrument/2' (this version reads \"khaosat-instrument/1\")"
            ]
        );
        assert_eq!(
            errors("code = \"x\"\n"),
            ["demo.toml:1:1: format: missing field `format` (expected \"khaosat-instrument/1\")"]
        );
    }

    #[test]
    fn a_large_instrument_parses_quickly() {
        let mut doc = format!(
            "{HEADER}{BODY}\n[[sections]]\ncode = \"big\"\ntitle = {{ vi = \"a\", en = \"b\" }}\n"
        );
        let mut n = 0;
        while doc.len() < MAX_FILE_BYTES - 300 {
            doc.push_str(&format!(
                "\n[[sections.questions]]\ncode = \"x{n}\"\ntype = \"single\"\nchoices = \"agree4\"\nlabel = {{ vi = \"Câu\", en = \"Q\" }}\nrelevant = \"q1 == 1\"\n"
            ));
            n += 1;
        }
        let started = std::time::Instant::now();
        let i = parse(&doc).unwrap();
        assert!(i.answer_codes().count() > 5_000);
        assert!(
            started.elapsed().as_secs() < 20,
            "took {:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_flood_of_errors_is_cut_off_with_a_count() {
        let doc = "= = =\n".repeat(500);
        let es = errors(&doc);
        assert_eq!(es.len(), MAX_REPORTED_ERRORS + 1);
        assert!(
            es[MAX_REPORTED_ERRORS].starts_with("demo.toml: ... and "),
            "{es:?}"
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_parser() {
        let base = format!("{HEADER}{BODY}").into_bytes();
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..1_500 {
            let mut bytes = base.clone();
            // Mutate a valid document: flips, deletions and insertions of TOML-ish bytes.
            for _ in 0..(1 + next() % 8) {
                let at = (next() as usize) % bytes.len().max(1);
                match next() % 3 {
                    0 => bytes[at] = b"[]{}=\"',.#\n\xFF0a"[(next() % 14) as usize],
                    1 => {
                        bytes.remove(at);
                    }
                    _ => bytes.insert(at, (next() % 256) as u8),
                }
            }
            if round % 10 == 0 {
                bytes = (0..(next() % 300)).map(|_| (next() % 256) as u8).collect();
            }
            if let Ok(i) = Instrument::from_toml(&bytes, "fuzz.toml") {
                let again = Instrument::from_toml(i.to_toml().as_bytes(), "again.toml").unwrap();
                assert_eq!(again.content_hash(), i.content_hash());
            }
        }
    }
}
