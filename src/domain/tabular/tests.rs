//! Tests of the tabular reader: CSV splitting, row limits and header keys.

use super::*;

#[test]
fn csv_rows_are_numbered_as_a_spreadsheet_shows_them() {
    let text = "h1,h2\n\na,b\n\"multi\nline\",c\r\n\r\nd,\"e \"\"q\"\"\"\nlast,x";
    let rows = split_csv(text, 100).unwrap();
    let numbered: Vec<(u32, Vec<&str>)> = rows
        .iter()
        .filter(|r| !r.is_blank())
        .map(|r| (r.row, r.cells.iter().map(|c| c.text.as_str()).collect()))
        .collect();
    assert_eq!(
        numbered,
        [
            (1, vec!["h1", "h2"]),
            (3, vec!["a", "b"]),
            (4, vec!["multi\nline", "c"]),
            (6, vec!["d", "e \"q\""]),
            (7, vec!["last", "x"]),
        ]
    );
}

#[test]
fn an_unterminated_quote_is_reported_at_the_row_where_it_opens() {
    assert_eq!(
        split_csv("a,b\n1,\"oops\n2,3\n", 10).map_err(|(row, m)| (row, m.to_string())),
        Err((
            2,
            "a quoted value is never closed (a '\"' is missing)".to_owned()
        ))
    );
}

#[test]
fn the_row_limit_stops_reading_early() {
    let text = "h\n1\n2\n3\n";
    assert!(split_csv(text, 4).is_ok());
    assert_eq!(
        split_csv(text, 3).unwrap_err().1.to_string(),
        "the file has more than 2 rows after the header"
    );
    assert!(split_csv("h\n1\n2\n3", 3).is_err());
}

#[test]
fn header_keys_fold_accents_spaces_and_punctuation() {
    assert_eq!(header_key(" Họ tên "), "ho_ten");
    assert_eq!(header_key("Số điện thoại"), "so_dien_thoai");
    assert_eq!(header_key("E-mail"), "e_mail");
    assert_eq!(header_key("THƯ ĐIỆN TỬ"), "thu_dien_tu");
    assert_eq!(column_letters(0), "A");
    assert_eq!(column_letters(27), "AB");
}

#[test]
fn a_row_error_reads_in_either_language() {
    let e = RowError::at(
        "ds.csv",
        7,
        Some("đơn vị".to_owned()),
        msg("list.unit_unknown", &[("value", "Hà Nội")]),
    );
    assert_eq!(
        e.to_string(),
        "ds.csv row 7, column đơn vị: 'Hà Nội' is not a unit of this round"
    );
    assert_eq!(
        e.text(Lang::Vi),
        "ds.csv dòng 7, cột đơn vị: 'Hà Nội' không phải là đơn vị của đợt khảo sát này"
    );
    let whole = RowError::file("ds.csv", msg("list.file_empty", &[]));
    assert_eq!(whole.text(Lang::Vi), "ds.csv: tệp trống");
}
