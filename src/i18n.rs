//! Languages and the message catalogue (`assets/i18n/*.toml`). Vietnamese is the default;
//! every user-facing string is looked up here rather than written in code.

use std::collections::HashMap;
use std::sync::LazyLock;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

/// A language the interface speaks.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Vietnamese, the default.
    #[default]
    Vi,
    /// English.
    En,
}

/// The cookie that remembers the chosen language.
pub const LANG_COOKIE: &str = "lang";

impl Lang {
    /// The BCP 47 code, used in `<html lang>` and the cookie.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// Parses `vi` or `en`.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The other language, for the switch link.
    pub fn other(self) -> Self {
        match self {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        }
    }

    /// The language of a request: its `lang` cookie, else Vietnamese.
    pub fn of_request(req: &HttpRequest) -> Self {
        req.cookie(LANG_COOKIE)
            .and_then(|c| Self::from_code(c.value()))
            .unwrap_or_default()
    }
}

impl FromRequest for Lang {
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Lang::of_request(req)))
    }
}

type Catalogue = HashMap<String, String>;

fn load(source: &str) -> Catalogue {
    // The catalogues are compiled in and checked by tests, so a parse failure is a build
    // defect; an empty catalogue makes every lookup fall back to its key, which tests catch.
    toml::from_str(source).unwrap_or_default()
}

static VI: LazyLock<Catalogue> = LazyLock::new(|| load(include_str!("../assets/i18n/vi.toml")));
static EN: LazyLock<Catalogue> = LazyLock::new(|| load(include_str!("../assets/i18n/en.toml")));

/// The text for `key` in `lang`; the key itself if the catalogue lacks it (tests forbid that).
pub fn t(lang: Lang, key: &str) -> &str {
    let catalogue = match lang {
        Lang::Vi => &*VI,
        Lang::En => &*EN,
    };
    catalogue.get(key).map_or(key, String::as_str)
}

/// The text for `key` with `{name}` placeholders filled in.
pub fn tf(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    let mut text = t(lang, key).to_owned();
    for (name, value) in args {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogues_parse_and_have_the_same_keys() {
        let vi: Catalogue = toml::from_str(include_str!("../assets/i18n/vi.toml")).unwrap();
        let en: Catalogue = toml::from_str(include_str!("../assets/i18n/en.toml")).unwrap();
        let mut vi_keys: Vec<_> = vi.keys().collect();
        let mut en_keys: Vec<_> = en.keys().collect();
        vi_keys.sort();
        en_keys.sort();
        assert_eq!(vi_keys, en_keys);
    }

    #[test]
    fn every_key_used_in_the_source_exists() {
        // Scan the source for t(..)/tf(..) calls with literal keys, so a typo fails here and
        // not in front of a user.
        let mut missing = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for (i, _) in text.match_indices('"') {
                    let rest = &text[i + 1..];
                    let Some(end) = rest.find('"') else { continue };
                    let candidate = &rest[..end];
                    let looks_like_key = candidate.contains('.')
                        && !candidate.ends_with('.')
                        && ![".xlsx", ".toml", ".csv", ".json"]
                            .iter()
                            .any(|ext| candidate.ends_with(ext))
                        && candidate.chars().all(|c| {
                            c.is_ascii_lowercase() || c == '.' || c == '_' || c.is_ascii_digit()
                        })
                        && [
                            "page.", "error.", "nav.", "form.", "role.", "admin.", "setup.",
                            "login.", "home.", "footer.", "lang.", "catalog.", "method.", "group.",
                            "round.", "units.", "open.", "mail.", "slip.", "optout.", "respond.",
                            "paper.", "scores.", "quality.", "results.", "export.", "tokens.",
                        ]
                        .iter()
                        .any(|p| candidate.starts_with(p));
                    // Strings that look like keys but are key prefixes or field paths. (Audit actions use
                    // `entity:action`, so they never look like keys.)
                    const NOT_KEYS: [&str; 5] = [
                        "group.item.weight",
                        "mail.invitation",
                        "mail.reminder",
                        "quality.disclosure_min_n",
                        "quality.speeder_seconds",
                    ];
                    if looks_like_key
                        && !VI.contains_key(candidate)
                        && !NOT_KEYS.contains(&candidate)
                    {
                        missing.push(format!("{}: {candidate}", path.display()));
                    }
                }
            }
        }
        missing.sort();
        missing.dedup();
        assert!(
            missing.is_empty(),
            "keys missing from the catalogue: {missing:#?}"
        );
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            tf(Lang::En, "error.too_many.retry", &[("minutes", "15")]),
            "Please try again in 15 minutes."
        );
    }
}
