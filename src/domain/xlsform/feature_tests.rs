//! Tests of the XLSForm features khaosat supports end to end: calculate, constraint with its
//! message, or_other, choice_filter, hint, required_message, default, notes with `${field}`
//! and layout appearances.

use super::test_support::{Rows, or_panic, texts, xlsx};
use super::*;
use crate::domain::answer_value::AnswerValue;
use crate::domain::answers::{Answers, decode_section};
use crate::domain::instrument::{Appearance, QuestionKind};

const SURVEY: Rows<'static> = &[
    &[
        "type",
        "name",
        "label",
        "hint",
        "required",
        "required_message",
        "relevant",
        "constraint",
        "constraint_message",
        "calculation",
        "default",
        "appearance",
        "choice_filter",
    ],
    &[
        "begin_group",
        "hh",
        "Hộ",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "field-list",
        "",
    ],
    &[
        "text",
        "head",
        "Chủ hộ",
        "Họ và tên",
        "yes",
        "Xin cho biết tên",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ],
    &[
        "integer",
        "adults",
        "Người lớn",
        "",
        "",
        "",
        "",
        ". >= 1",
        "",
        "",
        "",
        "",
        "",
    ],
    &[
        "integer",
        "children",
        "Trẻ em",
        "",
        "",
        "",
        "",
        ". <= 20",
        "Quá nhiều trẻ em",
        "",
        "0",
        "",
        "",
    ],
    &[
        "calculate",
        "size",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "${adults} + ${children}",
        "",
        "",
        "",
    ],
    &[
        "select_one province",
        "province",
        "Tỉnh",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "14",
        "minimal",
        "",
    ],
    &[
        "select_one district",
        "district",
        "Huyện",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "province=${province}",
    ],
    &[
        "select_one job or_other",
        "job",
        "Nghề",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "horizontal",
        "",
    ],
    &[
        "select_one rate",
        "rating",
        "Đánh giá",
        "",
        "",
        "",
        "${size} > 3",
        "",
        "",
        "",
        "",
        "likert",
        "",
    ],
    &[
        "note",
        "thanks",
        "Cảm ơn ${head}: ${size} người",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ],
    &[
        "text",
        "story",
        "Câu chuyện",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "multiline",
        "",
    ],
    &["end_group", "", "", "", "", "", "", "", "", "", "", "", ""],
];

const CHOICES: Rows<'static> = &[
    &["list_name", "name", "label", "province", "order"],
    &["province", "01", "Hà Nội", "", "1"],
    &["province", "14", "Sơn La", "", "2"],
    &["district", "001", "Ba Đình", "01", "1"],
    &["district", "116", "Mộc Châu", "14", "2"],
    &["job", "farmer", "Nông dân", "", ""],
    &["rate", "1", "Tốt", "", ""],
    &["rate", "2", "Kém", "", ""],
];

const SETTINGS: Rows<'static> = &[&["form_id", "version", "group"], &["hh", "3", "citizen"]];

fn features_form() -> Instrument {
    let bytes = xlsx(&[
        ("survey", SURVEY),
        ("choices", CHOICES),
        ("settings", SETTINGS),
    ]);
    or_panic(import_xlsform(
        &bytes,
        "hh.xlsx",
        &XlsFormOptions::default(),
    ))
}

#[test]
fn every_supported_feature_imports_into_its_khaosat_field() {
    let i = features_form();
    let q = |code: &str| i.question(code).unwrap();
    assert_eq!(q("head").hint.as_ref().unwrap().vi, "Họ và tên");
    assert_eq!(
        q("head").required_message.as_ref().unwrap().vi,
        "Xin cho biết tên"
    );
    assert!(matches!(
        q("adults").kind,
        QuestionKind::Integer {
            min: Some(1),
            max: None
        }
    ));
    let constraint = q("children").constraint.as_ref().unwrap();
    assert_eq!(constraint.message.as_ref().unwrap().vi, "Quá nhiều trẻ em");
    assert_eq!(q("children").default.as_deref(), Some("0"));
    let QuestionKind::Calculate { calculation } = &q("size").kind else {
        panic!("size is a calculation")
    };
    assert_eq!(calculation.to_string(), "${adults} + ${children}");
    assert_eq!(q("province").appearance, Some(Appearance::Minimal));
    assert_eq!(q("province").default.as_deref(), Some("14"));
    assert_eq!(
        q("district").choice_filter.as_ref().unwrap().to_string(),
        "province = ${province}"
    );
    let districts = q("district").kind.choices().unwrap();
    assert_eq!(districts.options[1].attributes["province"], "14");
    assert!(
        !districts.options[1].attributes.contains_key("order"),
        "a column no filter reads is not kept"
    );
    let jobs = q("job").kind.choices().unwrap();
    assert_eq!(jobs.options.last().unwrap().value, "other");
    assert_eq!(q("job").appearance, Some(Appearance::Horizontal));
    assert_eq!(
        q("job_other").relevant.as_ref().unwrap().to_string(),
        "job == \"other\""
    );
    assert_eq!(
        i.choice_lists()["job"].len(),
        1,
        "the shared list itself is unchanged"
    );
    assert_eq!(q("rating").appearance, Some(Appearance::Likert));
    assert!(matches!(q("thanks").kind, QuestionKind::Note));
    assert!(matches!(q("story").kind, QuestionKind::LongText { .. }));
}

#[test]
fn an_imported_form_computes_checks_and_filters_like_the_web_form() {
    let i = features_form();
    let fields: Vec<(String, String)> = [
        ("head", "Lò Văn Páo"),
        ("adults", "2"),
        ("children", "25"),
        ("province", "14"),
        ("district", "001"),
        ("job", "other"),
        ("job_other", "Thợ rèn"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let decoded = decode_section(&i.sections()[0], &fields, &Answers::new());
    let codes: Vec<&str> = decoded.errors.iter().map(|e| e.code.as_str()).collect();
    assert_eq!(codes, ["children", "district"], "{:?}", decoded.errors);
    assert_eq!(
        decoded.answers.get("job_other"),
        Some(&AnswerValue::Text("Thợ rèn".into()))
    );
    let note = i.question("thanks").unwrap();
    assert_eq!(
        i.fill(
            note.label.get(crate::i18n::Lang::Vi),
            &decoded.answers,
            crate::i18n::Lang::Vi
        ),
        "Cảm ơn Lò Văn Páo:  người",
        "the refused answer leaves the size empty, not the adults alone"
    );
}

#[test]
fn a_dynamic_default_and_a_broken_calculation_name_their_cells() {
    let survey: Rows<'_> = &[
        &["type", "name", "label", "calculation", "default"],
        &["date", "visit", "Ngày", "", "today()"],
        &["calculate", "total", "", "${visit} +", ""],
    ];
    let settings: Rows<'_> = &[&["form_id", "group"], &["x", "citizen"]];
    let errors = texts(
        &import_xlsform(
            &xlsx(&[("survey", survey), ("settings", settings)]),
            "x.xlsx",
            &XlsFormOptions::default(),
        )
        .unwrap_err(),
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("survey!E2") && e.contains("today()")),
        "{errors:#?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("survey!D3") && e.contains("calculation")),
        "{errors:#?}"
    );
}
