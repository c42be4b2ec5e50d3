//! The `[sipas]` section: scale, parts, elements and the headline.

use super::*;

pub(super) fn validate_sipas(
    ctx: &mut Ctx<'_>,
    s: &Spanned<RawSipas>,
    group_line: &BTreeMap<String, usize>,
    lines: &mut BTreeMap<String, usize>,
) -> Sipas {
    let rs = s.get_ref();
    ctx.code(&rs.group, "sipas.group");
    ctx.text(&rs.name, Some(s.span()), "sipas.name");
    if let Some(first) = group_line.get(rs.group.get_ref()) {
        ctx.err(
            Some(rs.group.span()),
            "sipas.group",
            ErrorKind::DuplicateCode,
            Localized::new(
                "methodology.sipas_group_is_points_group",
                &[("group", rs.group.get_ref()), ("line", &first.to_string())],
            ),
        );
    }
    lines.insert("sipas".to_owned(), ctx.line_of(&rs.group.span()));

    let mut scale = BTreeMap::new();
    for (value, v) in rs.scale.get_ref() {
        let x = *v.get_ref();
        if !x.is_finite() {
            ctx.err(
                Some(v.span()),
                format!("sipas.scale.\"{value}\""),
                ErrorKind::InvalidValue,
                Localized::new("methodology.scale_not_finite", &[]),
            );
        }
        scale.insert(value.clone(), x);
    }
    let distinct: BTreeSet<Option<i128>> = scale.values().map(|&x| decimal_key(x, 9)).collect();
    if distinct.len() < 2 {
        ctx.err(
            Some(rs.scale.span()),
            "sipas.scale",
            ErrorKind::InvalidValue,
            Localized::new("methodology.scale_too_small", &[]),
        );
    }
    let mut satisfied = Vec::new();
    for v in &rs.satisfied {
        if !scale.contains_key(v.get_ref()) {
            ctx.err(
                Some(v.span()),
                "sipas.satisfied",
                ErrorKind::UnknownReference,
                Localized::new(
                    "methodology.satisfied_not_on_scale",
                    &[("value", v.get_ref())],
                ),
            );
        }
        satisfied.push(v.get_ref().clone());
    }
    if rs.rule == SipasRule::Share && rs.satisfied.is_empty() {
        ctx.err(
            Some(s.span()),
            "sipas.satisfied",
            ErrorKind::InvalidValue,
            Localized::new("methodology.share_needs_satisfied", &[]),
        );
    }
    let mut invalid = Vec::new();
    for v in &rs.invalid {
        if scale.contains_key(v.get_ref()) {
            ctx.err(
                Some(v.span()),
                "sipas.invalid",
                ErrorKind::InvalidValue,
                Localized::new("methodology.invalid_on_scale", &[("value", v.get_ref())]),
            );
        }
        invalid.push(v.get_ref().clone());
    }
    let index_points = match &rs.index_points {
        Some(p) => {
            ctx.points(p, "sipas.index_points", false);
            *p.get_ref()
        }
        None => 10.0,
    };

    let linked_index = match &rs.linked_index {
        Some(code) => {
            ctx.code(code, "sipas.linked_index");
            code.get_ref().clone()
        }
        None => DEFAULT_SIPAS_LINK.to_owned(),
    };
    let headline = rs.headline.unwrap_or_default();
    let overall_item = match (&rs.overall_item, headline) {
        (Some(item), _) => {
            ctx.code(item, "sipas.overall_item");
            Some(item.get_ref().clone())
        }
        (None, SipasHeadline::OverallItem) => {
            ctx.err(
                Some(s.span()),
                "sipas.overall_item",
                ErrorKind::InvalidValue,
                Localized::new("methodology.overall_item_missing", &[]),
            );
            None
        }
        (None, SipasHeadline::MeanOfParts) => None,
    };
    let mut parts = Vec::new();
    let mut part_line: BTreeMap<String, usize> = BTreeMap::new();
    for p in &rs.parts {
        let rp = p.get_ref();
        let code = rp.code.get_ref().clone();
        ctx.code(&rp.code, &format!("sipas.part[{code}].code"));
        ctx.text(
            &rp.name,
            Some(p.span()),
            &format!("sipas.part[{code}].name"),
        );
        if let Some(first) = part_line.get(&code) {
            ctx.err(
                Some(rp.code.span()),
                format!("sipas.part[{code}].code"),
                ErrorKind::DuplicateCode,
                Localized::new(
                    "methodology.part_duplicate",
                    &[("code", &code), ("line", &first.to_string())],
                ),
            );
        } else {
            part_line.insert(code.clone(), ctx.line_of(&rp.code.span()));
        }
        parts.push(SipasPart {
            code,
            name: rp.name.clone(),
        });
    }
    if rs.parts.is_empty() {
        ctx.err(
            Some(s.span()),
            "sipas.part",
            ErrorKind::InvalidValue,
            Localized::new("methodology.part_required", &[]),
        );
    }

    let mut elements = Vec::new();
    let mut element_line: BTreeMap<String, usize> = BTreeMap::new();
    let mut item_line: BTreeMap<String, usize> = BTreeMap::new();
    let mut parts_used = BTreeSet::new();
    for e in &rs.elements {
        let re = e.get_ref();
        let code = re.code.get_ref().clone();
        let path = format!("sipas.element[{code}]");
        ctx.code(&re.code, &format!("{path}.code"));
        ctx.text(&re.name, Some(e.span()), &format!("{path}.name"));
        if let Some(first) = element_line.get(&code) {
            ctx.err(
                Some(re.code.span()),
                format!("{path}.code"),
                ErrorKind::DuplicateCode,
                Localized::new(
                    "methodology.element_duplicate",
                    &[("code", &code), ("line", &first.to_string())],
                ),
            );
        } else {
            element_line.insert(code.clone(), ctx.line_of(&re.code.span()));
        }
        if part_line.contains_key(re.part.get_ref()) {
            parts_used.insert(re.part.get_ref().clone());
        } else {
            ctx.err(
                Some(re.part.span()),
                format!("{path}.part"),
                ErrorKind::UnknownReference,
                Localized::new("methodology.unknown_part", &[("code", re.part.get_ref())]),
            );
        }
        if re.items.is_empty() {
            ctx.err(
                Some(e.span()),
                format!("{path}.items"),
                ErrorKind::InvalidValue,
                Localized::new("methodology.element_no_items", &[]),
            );
        }
        let mut items = Vec::new();
        for it in &re.items {
            let item = it.get_ref().clone();
            let ipath = format!("{path}.items[{item}]");
            ctx.code(it, &ipath);
            if let Some(first) = item_line.get(&item) {
                ctx.err(
                    Some(it.span()),
                    ipath,
                    ErrorKind::DuplicateCode,
                    Localized::new(
                        "methodology.item_duplicate",
                        &[("item", &item), ("line", &first.to_string())],
                    ),
                );
            } else {
                let line = ctx.line_of(&it.span());
                item_line.insert(item.clone(), line);
                lines.insert(ipath, line);
            }
            items.push(item);
        }
        elements.push(SipasElement {
            code,
            part: re.part.get_ref().clone(),
            name: re.name.clone(),
            items,
        });
    }
    for p in &rs.parts {
        if !parts_used.contains(p.get_ref().code.get_ref()) {
            ctx.err(
                Some(p.span()),
                format!("sipas.part[{}]", p.get_ref().code.get_ref()),
                ErrorKind::InvalidValue,
                Localized::new("methodology.part_no_element", &[]),
            );
        }
    }

    Sipas {
        group: rs.group.get_ref().clone(),
        name: rs.name.clone(),
        instrument: rs.instrument.clone(),
        rule: rs.rule,
        scale,
        satisfied,
        invalid,
        index_points,
        linked_index,
        headline,
        overall_item,
        parts,
        elements,
    }
}
