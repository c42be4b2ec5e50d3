//! Tests of parsing, validation, the canonical form and `check_against`.

use super::fixtures::{PAR, SIPAS};
use super::*;
use crate::domain::items::ScorableOption;

fn parse(src: &str) -> Result<Methodology, Vec<MethodologyError>> {
    Methodology::parse("test.toml", src.as_bytes())
}

fn errors(src: &str) -> Vec<MethodologyError> {
    match parse(src) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e,
    }
}

/// 1-based line of the `n`-th (0-based) line containing `needle`.
fn line_of(src: &str, needle: &str, n: usize) -> usize {
    src.lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .nth(n)
        .map(|(i, _)| i + 1)
        .expect("needle present")
}

/// Replaces exactly one occurrence (panics if the fixture drifted).
fn edit(src: &str, from: &str, to: &str) -> String {
    assert_eq!(
        src.matches(from).count(),
        1,
        "fixture must contain {from:?} once"
    );
    src.replace(from, to)
}

fn only(errors: &[MethodologyError], kind: ErrorKind) -> &MethodologyError {
    let found: Vec<_> = errors.iter().filter(|e| e.kind == kind).collect();
    assert_eq!(found.len(), 1, "expected one {kind:?} error in {errors:#?}");
    found[0]
}

#[test]
fn the_fixtures_parse_and_fill_in_defaults() {
    let m = parse(PAR).unwrap();
    assert_eq!(m.code, "test-par");
    assert_eq!(m.groups.len(), 2);
    assert_eq!(m.group("leader").unwrap().max_points, 22.0);
    assert!(!m.group("civil").unwrap().counts_toward_index);
    assert_eq!(
        m.group("leader").unwrap().aggregation,
        Aggregation::MeanCoefficient
    );
    assert_eq!(m.quality.speeder_seconds, Some(120));
    let s = parse(SIPAS).unwrap();
    assert_eq!(s.total_points, 100.0, "total_points defaults to 100");
    assert_eq!(s.display.decimals, 2, "display decimals default to 2");
    assert_eq!(s.ranking.ties, TieRule::Competition);
    assert_eq!(s.ranking.compare, CompareOn::FullPrecision);
    assert_eq!(s.tiers.bands.len(), 4, "default bands A/B/C/D");
    assert_eq!(s.quality.disclosure_min_n, 10);
    let sipas = s.sipas.as_ref().unwrap();
    assert_eq!((sipas.scale_min(), sipas.scale_max()), (1.0, 5.0));
}

#[test]
fn a_group_whose_items_do_not_add_up_to_its_max_is_reported_at_max_points() {
    let src = edit(PAR, "max_points = 22", "max_points = 21.5");
    let errs = errors(&src);
    let e = only(&errs, ErrorKind::PointsMismatch);
    assert_eq!(e.line, Some(line_of(&src, "max_points = 21.5", 0)));
    assert_eq!(e.path, "group[leader].max_points");
    assert!(
        e.message.to_string().contains("21.5") && e.message.to_string().contains("22"),
        "{}",
        e.message
    );
    assert_eq!(e.file, "test.toml");
}

#[test]
fn points_that_do_not_add_up_read_in_vietnamese_with_file_line_and_path() {
    let src = edit(PAR, "max_points = 22", "max_points = 21.5");
    let errs = errors(&src);
    let e = only(&errs, ErrorKind::PointsMismatch);
    let line = line_of(&src, "max_points = 21.5", 0);
    let column = e.column.expect("a column");
    let location = format!("test.toml:{line}:{column}: group[leader].max_points: ");

    let vi = e.text(crate::i18n::Lang::Vi);
    let message = vi.strip_prefix(&location).unwrap_or_else(|| {
        panic!("{vi:?} does not start with {location:?}");
    });
    assert!(message.contains("21.5") && message.contains("22"), "{vi}");
    assert!(message.contains("nhóm đối tượng"), "{vi}");
    // No word of the English message survives the translation.
    let english = e.message.text(crate::i18n::Lang::En);
    let vi_words: Vec<&str> = message
        .split(|c: char| !c.is_alphanumeric() && c != '_' && c != '\'')
        .collect();
    for word in english
        .split(|c: char| !c.is_alphanumeric() && c != '_' && c != '\'')
        .filter(|w| w.chars().any(char::is_alphabetic))
    {
        assert!(!vi_words.contains(&word), "English {word:?} in {vi:?}");
    }

    // English stays what it was, with the same location.
    assert_eq!(e.to_string(), e.text(crate::i18n::Lang::En));
    assert_eq!(
        e.to_string(),
        format!("{location}group max_points is 21.5 but its items' points sum to 22")
    );
}

#[test]
fn component_survey_points_that_do_not_match_the_mapped_items_are_reported() {
    // C2 receives q2 (10) + linked SIPAS (10) = 20.
    let src = edit(PAR, "survey_points = 20", "survey_points = 18");
    let errs = errors(&src);
    let e = only(&errs, ErrorKind::PointsMismatch);
    assert_eq!(e.line, Some(line_of(&src, "survey_points = 18", 0)));
    assert_eq!(e.path, "component[C2].survey_points");
    assert!(e.message.to_string().contains("20"), "{}", e.message);
}

#[test]
fn component_maxima_that_do_not_sum_to_the_total_are_reported_at_total_points() {
    let src = edit(PAR, "max_points = 60", "max_points = 59");
    let errs = errors(&src);
    let e = only(&errs, ErrorKind::PointsMismatch);
    assert_eq!(e.line, Some(line_of(&src, "total_points = 100", 0)));
    assert_eq!(e.path, "total_points");
}

#[test]
fn a_coefficient_outside_zero_to_one_is_reported_at_its_value() {
    let src = edit(PAR, r#""2" = 0.6"#, r#""2" = 1.6"#);
    let errs = errors(&src);
    let e = only(&errs, ErrorKind::CoefficientOutOfRange);
    let line = line_of(&src, r#""2" = 1.6"#, 0);
    assert_eq!(e.line, Some(line));
    let col = src.lines().nth(line - 1).unwrap().find("1.6").unwrap() + 1;
    assert_eq!(e.column, Some(col), "column points at the value");
    assert_eq!(e.path, r#"coefficient_table[agree4].values."2""#);
    let negative = errors(&edit(PAR, r#""no" = 0.0"#, r#""no" = -0.1"#));
    assert_eq!(
        only(&negative, ErrorKind::CoefficientOutOfRange).path,
        r#"group[civil].item[c1].coefficients.values."no""#
    );
}

#[test]
fn duplicate_component_and_criterion_codes_are_reported_at_the_second_definition() {
    let src = edit(PAR, "code = \"C2\"", "code = \"C1\"");
    let errs = errors(&src);
    let dup = errs
        .iter()
        .find(|e| e.kind == ErrorKind::DuplicateCode)
        .unwrap();
    assert_eq!(dup.line, Some(line_of(&src, "code = \"C1\"", 1)));
    assert_eq!(dup.path, "component[C1].code");
    assert!(
        dup.message
            .to_string()
            .contains(&format!("line {}", line_of(&src, "code = \"C1\"", 0)))
    );

    let src = edit(PAR, "code = \"K2\"", "code = \"K1\"");
    let errs = errors(&src);
    let dup = errs
        .iter()
        .find(|e| e.kind == ErrorKind::DuplicateCode)
        .unwrap();
    assert_eq!(dup.line, Some(line_of(&src, "code = \"K1\"", 1)));
    assert_eq!(dup.path, "criterion[K1].code");
}

#[test]
fn an_item_mapped_twice_in_a_group_is_reported_at_the_second_mapping() {
    let src = edit(PAR, "item = \"q3\"", "item = \"q1\"");
    let errs = errors(&src);
    let dup = only(&errs, ErrorKind::DuplicateCode);
    assert_eq!(dup.line, Some(line_of(&src, "item = \"q1\"", 1)));
    assert_eq!(dup.path, "group[leader].item[q1].item");
}

#[test]
fn unknown_component_criterion_and_table_references_are_reported() {
    let src = edit(
        PAR,
        "component = \"C2\"\nname = { vi = \"Tiêu chí 2\"",
        "component = \"C9\"\nname = { vi = \"Tiêu chí 2\"",
    );
    let e = only(&errors(&src), ErrorKind::UnknownReference).clone();
    assert_eq!(e.line, Some(line_of(&src, "component = \"C9\"", 0)));
    assert_eq!(e.path, "criterion[K2].component");

    let src = edit(PAR, "criterion = \"K2\"", "criterion = \"K7\"");
    let errs = errors(&src);
    let e = only(&errs, ErrorKind::UnknownReference);
    assert_eq!(e.line, Some(line_of(&src, "criterion = \"K7\"", 0)));
    assert_eq!(e.path, "group[leader].item[q2].criterion");

    let src = edit(
        PAR,
        "points = 2\ntable = \"agree4\"",
        "points = 2\ntable = \"agree5\"",
    );
    let errs = errors(&src);
    let e = only(&errs, ErrorKind::UnknownReference);
    assert_eq!(e.line, Some(line_of(&src, "table = \"agree5\"", 0)));
    assert_eq!(e.path, "group[leader].item[q3].table");
}

#[test]
fn a_coefficient_table_without_any_scored_value_is_reported() {
    let src = edit(
        PAR,
        r#"{ values = { "yes" = 1.0, "no" = 0.0 }, invalid = ["dk"] }"#,
        r#"{ values = {}, invalid = ["dk"] }"#,
    );
    let errs = errors(&src);
    let e = only(&errs, ErrorKind::EmptyCoefficientTable);
    assert_eq!(e.line, Some(line_of(&src, "values = {}", 0)));
    assert_eq!(e.path, "group[civil].item[c1].coefficients");
}

#[test]
fn unsorted_overlapping_and_gapped_tier_bands_are_reported() {
    let unsorted = edit(
        PAR,
        "{ code = \"B\", min = 80, below = 90 },\n  { code = \"C\", min = 70, below = 80 },",
        "{ code = \"C\", min = 70, below = 90 },\n  { code = \"B\", min = 80, below = 70 },",
    );
    let errs = errors(&unsorted);
    // Reported twice: B is out of order, and D (below 70) then leaves a gap under B (80).
    assert_eq!(errs.len(), 2, "{errs:#?}");
    let e = &errs[0];
    assert_eq!(e.kind, ErrorKind::BadTierBands);
    // C (70 ≤ x < 90) follows A correctly; B (min 80) after C (min 70) is out of order.
    let b_line = line_of(&unsorted, "code = \"B\", min = 80, below = 70", 0);
    assert_eq!(e.line, Some(b_line));
    assert_eq!(e.path, "tiers.bands[2].min");
    assert!(
        e.message.to_string().contains("highest to lowest"),
        "{}",
        e.message
    );

    let overlap = edit(PAR, "min = 70, below = 80", "min = 70, below = 85");
    let e = only(&errors(&overlap), ErrorKind::BadTierBands).clone();
    assert_eq!(e.line, Some(line_of(&overlap, "below = 85", 0)));
    assert!(e.message.to_string().contains("overlaps"), "{}", e.message);

    let gap = edit(PAR, "min = 70, below = 80", "min = 70, below = 75");
    let e = only(&errors(&gap), ErrorKind::BadTierBands).clone();
    assert!(e.message.to_string().contains("gap"), "{}", e.message);
    assert_eq!(e.path, "tiers.bands[2].below");
}

#[test]
fn an_unknown_or_missing_format_is_reported_before_anything_else() {
    let src = edit(PAR, "khaosat-methodology/1", "khaosat-methodology/9");
    let errs = errors(&src);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].kind, ErrorKind::UnknownFormat);
    assert_eq!((errs[0].line, errs[0].column), (Some(1), Some(10)));
    assert_eq!(errs[0].path, "format");

    let src = edit(PAR, "format = \"khaosat-methodology/1\"\n", "");
    let errs = errors(&src);
    assert_eq!(errs[0].kind, ErrorKind::UnknownFormat);
    assert_eq!(errs[0].line, Some(1));
}

#[test]
fn an_unknown_field_is_reported_with_its_line_and_table() {
    let src = edit(PAR, "points = 2\n", "points = 2\nweight = 3\n");
    let errs = errors(&src);
    assert_eq!(errs.len(), 1);
    let e = &errs[0];
    assert_eq!(e.kind, ErrorKind::Structure);
    assert_eq!(e.line, Some(line_of(&src, "weight = 3", 0)));
    assert_eq!(e.column, Some(1));
    assert_eq!(e.path, "group.item.weight");
    assert!(e.message.to_string().contains("weight"), "{}", e.message);
}

#[test]
fn a_value_of_the_wrong_type_is_a_structure_error_with_its_line() {
    let src = edit(
        PAR,
        "counts_toward_index = false",
        "counts_toward_index = \"no\"",
    );
    let errs = errors(&src);
    assert_eq!(errs[0].kind, ErrorKind::Structure);
    assert_eq!(
        errs[0].line,
        Some(line_of(&src, "counts_toward_index = \"no\"", 0))
    );
    let src = edit(PAR, "ties = \"competition\"", "ties = \"olympic\"");
    let errs = errors(&src);
    assert_eq!(errs[0].kind, ErrorKind::Structure);
    assert_eq!(errs[0].line, Some(line_of(&src, "olympic", 0)));
}

#[test]
fn a_toml_syntax_error_is_reported_with_line_and_column() {
    let src = edit(PAR, "max_points = 40", "max_points = = 40");
    let errs = errors(&src);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].kind, ErrorKind::Syntax);
    let line = line_of(&src, "max_points = = 40", 0);
    assert_eq!(errs[0].line, Some(line));
    assert_eq!(errs[0].column, Some(14), "the second '=' is at column 14");
    assert!(
        errs[0]
            .to_string()
            .starts_with(&format!("test.toml:{line}:14: ")),
        "{}",
        errs[0]
    );
}

#[test]
fn an_oversized_file_is_refused_without_parsing() {
    let mut big = PAR.as_bytes().to_vec();
    big.resize(MAX_FILE_BYTES + 1, b' ');
    let errs = Methodology::parse("big.toml", &big).unwrap_err();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].kind, ErrorKind::TooLarge);
    assert_eq!(errs[0].line, None);
    assert_eq!(
        errs[0].to_string(),
        format!(
            "big.toml: file is {} bytes; the limit is 1048576 bytes (1 MiB)",
            MAX_FILE_BYTES + 1
        )
    );
}

#[test]
fn a_non_utf8_file_is_refused_with_the_line_of_the_first_bad_byte() {
    let mut bytes = b"format = \"khaosat-methodology/1\"\ncode = \"x\"\nname = \"".to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe]);
    let errs = Methodology::parse("bad.toml", &bytes).unwrap_err();
    assert_eq!(errs[0].kind, ErrorKind::NotUtf8);
    assert_eq!(errs[0].line, Some(3));
}

#[test]
fn all_semantic_errors_of_a_file_are_reported_together() {
    let src = edit(PAR, r#""2" = 0.6"#, r#""2" = 1.6"#);
    let src = edit(&src, "criterion = \"K2\"", "criterion = \"K7\"");
    let src = edit(&src, "max_points = 4\n", "max_points = 5\n");
    let src = edit(&src, "code = \"K2\"", "code = \"K1\"");
    let kinds: Vec<ErrorKind> = errors(&src).iter().map(|e| e.kind).collect();
    for k in [
        ErrorKind::CoefficientOutOfRange,
        ErrorKind::UnknownReference,
        ErrorKind::PointsMismatch,
        ErrorKind::DuplicateCode,
    ] {
        assert!(kinds.contains(&k), "{k:?} missing from {kinds:?}");
    }
}

#[test]
fn points_with_more_than_six_decimals_are_refused() {
    let src = edit(PAR, "points = 2\n", "points = 2.0000001\n");
    let errs = errors(&src);
    assert!(errs.iter().any(
        |e| e.kind == ErrorKind::InvalidValue && e.path == "group[leader].item[q3].points"
    ));
}

#[test]
fn sipas_rules_are_validated() {
    let src = edit(
        SIPAS,
        "satisfied = [\"4\", \"5\"]",
        "satisfied = [\"4\", \"6\"]",
    );
    let e = only(&errors(&src), ErrorKind::UnknownReference).clone();
    assert_eq!(e.path, "sipas.satisfied");
    assert_eq!(e.line, Some(line_of(&src, "satisfied", 0)));

    let src = edit(SIPAS, "items = [\"s1\"]", "items = [\"p1\"]");
    let e = only(&errors(&src), ErrorKind::DuplicateCode).clone();
    assert_eq!(e.path, "sipas.element[II.A].items[p1]");

    let src = edit(SIPAS, "part = \"II\"", "part = \"III\"");
    let errs = errors(&src);
    assert!(
        errs.iter()
            .any(|e| e.kind == ErrorKind::UnknownReference && e.path == "sipas.element[II.A].part")
    );
    assert!(
        errs.iter()
            .any(|e| e.path == "sipas.part[II]" && e.message.to_string().contains("no element"))
    );
}

#[test]
fn to_toml_round_trips_and_keeps_the_content_hash() {
    for src in [PAR, SIPAS] {
        let m = parse(src).unwrap();
        let text = m.to_toml().unwrap();
        let again = Methodology::parse("round-trip.toml", text.as_bytes())
            .unwrap_or_else(|e| panic!("{text}\n{e:#?}"));
        assert_eq!(again.content_hash(), m.content_hash());
        assert_eq!(again.canonical_json(), m.canonical_json());
        assert_eq!(m.content_hash().len(), 64);
    }
}

#[test]
fn the_hash_ignores_formatting_but_not_content() {
    let m = parse(PAR).unwrap();
    let reformatted = format!(
        "# a comment\n\n{}",
        PAR.replace("points = 10\n", "points = 10.0   # ten\n")
    );
    assert_eq!(
        parse(&reformatted).unwrap().content_hash(),
        m.content_hash()
    );
    let changed = edit(PAR, r#""3" = 0.2"#, r#""3" = 0.25"#);
    assert_ne!(parse(&changed).unwrap().content_hash(), m.content_hash());
}

fn item(code: &str, values: &[(&str, bool)]) -> ScorableItem {
    ScorableItem {
        code: code.into(),
        options: values
            .iter()
            .map(|(v, ok)| ScorableOption {
                value: (*v).into(),
                valid_for_scoring: *ok,
            })
            .collect(),
    }
}

fn four_levels(code: &str) -> ScorableItem {
    item(
        code,
        &[
            ("1", true),
            ("2", true),
            ("3", true),
            ("4", true),
            ("dk", false),
        ],
    )
}

#[test]
fn check_against_accepts_a_matching_instrument() {
    let m = parse(PAR).unwrap();
    let items = vec![
        four_levels("q1"),
        four_levels("q2"),
        four_levels("q3"),
        four_levels("extra"),
    ];
    assert_eq!(m.check_against("leader", &items), vec![]);
    let civil = vec![item("c1", &[("yes", true), ("no", true), ("dk", false)])];
    assert_eq!(m.check_against("civil", &civil), vec![]);
}

#[test]
fn check_against_reports_missing_items_unknown_options_and_scored_invalid_options() {
    let src = PAR;
    let m = parse(src).unwrap();
    let items = vec![
        // q1 missing entirely
        item(
            "q2",
            &[("1", true), ("2", true), ("3", true), ("dk", false)],
        ), // no "4"
        item(
            "q3",
            &[
                ("1", true),
                ("2", true),
                ("3", true),
                ("4", false),
                ("5", true),
            ],
        ),
    ];
    let errs = m.check_against("leader", &items);
    let kinds: Vec<(ErrorKind, &str)> = errs.iter().map(|e| (e.kind, e.path.as_str())).collect();
    assert_eq!(
        kinds,
        vec![
            (ErrorKind::ItemNotInInstrument, "group[leader].item[q1]"),
            (ErrorKind::OptionNotInInstrument, "group[leader].item[q2]"),
            (ErrorKind::InvalidOptionScored, "group[leader].item[q3]"),
            (ErrorKind::ValidOptionUnscored, "group[leader].item[q3]"),
        ]
    );
    assert_eq!(errs[0].line, Some(line_of(src, "item = \"q1\"", 0)));
    assert_eq!(errs[0].file, "test.toml");
    assert!(errs[3].message.to_string().contains("\"5\""));
}

#[test]
fn check_against_covers_sipas_and_unknown_groups() {
    let m = parse(SIPAS).unwrap();
    let five = |c: &str| {
        item(
            c,
            &[
                ("1", true),
                ("2", true),
                ("3", true),
                ("4", true),
                ("5", true),
                ("0", false),
            ],
        )
    };
    let items = vec![five("p1"), five("p2"), five("p3"), five("s1")];
    assert_eq!(m.check_against("citizen", &items), vec![]);
    let errs = m.check_against("citizen", &items[..3]);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].kind, ErrorKind::ItemNotInInstrument);
    assert_eq!(errs[0].line, Some(line_of(SIPAS, "items = [\"s1\"]", 0)));
    let errs = m.check_against("nobody", &items);
    assert_eq!(errs[0].kind, ErrorKind::UnknownGroup);
}

#[test]
fn deeply_nested_input_is_an_error_not_a_stack_overflow() {
    let mut src = String::from("format = \"khaosat-methodology/1\"\nx = ");
    src.push_str(&"[".repeat(500_000));
    let errs = Methodology::parse("deep.toml", src.as_bytes()).unwrap_err();
    assert_eq!(errs[0].kind, ErrorKind::Syntax);
    assert_eq!(errs[0].line, Some(2));
}

#[test]
fn mangled_input_never_panics() {
    // Deterministic pseudo-random byte edits of a valid file: the parser must return, not
    // panic, whatever it is given.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..300 {
        let mut bytes = PAR.as_bytes().to_vec();
        for _ in 0..(next() % 4 + 1) {
            let len = bytes.len() as u64;
            let at = usize::try_from(next() % len).unwrap();
            match next() % 3 {
                0 => bytes[at] = (next() % 256) as u8,
                1 => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, b"=[]{}\"\n.0-"[usize::try_from(next() % 10).unwrap()]),
            }
        }
        let _ = Methodology::parse("fuzz.toml", &bytes);
    }
}

#[test]
fn aggregate_and_sipas_headline_settings_parse_and_defaults_keep_the_hash() {
    let spelled = SIPAS.replace(
        "index_points = 10\n",
        "index_points = 10\nlinked_index = \"sipas\"\nheadline = \"mean_of_parts\"\n",
    ) + "";
    let spelled = spelled.replace(
        "[sipas]\n",
        "[aggregate]\nnational = \"mean_of_units\"\n\n[sipas]\n",
    );
    let (plain, spelled) = (parse(SIPAS).unwrap(), parse(&spelled).unwrap());
    assert_eq!(plain.content_hash(), spelled.content_hash());
    let s = plain.sipas.as_ref().unwrap();
    assert_eq!(
        (
            s.linked_index.as_str(),
            s.headline,
            s.overall_item.as_deref()
        ),
        ("sipas", SipasHeadline::MeanOfParts, None)
    );
    assert_eq!(plain.aggregate.national, NationalAggregate::MeanOfUnits);

    let chosen = SIPAS
        .replace(
            "index_points = 10\n",
            "index_points = 10\nlinked_index = \"hai_long\"\nheadline = \"overall_item\"\noverall_item = \"q_all\"\n",
        )
        .replace("[sipas]\n", "[aggregate]\nnational = \"pooled\"\n\n[sipas]\n");
    let m = parse(&chosen).unwrap();
    let s = m.sipas.as_ref().unwrap();
    assert_eq!(
        (
            s.linked_index.as_str(),
            s.headline,
            s.overall_item.as_deref()
        ),
        ("hai_long", SipasHeadline::OverallItem, Some("q_all"))
    );
    assert_eq!(m.aggregate.national, NationalAggregate::Pooled);
    assert_ne!(m.content_hash(), plain.content_hash());
}

#[test]
fn an_overall_item_headline_without_its_item_is_refused_with_its_place() {
    let src = SIPAS.replace(
        "index_points = 10\n",
        "index_points = 10\nheadline = \"overall_item\"\n",
    );
    let e = errors(&src);
    assert!(
        e.iter()
            .any(|e| e.path == "sipas.overall_item" && e.kind == ErrorKind::InvalidValue),
        "{e:?}"
    );
    let bad = SIPAS.replace(
        "[sipas]\n",
        "[aggregate]\nnational = \"median\"\n\n[sipas]\n",
    );
    assert!(errors(&bad).iter().any(|e| e.kind == ErrorKind::Structure));
}
