//! Outgoing e-mail: bilingual invitation and reminder templates, the SMTP transport (lettre),
//! and the outbox sender that delivers queued messages in batches with retry and backoff.

pub mod sender;
mod smtp;
pub mod templates;

use lettre::Message;
use lettre::message::{Mailbox, MultiPart};

use crate::app::config::Settings;
use crate::db::outbox::OutboxMessage;

/// A configured SMTP client and sender address. The client keeps its connection open between
/// messages, so a batch does not pay a TCP and SMTP handshake per message; clones share it.
#[derive(Clone)]
pub struct Mailer {
    smtp: smtp::SmtpClient,
    from: Mailbox,
    reply_to: Option<Mailbox>,
    /// The contact line of every message, in both languages.
    contact: Option<Contact>,
}

/// The sender's contact line, rendered once.
#[derive(Clone)]
struct Contact {
    text: String,
    html: String,
}

impl Contact {
    fn new(contact: &str) -> Self {
        use crate::i18n::{Lang, tf};
        let lines: Vec<String> = [Lang::Vi, Lang::En]
            .into_iter()
            .map(|lang| tf(lang, "mail.contact", &[("contact", contact)]))
            .collect();
        let html = maud::html! {
            p style="font-size:.9rem;color:#4a4a4a" {
                @for (i, line) in lines.iter().enumerate() {
                    @if i > 0 { br; }
                    (line)
                }
            }
        }
        .into_string();
        Self {
            text: lines.join("\n"),
            html,
        }
    }

    /// `body` with the contact line at its end (before `</body>` in HTML).
    fn append_text(&self, body: &str) -> String {
        format!("{}\n\n{}\n", body.trim_end(), self.text)
    }

    fn append_html(&self, body: &str) -> String {
        match body.rfind("</body>") {
            Some(at) => format!("{}{}{}", &body[..at], self.html, &body[at..]),
            None => format!("{body}{}", self.html),
        }
    }
}

/// Reads a mailbox as administrators write it: `address`, `Name <address>`, or a display name
/// with the characters RFC 5322 only allows quoted (`Ban chỉ đạo CCHC (Sở Nội vụ), Hà Nội
/// <cchc@example.gov.vn>`), which is quoted here rather than refused.
pub fn parse_mailbox(text: &str) -> Option<Mailbox> {
    let text = text.trim();
    if let Ok(mailbox) = text.parse::<Mailbox>() {
        return Some(mailbox);
    }
    let open = text.rfind('<')?;
    let address = text[open + 1..].strip_suffix('>')?.trim().parse().ok()?;
    let name = text[..open].trim();
    let name = name
        .strip_prefix('"')
        .and_then(|n| n.strip_suffix('"'))
        .unwrap_or(name)
        .trim();
    Some(Mailbox::new(
        (!name.is_empty()).then(|| name.to_owned()),
        address,
    ))
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

/// Why a message could not be handed to the SMTP server.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The message could not be built (a bad address).
    #[error("the message could not be built: {0}")]
    Build(String),
    /// The SMTP server refused or could not be reached.
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
}

impl MailError {
    /// Permanent failures are not retried (a malformed address stays malformed).
    pub fn is_permanent(&self) -> bool {
        match self {
            MailError::Build(_) => true,
            MailError::Smtp(e) => e.is_permanent(),
        }
    }
}

impl Mailer {
    /// The mailer configured by `SMTP_URL` and `SMTP_FROM`, or `None` when mail is not set up.
    /// URLs follow lettre: `smtp://host:port` (plain, for a local relay),
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://user:pass@host` (TLS).
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Option<Self>> {
        let Some(url) = &settings.smtp_url else {
            return Ok(None);
        };
        let smtp = smtp::SmtpClient::from_url(url, Some(std::time::Duration::from_secs(30)))
            .map_err(|e| crate::i18n::Message::new("mail.config.smtp_url", &[]).because(e))?;
        let from_text = settings.smtp_from.clone().unwrap_or_else(|| {
            format!(
                "khaosat <noreply@{}>",
                settings.base_url.host_str().unwrap_or("localhost")
            )
        });
        let from = parse_mailbox(&from_text).ok_or_else(|| {
            crate::i18n::Message::new("mail.config.smtp_from", &[("value", &from_text)])
        })?;
        let reply_to = match &settings.smtp_reply_to {
            Some(text) => Some(parse_mailbox(text).ok_or_else(|| {
                crate::i18n::Message::new("mail.config.smtp_reply_to", &[("value", text)])
            })?),
            None => None,
        };
        let contact = settings
            .smtp_contact
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(Contact::new);
        Ok(Some(Self {
            smtp,
            from,
            reply_to,
            contact,
        }))
    }

    /// Sends one queued message. Its Message-ID derives from the outbox key, so a receiving
    /// system can recognise a resend after a crash as the same message.
    pub fn send(&self, message: &OutboxMessage) -> Result<(), MailError> {
        let to: Mailbox = message
            .to_address
            .parse()
            .map_err(|e| MailError::Build(format!("recipient: {e}")))?;
        let domain = self.from.email.domain().to_owned();
        let (text, html) = match &self.contact {
            Some(contact) => (
                contact.append_text(&message.body_text),
                contact.append_html(&message.body_html),
            ),
            None => (message.body_text.clone(), message.body_html.clone()),
        };
        let mut builder = Message::builder().from(self.from.clone());
        if let Some(reply_to) = &self.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        let email = builder
            .to(to)
            .subject(message.subject.clone())
            .message_id(Some(format!(
                "<{}@{domain}>",
                message.message_key.replace(':', ".")
            )))
            .multipart(MultiPart::alternative_plain_html(text, html))
            .map_err(|e| MailError::Build(e.to_string()))?;
        self.smtp.send(&email)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_mailbox;

    #[test]
    fn a_display_name_with_parentheses_and_commas_is_quoted_not_refused() {
        let mailbox =
            parse_mailbox("Ban chỉ đạo CCHC (Sở Nội vụ), Hà Nội <cchc@example.gov.vn>").unwrap();
        assert_eq!(
            mailbox.name.as_deref(),
            Some("Ban chỉ đạo CCHC (Sở Nội vụ), Hà Nội")
        );
        assert_eq!(mailbox.email.to_string(), "cchc@example.gov.vn");
        let header = mailbox.to_string();
        assert!(header.ends_with("<cchc@example.gov.vn>"), "{header}");
        assert_eq!(
            parse_mailbox(&header).map(|m| m.name),
            Some(Some("Ban chỉ đạo CCHC (Sở Nội vụ), Hà Nội".to_owned())),
            "the header reads back"
        );
    }

    #[test]
    fn plain_and_already_quoted_addresses_still_parse_and_bad_ones_do_not() {
        assert_eq!(
            parse_mailbox("cchc@example.gov.vn").map(|m| m.name),
            Some(None)
        );
        assert_eq!(
            parse_mailbox("\"Sở Nội vụ (CCHC)\" <cchc@example.gov.vn>").map(|m| m.name),
            Some(Some("Sở Nội vụ (CCHC)".to_owned()))
        );
        assert!(parse_mailbox("Sở Nội vụ <không phải địa chỉ>").is_none());
        assert!(parse_mailbox("Sở Nội vụ").is_none());
    }
}
