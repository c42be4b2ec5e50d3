//! Tests of the XLSForm importer on hand-written workbooks: the mapping, cells named in
//! errors, and workbooks that must never panic.

use super::*;
use crate::domain::instrument::{Number, QuestionKind};
use crate::i18n::Lang;

use super::question::numeric_bounds;
use super::test_support::{texts, xlsx};
use super::xpath::translate_xpath;

const SURVEY_HEADER: &[&str] = &[
    "type",
    "name",
    "label::Vietnamese (vi)",
    "label::English (en)",
    "hint::Vietnamese (vi)",
    "hint::English (en)",
    "required",
    "relevant",
    "constraint",
    "constraint_message::English (en)",
];

fn good_survey() -> Vec<&'static [&'static str]> {
    vec![
        SURVEY_HEADER,
        &["start", "start", "", "", "", "", "", "", "", ""],
        &[
            "begin group",
            "g1",
            "Phần một",
            "Part one",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        &[
            "note",
            "intro1",
            "Giới thiệu",
            "Introduction",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        &[
            "select_one agree",
            "q1",
            "Câu một",
            "Question one",
            "Gợi ý",
            "Hint",
            "yes",
            "",
            "",
            "",
        ],
        &[
            "select_multiple channels",
            "q2",
            "Kênh",
            "Channels",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        &[
            "integer",
            "age",
            "Tuổi",
            "Age",
            "",
            "",
            "TRUE",
            "",
            ". >= 18 and . <= 99",
            "",
        ],
        &["end group", "", "", "", "", "", "", "", "", ""],
        &[
            "begin_group",
            "g2",
            "Phần hai",
            "Part two",
            "",
            "",
            "",
            "${q1} = 1",
            "",
            "",
        ],
        &[
            "text",
            "why",
            "Vì sao",
            "Why",
            "",
            "",
            "no",
            "selected(${q2}, 'tv') and ${age} > 30",
            "",
            "",
        ],
        &[
            "decimal",
            "score",
            "Điểm",
            "Score",
            "",
            "",
            "",
            "not(${why} != '')",
            ". != 5",
            "Not five",
        ],
        &[
            "date",
            "day",
            "Ngày",
            "Day",
            "",
            "",
            "",
            "${q1} != '2' or ${q1} < 3",
            "",
            "",
        ],
        &["end_group", "", "", "", "", "", "", "", "", ""],
    ]
}

fn good_choices() -> Vec<&'static [&'static str]> {
    vec![
        &[
            "list_name",
            "name",
            "label::Vietnamese (vi)",
            "label::English (en)",
            "valid",
        ],
        &["agree", "1", "Đồng ý", "Agree", ""],
        &["agree", "2", "Không đồng ý", "Disagree", ""],
        &["agree", "dk", "Không biết", "Don't know", "no"],
        &["channels", "tv", "Truyền hình", "Television", ""],
        &["channels", "web", "Mạng", "Internet", ""],
    ]
}

fn settings() -> Vec<&'static [&'static str]> {
    vec![
        &["form_id", "version", "form_title", "group"],
        &["par-test", "3", "Khảo sát thử", "citizen"],
    ]
}

/// Imports `survey` and `choices` with the test settings, keeping the errors as they come.
fn import_raw(survey: &[&[&str]], choices: &[&[&str]]) -> Result<Instrument, Vec<InstrumentError>> {
    let bytes = xlsx(&[
        ("survey", survey),
        ("choices", choices),
        ("settings", &settings()),
    ]);
    import_xlsform(&bytes, "form.xlsx", &XlsFormOptions::default())
}

fn import(survey: &[&[&str]], choices: &[&[&str]]) -> Result<Instrument, Vec<String>> {
    import_raw(survey, choices).map_err(|es| texts(&es))
}

fn import_errors(survey: &[&[&str]]) -> Vec<String> {
    import(survey, &good_choices()).unwrap_err()
}

/// Checks that `survey`, with the good choices, is refused with exactly `expected`.
#[track_caller]
fn assert_refused(survey: &[&[&str]], expected: &[&str]) {
    assert_eq!(import_errors(survey), expected);
}

#[test]
fn a_hand_written_xlsform_becomes_an_instrument() {
    let inst = import(&good_survey(), &good_choices()).unwrap();
    assert_eq!(inst.code(), "par-test");
    assert_eq!(inst.version(), 3);
    assert_eq!(inst.group(), RespondentGroup::Citizen);
    assert_eq!(inst.title().vi, "Khảo sát thử");
    assert_eq!(inst.provenance(), "Imported from XLSForm 'form.xlsx'");
    let sections: Vec<_> = inst.sections().iter().map(|s| s.code.as_str()).collect();
    assert_eq!(sections, ["g1", "g2"]);
    let g1 = &inst.sections()[0];
    assert_eq!(g1.title.en, "Part one");
    assert_eq!(g1.intro.as_ref().unwrap().vi, "Giới thiệu");
    let q1 = inst.question("q1").unwrap();
    assert!(q1.required);
    assert_eq!(q1.label.vi, "Câu một");
    assert_eq!(q1.hint.as_ref().unwrap().en, "Hint");
    let QuestionKind::Single { choices, .. } = &q1.kind else {
        panic!("q1 should be single");
    };
    assert_eq!(choices.list.as_deref(), Some("agree"));
    let valid: Vec<_> = choices
        .options
        .iter()
        .map(|o| (o.value.as_str(), o.valid))
        .collect();
    assert_eq!(valid, [("1", true), ("2", true), ("dk", false)]);
    assert!(matches!(
        inst.question("q2").unwrap().kind,
        QuestionKind::Multiple { .. }
    ));
    assert_eq!(
        inst.question("age").unwrap().kind,
        QuestionKind::Integer {
            min: Some(18),
            max: Some(99)
        }
    );
    assert!(inst.question("age").unwrap().constraint.is_none());
    let g2 = &inst.sections()[1];
    assert_eq!(g2.relevant.as_ref().unwrap().to_string(), "q1 == 1");
    let why = inst.question("why").unwrap();
    assert_eq!(
        why.relevant.as_ref().unwrap().to_string(),
        "q2 == \"tv\" and age > 30"
    );
    let score = inst.question("score").unwrap();
    assert_eq!(
        score.relevant.as_ref().unwrap().to_string(),
        "not answered(why)"
    );
    let c = score.constraint.as_ref().unwrap();
    assert_eq!(c.expr.to_string(), ". != 5");
    assert_eq!(c.message.as_ref().unwrap().en, "Not five");
    assert_eq!(
        inst.question("day")
            .unwrap()
            .relevant
            .as_ref()
            .unwrap()
            .to_string(),
        "q1 != \"2\" or q1 < 3"
    );
    // The import exports to TOML and back without changing the content.
    let again = Instrument::from_toml(inst.to_toml().as_bytes(), "x.toml").unwrap();
    assert_eq!(again.content_hash(), inst.content_hash());
}

#[test]
fn questions_outside_groups_go_into_a_default_section_and_options_override_settings() {
    let survey: Vec<&[&str]> = vec![
        &["type", "name", "label"],
        &["integer", "n", "Số"],
        &["begin group", "g", "Nhóm"],
        &["text", "t", "Chữ"],
        &["end group", "", ""],
        &["date", "d", "Ngày"],
    ];
    let bytes = xlsx(&[("survey", &survey), ("settings", &settings())]);
    let options = XlsFormOptions {
        code: Some("other".into()),
        version: Some(9),
        group: Some(RespondentGroup::Leader),
    };
    let inst = import_xlsform(&bytes, "f.xlsx", &options).unwrap();
    let sections: Vec<_> = inst.sections().iter().map(|s| s.code.as_str()).collect();
    assert_eq!(sections, ["main", "g", "main_2"]);
    assert_eq!((inst.code(), inst.version()), ("other", 9));
    assert_eq!(inst.question("n").unwrap().label.en, "Số");
}

#[test]
fn an_unsupported_function_names_its_cell() {
    let mut survey = good_survey();
    survey[9] = &[
        "text",
        "why",
        "Vì sao",
        "Why",
        "",
        "",
        "",
        "count-selected(${q2}) > 1",
        "",
        "",
    ];
    assert_refused(
        &survey,
        &["form.xlsx: survey!H10 (relevant): unsupported function 'count-selected'"],
    );
}

#[test]
fn an_unsupported_type_names_its_cell() {
    let mut survey = good_survey();
    survey[6] = &["geopoint", "age", "Ở đâu", "Where", "", "", "", "", "", ""];
    assert_refused(
        &survey,
        &[
            "form.xlsx: survey!A7 (type): location type 'geopoint' is not supported: khaosat does not record GPS positions; ask for the place (province, commune, village) as a choice or text question",
        ],
    );
}

#[test]
fn cell_errors_read_in_vietnamese_name_the_same_cells() {
    let mut survey = good_survey();
    survey[6] = &["geopoint", "age", "Ở đâu", "Where", "", "", "", "", "", ""];
    let errors = import_raw(&survey, &good_choices()).unwrap_err();
    let vi: Vec<String> = errors.iter().map(|e| e.text(Lang::Vi)).collect();
    assert_eq!(
        vi,
        [
            "form.xlsx: survey!A7 (type): không hỗ trợ loại vị trí 'geopoint': khaosat không ghi tọa độ GPS; hãy hỏi địa điểm (tỉnh, xã, thôn) bằng câu hỏi lựa chọn hoặc nhập chữ"
        ]
    );
    // English stays exactly what `Display` writes.
    assert_eq!(errors[0].text(Lang::En), errors[0].to_string());
}

#[test]
fn a_condition_error_in_vietnamese_names_its_cell_and_keeps_no_english() {
    let mut survey = good_survey();
    survey[6] = &[
        "integer",
        "age",
        "Tuổi",
        "Age",
        "",
        "",
        "",
        "count-selected(${q2}) > 1",
        "",
        "",
    ];
    let errors = import_raw(&survey, &good_choices()).unwrap_err();
    let vi = errors[0].text(Lang::Vi);
    assert_eq!(
        vi,
        "form.xlsx: survey!H7 (relevant): không hỗ trợ hàm 'count-selected'"
    );
    for english in ["unsupported", "function", "question"] {
        assert!(!vi.contains(english), "{vi}");
    }
}

#[test]
fn a_missing_choice_list_names_the_type_cell() {
    let mut survey = good_survey();
    survey[5] = &[
        "select_multiple media",
        "q2",
        "Kênh",
        "Channels",
        "",
        "",
        "",
        "",
        "",
        "",
    ];
    assert_refused(
        &survey,
        &[
            "form.xlsx: survey!A6 (type): unknown choice list 'media' (defined lists: agree, channels)",
        ],
    );
}

#[test]
fn a_duplicate_name_names_both_cells() {
    let mut survey = good_survey();
    survey[11] = &["date", "q2", "Ngày", "Day", "", "", "", "", "", ""];
    assert_refused(
        &survey,
        &["form.xlsx: survey!B12 (name): duplicate question code 'q2' (already used at survey!B6)"],
    );
}

#[test]
fn a_duplicate_choice_names_its_cell() {
    let mut choices = good_choices();
    choices[3] = &["agree", "2", "Không biết", "Don't know", "no"];
    assert_eq!(
        import(&good_survey(), &choices).unwrap_err(),
        [
            "form.xlsx: choices!B4 (name): duplicate option value '2' in choice list 'agree' (already used at choices!B3)"
        ]
    );
}

#[test]
fn an_unclosed_group_names_its_begin_row() {
    let mut survey = good_survey();
    survey.pop();
    assert_refused(
        &survey,
        &["form.xlsx: survey!A9 (type): group 'g2' is not closed (add an 'end group' row)"],
    );
}

#[test]
fn a_group_inside_a_page_is_folded_into_it_and_a_stray_end_group_is_rejected() {
    let mut survey = good_survey();
    survey[7] = &[
        "begin group",
        "inner",
        "Trong",
        "Inner",
        "",
        "",
        "",
        "${age} > 18",
        "",
        "",
    ];
    let end: &[&str] = &["end group", "", "", "", "", "", "", "", "", ""];
    survey.push(end);
    survey.push(end);
    let folded = import(&survey, &good_choices()).unwrap();
    assert_eq!(folded.sections().len(), 1, "one page, as the outer group");
    let why = folded.question("why").unwrap().relevant.as_ref().unwrap();
    assert!(
        why.to_string().starts_with("age > 18 and "),
        "the inner group's condition joins the question's: {why}"
    );
    survey.push(end);
    let errors = import_errors(&survey);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].contains("'end group' without a matching 'begin group'"),
        "{errors:#?}"
    );
}

#[test]
fn conditions_referring_to_later_or_unknown_questions_name_their_cell() {
    let mut survey = good_survey();
    survey[4] = &[
        "select_one agree",
        "q1",
        "Câu một",
        "Question one",
        "",
        "",
        "",
        "${age} > 1",
        "",
        "",
    ];
    survey[5] = &[
        "select_multiple channels",
        "q2",
        "Kênh",
        "Channels",
        "",
        "",
        "maybe",
        "${nope} = 1",
        "",
        "",
    ];
    assert_refused(
        &survey,
        &[
            "form.xlsx: survey!H5 (relevant): condition of 'q1' refers to 'age', which comes later in the instrument (conditions may only refer to earlier answers, which also rules out circular conditions)",
            "form.xlsx: survey!G6 (required): required must be yes or no, not 'maybe'",
            "form.xlsx: survey!H6 (relevant): unknown question code 'nope' in condition",
        ],
    );
}

#[test]
fn missing_settings_and_sheets_are_reported() {
    let bytes = xlsx(&[("survey", &good_survey()), ("choices", &good_choices())]);
    let errors = texts(&import_xlsform(&bytes, "f.xlsx", &XlsFormOptions::default()).unwrap_err());
    // Code and version have XLSForm's defaults; only the group must be chosen.
    assert_eq!(
        errors,
        [
            "f.xlsx: no respondent group: give one with --group (leader, civil_servant or citizen) on the command line, choose it on the import page, or add a 'group' column to the settings sheet",
        ]
    );
    let bytes = xlsx(&[("choices", &good_choices())]);
    let errors = import_xlsform(&bytes, "f.xlsx", &XlsFormOptions::default()).unwrap_err();
    assert_eq!(
        errors[0].to_string(),
        "f.xlsx: the workbook has no 'survey' sheet"
    );
    let errors = import_xlsform(b"not a zip", "f.xlsx", &XlsFormOptions::default()).unwrap_err();
    assert!(
        errors[0]
            .to_string()
            .starts_with("f.xlsx: not a readable .xlsx workbook: ")
    );
}

#[test]
fn numeric_constraints_become_bounds_only_when_exact() {
    let bounds = |src: &str, kind: &str| numeric_bounds(&translate_xpath(src, true).unwrap(), kind);
    assert_eq!(
        bounds(". > 0 and . < 11", "integer"),
        Some((Some(Number::Int(1)), Some(Number::Int(10))))
    );
    assert_eq!(
        bounds(". >= 0.5", "decimal"),
        Some((Some(Number::Float(0.5)), None))
    );
    assert_eq!(bounds(". > 0.5", "decimal"), None);
    assert_eq!(bounds(". >= 1 and . >= 2", "integer"), None);
    assert_eq!(bounds(". != 3", "integer"), None);
}

#[test]
fn arbitrary_and_corrupted_workbooks_never_panic() {
    let good = xlsx(&[
        ("survey", &good_survey()),
        ("choices", &good_choices()),
        ("settings", &settings()),
    ]);
    let mut seed: u64 = 0xD1B5_4A32_D192_ED03;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..150 {
        let mut bytes = if round % 3 == 0 {
            (0..(next() % 2_000))
                .map(|_| (next() % 256) as u8)
                .collect()
        } else {
            good.clone()
        };
        for _ in 0..(1 + next() % 4) {
            if bytes.is_empty() {
                break;
            }
            let at = (next() as usize) % bytes.len();
            bytes[at] = (next() % 256) as u8;
        }
        let _ = import_xlsform(&bytes, "fuzz.xlsx", &XlsFormOptions::default());
    }
    for text in [
        "${",
        "selected(",
        "not(not(",
        ")(",
        "'",
        "${a} = = 1",
        "-",
        "1.2.3 = ${a}",
    ] {
        let _ = translate_xpath(text, true);
    }
}
