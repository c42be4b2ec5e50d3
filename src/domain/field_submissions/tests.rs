//! Tests of reading field submission exports: column matching, metadata, values, unit and
//! group, instance IDs and repeats.

use super::*;
use crate::domain::test_fixtures;

fn forms() -> BTreeMap<String, Instrument> {
    BTreeMap::from([(
        "citizen".to_owned(),
        test_fixtures::instrument(test_fixtures::CITIZEN_FIELD, "t.toml"),
    )])
}

fn unit(input: &str) -> Option<String> {
    ["u01", "u02"]
        .into_iter()
        .find(|u| u.eq_ignore_ascii_case(input))
        .map(str::to_owned)
}

fn group(input: &str) -> Option<String> {
    ["citizen", "leader"]
        .into_iter()
        .find(|g| *g == input)
        .map(str::to_owned)
}

fn check(
    text: &str,
    unit_flag: Option<&str>,
    group_flag: Option<&str>,
) -> Result<CheckedFile, Vec<String>> {
    let forms = forms();
    let frame = ImportFrame {
        units: &unit,
        groups: &group,
        forms: &forms,
        unit: unit_flag,
        group: group_flag,
    };
    check_submissions(text.as_bytes(), "export.csv", &frame)
        .map_err(|e| e.iter().map(ToString::to_string).collect())
}

const CENTRAL: &str = "SubmissionDate,start,end,s1-used,s1-rating,s1-channels,s1-age,s1-day,s1-bat-bat_1,s1-bat-bat_2,s1-note,meta-instanceID,KEY,SubmitterID,SubmitterName,AttachmentsPresent,AttachmentsExpected,Status,ReviewState,DeviceID,Edits,FormVersion\n\
2025-03-02T04:00:00.000Z,2025-03-02T10:00:00.000+07:00,2025-03-02T10:12:30.000+07:00,yes,2,2 1,41.0,2025-02-28,1,2,,uuid:aaa,uuid:aaa,7,Nguyễn Văn A,0,0,,,collect:XYZ,0,1\n\
2025-03-03T01:00:00.000Z,,,no,1,,,,,,,uuid:bbb,uuid:bbb,7,Nguyễn Văn A,0,0,,,collect:XYZ,0,1\n";

#[test]
fn a_central_export_maps_its_columns_to_answer_codes_and_keeps_no_submitter_data() {
    let file = check(CENTRAL, Some("u01"), Some("citizen")).unwrap();
    assert_eq!(file.submissions.len(), 2);
    let first = &file.submissions[0];
    assert_eq!(first.row, 2);
    assert_eq!(
        first.answers.to_json(),
        r#"{"age":41,"bat_1":"1","bat_2":"2","channels":["1","2"],"day":{"date":"2025-02-28"},"rating":"2","used":"yes"}"#
    );
    assert_eq!(first.unit, "u01");
    assert_eq!(first.group, "citizen");
    assert_eq!(first.submitted_on, NaiveDate::from_ymd_opt(2025, 3, 2));
    assert_eq!(first.duration_seconds, Some(750));
    assert_eq!(first.key, submission_key("aaa"));
    // The second answered "no": the rating it carries is for a hidden question and is dropped
    // as the web form drops it.
    assert_eq!(file.submissions[1].answers.to_json(), r#"{"used":"no"}"#);
    assert_eq!(file.submissions[1].duration_seconds, None);
    let stored = serde_json::to_string(&file.submissions).unwrap();
    for private in ["Nguyễn", "collect:XYZ", "uuid:aaa"] {
        assert!(!stored.contains(private), "{private} kept");
    }
    // Only the note column answers nothing; the metadata columns are not reported.
    let warnings: Vec<String> = file.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("row 1, column s1-note"),
        "{warnings:?}"
    );
}

#[test]
fn a_kobo_semicolon_export_reads_uuid_and_split_columns_only_without_the_main_column() {
    let kobo = "start;end;s1/used;s1/channels/1;s1/channels/2;s1/age;unit;_id;_uuid;_submission_time;_validation_status;_status;_submitted_by;__version__;_index\n\
\"2025-03-02T10:00:00.000+07:00\";\"2025-03-02T10:05:00.000+07:00\";\"yes\";\"0\";\"1\";\"30\";\"U02\";\"11\";\"ccc\";\"2025-03-02T03:06:00\";\"\";\"submitted_via_web\";\"\";\"vX\";\"1\"\n";
    let file = check(kobo, None, Some("citizen")).unwrap();
    let s = &file.submissions[0];
    assert_eq!(
        s.unit, "u02",
        "the unit column, matched like a respondent list"
    );
    assert_eq!(
        s.answers.to_json(),
        r#"{"age":30,"channels":["2"],"used":"yes"}"#
    );
    assert_eq!(
        s.key,
        submission_key("uuid:ccc"),
        "_uuid is the instanceID without uuid:"
    );
    assert_eq!(s.submitted_on, NaiveDate::from_ymd_opt(2025, 3, 2));
    assert_eq!(s.duration_seconds, Some(300));
    assert!(file.warnings.is_empty(), "{:?}", file.warnings);

    let both = "s1/used;s1/channels;s1/channels/1;s1/channels/2;_uuid\nno;1;1;1;ddd\n";
    let file = check(both, Some("u01"), Some("citizen")).unwrap();
    assert_eq!(
        file.submissions[0].answers.to_json(),
        r#"{"channels":["1"],"used":"no"}"#,
        "the split columns are ignored beside the main one"
    );
}

#[test]
fn a_bad_answer_is_reported_at_its_row_and_column_and_nothing_is_returned() {
    let text = "s1-used,s1-age,s1-rating,meta-instanceID\nyes,30,1,uuid:1\nyes,12,7,uuid:2\nmaybe,,,uuid:3\n";
    let errors = check(text, Some("u01"), Some("citizen")).unwrap_err();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(
        errors[0].starts_with("export.csv row 3, column s1-rating: rating = '7'"),
        "{errors:?}"
    );
    assert!(
        errors[1].starts_with("export.csv row 3, column s1-age: age = '12'"),
        "{errors:?}"
    );
    assert!(
        errors[1].contains("18") && errors[1].contains("99"),
        "{errors:?}"
    );
    assert!(
        errors[2].starts_with("export.csv row 4, column s1-used"),
        "{errors:?}"
    );
}

#[test]
fn a_missing_required_answer_names_the_question() {
    let text = "s1-used,meta-instanceID\n,uuid:1\n";
    let errors = check(text, Some("u01"), Some("citizen")).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("export.csv row 2, column s1-used: used is required"),
        "{errors:?}"
    );
}

#[test]
fn unit_and_group_come_from_columns_or_the_flags_and_a_row_without_either_is_an_error() {
    let text = "group,unit,s1-used,meta-instanceID\ncitizen,u01,no,uuid:1\ncitizen,,no,uuid:2\n";
    let file = check(text, Some("u02"), None).unwrap();
    assert_eq!(file.submissions[0].unit, "u01");
    assert_eq!(
        file.submissions[1].unit, "u02",
        "the flag fills a blank cell"
    );
    let errors = check(text, None, None).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("export.csv row 3, column unit:"),
        "{errors:?}"
    );
    let no_columns = "s1-used,meta-instanceID\nno,uuid:1\n";
    let errors = check(no_columns, None, Some("citizen")).unwrap_err();
    assert!(
        errors[0].starts_with("export.csv row 2, column unit:"),
        "{errors:?}"
    );
    let errors = check(no_columns, Some("u09"), Some("citizen")).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("'u09'"), "{errors:?}");
    let errors = check(no_columns, Some("u01"), Some("leader")).unwrap_err();
    assert!(errors[0].contains("leader"), "{errors:?}");
}

#[test]
fn a_repeated_instance_is_kept_once_when_identical_and_an_error_when_it_differs() {
    let same = "s1-used,meta-instanceID\nno,uuid:1\nno,uuid:1\n";
    let file = check(same, Some("u01"), Some("citizen")).unwrap();
    assert_eq!((file.submissions.len(), file.repeated), (1, 1));
    let differ = "s1-used,meta-instanceID\nno,uuid:1\nyes,uuid:1\n";
    let errors = check(differ, Some("u01"), Some("citizen")).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("export.csv row 3, column meta-instanceID:")
            && errors[0].contains("row 2"),
        "{errors:?}"
    );
}

#[test]
fn a_file_without_an_instance_id_column_is_refused() {
    let errors = check("s1-used\nno\n", Some("u01"), Some("citizen")).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("instanceID"), "{errors:?}");
}

#[test]
fn the_submission_key_ignores_the_uuid_prefix_and_hides_the_id() {
    assert_eq!(submission_key("uuid:abc"), submission_key("abc"));
    assert_ne!(submission_key("abc"), submission_key("abd"));
    assert!(submission_key("abc").starts_with("field:"));
    assert!(!submission_key("abc").contains("abc"));
}

#[test]
fn export_times_are_read_with_their_offset_in_utc() {
    let t = |s| parse_time(s).map(|t| t.to_string());
    assert_eq!(
        t("2025-03-02T01:30:00.000+07:00").as_deref(),
        Some("2025-03-01 18:30:00")
    );
    assert_eq!(
        t("2025-03-02T01:30:00Z").as_deref(),
        Some("2025-03-02 01:30:00")
    );
    assert_eq!(
        t("2025-03-02T01:30:00.5").as_deref(),
        Some("2025-03-02 01:30:00.500")
    );
    assert_eq!(t("2025-03-02").as_deref(), Some("2025-03-02 00:00:00"));
    assert_eq!(t("yesterday"), None);
}

#[test]
fn response_sources_round_trip_through_their_stored_text() {
    for source in ResponseSource::ALL {
        assert_eq!(source.code().parse::<ResponseSource>(), Ok(source));
    }
    assert_eq!(ResponseSource::Field.code(), "field");
}
