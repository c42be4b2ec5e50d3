//! Parsing and validation: from bytes to a [`Methodology`], reporting every problem found.

mod sipas;
mod tables;
mod tiers;

use self::sipas::validate_sipas;
use self::tables::validate_table;
use self::tiers::{default_bands, validate_tiers};
use super::raw::*;
use super::*;
use crate::domain::source::{LineIndex, line_of_byte};
use crate::i18n::Localized;

// ---------------------------------------------------------------------------------------------
// Parsing and validation
// ---------------------------------------------------------------------------------------------

/// Collects errors and turns byte spans into line/column positions.
struct Ctx<'a> {
    file: &'a str,
    src: &'a str,
    lines: LineIndex,
    errors: Vec<MethodologyError>,
}

impl Ctx<'_> {
    fn position(&self, offset: usize) -> (usize, usize) {
        self.lines.line_col(self.src, offset)
    }

    fn err(
        &mut self,
        span: Option<Range<usize>>,
        path: impl Into<String>,
        kind: ErrorKind,
        message: Localized,
    ) {
        let (line, column) = match span {
            Some(s) => {
                let (l, c) = self.position(s.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        self.errors.push(MethodologyError {
            file: self.file.to_owned(),
            line,
            column,
            path: path.into(),
            kind,
            message,
        });
    }

    fn line_of(&self, span: &Range<usize>) -> usize {
        self.position(span.start).0
    }

    /// Checks a code: non-empty, no whitespace or control characters (codes end up in URLs,
    /// CSV headers and error messages).
    fn code(&mut self, code: &Spanned<String>, path: &str) -> bool {
        let c = code.get_ref();
        if c.is_empty() || c.chars().any(|ch| ch.is_whitespace() || ch.is_control()) {
            self.err(
                Some(code.span()),
                path,
                ErrorKind::InvalidValue,
                Localized::new("methodology.bad_code", &[("code", &format!("{c:?}"))]),
            );
            return false;
        }
        true
    }

    /// Checks a points value: finite, positive (or ≥ 0 when `allow_zero`), at most
    /// [`POINT_DECIMALS`] decimals. Returns the value in integer micro-points.
    fn points(&mut self, v: &Spanned<f64>, path: &str, allow_zero: bool) -> Option<i128> {
        let x = *v.get_ref();
        let ok_sign = if allow_zero { x >= 0.0 } else { x > 0.0 };
        if !x.is_finite() || !ok_sign {
            let key = if allow_zero {
                "methodology.points_not_non_negative"
            } else {
                "methodology.points_not_positive"
            };
            self.err(
                Some(v.span()),
                path,
                ErrorKind::InvalidValue,
                Localized::new(key, &[("value", &x.to_string())]),
            );
            return None;
        }
        micro_points(x).or_else(|| {
            self.err(
                Some(v.span()),
                path,
                ErrorKind::InvalidValue,
                Localized::new(
                    "methodology.points_decimals",
                    &[
                        ("value", &x.to_string()),
                        ("decimals", &POINT_DECIMALS.to_string()),
                    ],
                ),
            );
            None
        })
    }

    fn text(&mut self, t: &Text, span: Option<Range<usize>>, path: &str) {
        if t.vi.trim().is_empty() || t.en.trim().is_empty() {
            self.err(
                span,
                path,
                ErrorKind::InvalidValue,
                Localized::new("methodology.names_required", &[]),
            );
        }
    }
}

/// Exact integer micro-points of a decimal value with at most six decimals.
fn micro_points(x: f64) -> Option<i128> {
    let exact = decimal_key(x, 9)?;
    // The nine-decimal key must end in three zeros, otherwise the value has more decimals.
    (exact % 1000 == 0).then_some(exact / 1000)
}

fn fmt_micro(m: i128) -> String {
    let sign = if m < 0 { "-" } else { "" };
    let a = m.unsigned_abs();
    let int = a / 1_000_000;
    let frac = a % 1_000_000;
    if frac == 0 {
        format!("{sign}{int}")
    } else {
        let f = format!("{frac:06}");
        format!("{sign}{int}.{}", f.trim_end_matches('0'))
    }
}

/// Nearest preceding `[table]` / `[[array]]` header, to name a path for serde errors, which
/// carry a span but no public key path.
fn header_before(src: &str, offset: usize) -> String {
    let before = src.get(..offset.min(src.len())).unwrap_or(src);
    before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_owned())
        .unwrap_or_default()
}

fn toml_error(ctx: &mut Ctx<'_>, e: &toml::de::Error, kind: ErrorKind) {
    let span = e.span();
    let path = span
        .as_ref()
        .map(|s| {
            let key = ctx.src.get(s.clone()).unwrap_or("").trim();
            let header = header_before(ctx.src, s.start);
            let short_key = key.len() <= 64 && !key.is_empty() && !key.contains('\n');
            match (header.is_empty(), short_key) {
                (true, true) => key.to_owned(),
                (true, false) => String::new(),
                (false, true) => format!("{header}.{key}"),
                (false, false) => header,
            }
        })
        .unwrap_or_default();
    // The TOML parser's own explanation is English; it goes into a catalogued frame.
    let key = if kind == ErrorKind::Syntax {
        "methodology.toml_syntax"
    } else {
        "methodology.toml_structure"
    };
    ctx.err(
        span,
        path,
        kind,
        Localized::new(key, &[("detail", e.message().trim())]),
    );
}

pub(super) fn parse_methodology(
    file: &str,
    bytes: &[u8],
) -> Result<Methodology, Vec<MethodologyError>> {
    let whole_file = |kind, message: Localized, line: Option<usize>| {
        vec![MethodologyError {
            file: file.to_owned(),
            line,
            column: None,
            path: String::new(),
            kind,
            message,
        }]
    };
    if bytes.len() > MAX_FILE_BYTES {
        return Err(whole_file(
            ErrorKind::TooLarge,
            Localized::new(
                "methodology.too_large",
                &[
                    ("bytes", &bytes.len().to_string()),
                    ("limit", &MAX_FILE_BYTES.to_string()),
                ],
            ),
            None,
        ));
    }
    let src = match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let line = line_of_byte(bytes, e.valid_up_to());
            return Err(whole_file(
                ErrorKind::NotUtf8,
                Localized::new(
                    "methodology.not_utf8",
                    &[("offset", &e.valid_up_to().to_string())],
                ),
                Some(line),
            ));
        }
    };
    let mut ctx = Ctx {
        file,
        src,
        lines: LineIndex::new(src),
        errors: Vec::new(),
    };

    let header: RawHeader = match toml::from_str(src) {
        Ok(h) => h,
        Err(e) => {
            toml_error(&mut ctx, &e, ErrorKind::Syntax);
            return Err(ctx.errors);
        }
    };
    match header.format {
        None => {
            ctx.err(
                Some(0..0),
                "format",
                ErrorKind::UnknownFormat,
                Localized::new("methodology.format_missing", &[("format", FORMAT)]),
            );
            return Err(ctx.errors);
        }
        Some(f) if f.get_ref() != FORMAT => {
            ctx.err(
                Some(f.span()),
                "format",
                ErrorKind::UnknownFormat,
                Localized::new(
                    "methodology.format_unknown",
                    &[("found", &format!("{:?}", f.get_ref())), ("format", FORMAT)],
                ),
            );
            return Err(ctx.errors);
        }
        Some(_) => {}
    }

    let raw: RawFile = match toml::from_str(src) {
        Ok(r) => r,
        Err(e) => {
            toml_error(&mut ctx, &e, ErrorKind::Structure);
            return Err(ctx.errors);
        }
    };
    let built = validate(&mut ctx, raw);
    if ctx.errors.is_empty() {
        built.ok_or(ctx.errors)
    } else {
        Err(ctx.errors)
    }
}

/// Validates everything and builds the domain value. Returns `None` only when an error was
/// recorded (the caller then reports `ctx.errors`).
fn validate(ctx: &mut Ctx<'_>, raw: RawFile) -> Option<Methodology> {
    let mut lines = BTreeMap::new();

    ctx.code(&raw.code, "code");
    if *raw.version.get_ref() == 0 {
        ctx.err(
            Some(raw.version.span()),
            "version",
            ErrorKind::InvalidValue,
            Localized::new("methodology.version_zero", &[]),
        );
    }
    ctx.text(raw.name.get_ref(), Some(raw.name.span()), "name");

    let total_points = raw.total_points.as_ref().map_or(100.0, |t| *t.get_ref());
    let total_micro = match &raw.total_points {
        Some(t) => ctx.points(t, "total_points", false),
        None => Some(100_000_000),
    };

    let decimals = match raw.display.as_ref().and_then(|d| d.decimals.as_ref()) {
        Some(d) => {
            if *d.get_ref() > MAX_DISPLAY_DECIMALS {
                ctx.err(
                    Some(d.span()),
                    "display.decimals",
                    ErrorKind::InvalidValue,
                    Localized::new(
                        "methodology.decimals_too_many",
                        &[("max", &MAX_DISPLAY_DECIMALS.to_string())],
                    ),
                );
            }
            *d.get_ref()
        }
        None => 2,
    };
    let mut scoring = ScoringSettings::default();
    if let Some(sc) = &raw.scoring {
        if let Some(rule) = sc.unanswered_item {
            scoring.unanswered_item = rule;
        }
        if let Some(c) = &sc.min_coverage {
            let v = *c.get_ref();
            if !(0.0..=1.0).contains(&v) {
                ctx.err(
                    Some(c.span()),
                    "scoring.min_coverage",
                    ErrorKind::InvalidValue,
                    Localized::new("methodology.not_a_share", &[]),
                );
            }
            scoring.min_coverage = v;
        }
    }
    let ranking = RankingSettings {
        ties: raw
            .ranking
            .as_ref()
            .and_then(|r| r.ties)
            .unwrap_or(TieRule::Competition),
        compare: raw
            .ranking
            .as_ref()
            .and_then(|r| r.compare)
            .unwrap_or(CompareOn::FullPrecision),
        min_respondents: match raw
            .ranking
            .as_ref()
            .and_then(|r| r.min_respondents.as_ref())
        {
            Some(n) => {
                if *n.get_ref() == 0 {
                    ctx.err(
                        Some(n.span()),
                        "ranking.min_respondents",
                        ErrorKind::InvalidValue,
                        Localized::new("methodology.at_least_one", &[]),
                    );
                }
                *n.get_ref()
            }
            None => 1,
        },
    };
    let tiers = match &raw.tiers {
        Some(t) => validate_tiers(ctx, t),
        None => TierSettings {
            compare: CompareOn::FullPrecision,
            bands: default_bands(),
        },
    };
    let mut quality = QualitySettings {
        disclosure_min_n: 10,
        speeder_seconds: None,
    };
    if let Some(q) = &raw.quality {
        if let Some(k) = &q.disclosure_min_n {
            if *k.get_ref() == 0 {
                ctx.err(
                    Some(k.span()),
                    "quality.disclosure_min_n",
                    ErrorKind::InvalidValue,
                    Localized::new("methodology.at_least_one", &[]),
                );
            }
            quality.disclosure_min_n = *k.get_ref();
        }
        if let Some(s) = &q.speeder_seconds {
            if *s.get_ref() == 0 {
                ctx.err(
                    Some(s.span()),
                    "quality.speeder_seconds",
                    ErrorKind::InvalidValue,
                    Localized::new("methodology.at_least_one", &[]),
                );
            }
            quality.speeder_seconds = Some(*s.get_ref());
        }
    }

    // Components.
    let mut components = Vec::new();
    let mut comp_first_line: BTreeMap<String, usize> = BTreeMap::new();
    let mut comp_max_micro: BTreeMap<String, i128> = BTreeMap::new();
    let mut sum_max: Option<i128> = Some(0);
    for c in &raw.components {
        let rc = c.get_ref();
        let code = rc.code.get_ref().clone();
        let path = format!("component[{code}]");
        ctx.code(&rc.code, &format!("{path}.code"));
        ctx.text(&rc.name, Some(c.span()), &format!("{path}.name"));
        if let Some(first) = comp_first_line.get(&code) {
            ctx.err(
                Some(rc.code.span()),
                format!("{path}.code"),
                ErrorKind::DuplicateCode,
                Localized::new(
                    "methodology.component_duplicate",
                    &[("code", &code), ("line", &first.to_string())],
                ),
            );
        } else {
            comp_first_line.insert(code.clone(), ctx.line_of(&rc.code.span()));
        }
        let max = ctx.points(&rc.max_points, &format!("{path}.max_points"), false);
        if let Some(m) = max {
            comp_max_micro.entry(code.clone()).or_insert(m);
        }
        sum_max = sum_max.zip(max).map(|(a, b)| a + b);
        if let Some(sp) = &rc.survey_points {
            let s = ctx.points(sp, &format!("{path}.survey_points"), true);
            if let (Some(s), Some(m)) = (s, max)
                && s > m
            {
                ctx.err(
                    Some(sp.span()),
                    format!("{path}.survey_points"),
                    ErrorKind::PointsMismatch,
                    Localized::new(
                        "methodology.survey_points_over_max",
                        &[("survey", &fmt_micro(s)), ("max", &fmt_micro(m))],
                    ),
                );
            }
        }
        components.push(Component {
            code,
            name: rc.name.clone(),
            max_points: *rc.max_points.get_ref(),
            survey_points: rc.survey_points.as_ref().map(|s| *s.get_ref()),
        });
    }
    if !raw.components.is_empty()
        && let (Some(sum), Some(total)) = (sum_max, total_micro)
        && sum != total
    {
        let span = raw
            .total_points
            .as_ref()
            .map(|t| t.span())
            .or_else(|| raw.components.first().map(|c| c.span()));
        ctx.err(
            span,
            "total_points",
            ErrorKind::PointsMismatch,
            Localized::new(
                "methodology.total_mismatch",
                &[("sum", &fmt_micro(sum)), ("total", &fmt_micro(total))],
            ),
        );
    }

    // Criteria.
    let mut criteria = Vec::new();
    let mut crit_component: BTreeMap<String, String> = BTreeMap::new();
    let mut crit_line: BTreeMap<String, usize> = BTreeMap::new();
    for c in &raw.criteria {
        let rc = c.get_ref();
        let code = rc.code.get_ref().clone();
        let path = format!("criterion[{code}]");
        ctx.code(&rc.code, &format!("{path}.code"));
        ctx.text(&rc.name, Some(c.span()), &format!("{path}.name"));
        if let Some(first) = crit_line.get(&code) {
            ctx.err(
                Some(rc.code.span()),
                format!("{path}.code"),
                ErrorKind::DuplicateCode,
                Localized::new(
                    "methodology.criterion_duplicate",
                    &[("code", &code), ("line", &first.to_string())],
                ),
            );
        } else {
            crit_line.insert(code.clone(), ctx.line_of(&rc.code.span()));
            crit_component.insert(code.clone(), rc.component.get_ref().clone());
        }
        if !comp_first_line.contains_key(rc.component.get_ref()) {
            ctx.err(
                Some(rc.component.span()),
                format!("{path}.component"),
                ErrorKind::UnknownReference,
                Localized::new(
                    "methodology.unknown_component",
                    &[("code", rc.component.get_ref())],
                ),
            );
        }
        criteria.push(Criterion {
            code,
            component: rc.component.get_ref().clone(),
            name: rc.name.clone(),
        });
    }

    // Shared coefficient tables.
    let mut coefficient_tables = BTreeMap::new();
    for (name, t) in &raw.coefficient_tables {
        let path = format!("coefficient_table[{name}]");
        let table = validate_table(ctx, t, &path);
        coefficient_tables.insert(name.clone(), table);
    }

    // Groups. Survey micro-points per component, from groups that count.
    let mut survey_by_component: BTreeMap<String, i128> = BTreeMap::new();
    let mut groups = Vec::new();
    let mut group_line: BTreeMap<String, usize> = BTreeMap::new();
    for g in &raw.groups {
        let rg = g.get_ref();
        let code = rg.code.get_ref().clone();
        let gpath = format!("group[{code}]");
        ctx.code(&rg.code, &format!("{gpath}.code"));
        ctx.text(&rg.name, Some(g.span()), &format!("{gpath}.name"));
        if let Some(first) = group_line.get(&code) {
            ctx.err(
                Some(rg.code.span()),
                format!("{gpath}.code"),
                ErrorKind::DuplicateCode,
                Localized::new(
                    "methodology.group_duplicate",
                    &[("code", &code), ("line", &first.to_string())],
                ),
            );
        } else {
            let line = ctx.line_of(&rg.code.span());
            group_line.insert(code.clone(), line);
            lines.insert(gpath.clone(), line);
        }
        let max = ctx.points(&rg.max_points, &format!("{gpath}.max_points"), false);
        if rg.items.is_empty() {
            ctx.err(
                Some(g.span()),
                format!("{gpath}.item"),
                ErrorKind::InvalidValue,
                Localized::new("methodology.group_no_items", &[]),
            );
        }
        let mut item_line: BTreeMap<String, usize> = BTreeMap::new();
        let mut sum: Option<i128> = Some(0);
        let mut items = Vec::new();
        for it in &rg.items {
            let ri = it.get_ref();
            let item = ri.item.get_ref().clone();
            let ipath = format!("{gpath}.item[{item}]");
            ctx.code(&ri.item, &format!("{ipath}.item"));
            if let Some(first) = item_line.get(&item) {
                ctx.err(
                    Some(ri.item.span()),
                    format!("{ipath}.item"),
                    ErrorKind::DuplicateCode,
                    Localized::new(
                        "methodology.item_duplicate",
                        &[("item", &item), ("line", &first.to_string())],
                    ),
                );
            } else {
                let line = ctx.line_of(&ri.item.span());
                item_line.insert(item.clone(), line);
                lines.insert(ipath.clone(), line);
            }
            let component = crit_component.get(ri.criterion.get_ref()).cloned();
            if component.is_none() {
                ctx.err(
                    Some(ri.criterion.span()),
                    format!("{ipath}.criterion"),
                    ErrorKind::UnknownReference,
                    Localized::new(
                        "methodology.unknown_criterion",
                        &[("code", ri.criterion.get_ref())],
                    ),
                );
            }
            let p = ctx.points(&ri.points, &format!("{ipath}.points"), false);
            sum = sum.zip(p).map(|(a, b)| a + b);
            if let (true, Some(c), Some(p)) = (rg.counts_toward_index, &component, p) {
                *survey_by_component.entry(c.clone()).or_insert(0) += p;
            }
            let coefficients = match (&ri.table, &ri.coefficients) {
                (Some(_), Some(c)) => {
                    ctx.err(
                        Some(c.span()),
                        format!("{ipath}.coefficients"),
                        ErrorKind::InvalidValue,
                        Localized::new("methodology.table_and_coefficients", &[]),
                    );
                    None
                }
                (None, None) => {
                    ctx.err(
                        Some(it.span()),
                        format!("{ipath}.table"),
                        ErrorKind::InvalidValue,
                        Localized::new("methodology.table_missing", &[]),
                    );
                    None
                }
                (Some(t), None) => {
                    if !raw.coefficient_tables.contains_key(t.get_ref()) {
                        ctx.err(
                            Some(t.span()),
                            format!("{ipath}.table"),
                            ErrorKind::UnknownReference,
                            Localized::new("methodology.unknown_table", &[("table", t.get_ref())]),
                        );
                    }
                    None
                }
                (None, Some(c)) => Some(validate_table(ctx, c, &format!("{ipath}.coefficients"))),
            };
            items.push(ItemRule {
                item,
                criterion: ri.criterion.get_ref().clone(),
                points: *ri.points.get_ref(),
                table: ri.table.as_ref().map(|t| t.get_ref().clone()),
                coefficients,
            });
        }
        if let (Some(sum), Some(max)) = (sum, max)
            && sum != max
            && !rg.items.is_empty()
        {
            ctx.err(
                Some(rg.max_points.span()),
                format!("{gpath}.max_points"),
                ErrorKind::PointsMismatch,
                Localized::new(
                    "methodology.group_points_mismatch",
                    &[("max", &fmt_micro(max)), ("sum", &fmt_micro(sum))],
                ),
            );
        }
        groups.push(Group {
            code,
            name: rg.name.clone(),
            instrument: rg.instrument.clone(),
            counts_toward_index: rg.counts_toward_index,
            max_points: *rg.max_points.get_ref(),
            aggregation: rg.aggregation.unwrap_or(Aggregation::MeanCoefficient),
            items,
        });
    }

    // Linked indices.
    let mut linked_indices = Vec::new();
    let mut linked_line: BTreeMap<String, usize> = BTreeMap::new();
    for l in &raw.linked_indices {
        let rl = l.get_ref();
        let code = rl.code.get_ref().clone();
        let path = format!("linked_index[{code}]");
        ctx.code(&rl.code, &format!("{path}.code"));
        ctx.text(&rl.name, Some(l.span()), &format!("{path}.name"));
        if let Some(first) = linked_line.get(&code) {
            ctx.err(
                Some(rl.code.span()),
                format!("{path}.code"),
                ErrorKind::DuplicateCode,
                Localized::new(
                    "methodology.linked_index_duplicate",
                    &[("code", &code), ("line", &first.to_string())],
                ),
            );
        } else {
            linked_line.insert(code.clone(), ctx.line_of(&rl.code.span()));
        }
        if !comp_first_line.contains_key(rl.component.get_ref()) {
            ctx.err(
                Some(rl.component.span()),
                format!("{path}.component"),
                ErrorKind::UnknownReference,
                Localized::new(
                    "methodology.unknown_component",
                    &[("code", rl.component.get_ref())],
                ),
            );
        }
        if let Some(p) = ctx.points(&rl.points, &format!("{path}.points"), false) {
            *survey_by_component
                .entry(rl.component.get_ref().clone())
                .or_insert(0) += p;
        }
        linked_indices.push(LinkedIndex {
            code,
            name: rl.name.clone(),
            component: rl.component.get_ref().clone(),
            points: *rl.points.get_ref(),
        });
    }

    // Component survey points: declared value must equal what the counted groups and linked
    // indices put into the component; undeclared, the survey points must still fit the max.
    for c in &raw.components {
        let rc = c.get_ref();
        let code = rc.code.get_ref();
        let path = format!("component[{code}]");
        let survey = survey_by_component.get(code).copied().unwrap_or(0);
        match &rc.survey_points {
            Some(sp) => {
                if let Some(declared) = micro_points(*sp.get_ref())
                    && declared != survey
                {
                    ctx.err(
                        Some(sp.span()),
                        format!("{path}.survey_points"),
                        ErrorKind::PointsMismatch,
                        Localized::new(
                            "methodology.survey_points_mismatch",
                            &[
                                ("declared", &fmt_micro(declared)),
                                ("survey", &fmt_micro(survey)),
                                ("code", code),
                            ],
                        ),
                    );
                }
            }
            None => {
                if let Some(&max) = comp_max_micro.get(code)
                    && survey > max
                {
                    ctx.err(
                        Some(rc.max_points.span()),
                        format!("{path}.max_points"),
                        ErrorKind::PointsMismatch,
                        Localized::new(
                            "methodology.survey_over_max",
                            &[
                                ("survey", &fmt_micro(survey)),
                                ("code", code),
                                ("max", &fmt_micro(max)),
                            ],
                        ),
                    );
                }
            }
        }
    }

    let sipas = raw
        .sipas
        .as_ref()
        .map(|s| validate_sipas(ctx, s, &group_line, &mut lines));

    if raw.groups.is_empty() && raw.sipas.is_none() && raw.linked_indices.is_empty() {
        ctx.err(
            Some(0..0),
            "group",
            ErrorKind::InvalidValue,
            Localized::new("methodology.scores_nothing", &[]),
        );
    }

    let note = &raw.provenance.note;
    ctx.text(note.get_ref(), Some(note.span()), "provenance.note");
    let provenance = Provenance {
        status: raw.provenance.status,
        note: note.get_ref().clone(),
        sources: raw.provenance.sources.clone(),
    };

    if !ctx.errors.is_empty() {
        return None;
    }
    Some(Methodology {
        format: FORMAT.to_owned(),
        code: raw.code.get_ref().clone(),
        version: *raw.version.get_ref(),
        total_points,
        name: raw.name.get_ref().clone(),
        provenance,
        display: DisplaySettings { decimals },
        scoring,
        aggregate: AggregateSettings {
            national: raw
                .aggregate
                .as_ref()
                .and_then(|a| a.national)
                .unwrap_or_default(),
        },
        ranking,
        tiers,
        quality,
        components,
        criteria,
        coefficient_tables,
        groups,
        linked_indices,
        sipas,
        source: SourceLines {
            file: ctx.file.to_owned(),
            lines,
        },
    })
}
