//! Workbooks written for the XLSForm tests.

use rust_xlsxwriter::Workbook;

use crate::domain::instrument::InstrumentError;

/// The rows of one sheet, header first.
pub(super) type Rows<'a> = &'a [&'a [&'a str]];

/// Writes a workbook with the given sheets; empty strings leave the cell blank.
pub(super) fn xlsx(sheets: &[(&str, Rows<'_>)]) -> Vec<u8> {
    let mut wb = Workbook::new();
    for (name, rows) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, value) in row.iter().enumerate() {
                if !value.is_empty() {
                    ws.write_string(r as u32, c as u16, *value).unwrap();
                }
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

/// The messages of `errors`, one string each, as `Display` writes them.
pub(super) fn texts(errors: &[InstrumentError]) -> Vec<String> {
    errors.iter().map(ToString::to_string).collect()
}

/// The value of a reading that must succeed; when it fails, its errors, one a line, are the
/// panic message.
pub(super) fn or_panic<T>(read: Result<T, Vec<InstrumentError>>) -> T {
    read.unwrap_or_else(|errors| panic!("{}", texts(&errors).join("\n")))
}
