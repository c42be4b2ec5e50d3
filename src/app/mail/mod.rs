//! Outgoing e-mail: bilingual invitation and reminder templates, the SMTP transport (lettre),
//! and the outbox sender that delivers queued messages in batches with retry and backoff.

pub mod sender;
pub mod templates;

use lettre::message::{Mailbox, MultiPart};
use lettre::{Message, SmtpTransport, Transport};

use crate::app::config::Settings;
use crate::db::outbox::OutboxMessage;

/// A configured SMTP transport and sender address.
#[derive(Clone)]
pub struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
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
        let transport = SmtpTransport::from_url(url)
            .map_err(|e| crate::i18n::Message::new("mail.config.smtp_url", &[]).because(e))?
            .timeout(Some(std::time::Duration::from_secs(30)))
            .build();
        let from_text = settings.smtp_from.clone().unwrap_or_else(|| {
            format!(
                "khaosat <noreply@{}>",
                settings.base_url.host_str().unwrap_or("localhost")
            )
        });
        let from = from_text.parse().map_err(|e| {
            crate::i18n::Message::new("mail.config.smtp_from", &[("value", &from_text)]).because(e)
        })?;
        Ok(Some(Self { transport, from }))
    }

    /// Sends one queued message. Its Message-ID derives from the outbox key, so a receiving
    /// system can recognise a resend after a crash as the same message.
    pub fn send(&self, message: &OutboxMessage) -> Result<(), MailError> {
        let to: Mailbox = message
            .to_address
            .parse()
            .map_err(|e| MailError::Build(format!("recipient: {e}")))?;
        let domain = self.from.email.domain().to_owned();
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone())
            .message_id(Some(format!(
                "<{}@{domain}>",
                message.message_key.replace(':', ".")
            )))
            .multipart(MultiPart::alternative_plain_html(
                message.body_text.clone(),
                message.body_html.clone(),
            ))
            .map_err(|e| MailError::Build(e.to_string()))?;
        self.transport.send(&email)?;
        Ok(())
    }
}
