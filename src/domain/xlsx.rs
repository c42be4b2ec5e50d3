//! Reading uploaded XLSX workbooks safely, shared by every spreadsheet import (XLSForm
//! questionnaires, respondent lists). An XLSX file is a zip archive of XML parts, and both
//! layers can be made to claim far more than they hold: a small archive can inflate to
//! gigabytes, a sheet can declare a range of 17 billion cells with two cells in it, and a
//! shared-string table can declare a count that calamine reserves memory for up front. So the
//! archive is inflated once into a counting sink before calamine sees it (refused when it
//! cannot be read or inflates past the limit), and sheets are read as a stream of cells into
//! sparse rows, bounded by the cells actually present.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Cursor, Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};

use calamine::{Data, DataRef, Reader, Xlsx, XlsxError};

/// Most parts (files) in an archive; a real workbook has a few dozen.
pub const MAX_PARTS: usize = 1_000;

/// The last row a spreadsheet can have (Excel's limit), 1-based.
pub const MAX_SHEET_ROW: u32 = 1_048_576;

/// Bounds on the work done for one workbook. Each kind of spreadsheet import has its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file accepted, in bytes.
    pub max_file_bytes: usize,
    /// Most bytes all parts together may inflate to (zip bombs), counted while inflating.
    pub max_unpacked_bytes: u64,
    /// Most strings a shared-string table may declare: calamine reserves room for them all
    /// before reading any.
    pub max_shared_strings: u64,
    /// Most cells kept from the sheets read, counting the blank cells to the left of a value in
    /// its row (rows are stored from column A up to their last value).
    pub max_cells: usize,
    /// Most bytes of cell text kept: one long shared string referenced by every cell would
    /// otherwise be copied into each of them.
    pub max_text_bytes: usize,
    /// Columns read: a value beyond this many columns is refused, not ignored.
    pub max_columns: u32,
}

/// Why a workbook was refused. The messages are English sentences; callers place them in their
/// own error types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkbookError {
    /// The file is larger than [`Limits::max_file_bytes`].
    TooLarge {
        /// The file's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The parts inflate to more than [`Limits::max_unpacked_bytes`].
    Unpacks {
        /// The limit.
        limit: u64,
    },
    /// The archive holds more than [`MAX_PARTS`] parts.
    TooManyParts,
    /// A shared-string table declares a count above [`Limits::max_shared_strings`] (or one that
    /// is not a plain number).
    SharedStrings {
        /// The part.
        part: String,
        /// The declared count as written (shortened).
        declared: String,
        /// The limit.
        limit: u64,
    },
    /// Not a zip archive, a damaged one, or a zip that is not a workbook.
    Unreadable(String),
    /// The reader panicked on a malformed file (caught).
    Panicked,
    /// A cell that cannot be kept, located as a spreadsheet shows it.
    Cell {
        /// The sheet's name as written in the workbook.
        sheet: String,
        /// 1-based row.
        row: u32,
        /// The column's letters.
        column: String,
        /// What is wrong with it.
        problem: CellProblem,
    },
}

/// Why a cell could not be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellProblem {
    /// The value lies beyond the last column read.
    BeyondColumn {
        /// Columns read.
        limit: u32,
    },
    /// The cell lies beyond the last row a spreadsheet can have.
    BeyondRow,
    /// The sheets hold more cells than [`Limits::max_cells`].
    TooManyCells {
        /// The limit.
        limit: usize,
    },
    /// The cells hold more text than [`Limits::max_text_bytes`].
    TooMuchText {
        /// The limit.
        limit: usize,
    },
}

impl fmt::Display for WorkbookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkbookError::TooLarge { size, limit } => write!(
                f,
                "the file is too large ({size} bytes; the limit is {limit} bytes)"
            ),
            WorkbookError::Unpacks { limit } => write!(
                f,
                "the workbook unpacks to more than {} MiB; it is not a plausible spreadsheet",
                limit / 1024 / 1024
            ),
            WorkbookError::TooManyParts => write!(
                f,
                "the workbook unpacks to more than {MAX_PARTS} files; it is not a plausible spreadsheet"
            ),
            WorkbookError::SharedStrings {
                part,
                declared,
                limit,
            } => write!(
                f,
                "the workbook unpacks to a string table ({part}) declaring '{declared}' strings; \
                 the limit is {limit}"
            ),
            WorkbookError::Unreadable(detail) => {
                write!(f, "not a readable .xlsx workbook: {detail}")
            }
            WorkbookError::Panicked => f.write_str("the workbook could not be read"),
            WorkbookError::Cell {
                sheet,
                row,
                column,
                problem,
            } => write!(f, "sheet '{sheet}', cell {column}{row}: {problem}"),
        }
    }
}

impl fmt::Display for CellProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CellProblem::BeyondColumn { limit } => write!(
                f,
                "a value beyond column {} (at most {limit} columns are read)",
                column_letters(limit.saturating_sub(1) as usize)
            ),
            CellProblem::BeyondRow => write!(f, "beyond row {MAX_SHEET_ROW}, the last a sheet has"),
            CellProblem::TooManyCells { limit } => {
                write!(f, "more than {limit} cells; the workbook is too large")
            }
            CellProblem::TooMuchText { limit } => write!(
                f,
                "the cells hold more than {limit} bytes of text; the workbook is too large"
            ),
        }
    }
}

impl std::error::Error for WorkbookError {}

/// The letters of a 0-based column index (`0` → `A`, `16383` → `XFD`).
pub fn column_letters(mut index: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(char::from(b'A' + (index % 26) as u8));
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    letters.iter().rev().collect()
}

/// Refuses an archive that cannot be read, holds too many parts, inflates past
/// [`Limits::max_unpacked_bytes`] or declares an oversized shared-string table.
///
/// Every part is inflated into a sink, counting the bytes actually produced, not the sizes the
/// archive declares (which an attacker writes). calamine reads the archive with the same zip
/// library, so it sees exactly these parts. Anything the library cannot read is refused: the
/// check fails closed.
pub fn check_archive(bytes: &[u8], limits: &Limits) -> Result<(), WorkbookError> {
    // Every workbook starts with a part; this also keeps calamine from parsing the file as the
    // other container format it knows (an encrypted OLE file) when a zip is appended to one.
    if !bytes.starts_with(b"PK\x03\x04") {
        return Err(WorkbookError::Unreadable("not a zip archive".to_owned()));
    }
    let unreadable = |e: &dyn fmt::Display| WorkbookError::Unreadable(e.to_string());
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    if archive.len() > MAX_PARTS {
        return Err(WorkbookError::TooManyParts);
    }
    let mut left = limits.max_unpacked_bytes;
    for index in 0..archive.len() {
        let mut part = archive.by_index(index).map_err(|e| unreadable(&e))?;
        let name = part.name().map_err(|e| unreadable(&e))?.into_owned();
        // calamine opens `…sharedStrings.xml` ignoring case, wherever the package puts it.
        let mut sink = StringCountWatch {
            active: name.to_ascii_lowercase().ends_with("sharedstrings.xml"),
            limit: limits.max_shared_strings,
            pending: Vec::new(),
            refused: None,
        };
        // One byte past what is left is enough to know the limit is exceeded.
        let copied = io::copy(&mut (&mut part).take(left.saturating_add(1)), &mut sink);
        if let Some(declared) = sink.refused {
            return Err(WorkbookError::SharedStrings {
                part: name,
                declared,
                limit: limits.max_shared_strings,
            });
        }
        let inflated = copied.map_err(|e| unreadable(&format!("{name}: {e}")))?;
        left = left.checked_sub(inflated).ok_or(WorkbookError::Unpacks {
            limit: limits.max_unpacked_bytes,
        })?;
    }
    Ok(())
}

/// The attribute calamine reads a shared-string table's declared size from.
const UNIQUE_COUNT: &[u8] = b"uniqueCount";

/// Longest stretch kept while waiting for the rest of a `uniqueCount="…"` attribute.
const MAX_PENDING: usize = 4096;

/// A sink that watches a shared-string part for a `uniqueCount` above the limit. It looks at
/// every occurrence, not only the first element's, so a decoy in a comment cannot hide the one
/// calamine uses; text that merely contains the word is not an attribute and is let through.
struct StringCountWatch {
    active: bool,
    limit: u64,
    /// Bytes not yet examined: the tail of the previous write that may hold a split attribute.
    pending: Vec<u8>,
    /// The offending declared count, once found.
    refused: Option<String>,
}

/// What follows `uniqueCount` in the text.
enum Declared {
    /// A complete attribute with this value.
    Value(String),
    /// Not an attribute (e.g. the word in a string's text).
    NotAnAttribute,
    /// The text ends before the attribute does.
    Incomplete,
}

fn declared_after(rest: &[u8]) -> Declared {
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let skip_spaces = |at: usize| at + rest[at..].iter().take_while(|b| is_space(b)).count();
    let at = skip_spaces(0);
    match rest.get(at) {
        None => return Declared::Incomplete,
        Some(b'=') => {}
        Some(_) => return Declared::NotAnAttribute,
    }
    let at = skip_spaces(at + 1);
    let quote = match rest.get(at) {
        None => return Declared::Incomplete,
        Some(q @ (b'"' | b'\'')) => *q,
        Some(_) => return Declared::NotAnAttribute,
    };
    match rest[at + 1..].iter().position(|&b| b == quote) {
        Some(end) => Declared::Value(String::from_utf8_lossy(&rest[at + 1..at + 1 + end]).into()),
        None => Declared::Incomplete,
    }
}

impl StringCountWatch {
    /// Examines `pending`, keeping only what may be the start of a split attribute.
    fn scan(&mut self) {
        let mut keep_from = self.pending.len().saturating_sub(UNIQUE_COUNT.len() - 1);
        let mut at = 0;
        while let Some(found) = self.pending[at..]
            .windows(UNIQUE_COUNT.len())
            .position(|w| w == UNIQUE_COUNT)
        {
            let start = at + found;
            at = start + UNIQUE_COUNT.len();
            match declared_after(&self.pending[at..]) {
                Declared::NotAnAttribute => {}
                Declared::Incomplete => {
                    keep_from = keep_from.min(start);
                    break;
                }
                Declared::Value(value) => {
                    // calamine ignores a value it cannot parse; a plain number is all a real
                    // workbook writes, so anything else is refused rather than second-guessed.
                    let within = value.bytes().all(|b| b.is_ascii_digit())
                        && value.trim_start_matches('0').len() <= 19
                        && value.parse::<u64>().is_ok_and(|n| n <= self.limit);
                    if !within {
                        self.refused = Some(value.chars().take(40).collect());
                        return;
                    }
                }
            }
        }
        self.pending.drain(..keep_from);
        if self.pending.len() > MAX_PENDING {
            self.refused = Some(String::from_utf8_lossy(&self.pending[..40]).into_owned());
        }
    }
}

impl Write for StringCountWatch {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.active {
            self.pending.extend_from_slice(buf);
            self.scan();
            if self.refused.is_some() {
                return Err(io::Error::other("oversized shared-string table"));
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One row of a sheet that has at least one value.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// 1-based row as a spreadsheet shows it.
    pub number: u32,
    /// The cells from column A to the row's last value; blanks are [`Data::Empty`].
    pub cells: Vec<Data>,
}

/// An opened workbook whose archive passed [`check_archive`].
pub struct Workbook<'b> {
    xlsx: Xlsx<Cursor<&'b [u8]>>,
    limits: Limits,
    /// What is left of [`Limits::max_cells`] and [`Limits::max_text_bytes`] for the sheets still
    /// to be read: the budget is the workbook's, so naming one sheet many times gains nothing.
    cells_left: usize,
    text_left: usize,
}

/// Runs calamine on untrusted input: should it panic on a malformed file, that becomes an
/// ordinary error instead of a dead request (or CLI).
fn guarded<T>(read: impl FnOnce() -> Result<T, WorkbookError>) -> Result<T, WorkbookError> {
    catch_unwind(AssertUnwindSafe(read)).unwrap_or(Err(WorkbookError::Panicked))
}

fn unreadable(e: &XlsxError) -> WorkbookError {
    WorkbookError::Unreadable(e.to_string())
}

impl<'b> Workbook<'b> {
    /// Checks the file's size and archive ([`check_archive`]), then opens it.
    pub fn open(bytes: &'b [u8], limits: Limits) -> Result<Workbook<'b>, WorkbookError> {
        if bytes.len() > limits.max_file_bytes {
            return Err(WorkbookError::TooLarge {
                size: bytes.len(),
                limit: limits.max_file_bytes,
            });
        }
        guarded(|| check_archive(bytes, &limits))?;
        let xlsx = guarded(|| Xlsx::new(Cursor::new(bytes)).map_err(|e| unreadable(&e)))?;
        Ok(Workbook {
            xlsx,
            limits,
            cells_left: limits.max_cells,
            text_left: limits.max_text_bytes,
        })
    }

    /// The sheets' names in workbook order.
    pub fn sheet_names(&self) -> Vec<String> {
        self.xlsx.sheet_names()
    }

    /// The rows of sheet `name` that hold a value, in row order. A sheet that is not a
    /// worksheet (a chart sheet) has none.
    pub fn read_sheet(&mut self, name: &str) -> Result<Vec<Row>, WorkbookError> {
        guarded(|| self.stream_sheet(name))
    }

    fn stream_sheet(&mut self, name: &str) -> Result<Vec<Row>, WorkbookError> {
        let mut reader = match self.xlsx.worksheet_cells_reader(name) {
            Ok(reader) => reader,
            Err(XlsxError::NotAWorksheet(_)) => return Ok(Vec::new()),
            Err(e) => return Err(unreadable(&e)),
        };
        // Row index → cells from column A: only rows that hold a value exist, each only as wide
        // as its last value, and every cell stored is paid for from the workbook's budget.
        let mut rows: BTreeMap<u32, Vec<Data>> = BTreeMap::new();
        while let Some(cell) = reader.next_cell().map_err(|e| unreadable(&e))? {
            let value = cell.get_value();
            if matches!(value, DataRef::Empty) {
                continue;
            }
            let (row, column) = cell.get_position();
            let refuse = |problem| WorkbookError::Cell {
                sheet: name.to_owned(),
                row: row.saturating_add(1),
                column: column_letters(column as usize),
                problem,
            };
            if column >= self.limits.max_columns {
                return Err(refuse(CellProblem::BeyondColumn {
                    limit: self.limits.max_columns,
                }));
            }
            if row >= MAX_SHEET_ROW {
                return Err(refuse(CellProblem::BeyondRow));
            }
            let text = match value {
                DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.len(),
                DataRef::SharedString(s) => s.len(),
                _ => 0,
            };
            self.text_left = self.text_left.checked_sub(text).ok_or_else(|| {
                refuse(CellProblem::TooMuchText {
                    limit: self.limits.max_text_bytes,
                })
            })?;
            let cells = rows.entry(row).or_default();
            // `column < max_columns`, a u32, so this fits.
            let index = column as usize;
            if index >= cells.len() {
                self.cells_left = self
                    .cells_left
                    .checked_sub(index + 1 - cells.len())
                    .ok_or_else(|| {
                        refuse(CellProblem::TooManyCells {
                            limit: self.limits.max_cells,
                        })
                    })?;
                cells.resize(index + 1, Data::Empty);
            }
            cells[index] = value.clone().into();
        }
        Ok(rows
            .into_iter()
            .map(|(row, cells)| Row {
                number: row + 1,
                cells,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_xlsxwriter::Workbook as Writer;
    use zip::write::SimpleFileOptions;

    const SMALL: Limits = Limits {
        max_file_bytes: 1024 * 1024,
        max_unpacked_bytes: 1024 * 1024,
        max_shared_strings: 1_000,
        max_cells: 1_000,
        max_text_bytes: 10_000,
        max_columns: 26,
    };

    /// A zip of `parts`, deflated.
    fn zip_of(parts: &[(&str, &[u8])], comment: &[u8]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in parts {
            zip.start_file(*name, SimpleFileOptions::default()).unwrap();
            zip.write_all(data).unwrap();
        }
        zip.set_raw_comment(comment.into()).unwrap();
        zip.finish().unwrap().into_inner()
    }

    fn positions(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
        haystack
            .windows(needle.len())
            .enumerate()
            .filter(|(_, w)| *w == needle)
            .map(|(i, _)| i)
            .collect()
    }

    /// Writes `size` as a little-endian u32 at every `at + offset`.
    fn patch_u32(bytes: &mut [u8], at: &[usize], offset: usize, value: u32) {
        for &i in at {
            bytes[i + offset..i + offset + 4].copy_from_slice(&value.to_le_bytes());
        }
    }

    #[test]
    fn an_archive_that_inflates_past_the_limit_is_refused() {
        let zeros = vec![0u8; 2 * 1024 * 1024];
        let bytes = zip_of(&[("xl/worksheets/sheet1.xml", &zeros)], b"");
        assert!(bytes.len() < 64 * 1024, "zeros compress well");
        assert_eq!(
            check_archive(&bytes, &SMALL),
            Err(WorkbookError::Unpacks {
                limit: SMALL.max_unpacked_bytes
            })
        );
        let fits = zip_of(&[("a.xml", &zeros[..1024])], b"");
        assert_eq!(check_archive(&fits, &SMALL), Ok(()));
    }

    #[test]
    fn an_archive_that_lies_about_its_sizes_is_refused() {
        let zeros = vec![0u8; 2 * 1024 * 1024];
        let mut bytes = zip_of(&[("xl/sharedStrings.xml", &zeros)], b"");
        // Declare 100 bytes in both the local header (offset 22) and the central one (24).
        let local = positions(&bytes, b"PK\x03\x04");
        let central = positions(&bytes, b"PK\x01\x02");
        assert_eq!((local.len(), central.len()), (1, 1));
        patch_u32(&mut bytes, &local, 22, 100);
        patch_u32(&mut bytes, &central, 24, 100);
        let refused = check_archive(&bytes, &SMALL).unwrap_err();
        assert!(
            matches!(
                refused,
                WorkbookError::Unpacks { .. } | WorkbookError::Unreadable(_)
            ),
            "{refused:?}"
        );
        // Even with a limit far above the declared sizes, the lie is not believed: either the
        // inflated bytes or the zip library's own check stop it.
        let roomy = Limits {
            max_unpacked_bytes: 1024 * 1024 + 1,
            ..SMALL
        };
        assert!(check_archive(&bytes, &roomy).is_err());
    }

    #[test]
    fn an_archive_with_a_fake_end_record_in_its_comment_is_refused() {
        // The old guard parsed the last end-of-directory signature it found: one planted in
        // the comment pointed at no directory, it gave up, and the upload was let through.
        let zeros = vec![0u8; 2 * 1024 * 1024];
        let fake_at = |offset: u32| {
            let mut fake = b"PK\x05\x06".to_vec();
            fake.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0]);
            fake.extend_from_slice(&46u32.to_le_bytes());
            fake.extend_from_slice(&offset.to_le_bytes());
            fake.extend_from_slice(&0u16.to_le_bytes());
            fake
        };
        // Past the end: the zip library passes over it to the real record, and counting
        // refuses the bomb.
        let fake = fake_at(0x7FFF_0000);
        let bytes = zip_of(&[("xl/worksheets/sheet1.xml", &zeros)], &fake);
        assert!(bytes.ends_with(&fake));
        assert_eq!(
            check_archive(&bytes, &SMALL),
            Err(WorkbookError::Unpacks {
                limit: SMALL.max_unpacked_bytes
            })
        );
        // At a local header: the library cannot read a directory there, and that is a refusal.
        let bytes = zip_of(&[("xl/worksheets/sheet1.xml", &zeros)], &fake_at(0));
        assert!(matches!(
            check_archive(&bytes, &SMALL),
            Err(WorkbookError::Unreadable(_))
        ));
    }

    #[test]
    fn what_is_not_a_zip_archive_or_is_damaged_is_refused() {
        assert_eq!(
            check_archive(b"not a zip", &SMALL),
            Err(WorkbookError::Unreadable("not a zip archive".to_owned()))
        );
        let good = zip_of(&[("a.xml", b"<a>hello hello hello</a>")], b"");
        // Cut off inside the central directory.
        let cut = &good[..good.len() - 30];
        assert!(matches!(
            check_archive(cut, &SMALL),
            Err(WorkbookError::Unreadable(_))
        ));
        let many: Vec<(String, &[u8])> = (0..=MAX_PARTS)
            .map(|i| (format!("p{i}.xml"), &b""[..]))
            .collect();
        let many: Vec<(&str, &[u8])> = many.iter().map(|(n, d)| (n.as_str(), *d)).collect();
        assert_eq!(
            check_archive(&zip_of(&many, b""), &SMALL),
            Err(WorkbookError::TooManyParts)
        );
    }

    #[test]
    fn a_shared_string_table_declaring_too_many_strings_is_refused() {
        let table = |attrs: &str| {
            format!(
                "<?xml version=\"1.0\"?><!-- uniqueCount=\"1\" --><sst xmlns=\"x\" count=\"1\" \
                 {attrs}><si><t>type uniqueCount of things</t></si></sst>"
            )
        };
        for attrs in [
            "uniqueCount=\"99999999999999\"",
            "uniqueCount = '1001'",
            "uniqueCount=\"+5\"",
            "uniqueCount\n=\n\"5000\"",
        ] {
            let bytes = zip_of(&[("xl/SharedStrings.xml", table(attrs).as_bytes())], b"");
            assert!(
                matches!(
                    check_archive(&bytes, &SMALL),
                    Err(WorkbookError::SharedStrings { .. })
                ),
                "{attrs}"
            );
            // The same text in another part is not calamine's business.
            let other = zip_of(&[("xl/other.xml", table(attrs).as_bytes())], b"");
            assert_eq!(check_archive(&other, &SMALL), Ok(()), "{attrs}");
        }
        let fine = zip_of(
            &[(
                "xl/sharedStrings.xml",
                table("uniqueCount=\"1000\"").as_bytes(),
            )],
            b"",
        );
        assert_eq!(check_archive(&fine, &SMALL), Ok(()));
    }

    #[test]
    fn an_attribute_split_between_writes_is_still_seen() {
        let text = b"<sst uniqueCount=\"123456\">";
        for split in 0..text.len() {
            let mut watch = StringCountWatch {
                active: true,
                limit: 1_000,
                pending: Vec::new(),
                refused: None,
            };
            // The closing quote is the 25th byte: only then can the first write see it all.
            let first = watch.write(&text[..split]);
            assert_eq!(first.is_err(), split >= 25, "split at {split}");
            assert!(watch.write(&text[split..]).is_err(), "split at {split}");
            assert_eq!(watch.refused.as_deref(), Some("123456"));
        }
    }

    fn sheet_with(cells: &[(u32, u16, &str)]) -> Vec<u8> {
        let mut wb = Writer::new();
        let ws = wb.add_worksheet();
        ws.set_name("survey").unwrap();
        for (row, col, value) in cells {
            ws.write_string(*row, *col, *value).unwrap();
        }
        wb.save_to_buffer().unwrap()
    }

    #[test]
    fn rows_are_sparse_and_only_as_wide_as_their_last_value() {
        let bytes = sheet_with(&[(0, 0, "type"), (0, 2, "label"), (4, 1, "x")]);
        let mut book = Workbook::open(&bytes, SMALL).unwrap();
        assert_eq!(book.sheet_names(), ["survey"]);
        let rows = book.read_sheet("survey").unwrap();
        let text = |s: &str| Data::String(s.to_owned());
        assert_eq!(
            rows,
            [
                Row {
                    number: 1,
                    cells: vec![text("type"), Data::Empty, text("label")]
                },
                Row {
                    number: 5,
                    cells: vec![Data::Empty, text("x")]
                },
            ]
        );
    }

    #[test]
    fn a_value_in_the_last_cell_of_a_sheet_is_refused_with_its_location() {
        let bytes = sheet_with(&[(0, 0, "type"), (1_048_575, 16_383, "x")]);
        let mut book = Workbook::open(&bytes, SMALL).unwrap();
        let refused = book.read_sheet("survey").unwrap_err();
        assert_eq!(
            refused.to_string(),
            "sheet 'survey', cell XFD1048576: a value beyond column Z (at most 26 columns are read)"
        );
    }

    #[test]
    fn the_cell_and_text_budgets_are_the_workbooks() {
        // One value per row in column Z costs 26 cells a row: row 39 passes 1,000.
        let cells: Vec<(u32, u16, &str)> = (0..40).map(|r| (r, 25, "x")).collect();
        let bytes = sheet_with(&cells);
        let mut book = Workbook::open(&bytes, SMALL).unwrap();
        let refused = book.read_sheet("survey").unwrap_err();
        assert_eq!(
            refused.to_string(),
            "sheet 'survey', cell Z39: more than 1000 cells; the workbook is too large"
        );
        // About half the budget per read: reading the same sheet again runs out.
        let cells: Vec<(u32, u16, &str)> = (0..20).map(|r| (r, 25, "x")).collect();
        let bytes = sheet_with(&cells);
        let mut book = Workbook::open(&bytes, SMALL).unwrap();
        assert_eq!(book.read_sheet("survey").unwrap().len(), 20);
        assert!(book.read_sheet("survey").is_err());

        let long = "x".repeat(6_000);
        let bytes = sheet_with(&[(0, 0, &long), (1, 0, &long)]);
        let mut book = Workbook::open(&bytes, SMALL).unwrap();
        assert_eq!(
            book.read_sheet("survey").unwrap_err().to_string(),
            "sheet 'survey', cell A2: the cells hold more than 10000 bytes of text; the workbook is too large"
        );
    }

    #[test]
    fn column_letters_count_like_a_spreadsheet() {
        for (index, letters) in [
            (0, "A"),
            (25, "Z"),
            (26, "AA"),
            (255, "IV"),
            (16_383, "XFD"),
        ] {
            assert_eq!(column_letters(index), letters);
        }
    }
}
