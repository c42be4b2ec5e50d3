//! Bilingual (Vietnamese first, then English) invitation and reminder messages, as plain text
//! and HTML, under a Vietnamese subject. The HTML is maud, so names from a respondent list are
//! escaped; names are put in Unicode NFC, so a name typed with combining marks reads (and
//! searches) like the same name typed precomposed.

use chrono::NaiveDate;
use maud::{DOCTYPE, html};
use unicode_normalization::UnicodeNormalization;

use crate::i18n::{Lang, t, tf};

/// What a message needs to say.
#[derive(Debug, Clone)]
pub struct InvitationContent<'a> {
    /// The respondent's name as listed.
    pub name: &'a str,
    /// The round's name in Vietnamese and English.
    pub round_vi: &'a str,
    /// English round name.
    pub round_en: &'a str,
    /// The access link, `{base}/s/{code}`.
    pub link: &'a str,
    /// The code, grouped for reading.
    pub code: &'a str,
    /// Closing date (in the deployment's time zone), if the round has one.
    pub closes: Option<NaiveDate>,
    /// The link that stops further e-mail to this person.
    pub opt_out: &'a str,
}

/// Invitation or reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The first message.
    Invitation,
    /// A later reminder.
    Reminder,
}

impl Kind {
    /// The kind the mail outbox stores.
    pub fn code(self) -> &'static str {
        match self {
            Kind::Invitation => "invitation",
            Kind::Reminder => "reminder",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Kind::Invitation => "mail.invitation",
            Kind::Reminder => "mail.reminder",
        }
    }
}

/// A rendered message.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Subject line (Vietnamese: one language keeps it short).
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
}

fn paragraphs(kind: Kind, lang: Lang, c: &InvitationContent<'_>) -> Vec<String> {
    let round = if lang == Lang::Vi {
        c.round_vi
    } else {
        c.round_en
    };
    let p = kind.prefix();
    let name: String = c.name.trim().nfc().collect();
    let mut out = vec![
        tf(lang, "mail.greeting", &[("name", &name)]),
        tf(lang, &format!("{p}.body"), &[("round", round)]),
        tf(lang, "mail.code", &[("code", c.code)]),
        t(lang, "mail.anonymous").to_owned(),
    ];
    if let Some(closes) = c.closes {
        let date = match lang {
            Lang::Vi => closes.format("%d/%m/%Y").to_string(),
            Lang::En => closes.format("%-d %B %Y").to_string(),
        };
        out.push(tf(lang, "mail.closes", &[("date", &date)]));
    }
    out
}

/// Renders an invitation or reminder in both languages.
pub fn render(kind: Kind, c: &InvitationContent<'_>) -> Rendered {
    let p = kind.prefix();
    let subject = tf(Lang::Vi, &format!("{p}.subject"), &[("round", c.round_vi)]);
    let mut text = String::new();
    for lang in [Lang::Vi, Lang::En] {
        for paragraph in paragraphs(kind, lang, c) {
            text.push_str(&paragraph);
            text.push_str("\n\n");
        }
        text.push_str(&format!("{}\n{}\n\n", t(lang, "mail.open"), c.link));
        text.push_str(&format!("{}\n{}\n\n", t(lang, "mail.opt_out"), c.opt_out));
        if lang == Lang::Vi {
            text.push_str("----------------------------------------\n\n");
        }
    }
    let html = html! {
        (DOCTYPE)
        html {
            head { meta charset="utf-8"; title { (subject) } }
            body style="font-family:Arial,sans-serif;line-height:1.5;color:#1b1b1b;max-width:40rem" {
                @for lang in [Lang::Vi, Lang::En] {
                    div lang=(lang.code()) {
                        @for paragraph in paragraphs(kind, lang, c) { p { (paragraph) } }
                        p {
                            a href=(c.link) style="display:inline-block;background:#00703c;color:#fff;padding:.6rem 1rem;text-decoration:none;font-weight:bold" {
                                (t(lang, "mail.open"))
                            }
                        }
                        p style="font-size:.9rem;color:#4a4a4a" { (c.link) }
                        p style="font-size:.8rem;color:#4a4a4a" { a href=(c.opt_out) { (t(lang, "mail.opt_out")) } }
                    }
                    @if lang == Lang::Vi { hr; }
                }
            }
        }
    }
    .into_string();
    Rendered {
        subject,
        text,
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content<'a>(name: &'a str) -> InvitationContent<'a> {
        InvitationContent {
            name,
            round_vi: "Khảo sát CCHC 2025",
            round_en: "PAR survey 2025",
            link: "https://khaosat.example.vn/s/K7QF9MXC2B",
            code: "K7QF-9MXC-2B",
            closes: NaiveDate::from_ymd_opt(2025, 12, 31),
            opt_out: "https://khaosat.example.vn/optout/1.abc",
        }
    }

    #[test]
    fn an_invitation_speaks_both_languages_with_the_link_and_code() {
        let m = render(Kind::Invitation, &content("Nguyễn Văn An"));
        // The subject is Vietnamese only; the body speaks both languages.
        assert_eq!(m.subject, "Mời tham gia Khảo sát CCHC 2025");
        for body in [&m.text, &m.html] {
            assert!(body.contains("https://khaosat.example.vn/s/K7QF9MXC2B"));
            assert!(body.contains("K7QF-9MXC-2B"));
            assert!(body.contains("Nguyễn Văn An"));
        }
        assert!(m.text.contains("ẩn danh") && m.text.contains("anonymous"));
    }

    #[test]
    fn the_greeting_is_formal_the_date_vietnamese_and_the_name_nfc() {
        // "Nguyễn" typed with combining marks (e + circumflex + tilde).
        let decomposed = "Nguye\u{302}\u{303}n Va\u{306}n An";
        let m = render(Kind::Invitation, &content(decomposed));
        assert!(
            m.text.contains("Kính gửi Ông/Bà Nguyễn Văn An,"),
            "{}",
            m.text
        );
        assert!(m.text.contains("Dear Nguyễn Văn An,"));
        assert!(!m.text.contains(decomposed));
        assert!(m.text.contains("Hạn trả lời: 31/12/2025."));
        assert!(m.text.contains("Please answer by 31 December 2025."));
    }

    #[test]
    fn names_are_escaped_in_the_html_part() {
        let m = render(Kind::Reminder, &content("<script>alert(1)</script>"));
        assert!(!m.html.contains("<script>alert"));
        assert!(m.html.contains("&lt;script&gt;"));
    }
}
