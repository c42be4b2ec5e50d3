//! Tests of the lenient reading of real-world XLSForms: header spellings, settings defaults,
//! refusals with their cells, warnings, the order of errors, and a corpus of real forms.

use super::*;
use crate::domain::instrument::QuestionKind;

use super::test_support::{Rows, or_panic, texts, xlsx};

fn read(sheets: &[(&str, Rows<'_>)], file: &str, options: &XlsFormOptions) -> XlsFormImport {
    or_panic(read_xlsform(&xlsx(sheets), file, options))
}

fn errors(sheets: &[(&str, Rows<'_>)]) -> Vec<String> {
    texts(&read_xlsform(&xlsx(sheets), "form.xlsx", &XlsFormOptions::default()).unwrap_err())
}

/// Checks that a workbook of `survey` alone is refused with exactly `expected`.
#[track_caller]
fn assert_survey_refused(survey: Rows<'_>, expected: &[&str]) {
    assert_eq!(errors(&[("survey", survey)]), expected);
}

fn warnings(import: &XlsFormImport) -> Vec<String> {
    import.warnings.iter().map(ToString::to_string).collect()
}

const CHOICES: Rows<'static> = &[
    &["list_name", "name", "label"],
    &["yes_no", "1", "Có"],
    &["yes_no", "2", "Không"],
];

#[test]
fn a_form_without_settings_checks_with_the_file_name_as_code_version_one_and_no_group() {
    let survey: Rows<'_> = &[&["type", "name", "label"], &["integer", "age", "Tuổi"]];
    let read = read(
        &[("survey", survey)],
        "Khảo sát hộ gia đình.xlsx",
        &XlsFormOptions::default(),
    );
    assert_eq!(read.instrument.code(), "khao_sat_ho_gia_dinh");
    assert_eq!(read.instrument.version(), 1);
    assert!(read.group_missing);
    assert_eq!(
        warnings(&read),
        [
            "Khảo sát hộ gia đình.xlsx: no form_id in the settings sheet: the code 'khao_sat_ho_gia_dinh' comes from the file name (choose another with --code or on the import page)"
        ]
    );
    // Importing needs the group, and says how to give it.
    let error = import_xlsform(
        &xlsx(&[("survey", survey)]),
        "f.xlsx",
        &XlsFormOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        error[0].to_string(),
        "f.xlsx: no respondent group: give one with --group (leader, civil_servant or citizen) on the command line, choose it on the import page, or add a 'group' column to the settings sheet"
    );
    let options = XlsFormOptions {
        group: Some(RespondentGroup::Leader),
        ..XlsFormOptions::default()
    };
    let instrument = import_xlsform(&xlsx(&[("survey", survey)]), "f.xlsx", &options).unwrap();
    assert_eq!(instrument.group(), RespondentGroup::Leader);
}

#[test]
fn free_text_form_ids_and_versions_are_read_with_a_warning_never_refused() {
    let survey: Rows<'_> = &[&["type", "name", "label"], &["text", "t", "Chữ"]];
    for (version, expected) in [
        ("2024-03-01", 20_240_301),
        ("202403011200", 20_240_301),
        ("v3", 3),
        ("draft", 1),
    ] {
        let settings: Rows<'_> = &[
            &["Form_ID", "Version", "Form Title", "Group"],
            &["Household Survey", version, "Hộ", "Civil servant"],
        ];
        let read = read(
            &[("survey", survey), ("settings", settings)],
            "f.xlsx",
            &XlsFormOptions::default(),
        );
        assert_eq!(read.instrument.code(), "household_survey");
        assert_eq!(read.instrument.version(), expected, "{version}");
        assert_eq!(read.instrument.group(), RespondentGroup::CivilServant);
        assert!(!read.group_missing);
        assert_eq!(
            warnings(&read),
            [
                "f.xlsx: settings!A2 (Form_ID): form_id 'Household Survey' is not a khaosat code; stored as 'household_survey'".to_owned(),
                format!("f.xlsx: settings!B2 (Version): version '{version}' is not a whole number; stored as version {expected} (choose another with --version or on the import page)"),
            ]
        );
    }
}

#[test]
fn labels_in_every_spelling_are_read_in_their_language() {
    for (vi_header, en_header) in [
        ("label::Vietnamese (vi)", "label::English (en)"),
        ("label::Tiếng Việt", "label::English"),
        ("label::vi", "label::en"),
        ("Label::vietnamese", "LABEL::english"),
        ("label:Vietnamese", "label:english"),
        (" label :: Tiếng Việt (vi) ", "label :: English (en)"),
    ] {
        let survey: Rows<'_> = &[
            &["type", "name", vi_header, en_header],
            &["select one from yes_no", "q1", "Câu một", "Question one"],
        ];
        let choices: Rows<'_> = &[
            &["list name", "name", vi_header, en_header],
            &["yes_no", "1", "Có", "Yes"],
            &["yes_no", "2", "Không", "No"],
        ];
        let read = read(
            &[("survey", survey), ("choices", choices)],
            "f.xlsx",
            &XlsFormOptions::default(),
        );
        let q1 = read.instrument.question("q1").unwrap();
        assert_eq!(
            (q1.label.vi.as_str(), q1.label.en.as_str()),
            ("Câu một", "Question one"),
            "{vi_header}"
        );
        let QuestionKind::Single { choices, .. } = &q1.kind else {
            panic!("q1 should be single");
        };
        assert_eq!(choices.options[1].label.en, "No", "{en_header}");
        assert_eq!(choices.options[1].label.vi, "Không", "{vi_header}");
        assert!(
            warnings(&read).iter().all(|w| !w.contains("not shown")),
            "{vi_header}"
        );
    }
}

#[test]
fn another_language_is_a_fallback_reported_once_by_name() {
    let survey: Rows<'_> = &[
        &["type", "name", "label::French (fr)", "hint::French (fr)"],
        &["select_one yes_no", "q1", "Question un", "Aide"],
        &["text", "q2", "Question deux", ""],
    ];
    let choices: Rows<'_> = &[
        &["list_name", "name", "label::French (fr)"],
        &["yes_no", "1", "Oui"],
        &["yes_no", "2", "Non"],
    ];
    let read = read(
        &[("survey", survey), ("choices", choices)],
        "f.xlsx",
        &XlsFormOptions::default(),
    );
    let q1 = read.instrument.question("q1").unwrap();
    assert_eq!(
        (q1.label.vi.as_str(), q1.label.en.as_str()),
        ("Question un", "Question un")
    );
    let language: Vec<String> = warnings(&read)
        .into_iter()
        .filter(|w| w.contains("French"))
        .collect();
    assert_eq!(
        language,
        [
            "f.xlsx: survey!C1 (label::French (fr)): texts in 'French (fr)' are not shown to respondents (khaosat shows Vietnamese and English); they are used only where a row has neither"
        ]
    );
}

#[test]
fn capitalised_headers_aliases_and_type_spellings_import() {
    let survey: Rows<'_> = &[
        &[
            "Type",
            "Name",
            "Label",
            "Relevance",
            "Constraint",
            "jr:constraintMsg",
            "bind::required",
        ],
        &[
            "select all that apply from Fruits",
            "Q1",
            "Trái cây",
            "",
            "",
            "",
            "yes",
        ],
        &[
            "int",
            "n",
            "Số",
            "selected(${Q1}, 'a')",
            ". >= 1 and . <= 5",
            "1 đến 5",
            "",
        ],
        &["string", "s", "Chữ", "", "", "", ""],
        &["phone number", "phone", "Điện thoại", "", "", "", ""],
        &["percentage", "pct", "Phần trăm", "", "", "", ""],
        &["acknowledge", "ok", "Đồng ý", "", "", "", ""],
        &["range", "r", "Mức", "", "", "", ""],
        &["begin group", "g", "Nhóm", "", "", "", ""],
        &["note", "intro", "Giới thiệu", "", "", "", ""],
        &[
            "add select one prompt using YesNo",
            "yn",
            "Có không",
            "",
            "",
            "",
            "",
        ],
        &["end group", "", "", "", "", "", ""],
        &["start", "start", "", "", "", "", ""],
    ];
    let choices: Rows<'_> = &[
        &["List Name", "Value", "Label"],
        &["Fruits", "a", "Táo"],
        &["Fruits", "b", "Lê"],
        &["YesNo", "yes", "Có"],
        &["YesNo", "no", "Không"],
    ];
    let read = read(
        &[("Survey", survey), ("Choices ", choices)],
        "f.xlsx",
        &XlsFormOptions::default(),
    );
    let i = &read.instrument;
    assert!(matches!(
        i.question("Q1").unwrap().kind,
        QuestionKind::Multiple { .. }
    ));
    assert!(i.question("Q1").unwrap().required);
    // Bounds with the form's own message stay a constraint, so the message is shown.
    let n = i.question("n").unwrap();
    assert_eq!(
        n.kind,
        QuestionKind::Integer {
            min: None,
            max: None
        }
    );
    assert_eq!(
        n.constraint.as_ref().unwrap().message.as_ref().unwrap().vi,
        "1 đến 5"
    );
    assert_eq!(
        i.question("n")
            .unwrap()
            .relevant
            .as_ref()
            .unwrap()
            .to_string(),
        "Q1 == \"a\""
    );
    assert!(matches!(
        i.question("s").unwrap().kind,
        QuestionKind::Text { .. }
    ));
    assert!(matches!(
        i.question("phone").unwrap().kind,
        QuestionKind::Text { .. }
    ));
    assert_eq!(
        i.question("pct").unwrap().kind,
        QuestionKind::Integer {
            min: Some(0),
            max: Some(100)
        }
    );
    assert_eq!(
        i.question("r").unwrap().kind,
        QuestionKind::Integer {
            min: Some(1),
            max: Some(10)
        }
    );
    let QuestionKind::Single { choices, .. } = &i.question("ok").unwrap().kind else {
        panic!("acknowledge should be a single choice");
    };
    assert_eq!(choices.options.len(), 1);
    assert_eq!(choices.options[0].value, "OK");
    assert!(matches!(
        i.question("yn").unwrap().kind,
        QuestionKind::Single { .. }
    ));
    assert_eq!(i.sections()[1].intro.as_ref().unwrap().vi, "Giới thiệu");
}

#[test]
fn picture_choices_show_their_name_and_the_pictures_are_reported_once() {
    let survey: Rows<'_> = &[
        &["type", "name", "label"],
        &["select_one animals", "a", "Con vật"],
    ];
    let choices: Rows<'_> = &[
        &["list_name", "name", "label", "media::image"],
        &["animals", "cat", "", "cat.png"],
        &["animals", "dog", "", "dog.png"],
        &["animals", "cow", "Bò", "cow.png"],
    ];
    let read = read(
        &[("survey", survey), ("choices", choices)],
        "f.xlsx",
        &XlsFormOptions::default(),
    );
    let QuestionKind::Single { choices, .. } = &read.instrument.question("a").unwrap().kind else {
        panic!("single");
    };
    let labels: Vec<&str> = choices
        .options
        .iter()
        .map(|o| o.label.vi.as_str())
        .collect();
    assert_eq!(labels, ["cat", "dog", "Bò"]);
    let media: Vec<String> = warnings(&read)
        .into_iter()
        .filter(|w| w.contains("pictures"))
        .collect();
    assert_eq!(
        media,
        [
            "f.xlsx: choices!D2 (media::image): choice pictures, sound and video ('image') are not shown; a choice without a label shows its name"
        ]
    );
}

#[test]
fn each_refused_feature_is_named_once_with_its_cell_and_what_to_do() {
    let survey: Rows<'_> = &[
        &["type", "name", "label", "relevant", "appearance", "image"],
        &["geopoint", "where", "Ở đâu", "", "", ""],
        &["geotrace", "path", "Đường", "", "", ""],
        &["begin repeat", "members", "Thành viên", "", "", ""],
        &["text", "m", "Tên", "", "", ""],
        &["end repeat", "", "", "", "", ""],
        &["select_one_from_file villages.csv", "v", "Thôn", "", "", ""],
        &["select_one_external towns", "t", "Thị trấn", "", "", ""],
        &["time", "when", "Giờ", "", "", ""],
        &["photo", "pic", "Ảnh", "", "", ""],
        &[
            "integer",
            "p",
            "Giá",
            "pulldata('prices', 'p', 'k', 'v') > 1",
            "",
            "",
        ],
        &["integer", "i", "Số", "count(instance('list')) > 1", "", ""],
        &["select_one yes_no", "s", "Tìm", "", "search('towns')", ""],
        &["text", "x", "Chữ", "", "", "x.png"],
        &["text", "y", "Chữ", "", "", "y.png"],
        &["geopoint", "where2", "Ở đâu", "", "", ""],
    ];
    let lines = errors(&[("survey", survey), ("choices", CHOICES)]);
    assert_eq!(
        lines,
        [
            "form.xlsx: survey!A2 (type): location type 'geopoint' is not supported: khaosat does not record GPS positions; ask for the place (province, commune, village) as a choice or text question (also at survey!A16)",
            "form.xlsx: survey!A3 (type): location type 'geotrace' is not supported: khaosat does not record GPS positions; ask for the place (province, commune, village) as a choice or text question",
            "form.xlsx: survey!A4 (type): repeats are not supported: ask about each repeated item with its own questions (for example member_1_age, member_2_age), or collect the list in a separate questionnaire (also at survey!A6)",
            "form.xlsx: survey!A7 (type): 'select_one_from_file villages.csv' reads its choices from a separate file, which khaosat cannot read: copy the choices into the 'choices' sheet and use select_one or select_multiple",
            "form.xlsx: survey!A8 (type): 'select_one_external towns' reads an external data file, which khaosat cannot read: copy the choices into the 'choices' sheet and use select_one or select_multiple",
            "form.xlsx: survey!A9 (type): type 'time' is not supported: khaosat records dates, not times of day; use 'date', or 'text' for a time",
            "form.xlsx: survey!A10 (type): question type 'photo' is not supported: khaosat collects typed answers, not photos, recordings, files or barcodes; ask for a text answer instead",
            "form.xlsx: survey!D11 (relevant): pulldata() reads an external data file, which khaosat cannot read: ask the question directly, or remove the expression",
            "form.xlsx: survey!D12 (relevant): instance('…') reads secondary data (an external file or a choice list), which khaosat cannot read: refer to questions as ${name}, or remove the expression",
            "form.xlsx: survey!E13 (appearance): search() appearances read an external data file, which khaosat cannot read: copy the choices into the 'choices' sheet and remove the appearance",
            "form.xlsx: survey!F14 (image): pictures, sound and video ('image') are not supported: khaosat shows text only; describe the content in the label and leave the column empty (also at survey!F15)",
        ]
    );
}

#[test]
fn a_range_with_another_step_is_refused_at_its_parameters_cell() {
    let survey: Rows<'_> = &[
        &["type", "name", "label", "parameters"],
        &["range", "r", "Mức", "start=0 end=10 step=2"],
    ];
    assert_survey_refused(
        survey,
        &[
            "form.xlsx: survey!D2 (parameters): a range with parameters 'start=0 end=10 step=2' is not supported: khaosat reads a range as a whole number from start to end with step 1; use 'integer' with a constraint instead",
        ],
    );
}

#[test]
fn the_first_real_cause_comes_first_and_its_follow_ons_are_counted() {
    // A name that is not a code, referred to by later conditions.
    let survey: Rows<'_> = &[
        &["type", "name", "label", "relevant"],
        &["integer", "3q", "Ba", ""],
        &["text", "a", "A", "${3q} > 1"],
        &["text", "b", "B", "${3q} > 2"],
        &["text", "c", "C", "${3q} > 3"],
    ];
    let lines = errors(&[("survey", survey)]);
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(
        lines[0].starts_with("form.xlsx: survey!B2 (name): "),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[1],
        "form.xlsx: survey!D3 (relevant): 3 conditions refer to '3q', whose own row has an error (see above)"
    );
    // No choices sheet: one cause, then the count of select questions it leaves unread.
    let survey: Rows<'_> = &[
        &["type", "name", "label"],
        &["select_one a", "x", "X"],
        &["select_one b", "y", "Y"],
        &["select_multiple c", "z", "Z"],
    ];
    assert_survey_refused(
        survey,
        &[
            "form.xlsx: survey!A2 (type): the workbook has no 'choices' sheet, but this select question needs its choice list there",
            "form.xlsx: survey!A2 (type): 3 select questions are left out because their choice lists are missing (see above)",
        ],
    );
}

#[test]
fn many_rows_with_one_problem_read_as_one_line() {
    let mut rows: Vec<Vec<String>> = vec![vec!["type".into(), "name".into(), "label".into()]];
    for n in 0..30 {
        rows.push(vec!["geopoint".into(), format!("n{n}"), "Vị trí".into()]);
    }
    rows.push(vec!["text".into(), "t".into(), "Chữ".into()]);
    let refs: Vec<Vec<&str>> = rows
        .iter()
        .map(|r| r.iter().map(String::as_str).collect())
        .collect();
    let survey: Vec<&[&str]> = refs.iter().map(Vec::as_slice).collect();
    let lines = errors(&[("survey", &survey)]);
    assert_eq!(
        lines,
        [
            "form.xlsx: survey!A2 (type): location type 'geopoint' is not supported: khaosat does not record GPS positions; ask for the place (province, commune, village) as a choice or text question (also at survey!A3, survey!A4, survey!A5, survey!A6, survey!A7 and 24 more)"
        ]
    );
}

#[test]
fn an_old_xls_workbook_is_refused_with_the_advice_to_save_it_as_xlsx() {
    let bytes = std::fs::read(format!(
        "{}/tests/fixtures/xlsform-corpus/legacy_yes_or_no_question.xls",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let lines = texts(
        &read_xlsform(&bytes, "yes_or_no_question.xls", &XlsFormOptions::default()).unwrap_err(),
    );
    assert_eq!(
        lines,
        [
            "yes_or_no_question.xls: this is an old-format Excel workbook (.xls), which khaosat does not read: open it in Excel or LibreOffice Calc and save it as .xlsx (Excel Workbook)"
        ]
    );
}

/// What a refusal must name: its place (a cell, or the file for file-level problems).
fn names_its_place(error: &InstrumentError) -> bool {
    match &error.location {
        Location::Cell {
            sheet,
            column,
            header,
            ..
        } => {
            !sheet.is_empty()
                && !column.is_empty()
                && (!header.is_empty() || error.message.key.starts_with("xlsform."))
        }
        Location::File => true,
        _ => false,
    }
}

#[test]
fn every_form_of_the_corpus_imports_or_is_refused_cell_by_cell() {
    let dir = format!(
        "{}/tests/fixtures/xlsform-corpus",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".xlsx") || n.ends_with(".xls"))
        .collect();
    names.sort();
    assert!(names.len() >= 50, "the corpus has {} forms", names.len());
    let mut imported = Vec::new();
    let mut refused: std::collections::BTreeMap<String, usize> = Default::default();
    let mut summary = String::new();
    for name in &names {
        let bytes = std::fs::read(format!("{dir}/{name}")).unwrap();
        match read_xlsform(&bytes, name, &XlsFormOptions::default()) {
            Ok(read) => {
                // What is stored is the TOML; it must read back to the same content.
                let again = Instrument::from_toml(read.instrument.to_toml().as_bytes(), "x.toml")
                    .unwrap_or_else(|e| panic!("{name}: {e:?}"));
                assert_eq!(
                    again.content_hash(),
                    read.instrument.content_hash(),
                    "{name}"
                );
                imported.push(name.clone());
                summary.push_str(&format!("imported  {name}\n"));
            }
            Err(errors) => {
                assert!(!errors.is_empty(), "{name}");
                for e in &errors {
                    assert!(names_its_place(e), "{name}: {e}");
                    // A problem found in many cells counts once, under its own key.
                    let key = match e.message.parts.first() {
                        Some((_, inner)) if e.message.key.starts_with("instrument.also_at") => {
                            inner.key
                        }
                        _ => e.message.key,
                    };
                    *refused.entry(key.to_owned()).or_default() += 1;
                }
                summary.push_str(&format!(
                    "refused   {name}: {}\n",
                    errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("\n            ")
                ));
            }
        }
    }
    let reasons: Vec<String> = refused.iter().map(|(k, n)| format!("{n:>4} {k}")).collect();
    println!(
        "{summary}\n{} of {} forms imported; refusals by reason:\n{}",
        imported.len(),
        names.len(),
        reasons.join("\n")
    );
    // The forms that need nothing khaosat lacks import (checked by name so that a regression
    // in any of them is noticed).
    for must in [
        "text_and_integer.xlsx",
        "yes_or_no_question.xlsx",
        "group.xlsx",
    ] {
        assert!(imported.contains(&must.to_owned()), "{must} should import");
    }
}
