//! Tests of the validation rules, through TOML documents that break one rule each.

use crate::domain::instrument::test_support::*;

#[test]
fn a_duplicate_code_reads_in_vietnamese_with_the_same_place() {
    let doc = format!(
        "{HEADER}{}",
        BODY.replace("code = \"note\"", "code = \"q1\"")
    );
    let first = line_of(&doc, "code = \"q1\"");
    let second = line_of(&doc, "code = \"q1\"\ntype = \"long_text\"");
    let errors = parse(&doc).unwrap_err();
    let vi: Vec<String> = errors
        .iter()
        .map(|e| e.text(crate::i18n::Lang::Vi))
        .collect();
    assert_eq!(
        vi,
        [format!(
            "demo.toml:{second}:8: sections[1].questions[1].code: mã câu hỏi 'q1' bị trùng (đã dùng ở dòng {first})"
        )]
    );
}

#[test]
fn a_broken_condition_reads_in_vietnamese_with_its_column() {
    let doc = format!("{HEADER}{}", BODY.replace("q2 == 'yes'", "q2 = 'yes'"));
    let errors = parse(&doc).unwrap_err();
    let vi = errors[0].text(crate::i18n::Lang::Vi);
    assert!(
        vi.ends_with(
            "relevant: điều kiện không hợp lệ: hãy dùng '==' để so sánh, không dùng '=' (ở cột 4)"
        ),
        "{vi}"
    );
    assert!(
        errors[0]
            .to_string()
            .ends_with("relevant: invalid condition: use '==' to compare, not '=' at column 4"),
        "{}",
        errors[0]
    );
}

#[test]
fn duplicate_question_code_is_reported_with_its_line() {
    let doc = format!(
        "{HEADER}{}",
        BODY.replace("code = \"note\"", "code = \"q1\"")
    );
    let first = line_of(&doc, "code = \"q1\"");
    let second = line_of(&doc, "code = \"q1\"\ntype = \"long_text\"");
    assert_eq!(
        errors(&doc),
        [format!(
            "demo.toml:{second}:8: sections[1].questions[1].code: duplicate question code 'q1' (already used at line {first})"
        )]
    );
}

#[test]
fn duplicate_battery_item_code_is_reported_with_its_line() {
    let doc = format!(
        "{HEADER}{}",
        BODY.replace("code = \"b_2\"", "code = \"q2\"")
    );
    let line = line_of(&doc, "{ code = \"q2\"");
    let first = line_of(&doc, "code = \"q2\"");
    assert_eq!(
        errors(&doc),
        [format!(
            "demo.toml:{line}:12: sections[1].questions[0].items[1].code: duplicate battery item code 'q2' (already used at line {first})"
        )]
    );
}

#[test]
fn duplicate_section_code_is_reported_with_its_line() {
    let doc = format!("{HEADER}{}", BODY.replace("code = \"s2\"", "code = \"s1\""));
    let line = line_of(&doc, "code = \"s1\"\ntitle = { vi = \"Phần 2\"");
    assert_eq!(
        errors(&doc),
        [format!(
            "demo.toml:{line}:8: sections[1].code: duplicate section code 's1' (already used at line {})",
            line_of(&doc, "code = \"s1\"")
        )]
    );
}

#[test]
fn duplicate_option_value_is_reported_with_its_line() {
    let doc = format!("{HEADER}{}", BODY.replace("value = \"4\"", "value = \"3\""));
    let line = line_of(&doc, "{ value = \"3\", label = { vi = \"Rất kém\"");
    assert_eq!(
        errors(&doc),
        [format!(
            "demo.toml:{line}:13: choices.agree4.options[3].value: duplicate option value '3' in choice list 'agree4' (already used at line {})",
            line - 1
        )]
    );
}

#[test]
fn unknown_question_in_a_condition_is_reported() {
    let doc = format!("{HEADER}{}", BODY.replace("q2 == 'yes'", "q9 == 'yes'"));
    let line = line_of(&doc, "relevant = \"q9");
    assert_eq!(
        errors(&doc),
        [format!(
            "demo.toml:{line}:12: sections[0].questions[2].relevant: unknown question code 'q9' in condition"
        )]
    );
}

#[test]
fn condition_referring_to_itself_is_circular() {
    let doc = format!("{HEADER}{}", BODY.replace("q2 == 'yes'", "q3 > 1"));
    let line = line_of(&doc, "relevant = \"q3");
    assert_eq!(
        errors(&doc),
        [format!(
            "demo.toml:{line}:12: sections[0].questions[2].relevant: condition of 'q3' refers to 'q3' itself (a circular condition)"
        )]
    );
}

#[test]
fn condition_referring_to_a_later_question_is_rejected() {
    let doc = format!("{HEADER}{}", BODY.replace("q2 == 'yes'", "b_1 == 1"));
    let line = line_of(&doc, "relevant = \"b_1 == 1");
    assert_eq!(
        errors(&doc),
        [format!(
            "demo.toml:{line}:12: sections[0].questions[2].relevant: condition of 'q3' refers to 'b_1', which comes later in the instrument (conditions may only refer to earlier answers, which also rules out circular conditions)"
        )]
    );
}

#[test]
fn a_two_question_cycle_is_reported_on_the_forward_edge() {
    let doc = format!(
        "{HEADER}{}",
        BODY.replace(
            "label = { vi = \"Câu 2\", en = \"Question 2\" }",
            "label = { vi = \"Câu 2\", en = \"Question 2\" }\nrelevant = \"q3 > 1\""
        )
    );
    let es = errors(&doc);
    assert_eq!(es.len(), 1, "{es:?}");
    assert!(es[0].ends_with(
        "sections[0].questions[1].relevant: condition of 'q2' refers to 'q3', which comes later in the instrument (conditions may only refer to earlier answers, which also rules out circular conditions)"
    ));
}

#[test]
fn conditions_must_use_existing_option_codes_and_items_not_batteries() {
    let doc = format!(
        "{HEADER}{}",
        BODY.replace("q1 in [1, 2]", "q1 in [1, 7]")
            .replace("b_1 != 'dk'", "b != 'dk'")
    );
    let es = errors(&doc);
    assert_eq!(es.len(), 2, "{es:?}");
    assert!(es[0].ends_with("'q1' has no option '7' (its options are: 1, 2, 3, 4, dk)"));
    assert!(es[1].ends_with("'b' is a battery; a condition must name one of its items (b_1, b_2)"));
}

#[test]
fn a_scale_with_no_valid_option_is_rejected() {
    let body = BODY.replace(
        "[choices.agree4]",
        "[choices.dk_only]\noptions = [ { value = \"dk\", label = { vi = \"Không biết\", en = \"Don't know\" }, valid = false } ]\n\n[choices.agree4]",
    );
    let doc = format!("{HEADER}{body}");
    let line = line_of(&doc, "[choices.dk_only]");
    assert_eq!(
        errors(&doc),
        [format!(
            "demo.toml:{line}:10: choices.dk_only: choice list 'dk_only' has no valid option (every option has valid = false)"
        )]
    );
}

#[test]
fn unknown_choice_list_is_reported() {
    let doc = format!(
        "{HEADER}{}",
        BODY.replacen("choices = \"agree4\"", "choices = \"agree5\"", 1)
    );
    let line = line_of(&doc, "choices = \"agree5\"");
    assert_eq!(
        errors(&doc),
        [format!(
            "demo.toml:{line}:11: sections[0].questions[0].choices: unknown choice list 'agree5' (defined lists: agree4)"
        )]
    );
}

#[test]
fn min_greater_than_max_is_reported() {
    let doc = format!("{HEADER}{}", BODY.replace("min = 0", "min = 60"));
    let line = line_of(&doc, "min = 60");
    assert_eq!(
        errors(&doc),
        [format!(
            "demo.toml:{line}:7: sections[0].questions[2].min: min (60) is greater than max (50)"
        )]
    );
}

#[test]
fn unknown_question_type_is_reported() {
    let doc = format!(
        "{HEADER}{}",
        BODY.replace("type = \"yes_no\"", "type = \"yesno\"")
    );
    let line = line_of(&doc, "type = \"yesno\"");
    assert_eq!(
        errors(&doc),
        [format!(
            "demo.toml:{line}:8: sections[0].questions[1].type: unknown question type 'yesno' (expected one of: single, multiple, battery, yes_no, integer, decimal, text, long_text, date, calculate, note)"
        )]
    );
}

#[test]
fn fields_that_do_not_fit_the_type_are_reported() {
    let doc = format!(
        "{HEADER}{}",
        BODY.replace("required = true", "required = true\nmax_length = 10")
            .replace("group = \"leader\"", "group = \"leaders\"")
    );
    let doc = doc.replace("group = \"leader\"", "group = \"leaders\"");
    let es = errors(&doc);
    assert_eq!(es.len(), 2, "{es:?}");
    assert_eq!(
        es[0],
        "demo.toml:4:9: group: unknown respondent group 'leaders' (expected one of: leader, civil_servant, citizen)"
    );
    assert!(es[1].ends_with(
        "sections[0].questions[0].max_length: `max_length` is not allowed for a question of type 'single'"
    ));
}

#[test]
fn all_errors_are_reported_in_file_order() {
    let doc = format!(
        "{HEADER}{}",
        BODY.replace("min = 0", "min = 60")
            .replace("type = \"yes_no\"", "type = \"yesno\"")
            .replace("code = \"b_2\"", "code = \"b_1\"")
    );
    let es = parse(&doc).unwrap_err();
    let lines: Vec<_> = es.iter().map(|e| e.location.line().unwrap()).collect();
    assert_eq!(es.len(), 3, "{es:?}");
    assert!(lines.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn question_level_continues_needs_an_instrument_level_one() {
    let doc = format!(
        "{HEADER}{}",
        BODY.replace("required = true", "continues = \"old_q1\"")
    );
    let es = errors(&doc);
    assert_eq!(es.len(), 1);
    assert!(es[0].ends_with(
        "sections[0].questions[0].continues: `continues` on a question needs the instrument-level `continues = { instrument = \"...\", version = N }`"
    ));
}
