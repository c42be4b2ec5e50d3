//! Syntax files for SPSS (`.sps`), Stata (`.do`) and R (`.R`) that read the microdata CSV and
//! apply variable labels, value labels and missing values in one chosen language.
//!
//! Every file uses the column names of [`column_names`], the same as the CSV header and the
//! codebook. Each says in its opening comments which [`Variant`] of the microdata it reads; the
//! status columns of the file with exclusions are ordinary variables to it (`excluded` a
//! labelled 0/1 code), so the same code runs on both files.

use std::borrow::Cow;

use anyhow::{Result, ensure};

use crate::app::export::microdata::{
    CsvOptions, Decimal, FIXED_COLUMN_KINDS, FIXED_COLUMNS, Lang, Text, VarKind, Variable, Variant,
    column_names, integer_code,
};

/// What a syntax file reads and which labels it applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxOptions {
    /// The CSV file as the script opens it (a name relative to the working directory).
    pub data_file: String,
    /// The options the CSV was written with (delimiter, decimal separator, BOM).
    pub csv: CsvOptions,
    /// The language of the labels.
    pub lang: Lang,
    /// The longest cell of each column in bytes, from `CsvFinished::max_bytes`; sizes SPSS
    /// string columns. Without it, string columns get generous defaults.
    pub max_bytes: Option<Vec<usize>>,
    /// Which responses the CSV holds, stated in the opening comments.
    pub variant: Variant,
}

impl SyntaxOptions {
    /// Options without observed column widths.
    pub fn new(data_file: impl Into<String>, csv: CsvOptions, lang: Lang) -> Self {
        Self {
            data_file: data_file.into(),
            csv,
            lang,
            max_bytes: None,
            variant: Variant::AsScored,
        }
    }
}

// ---- the columns, as the three languages see them ------------------------------------------------

/// How a column is stored by the statistics packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Storage {
    Integer,
    Decimal,
    Str,
    Date,
}

/// One labelled code in the chosen language.
#[derive(Debug)]
struct Code {
    text: String,
    number: Option<i32>,
    label: String,
    valid: bool,
}

#[derive(Debug)]
struct Col {
    name: String,
    /// The variable label; empty for the fixed columns.
    label: String,
    kind: VarKind,
    storage: Storage,
    codes: Vec<Code>,
    /// Width in bytes of a string column (observed or a default, never below the codes').
    width: usize,
}

/// SPSS's longest string.
const SPSS_MAX_STRING: usize = 32_767;
/// Width of a categorical column without value labels when no widths were observed (the
/// longest code the instrument format allows).
const DEFAULT_CODE_WIDTH: usize = 64;
/// Width of the fixed text columns when no widths were observed.
const DEFAULT_FIXED_WIDTH: usize = 255;

fn label_in(text: &Text, lang: Lang) -> &str {
    let other = match lang {
        Lang::Vi => Lang::En,
        Lang::En => Lang::Vi,
    };
    Some(text.get(lang))
        .filter(|t| !t.trim().is_empty())
        .unwrap_or(text.get(other))
}

impl Col {
    fn new(name: String, kind: VarKind, var: Option<&Variable>, lang: Lang) -> Self {
        let codes: Vec<Code> = var
            .map(|v| v.effective_value_labels().into_owned())
            .unwrap_or_default()
            .into_iter()
            .map(|v| Code {
                number: integer_code(&v.value),
                label: label_in(&v.label, lang).to_owned(),
                text: v.value,
                valid: v.valid,
            })
            .collect();
        let storage = match kind {
            VarKind::Categorical
                if !codes.is_empty() && codes.iter().all(|c| c.number.is_some()) =>
            {
                Storage::Integer
            }
            VarKind::Categorical | VarKind::Text => Storage::Str,
            VarKind::MultipleDummy | VarKind::Integer => Storage::Integer,
            VarKind::Decimal => Storage::Decimal,
            VarKind::Date => Storage::Date,
        };
        let width = match kind {
            VarKind::Text if var.is_none() => DEFAULT_FIXED_WIDTH,
            VarKind::Text => SPSS_MAX_STRING,
            VarKind::Integer => 11,
            VarKind::Decimal => 16,
            VarKind::Date => 10,
            VarKind::Categorical if codes.is_empty() => DEFAULT_CODE_WIDTH,
            VarKind::Categorical | VarKind::MultipleDummy => 1,
        };
        Self {
            name,
            label: var.map_or("", |v| label_in(&v.label, lang)).to_owned(),
            kind,
            storage,
            codes,
            width,
        }
    }

    /// Codes that can carry a value label: any code of a string column, whole-number codes of a
    /// numeric one.
    fn labelled(&self) -> impl Iterator<Item = &Code> {
        let numeric = self.storage != Storage::Str;
        self.codes
            .iter()
            .filter(move |c| !numeric || c.number.is_some())
    }
}

/// The columns in file order, with the chosen labels and widths.
fn columns(variables: &[Variable], opts: &SyntaxOptions) -> Result<Vec<Col>> {
    opts.csv.validate()?;
    let names = column_names(variables);
    if let Some(widths) = &opts.max_bytes {
        ensure!(
            widths.len() == names.len(),
            "{} column widths given for {} columns",
            widths.len(),
            names.len()
        );
    }
    let fixed = FIXED_COLUMN_KINDS.iter().map(|kind| (*kind, None));
    let vars = variables.iter().map(|v| (v.kind, Some(v)));
    Ok(names
        .into_iter()
        .zip(fixed.chain(vars))
        .enumerate()
        .map(|(i, (name, (kind, var)))| {
            let mut col = Col::new(name, kind, var, opts.lang);
            if let Some(observed) = opts.max_bytes.as_ref().and_then(|w| w.get(i)) {
                col.width = *observed;
            }
            let longest_code = col.codes.iter().map(|c| c.text.len()).max().unwrap_or(0);
            col.width = col.width.max(longest_code).clamp(1, SPSS_MAX_STRING);
            col
        })
        .collect())
}

/// `text` on one line: control characters (line breaks, tabs) become spaces.
fn one_line(text: &str) -> Cow<'_, str> {
    if text.chars().any(char::is_control) {
        Cow::Owned(
            text.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn truncate_bytes(text: &str, max: usize) -> &str {
    let end = (0..=max.min(text.len()))
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    &text[..end]
}

/// `text` cut to `max` characters, ending with `…` when cut.
fn truncate_chars(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some(_) => {
            let keep: String = text.chars().take(max.saturating_sub(1)).collect();
            Cow::Owned(format!("{keep}…"))
        }
    }
}

/// The comment lines every syntax file opens with.
fn preamble(opts: &SyntaxOptions) -> Vec<String> {
    let lang = match opts.lang {
        Lang::Vi => "Vietnamese (vi)",
        Lang::En => "English (en)",
    };
    vec![
        "Encoding: UTF-8".to_owned(),
        format!("Reads the khaosat microdata CSV and applies the {lang} labels"),
        "A leading apostrophe in a text cell guards spreadsheets against formulas; it is removed"
            .to_owned(),
        "Blank cells (skipped questions) and codes marked missing (do not know / not applicable)"
            .to_owned(),
        "  are declared or recoded as missing, so valid percentages leave them out".to_owned(),
        "Line breaks inside answers are written as spaces, so each response is one line".to_owned(),
    ]
    .into_iter()
    .chain(variant_lines(opts.variant).into_iter().map(str::to_owned))
    .collect()
}

/// The opening comment lines naming the file's variant (plain ASCII, no line ending in a
/// period, so SPSS comments end where they should).
fn variant_lines(variant: Variant) -> Vec<&'static str> {
    match variant {
        Variant::AsScored => vec![
            "File variant: as scored (only the responses the scores count; excluded responses \
             are left out)",
        ],
        Variant::WithExclusions => vec![
            "File variant: all responses, with exclusions marked",
            "  excluded: 1 = excluded from the scores, 0 = scored; exclusion_reason: the reason \
             the reviewer entered",
            "  quality_flags: the data-quality flags, separated by ; (blank if none)",
            "  Keeping the responses with excluded = 0 gives the file as scored",
        ],
    }
}

// ---- SPSS ----------------------------------------------------------------------------------------

/// SPSS's longest syntax line, in bytes.
pub const SPSS_MAX_LINE_BYTES: usize = 251;
/// SPSS's longest variable label, in bytes.
const SPSS_VARIABLE_LABEL_BYTES: usize = 256;
/// SPSS's longest value label, in bytes.
const SPSS_VALUE_LABEL_BYTES: usize = 120;
/// SPSS's longest string missing value, in bytes.
const SPSS_STRING_MISSING_BYTES: usize = 8;
/// Indentation of a `+` continuation line.
const SPSS_CONTINUATION: &str = "      + ";

/// Appends `head` followed by `text` as a quoted SPSS string, cut to `max_bytes` and split into
/// `'...' + '...'` pieces so no line passes [`SPSS_MAX_LINE_BYTES`] (leaving room for a `.`).
fn spss_string(lines: &mut Vec<String>, head: &str, text: &str, max_bytes: usize) {
    let flat = one_line(text);
    let text = truncate_bytes(&flat, max_bytes);
    let mut budget = (SPSS_MAX_LINE_BYTES - 3).saturating_sub(head.len()).max(8);
    let mut line = format!("{head}'");
    let mut used = 0;
    for c in text.chars() {
        let cost = if c == '\'' { 2 } else { c.len_utf8() };
        if used + cost > budget {
            line.push('\'');
            lines.push(std::mem::replace(
                &mut line,
                format!("{SPSS_CONTINUATION}'"),
            ));
            budget = SPSS_MAX_LINE_BYTES - 3 - SPSS_CONTINUATION.len();
            used = 0;
        }
        if c == '\'' {
            line.push('\'');
        }
        line.push(c);
        used += cost;
    }
    line.push('\'');
    lines.push(line);
}

/// Ends the SPSS command on the last line.
fn spss_end(lines: &mut [String]) {
    if let Some(last) = lines.last_mut() {
        last.push('.');
    }
}

/// Appends `command` with one block per column (`/` before all but the first, each started by
/// `block` from its head `  /name`), ended with `.`; nothing when `cols` is empty.
fn spss_blocks(
    lines: &mut Vec<String>,
    command: &str,
    cols: &[&Col],
    mut block: impl FnMut(&mut Vec<String>, String, &Col),
) {
    if cols.is_empty() {
        return;
    }
    lines.push(command.to_owned());
    for (i, col) in cols.iter().enumerate() {
        let slash = if i == 0 { "" } else { "/" };
        block(lines, format!("  {slash}{}", col.name), col);
    }
    spss_end(lines);
}

/// A code as SPSS writes it: a number, or a quoted string for a string column.
fn spss_value(col: &Col, code: &Code) -> String {
    match (col.storage, code.number) {
        (Storage::Str, _) | (_, None) => format!("'{}'", code.text.replace('\'', "''")),
        (_, Some(n)) => n.to_string(),
    }
}

fn spss_format(col: &Col) -> String {
    match col.storage {
        Storage::Integer => format!("F{}.0", col.width.clamp(1, 40)),
        Storage::Decimal => format!("F{}.2", (col.width + 2).clamp(8, 40)),
        Storage::Str => format!("A{}", col.width),
        Storage::Date => "SDATE10".to_owned(),
    }
}

fn delimiter_text(opts: &CsvOptions) -> String {
    match opts.delimiter {
        b'\t' => "\\t".to_owned(),
        d => char::from(d).to_string(),
    }
}

/// An SPSS syntax file (`.sps`) reading the UTF-8 CSV with `GET DATA /TYPE=TXT`, removing the
/// spreadsheet guard (a leading apostrophe) from text, and applying `VARIABLE LABELS`,
/// `VALUE LABELS` and `MISSING VALUES`. It starts with a UTF-8 byte-order mark so SPSS reads it
/// as UTF-8, no line is longer than [`SPSS_MAX_LINE_BYTES`], and it runs unchanged in PSPP.
///
/// Columns whose codes are all whole numbers are numeric; other coded columns are strings, with
/// the blank of a skipped question declared missing besides the missing codes.
/// SPSS reads one case per line: write the CSV with
/// [`MicrodataCsv::flatten_line_breaks`](crate::app::export::microdata::MicrodataCsv::flatten_line_breaks).
pub fn spss_syntax(variables: &[Variable], opts: &SyntaxOptions) -> Result<String> {
    let cols = columns(variables, opts)?;
    // PSPP refuses SET UNICODE (it is always in Unicode mode) and SPSS 21 and later start in
    // it, so the command stays a comment for older SPSS.
    let mut lines: Vec<String> = preamble(opts)
        .into_iter()
        .chain(["With SPSS before version 21, run SET UNICODE=ON first".to_owned()])
        .map(|line| format!("* {line}."))
        .collect();
    let decimal = match opts.csv.decimal {
        Decimal::Point => "DOT",
        Decimal::Comma => "COMMA",
    };
    lines.extend([
        format!("SET DECIMAL={decimal}."),
        "GET DATA".to_owned(),
        "  /TYPE=TXT".to_owned(),
    ]);
    spss_string(&mut lines, "  /FILE=", &opts.data_file, usize::MAX);
    lines.extend([
        "  /ENCODING='UTF8'".to_owned(),
        "  /ARRANGEMENT=DELIMITED".to_owned(),
        "  /DELCASE=LINE".to_owned(),
        "  /FIRSTCASE=2".to_owned(),
        format!("  /DELIMITERS=\"{}\"", delimiter_text(&opts.csv)),
        "  /QUALIFIER='\"'".to_owned(),
        "  /VARIABLES=".to_owned(),
    ]);
    lines.extend(
        cols.iter()
            .map(|c| format!("    {} {}", c.name, spss_format(c))),
    );
    spss_end(&mut lines);
    for col in cols.iter().filter(|c| c.storage == Storage::Str) {
        let name = &col.name;
        lines.push(format!(
            "IF (SUBSTR({name}, 1, 1) = \"'\") {name} = SUBSTR({name}, 2)."
        ));
    }

    let labelled: Vec<&Col> = cols.iter().filter(|c| !c.label.is_empty()).collect();
    spss_blocks(
        &mut lines,
        "VARIABLE LABELS",
        &labelled,
        |lines, head, col| {
            spss_string(
                lines,
                &format!("{head} "),
                &col.label,
                SPSS_VARIABLE_LABEL_BYTES,
            );
        },
    );
    let valued: Vec<&Col> = cols
        .iter()
        .filter(|c| c.labelled().next().is_some())
        .collect();
    spss_blocks(&mut lines, "VALUE LABELS", &valued, |lines, head, col| {
        lines.push(head);
        for code in col.labelled() {
            let head = format!("    {} ", spss_value(col, code));
            spss_string(lines, &head, &code.label, SPSS_VALUE_LABEL_BYTES);
        }
    });

    for col in &cols {
        let usable = |c: &&Code| match col.storage {
            Storage::Str => c.text.len() <= SPSS_STRING_MISSING_BYTES,
            _ => c.number.is_some(),
        };
        let (values, left_out): (Vec<&Code>, Vec<&Code>) =
            col.codes.iter().filter(|c| !c.valid).partition(usable);
        // A skipped question leaves a blank string, which SPSS counts as valid unless declared.
        let blank = col.storage == Storage::Str && col.kind == VarKind::Categorical;
        let listed: Vec<String> = blank
            .then(|| "' '".to_owned())
            .into_iter()
            .chain(values.iter().map(|c| spss_value(col, c)))
            .collect();
        if !listed.is_empty() {
            lines.push(format!(
                "MISSING VALUES {} ({}).",
                col.name,
                listed[..listed.len().min(3)].join(" ")
            ));
        }
        if listed.len() > 3 || !left_out.is_empty() {
            lines.push(format!(
                "* {}: SPSS takes at most three missing codes of up to 8 bytes; check the rest.",
                col.name
            ));
        }
    }
    lines.push("EXECUTE.".to_owned());
    Ok(format!("\u{feff}{}\n", lines.join("\n")))
}

// ---- Stata ---------------------------------------------------------------------------------------

/// Stata's longest variable label, in characters.
const STATA_VARIABLE_LABEL_CHARS: usize = 80;
/// Temporary names (the mapped names always start with a letter, so these cannot clash).
const STATA_NEW: &str = "_knew";
const STATA_CODES: &str = "_kcodes";

/// `text` as a Stata compound-quoted string: `` `"..."' ``, with `` ` `` and `$` escaped so no
/// macro expands, and the closing sequence `"'` broken up.
fn stata_quote(text: &str) -> String {
    let escaped = one_line(text)
        .replace('\\', "\\\\")
        .replace('`', "\\`")
        .replace('$', "\\$")
        .replace("\"'", "\" '");
    format!("`\"{escaped}\"'")
}

/// 1-based column numbers as a Stata numlist with ranges (`1/7 9 12/13`).
fn numlist(columns: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while let Some(&start) = columns.get(i) {
        let mut end = start;
        while columns.get(i + 1) == Some(&(end + 1)) {
            end += 1;
            i += 1;
        }
        parts.push(if end > start {
            format!("{start}/{end}")
        } else {
            start.to_string()
        });
        i += 1;
    }
    parts.join(" ")
}

/// The Stata value of each code: its own number, or (for the other codes of a string column,
/// to be `encode`d) the next free whole number.
fn stata_codes(col: &Col) -> Vec<(i32, &Code)> {
    if col.storage != Storage::Str {
        return col
            .codes
            .iter()
            .filter_map(|c| c.number.map(|n| (n, c)))
            .collect();
    }
    if col.kind != VarKind::Categorical {
        return Vec::new();
    }
    let mut next = col
        .codes
        .iter()
        .filter_map(|c| c.number)
        .max()
        .unwrap_or(0)
        .max(0);
    col.codes
        .iter()
        .map(|c| {
            let n = c.number.unwrap_or_else(|| {
                next = next.saturating_add(1);
                next
            });
            (n, c)
        })
        .collect()
}

/// Replaces string column `name` by the numeric `_knew` that `make` creates, in place.
fn stata_swap(lines: &mut Vec<String>, name: &str, make: &[String]) {
    lines.extend_from_slice(make);
    lines.extend([
        format!("order {STATA_NEW}, after({name})"),
        format!("drop {name}"),
        format!("rename {STATA_NEW} {name}"),
    ]);
}

/// A Stata do-file reading the CSV with `import delimited` (UTF-8, names from the header) and
/// applying `label variable`, `label define` / `label values`, and extended missing values
/// (`.a`, `.b`, ... in code order) for don't-know codes. Text columns lose the spreadsheet
/// guard (a leading apostrophe); blanks become Stata's missing values.
///
/// String-coded categorical columns (`yes` / `no` / `dk`) are turned into labelled numbers with
/// `encode`; whole-number codes keep their value. Variable labels are cut to 80 characters.
pub fn stata_syntax(variables: &[Variable], opts: &SyntaxOptions) -> Result<String> {
    let cols = columns(variables, opts)?;
    let comma = opts.csv.decimal == Decimal::Comma;
    let as_string = |c: &Col| {
        matches!(c.storage, Storage::Str | Storage::Date)
            || (comma && c.storage == Storage::Decimal)
    };
    let (strings, numbers): (Vec<usize>, Vec<usize>) =
        (1..=cols.len()).partition(|i| cols.get(i - 1).is_some_and(as_string));
    let mut types = String::new();
    for (option, list) in [("stringcols", &strings), ("numericcols", &numbers)] {
        if !list.is_empty() {
            types.push_str(&format!(" {option}({})", numlist(list)));
        }
    }

    let mut lines: Vec<String> = preamble(opts).iter().map(|l| format!("* {l}")).collect();
    let first = cols.first().map_or(FIXED_COLUMNS[0], |c| c.name.as_str());
    lines.extend([
        "version 15".to_owned(),
        "clear".to_owned(),
        format!(
            "import delimited using {}, clear encoding(\"utf-8\") varnames(1) ///",
            stata_quote(&opts.data_file)
        ),
        format!(
            "    delimiters(\"{}\") case(preserve) bindquote(strict) maxquotedrows(unlimited) ///",
            delimiter_text(&opts.csv)
        ),
        format!("   {types}"),
        "* A byte-order mark can stick to the first name: restore it.".to_owned(),
        "quietly describe, varlist".to_owned(),
        "local first : word 1 of `r(varlist)'".to_owned(),
        format!("if \"`first'\" != \"{first}\" {{"),
        format!("    rename `first' {first}"),
        "}".to_owned(),
    ]);

    let mut used_codes_label = false;
    for col in &cols {
        let name = &col.name;
        let codes = stata_codes(col);
        if col.storage == Storage::Str {
            lines.push(format!(
                "replace {name} = substr({name}, 2, .) if substr({name}, 1, 1) == char(39)"
            ));
        }
        match col.storage {
            Storage::Decimal if comma => lines.push(format!("destring {name}, replace dpcomma")),
            Storage::Date => stata_swap(
                &mut lines,
                name,
                &[
                    format!("generate long {STATA_NEW} = date({name}, \"YMD\")"),
                    format!("format {STATA_NEW} %tdCCYY-NN-DD"),
                ],
            ),
            Storage::Str if !codes.is_empty() => {
                used_codes_label = true;
                let pairs: Vec<String> = codes
                    .iter()
                    .map(|(n, c)| format!("{n} {}", stata_quote(&c.text)))
                    .collect();
                stata_swap(
                    &mut lines,
                    name,
                    &[
                        format!("label define {STATA_CODES} {}, replace", pairs.join(" ")),
                        format!("encode {name}, generate({STATA_NEW}) label({STATA_CODES})"),
                    ],
                );
            }
            _ => {}
        }
        if !col.label.is_empty() {
            let label = truncate_chars(&col.label, STATA_VARIABLE_LABEL_CHARS);
            lines.push(format!("label variable {name} {}", stata_quote(&label)));
        }
        if codes.is_empty() {
            continue;
        }
        let mut missing = (b'a'..=b'z').map(char::from);
        let mut define = vec![format!("label define {name} ///")];
        for (n, code) in &codes {
            let value = if code.valid {
                n.to_string()
            } else {
                let letter = missing.next().unwrap_or('z');
                lines.push(format!("replace {name} = .{letter} if {name} == {n}"));
                format!(".{letter}")
            };
            define.push(format!("    {value} {} ///", stata_quote(&code.label)));
        }
        define.push("    , replace".to_owned());
        lines.extend(define);
        lines.push(format!("label values {name} {name}"));
    }
    if used_codes_label {
        lines.push(format!("label drop {STATA_CODES}"));
    }
    Ok(format!("{}\n", lines.join("\n")))
}

// ---- R -------------------------------------------------------------------------------------------

/// `text` as an R string literal.
fn r_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:04x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn r_vector<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let quoted: Vec<String> = items.into_iter().map(r_quote).collect();
    format!("c({})", quoted.join(", "))
}

fn r_class(col: &Col) -> &'static str {
    match (col.kind, col.storage) {
        (VarKind::Categorical, _) | (_, Storage::Str) => "character",
        (VarKind::MultipleDummy, _) => "integer",
        (_, Storage::Date) => "Date",
        _ => "numeric",
    }
}

/// An R script (base R only) reading the CSV with `read.csv` (UTF-8, the CSV's separator and
/// decimal mark, every column's class fixed), turning categorical columns into factors with
/// `factor(levels =, labels =)` (blanks and don't-know codes become `NA`), removing the
/// spreadsheet guard (a leading apostrophe) from text, setting don't-know codes of
/// numeric columns to `NA`, and attaching variable labels as `attr(x, "label")`. The data frame
/// is called `microdata`.
pub fn r_syntax(variables: &[Variable], opts: &SyntaxOptions) -> Result<String> {
    let cols = columns(variables, opts)?;
    let mut lines: Vec<String> = preamble(opts).iter().map(|l| format!("# {l}")).collect();
    lines.push("# Run with source(\"<this file>\", encoding = \"UTF-8\").".to_owned());
    let encoding = if opts.csv.bom { "UTF-8-BOM" } else { "UTF-8" };
    let dec = match opts.csv.decimal {
        Decimal::Point => ".",
        Decimal::Comma => ",",
    };
    let sep = char::from(opts.csv.delimiter).to_string();
    lines.extend([
        "microdata <- read.csv(".to_owned(),
        format!("  {},", r_quote(&opts.data_file)),
        format!("  fileEncoding = {},", r_quote(encoding)),
        format!("  sep = {},", r_quote(&sep)),
        format!("  dec = {},", r_quote(dec)),
        "  quote = \"\\\"\",".to_owned(),
        "  na.strings = \"\",".to_owned(),
        "  check.names = FALSE,".to_owned(),
        "  stringsAsFactors = FALSE,".to_owned(),
        "  colClasses = c(".to_owned(),
    ]);
    let classes: Vec<String> = cols
        .iter()
        .map(|c| format!("    {} = {}", r_quote(&c.name), r_quote(r_class(c))))
        .collect();
    lines.push(classes.join(",\n"));
    lines.extend(["  )".to_owned(), ")".to_owned()]);

    for col in &cols {
        let x = format!("microdata[[{}]]", r_quote(&col.name));
        let missing: Vec<&str> = col
            .codes
            .iter()
            .filter(|c| !c.valid)
            .map(|c| c.text.as_str())
            .collect();
        if r_class(col) == "character" {
            lines.push(format!("{x} <- sub(\"^'\", \"\", {x})"));
        }
        if col.kind == VarKind::Categorical && !col.codes.is_empty() {
            let valid = || col.codes.iter().filter(|c| c.valid);
            if !missing.is_empty() {
                lines.push(format!(
                    "# Missing (NA): {}",
                    r_vector(missing.iter().copied())
                ));
            }
            lines.extend([
                format!("{x} <- factor("),
                format!("  {x},"),
                format!("  levels = {},", r_vector(valid().map(|c| c.text.as_str()))),
                format!("  labels = {}", r_vector(valid().map(|c| c.label.as_str()))),
                ")".to_owned(),
            ]);
        } else if col.storage != Storage::Str {
            let numbers: Vec<String> = col
                .codes
                .iter()
                .filter(|c| !c.valid)
                .filter_map(|c| c.number.map(|n| n.to_string()))
                .collect();
            if !numbers.is_empty() {
                lines.push(format!("{x}[{x} %in% c({})] <- NA", numbers.join(", ")));
            }
        }
        if !col.label.is_empty() {
            lines.push(format!("attr({x}, \"label\") <- {}", r_quote(&col.label)));
        }
    }
    Ok(format!("{}\n", lines.join("\n")))
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::process::{Command, Output};

    use super::*;
    use crate::app::export::codebook::codebook_csv;
    use crate::app::export::microdata::Record;
    use crate::app::export::microdata::fixtures::{
        TRICKY_TEXT, missing, read_csv, records, variables, write_csv,
    };

    fn opts(csv: CsvOptions) -> SyntaxOptions {
        SyntaxOptions::new("microdata.csv", csv, Lang::Vi)
    }

    /// Writes `records` as CSV plus the syntax `make` builds (with observed widths) into `dir`,
    /// returning the syntax file's path.
    fn write_files(
        dir: &Path,
        csv: CsvOptions,
        flatten: bool,
        vars: &[Variable],
        records: &[Record],
        make: fn(&[Variable], &SyntaxOptions) -> Result<String>,
        file: &str,
    ) -> std::path::PathBuf {
        let finished = write_csv(vars, records, &csv, flatten);
        std::fs::write(dir.join("microdata.csv"), &finished.writer).unwrap();
        let mut options = opts(csv);
        options.max_bytes = Some(finished.max_bytes);
        let path = dir.join(file);
        std::fs::write(&path, make(vars, &options).unwrap()).unwrap();
        path
    }

    /// Runs a program, or `None` (and a note) when it is not installed.
    fn run_if_installed(program: &str, dir: &Path, args: &[&str]) -> Option<Output> {
        match Command::new(program).current_dir(dir).args(args).output() {
            Ok(output) => Some(output),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                eprintln!("{program} is not installed; skipping");
                None
            }
            Err(e) => panic!("running {program}: {e}"),
        }
    }

    fn hostile_variables() -> Vec<Variable> {
        let mut vars = variables();
        vars[0].label = Text::new("Nói \"rõ\" \\ ràng\nđi; it's `x' $HOME", "Say it");
        vars[2].value_labels[0].label.vi = "Có ('đúng')".to_owned();
        vars[4].value_labels = vec![missing("99", "Không trả lời", "No answer")];
        vars
    }

    /// The fixture records, with the third one answering 99 (no answer) to `q6`.
    fn hostile_records() -> Vec<Record> {
        let mut recs = records();
        recs[2].values[4] = Some("99".to_owned());
        recs
    }

    #[test]
    fn spss_syntax_reads_utf8_and_declares_labels_and_missing_values() {
        let sps = spss_syntax(&variables(), &opts(CsvOptions::default())).unwrap();
        assert!(sps.starts_with("\u{feff}* Encoding: UTF-8."));
        assert!(!sps.contains("\nSET UNICODE"), "PSPP refuses SET UNICODE");
        for line in [
            "SET DECIMAL=DOT.",
            "  /FILE='microdata.csv'",
            "  /ENCODING='UTF8'",
            "  /FIRSTCASE=2",
            "  /DELIMITERS=\",\"",
            "  /QUALIFIER='\"'",
            "    response_id A255",
            "    submitted_date SDATE10",
            "    q1 A2",
            "    q2 F1.0",
            "    q8 A32767",
            "    q9 SDATE10.",
            "VARIABLE LABELS",
            "  q1 'Chất lượng dịch vụ ''công''?'",
            "  /q2 'Mức độ'",
            "VALUE LABELS",
            "    'dk' 'Không biết'",
            "  /q2",
            "    9 'Không trả lời'",
            "    0 'Không chọn'",
            "IF (SUBSTR(q8, 1, 1) = \"'\") q8 = SUBSTR(q8, 2).",
            "IF (SUBSTR(response_id, 1, 1) = \"'\") response_id = SUBSTR(response_id, 2).",
            "MISSING VALUES q1 (' ' 'dk').",
            "MISSING VALUES q2 (9).",
            "MISSING VALUES q3 (' ' 'dk').",
        ] {
            assert!(sps.lines().any(|l| l == line), "missing {line:?} in\n{sps}");
        }
    }

    #[test]
    fn spss_syntax_follows_a_decimal_comma_and_english_labels() {
        let mut options = opts(CsvOptions::new(Decimal::Comma));
        options.lang = Lang::En;
        let sps = spss_syntax(&variables(), &options).unwrap();
        assert!(sps.contains("SET DECIMAL=COMMA."));
        assert!(sps.contains("  /DELIMITERS=\";\""));
        assert!(sps.contains("    '1' 'Very good'"));
        assert!(sps.contains("  q1 'Quality of \"public\" services?'"));
    }

    #[test]
    fn spss_lines_stay_within_251_bytes_and_long_labels_continue_with_plus() {
        let mut vars = variables();
        vars[0].label.vi = "Câu hỏi 'rất' dài ".repeat(40);
        vars[0].value_labels[0].label.vi = "ễ'".repeat(200);
        let long_file = format!("{}.csv", "thư_mục/".repeat(60));
        let mut options = opts(CsvOptions::default());
        options.data_file = long_file;
        let sps = spss_syntax(&vars, &options).unwrap();
        for line in sps.lines() {
            assert!(
                line.len() <= SPSS_MAX_LINE_BYTES,
                "{} bytes: {line}",
                line.len()
            );
        }
        assert!(sps.contains("\n      + '"), "{sps}");
        // The label, glued back together, is cut to SPSS's 256 bytes without splitting `''`.
        let label_lines: Vec<&str> = sps
            .lines()
            .skip_while(|l| !l.starts_with("  q1 '"))
            .take_while(|l| !l.starts_with("  /q2"))
            .collect();
        let glued: String = label_lines
            .iter()
            .map(|l| {
                let start = l.find('\'').unwrap();
                let end = l.rfind('\'').unwrap();
                l[start + 1..end].replace("''", "'")
            })
            .collect();
        assert!(glued.len() <= 256 && glued.len() > 240, "{}", glued.len());
        assert!(vars[0].label.vi.starts_with(&glued));
    }

    #[test]
    fn stata_syntax_imports_utf8_and_turns_codes_into_labelled_numbers() {
        let dofile = stata_syntax(&variables(), &opts(CsvOptions::default())).unwrap();
        for line in [
            "import delimited using `\"microdata.csv\"', clear encoding(\"utf-8\") varnames(1) ///",
            "    delimiters(\",\") case(preserve) bindquote(strict) maxquotedrows(unlimited) ///",
            "    stringcols(1/8 10 14/15) numericcols(9 11/13)",
            "if \"`first'\" != \"response_id\" {",
            "label define _kcodes 1 `\"yes\"' 2 `\"no\"' 3 `\"dk\"', replace",
            "encode q3, generate(_knew) label(_kcodes)",
            "rename _knew q3",
            "replace q1 = .a if q1 == 5",
            "replace q2 = .a if q2 == 9",
            "    .a `\"Không biết\"' ///",
            "    1 `\"Rất tốt\"' ///",
            "label values q2 q2",
            "label variable q1 `\"Chất lượng dịch vụ 'công'?\"'",
            "generate long _knew = date(q9, \"YMD\")",
            "label drop _kcodes",
            "replace q3 = substr(q3, 2, .) if substr(q3, 1, 1) == char(39)",
        ] {
            assert!(
                dofile.lines().any(|l| l == line),
                "missing {line:?} in\n{dofile}"
            );
        }
    }

    #[test]
    fn stata_syntax_reads_a_decimal_comma_with_destring() {
        let dofile = stata_syntax(&variables(), &opts(CsvOptions::new(Decimal::Comma))).unwrap();
        assert!(dofile.contains("delimiters(\";\")"));
        assert!(dofile.contains("stringcols(1/8 10 13/15) numericcols(9 11/12)"));
        assert!(dofile.contains("\ndestring q7, replace dpcomma\n"));
    }

    #[test]
    fn stata_labels_are_cut_to_80_characters_and_cannot_expand_macros() {
        let mut vars = hostile_variables();
        vars[1].label.vi = "Đánh giá ".repeat(20);
        let dofile = stata_syntax(&vars, &opts(CsvOptions::default())).unwrap();
        assert!(
            dofile.contains("label variable q1 `\"Nói \"rõ\" \\\\ ràng đi; it's \\`x' \\$HOME\"'"),
            "{dofile}"
        );
        let q2 = dofile
            .lines()
            .find(|l| l.starts_with("label variable q2 "))
            .unwrap();
        let label = q2
            .trim_start_matches("label variable q2 `\"")
            .trim_end_matches("\"'");
        assert_eq!(label.chars().count(), 80);
        assert!(label.ends_with('…'));
        assert_eq!(
            stata_quote("a\"'b"),
            "`\"a\" 'b\"'",
            "the closing sequence is broken up"
        );
    }

    #[test]
    fn stata_recodes_a_numeric_no_answer_code_to_extended_missing() {
        let dofile = stata_syntax(&hostile_variables(), &opts(CsvOptions::default())).unwrap();
        assert!(
            dofile.contains("\nreplace q6 = .a if q6 == 99\n"),
            "{dofile}"
        );
        assert!(dofile.contains(
            "\nlabel define q6 ///\n    .a `\"Không trả lời\"' ///\n    , replace\nlabel values q6 q6\n"
        ));
    }

    #[test]
    fn r_syntax_reads_the_csv_and_builds_factors_with_missing_codes_as_na() {
        let r = r_syntax(&hostile_variables(), &opts(CsvOptions::new(Decimal::Comma))).unwrap();
        for line in [
            "  fileEncoding = \"UTF-8-BOM\",",
            "  sep = \";\",",
            "  dec = \",\",",
            "    \"q7\" = \"numeric\",",
            "    \"q9\" = \"Date\"",
            "# Missing (NA): c(\"dk\")",
            "  levels = c(\"1\", \"2\", \"3\", \"4\"),",
            "  labels = c(\"Có ('đúng')\", \"Không\")",
            "attr(microdata[[\"q1\"]], \"label\") <- \"Nói \\\"rõ\\\" \\\\ ràng\\nđi; it's `x' $HOME\"",
            "microdata[[\"q8\"]] <- sub(\"^'\", \"\", microdata[[\"q8\"]])",
        ] {
            assert!(r.lines().any(|l| l == line), "missing {line:?} in\n{r}");
        }
    }

    #[test]
    fn every_output_uses_the_same_mapped_names() {
        let mut vars = variables();
        vars[0].name = "1st-câu".to_owned();
        vars[1].name = "in".to_owned();
        vars[2].name = "GROUP".to_owned();
        let names = crate::app::export::microdata::variable_names(&vars);
        assert_eq!(names[..3], ["v1st_c_u", "in_", "GROUP_2"]);

        let csv = CsvOptions::default();
        let data = write_csv(&vars, &records(), &csv, false).writer;
        let header = read_csv(&data, b',').remove(0);
        let codebook = read_csv(&codebook_csv(&vars, &csv).unwrap(), b',');
        let codebook_names: Vec<&str> = codebook.iter().map(|r| &r[0]).collect();
        let sps = spss_syntax(&vars, &opts(csv)).unwrap();
        let dofile = stata_syntax(&vars, &opts(csv)).unwrap();
        let r = r_syntax(&vars, &opts(csv)).unwrap();
        for name in &names {
            assert!(header.iter().any(|h| h == name), "{name} in the CSV header");
            assert!(
                codebook_names.contains(&name.as_str()),
                "{name} in the codebook"
            );
            assert!(sps.contains(&format!("\n    {name} ")), "{name} in SPSS");
            assert!(
                dofile.contains(&format!("label variable {name} ")),
                "{name} in Stata"
            );
            assert!(r.contains(&format!("\n    \"{name}\" = ")), "{name} in R");
        }
    }

    #[test]
    fn the_syntax_of_the_file_with_exclusions_names_its_variant_and_labels_excluded() {
        let mut vars = crate::app::export::microdata::status_variables();
        vars.extend(variables());
        let mut options = opts(CsvOptions::default());
        options.variant = Variant::WithExclusions;
        let sps = spss_syntax(&vars, &options).unwrap();
        for line in [
            "* File variant: all responses, with exclusions marked.",
            "*   Keeping the responses with excluded = 0 gives the file as scored.",
            "    excluded F1.0",
            "    exclusion_reason A32767",
            "  excluded",
            "    0 'Được tính điểm'",
            "    1 'Bị loại'",
        ] {
            assert!(sps.lines().any(|l| l == line), "missing {line:?} in\n{sps}");
        }
        let plain = spss_syntax(&variables(), &opts(CsvOptions::default())).unwrap();
        assert!(plain.contains("\n* File variant: as scored (only the responses"));
        assert!(!plain.contains("excluded F1.0"));
        options.lang = Lang::En;
        let dofile = stata_syntax(&vars, &options).unwrap();
        assert!(dofile.contains("\n* File variant: all responses, with exclusions marked\n"));
        assert!(dofile.contains("    1 `\"Excluded\"' ///"), "{dofile}");
        let r = r_syntax(&vars, &options).unwrap();
        assert!(r.contains("\n# File variant: all responses, with exclusions marked\n"));
        assert!(r.contains("  labels = c(\"Scored\", \"Excluded\")"), "{r}");
    }

    #[test]
    fn wrong_column_widths_are_rejected() {
        let mut options = opts(CsvOptions::default());
        options.max_bytes = Some(vec![1, 2, 3]);
        let err = spss_syntax(&variables(), &options).unwrap_err();
        assert!(
            err.to_string()
                .contains("3 column widths given for 15 columns")
        );
    }

    #[test]
    fn the_r_script_runs_in_r_when_r_is_installed() {
        let dir = tempfile::tempdir().unwrap();
        let vars = hostile_variables();
        for csv in [CsvOptions::default(), CsvOptions::new(Decimal::Comma)] {
            let recs = hostile_records();
            let script = write_files(dir.path(), csv, false, &vars, &recs, r_syntax, "m.R");
            let check = format!(
                "source({:?}, encoding = 'UTF-8')\n\
                 stopifnot(identical(levels(microdata$q1), c('Rất tốt', 'Tốt', 'Chưa tốt', 'Kém')))\n\
                 stopifnot(identical(as.character(microdata$q1), c('Rất tốt', NA, NA)))\n\
                 stopifnot(identical(as.character(microdata$q3), c(\"Có ('đúng')\", NA, NA)))\n\
                 stopifnot(identical(attr(microdata$q1, 'label'), {}))\n\
                 stopifnot(identical(as.vector(microdata$q6), c(-3, 12, NA)))\n\
                 stopifnot(identical(as.vector(microdata$q7), c(-2.5, 1234.75, NA)))\n\
                 stopifnot(identical(as.vector(microdata$q8), c({}, '-5', NA)))\n\
                 stopifnot(identical(microdata$response_id, c('r1', '=r2', 'r3')))\n\
                 stopifnot(identical(as.character(microdata$q9), c('2024-04-30', NA, NA)))\n",
                script.to_string_lossy(),
                r_quote(&vars[0].label.vi),
                r_quote(TRICKY_TEXT),
            );
            let Some(out) = run_if_installed("Rscript", dir.path(), &["-e", &check]) else {
                return;
            };
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    #[test]
    fn the_spss_syntax_runs_in_pspp_when_pspp_is_installed() {
        let dir = tempfile::tempdir().unwrap();
        let vars = hostile_variables();
        let recs = hostile_records();
        let sps = write_files(
            dir.path(),
            CsvOptions::default(),
            true,
            &vars,
            &recs,
            spss_syntax,
            "m.sps",
        );
        let mut syntax = std::fs::read_to_string(&sps).unwrap();
        syntax.push_str(
            "SAVE TRANSLATE /OUTFILE='out.csv' /TYPE=CSV /FIELDNAMES /CELLS=LABELS /REPLACE.\n",
        );
        std::fs::write(&sps, syntax).unwrap();
        let Some(out) = run_if_installed("pspp", dir.path(), &["m.sps"]) else {
            return;
        };
        let log = String::from_utf8_lossy(&out.stdout);
        let problems: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("error:") || l.contains("warning:"))
            .collect();
        assert!(problems.is_empty(), "{log}");
        let written = std::fs::read(dir.path().join("out.csv")).unwrap();
        let mut reader = csv::Reader::from_reader(&written[..]);
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(&rows[0][7], "Rất tốt");
        assert_eq!(&rows[1][7], "Không biết");
        assert_eq!(&rows[0][9], "Có ('đúng')");
        assert_eq!(&rows[1][8], "Không trả lời");
        assert_eq!(rows[0][12].trim().parse::<f64>().unwrap(), -2.5);
        assert_eq!(&rows[0][13], TRICKY_TEXT.replace('\n', " "));
        let header = reader.headers().unwrap();
        assert_eq!(&header[7], "q1");
    }
}
