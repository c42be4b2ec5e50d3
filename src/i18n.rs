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
///
/// The template is read once, left to right, so a value that itself contains `{name}` (text
/// quoted from an uploaded file, say) is copied as it is and never filled in.
pub fn tf(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    let template = t(lang, key);
    let mut text = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            args.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, value)| (*value, close))
        });
        match value {
            Some((value, close)) => {
                text.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                text.push('{');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    text
}

/// Picks the command line's language: `--lang`, else `KHAOSAT_LANG` (`vi` or `en`), else the
/// locale (`LC_ALL`, `LC_MESSAGES`, `LANG`, the first one set) when it starts with `en`, else
/// Vietnamese. Takes the values rather than reading the environment so it can be tested.
pub fn cli_lang(flag: Option<&str>, khaosat_lang: Option<&str>, locale: [Option<&str>; 3]) -> Lang {
    if let Some(lang) = flag.or(khaosat_lang).and_then(Lang::from_code) {
        return lang;
    }
    // POSIX order: the first non-empty of LC_ALL, LC_MESSAGES, LANG decides.
    match locale.into_iter().flatten().find(|v| !v.is_empty()) {
        Some(locale) if locale.starts_with("en") => Lang::En,
        _ => Lang::default(),
    }
}

/// A message as a catalogue key with its `{name}` parameters, so whoever shows it (the command
/// line, a page) renders it in the reader's language. `Display` gives the English text (logs,
/// tests). Use cases return it for refusals; [`Message`] adds a cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Localized {
    /// The message key.
    pub key: &'static str,
    /// The values of its `{name}` placeholders.
    pub args: Vec<(&'static str, String)>,
    /// Placeholders filled with other messages, rendered in the same language (a fragment such
    /// as "line 12" or a parser's own error inside a framing message).
    pub parts: Vec<(&'static str, Localized)>,
}

impl Localized {
    /// The message `key` with its `{name}` parameters.
    pub fn new(key: &'static str, args: &[(&'static str, &str)]) -> Self {
        Self {
            key,
            args: args
                .iter()
                .map(|(name, value)| (*name, (*value).to_owned()))
                .collect(),
            parts: Vec::new(),
        }
    }

    /// The same message with its `{name}` placeholder filled by `part`, in the same language.
    #[must_use]
    pub fn with(mut self, name: &'static str, part: Localized) -> Self {
        self.parts.push((name, part));
        self
    }

    /// The message in `lang`, its parameters and parts filled in one pass.
    pub fn text(&self, lang: Lang) -> String {
        let parts: Vec<(&str, String)> = self
            .parts
            .iter()
            .map(|(name, part)| (*name, part.text(lang)))
            .collect();
        let args: Vec<(&str, &str)> = self
            .args
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .chain(parts.iter().map(|(name, text)| (*name, text.as_str())))
            .collect();
        tf(lang, self.key, &args)
    }
}

impl std::fmt::Display for Localized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text(Lang::En))
    }
}

/// Serialised as its English text, so machine-readable reports (JSON) keep one stable language.
impl serde::Serialize for Localized {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text(Lang::En))
    }
}

/// A user-facing error: a [`Localized`] message, optionally caused by another error, kept as
/// its source, so a chain of causes can be printed in the reader's language.
#[derive(Debug)]
pub struct Message {
    message: Localized,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Message {
    /// The message `key` with its `{name}` parameters.
    pub fn new(key: &'static str, args: &[(&'static str, &str)]) -> Self {
        Self {
            message: Localized::new(key, args),
            source: None,
        }
    }

    /// The same message, caused by `source` (shown after it, as `message: source`).
    #[must_use]
    pub fn because(mut self, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The catalogue key.
    pub fn key(&self) -> &'static str {
        self.message.key
    }

    /// The message alone (without its source) in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        self.message.text(lang)
    }
}

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.message.fmt(f)
    }
}

impl std::error::Error for Message {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// An error and its causes as one line, `outer: inner: cause`, like anyhow's `{:#}`, with
/// every [`Message`] in the chain rendered in `lang` (other causes, such as the operating
/// system's, keep their own text).
pub fn error_text(error: &anyhow::Error, lang: Lang) -> String {
    error
        .chain()
        .map(|cause| {
            if let Some(message) = cause.downcast_ref::<Message>() {
                return message.text(lang);
            }
            match cause.downcast_ref::<crate::error::AppError>() {
                // A refusal says why in the catalogue; an internal failure keeps its title
                // here and its causes follow in the chain.
                Some(error @ crate::error::AppError::BadRequest(_)) => {
                    t(lang, error.message_keys().1).to_owned()
                }
                Some(error) => t(lang, error.message_keys().0).to_owned(),
                None => cause.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_application_error_in_a_chain_is_shown_from_the_catalogue_not_as_its_key() {
        let error = anyhow::Error::new(crate::error::AppError::BadRequest(
            "scores.no_main_methodology",
        ));
        let text = error_text(&error, Lang::En);
        assert_eq!(text, t(Lang::En, "scores.no_main_methodology"));
        assert!(!error_text(&error, Lang::Vi).contains("scores."));
    }

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
        // A literal counts as a key when it starts with a prefix the catalogue uses, so a new
        // area of messages is checked as soon as its first key is in the catalogue.
        let known_prefixes: std::collections::HashSet<&str> =
            VI.keys().filter_map(|k| k.split('.').next()).collect();
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
                        && ![".xlsx", ".toml", ".csv", ".json", ".css"]
                            .iter()
                            .any(|ext| candidate.ends_with(ext))
                        && candidate.chars().all(|c| {
                            c.is_ascii_lowercase() || c == '.' || c == '_' || c.is_ascii_digit()
                        })
                        && known_prefixes.contains(candidate.split('.').next().unwrap_or(""));
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
    fn a_value_that_looks_like_a_placeholder_is_copied_as_it_is() {
        let text = tf(
            Lang::En,
            "error.too_many.retry",
            &[("minutes", "{minutes} and {other}")],
        );
        assert_eq!(text, "Please try again in {minutes} and {other} minutes.");
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            tf(Lang::En, "error.too_many.retry", &[("minutes", "15")]),
            "Please try again in 15 minutes."
        );
    }

    #[test]
    fn the_cli_language_follows_flag_then_variable_then_locale() {
        let none = [None, None, None];
        assert_eq!(cli_lang(None, None, none), Lang::Vi);
        assert_eq!(cli_lang(Some("en"), Some("vi"), none), Lang::En);
        assert_eq!(
            cli_lang(None, Some("en"), [None, None, Some("vi_VN.UTF-8")]),
            Lang::En
        );
        assert_eq!(
            cli_lang(None, Some("vi"), [None, None, Some("en_US.UTF-8")]),
            Lang::Vi
        );
        assert_eq!(
            cli_lang(None, None, [None, None, Some("en_GB.UTF-8")]),
            Lang::En
        );
        assert_eq!(
            cli_lang(None, None, [Some("C.UTF-8"), None, Some("en_US")]),
            Lang::Vi
        );
        assert_eq!(
            cli_lang(None, None, [Some(""), None, Some("en_US")]),
            Lang::En
        );
        // An unknown KHAOSAT_LANG is ignored rather than fatal.
        assert_eq!(
            cli_lang(None, Some("fr"), [None, None, Some("en_US")]),
            Lang::En
        );
    }

    #[test]
    fn a_message_chain_renders_in_either_language() {
        let inner = Message::new("backup.not_sqlite", &[("file", "x.db")]);
        let outer = Message::new("backup.copy_unusable", &[("file", "live.db")]).because(inner);
        let error = anyhow::Error::from(outer);
        let en = error_text(&error, Lang::En);
        let vi = error_text(&error, Lang::Vi);
        assert!(
            en.starts_with("live.db: ") && en.contains(": x.db: "),
            "{en}"
        );
        assert!(
            vi.starts_with("live.db: ") && vi.contains(": x.db: "),
            "{vi}"
        );
        assert_ne!(en, vi);
        assert_eq!(
            error.to_string(),
            Message::new("backup.copy_unusable", &[("file", "live.db")]).text(Lang::En)
        );
    }
}
