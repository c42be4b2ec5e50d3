//! Writing an instrument back in the TOML format.

use super::{ChoiceOption, Continuation, FORMAT, Instrument, QuestionKind, Text};
impl Instrument {
    /// Writes the instrument in the TOML format; parsing the result gives the same
    /// [`Self::content_hash`].
    pub fn to_toml(&self) -> String {
        let mut w = String::new();
        let mut line = |s: String| {
            w.push_str(&s);
            w.push('\n');
        };
        line(format!("format = {}", tq(FORMAT)));
        line(format!("code = {}", tq(&self.code)));
        line(format!("version = {}", self.version));
        line(format!("group = {}", tq(self.group.code())));
        line(format!("provenance = {}", tq(&self.provenance)));
        line(format!("title = {}", tt(&self.title)));
        if let Some(i) = &self.instructions {
            line(format!("instructions = {}", tt(i)));
        }
        if let Some(c) = &self.continues {
            line(format!(
                "continues = {{ instrument = {}, version = {} }}",
                tq(&c.instrument),
                c.version
            ));
        }
        for (name, options) in &self.choice_lists {
            line(String::new());
            line(format!("[choices.{name}]"));
            line(format!("options = {}", toptions(options)));
        }
        for s in &self.sections {
            line(String::new());
            line("[[sections]]".to_owned());
            line(format!("code = {}", tq(&s.code)));
            line(format!("title = {}", tt(&s.title)));
            if let Some(i) = &s.intro {
                line(format!("intro = {}", tt(i)));
            }
            if let Some(r) = &s.relevant {
                line(format!("relevant = {}", tq(&r.to_string())));
            }
            for q in &s.questions {
                line(String::new());
                line("[[sections.questions]]".to_owned());
                line(format!("code = {}", tq(&q.code)));
                line(format!("type = {}", tq(q.kind.type_name())));
                let unlabelled_calculation = matches!(q.kind, QuestionKind::Calculate { .. })
                    && q.label.vi.is_empty()
                    && q.label.en.is_empty();
                if !unlabelled_calculation {
                    line(format!("label = {}", tt(&q.label)));
                }
                if let QuestionKind::Calculate { calculation } = &q.kind {
                    line(format!("calculation = {}", tq(&calculation.to_string())));
                }
                if let Some(h) = &q.hint {
                    line(format!("hint = {}", tt(h)));
                }
                if q.required {
                    line("required = true".to_owned());
                }
                if let Some(m) = &q.required_message {
                    line(format!("required_message = {}", tt(m)));
                }
                if let Some(d) = &q.default {
                    line(format!("default = {}", tq(d)));
                }
                if let Some(a) = q.appearance {
                    line(format!("appearance = {}", tq(a.code())));
                }
                if let Some(f) = &q.choice_filter {
                    line(format!("choice_filter = {}", tq(&f.to_string())));
                }
                if let Some(r) = &q.relevant {
                    line(format!("relevant = {}", tq(&r.to_string())));
                }
                if let Some(c) = &q.constraint {
                    line(format!("constraint = {}", tq(&c.expr.to_string())));
                    if let Some(m) = &c.message {
                        line(format!("constraint_message = {}", tt(m)));
                    }
                }
                if let Some(c) = q.kind.choices() {
                    match &c.list {
                        Some(name) => line(format!("choices = {}", tq(name))),
                        None => line(format!("choices = {}", toptions(&c.options))),
                    }
                }
                match &q.kind {
                    QuestionKind::Battery { items, .. } => {
                        line("items = [".to_owned());
                        for i in items {
                            line(format!(
                                "  {{ code = {}, label = {}{} }},",
                                tq(&i.code),
                                tt(&i.label),
                                tcont(&i.continues)
                                    .map(|c| format!(", continues = {c}"))
                                    .unwrap_or_default()
                            ));
                        }
                        line("]".to_owned());
                    }
                    QuestionKind::Integer { min, max } => {
                        if let Some(m) = min {
                            line(format!("min = {m}"));
                        }
                        if let Some(m) = max {
                            line(format!("max = {m}"));
                        }
                    }
                    QuestionKind::Decimal { min, max } => {
                        if let Some(m) = min {
                            line(format!("min = {}", tf(*m)));
                        }
                        if let Some(m) = max {
                            line(format!("max = {}", tf(*m)));
                        }
                    }
                    QuestionKind::Text { max_length } | QuestionKind::LongText { max_length } => {
                        line(format!("max_length = {max_length}"));
                    }
                    _ => {}
                }
                if matches!(
                    q.kind,
                    QuestionKind::Single { scored: false, .. }
                        | QuestionKind::Battery { scored: false, .. }
                        | QuestionKind::YesNo { scored: false }
                ) {
                    line("scored = false".to_owned());
                }
                if let Some(c) = tcont(&q.continues) {
                    line(format!("continues = {c}"));
                }
            }
        }
        w
    }
}

/// A TOML string literal (basic string, escaped).
fn tq(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn tt(t: &Text) -> String {
    format!("{{ vi = {}, en = {} }}", tq(&t.vi), tq(&t.en))
}

fn tf(f: f64) -> String {
    // `{:?}` always prints a decimal point or exponent and round-trips exactly.
    let s = format!("{f:?}");
    if s.contains(['.', 'e', 'E']) {
        s
    } else {
        format!("{s}.0")
    }
}

fn tcont(c: &Continuation) -> Option<String> {
    match c {
        Continuation::Same => None,
        Continuation::From(old) => Some(tq(old)),
        Continuation::New => Some("false".to_owned()),
    }
}

fn toptions(options: &[ChoiceOption]) -> String {
    let mut s = String::from("[\n");
    for o in options {
        let filter = if o.attributes.is_empty() {
            String::new()
        } else {
            let pairs: Vec<String> = o
                .attributes
                .iter()
                .map(|(k, v)| format!("{} = {}", tq(k), tq(v)))
                .collect();
            format!(", filter = {{ {} }}", pairs.join(", "))
        };
        s.push_str(&format!(
            "  {{ value = {}, label = {}{}{} }},\n",
            tq(&o.value),
            tt(&o.label),
            if o.valid { "" } else { ", valid = false" },
            filter
        ));
    }
    s.push(']');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::instrument::test_support::*;

    #[test]
    fn export_round_trips_with_the_same_hash() {
        let i = valid();
        let exported = i.to_toml();
        let again = Instrument::from_toml(exported.as_bytes(), "export.toml").unwrap();
        assert_eq!(again, i);
        assert_eq!(again.content_hash(), i.content_hash());
        assert_eq!(again.to_toml(), exported);
    }
}
