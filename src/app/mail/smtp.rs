//! The SMTP client of the outbox sender: lettre's connection (greeting, EHLO, STARTTLS, AUTH,
//! reply parsing), kept open between messages, with each message and its end-of-data marker
//! written to the server in one piece.
//!
//! Why not lettre's `SmtpTransport`: it (0.11.23) writes the message body and then the
//! five-byte `<CRLF>.<CRLF>` as a second write on a socket without `TCP_NODELAY`. Nagle's
//! algorithm holds that small write back until the server acknowledges the body, and servers
//! delay that acknowledgement (40 ms on Linux), so every message waited about 40 ms: the
//! outbox delivered 21 messages/s to a local relay whatever the batching (BENCHMARKS.md,
//! section 12). lettre#1159 sets `TCP_NODELAY` upstream; once a release carries it, this
//! module can give way to `SmtpTransport` again. Every SMTP command here is one write followed
//! by reading the reply, which Nagle never delays.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use lettre::Message;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{SmtpConnection, Tls, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::{SMTP_PORT, SUBMISSION_PORT, SUBMISSIONS_PORT};

use super::MailError;

/// Idle connections older than this are closed rather than reused: servers drop idle clients
/// after a few minutes, and a sender that has been quiet that long gains nothing from them.
const MAX_IDLE: Duration = Duration::from_secs(60);

/// Idle connections kept at most (one per concurrent sender is enough).
const MAX_POOLED: usize = 4;

/// Where and how to reach the SMTP server, read from `SMTP_URL` as lettre reads it:
/// `smtp://host:port` (plain), `smtp://user:pass@host:587?tls=required` (STARTTLS, also
/// `tls=opportunistic`), `smtps://user:pass@host` (TLS from the start); a path names the
/// EHLO host.
#[derive(Clone)]
pub(super) struct SmtpClient {
    server: String,
    port: u16,
    tls: Tls,
    credentials: Option<Credentials>,
    hello: ClientId,
    timeout: Option<Duration>,
    idle: Arc<Mutex<Vec<(SmtpConnection, Instant)>>>,
}

impl SmtpClient {
    /// Reads `url`, or says why it is not a URL lettre would accept either.
    pub(super) fn from_url(url: &str, timeout: Option<Duration>) -> Result<Self, String> {
        let url = url::Url::parse(url).map_err(|e| e.to_string())?;
        let server = url
            .host_str()
            .ok_or_else(|| "no SMTP host".to_owned())?
            .to_owned();
        let tls_query = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let parameters = || TlsParameters::new(server.clone()).map_err(|e| e.to_string());
        let (default_port, tls) = match (url.scheme(), tls_query.as_deref()) {
            ("smtp", None) => (SMTP_PORT, Tls::None),
            ("smtp", Some("required")) => (SUBMISSION_PORT, Tls::Required(parameters()?)),
            ("smtp", Some("opportunistic")) => (SUBMISSION_PORT, Tls::Opportunistic(parameters()?)),
            ("smtps", _) => (SUBMISSIONS_PORT, Tls::Wrapper(parameters()?)),
            (scheme, tls) => {
                return Err(format!(
                    "unknown scheme '{scheme}' or tls parameter '{}'",
                    tls.unwrap_or_default()
                ));
            }
        };
        let hello = match url.path().trim_matches('/') {
            "" => ClientId::default(),
            name => ClientId::Domain(name.to_owned()),
        };
        let credentials = url.password().map(|password| {
            Credentials::new(percent_decode(url.username()), percent_decode(password))
        });
        Ok(Self {
            port: url.port().unwrap_or(default_port),
            server,
            tls,
            credentials,
            hello,
            timeout,
            idle: Arc::default(),
        })
    }

    /// A new connection: greeting, EHLO, TLS as configured, and login (as lettre's transport
    /// opens one).
    fn connect(&self) -> Result<SmtpConnection, MailError> {
        let wrapper = match &self.tls {
            Tls::Wrapper(parameters) => Some(parameters),
            _ => None,
        };
        let mut conn = SmtpConnection::connect(
            (self.server.as_str(), self.port),
            self.timeout,
            &self.hello,
            wrapper,
            None,
        )?;
        match &self.tls {
            Tls::Opportunistic(parameters) if conn.can_starttls() => {
                conn.starttls(parameters, &self.hello)?;
            }
            Tls::Required(parameters) => conn.starttls(parameters, &self.hello)?,
            _ => {}
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials)?;
        }
        Ok(conn)
    }

    /// An open connection: a pooled one that still answers NOOP, else a new one.
    fn checkout(&self) -> Result<SmtpConnection, MailError> {
        loop {
            let pooled = self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            match pooled {
                Some((mut conn, since)) => {
                    if since.elapsed() < MAX_IDLE && conn.test_connected() {
                        return Ok(conn);
                    }
                    conn.abort();
                }
                None => return self.connect(),
            }
        }
    }

    fn checkin(&self, mut conn: SmtpConnection) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_POOLED {
            idle.push((conn, Instant::now()));
        } else {
            drop(idle);
            let _ = conn.quit();
        }
    }

    /// Sends `email` to its envelope's recipients. `Ok` means the server accepted it (its
    /// reply to the end of data was positive).
    pub(super) fn send(&self, email: &Message) -> Result<(), MailError> {
        let mut conn = self.checkout()?;
        match transaction(&mut conn, email) {
            Ok(()) => {
                self.checkin(conn);
                Ok(())
            }
            Err(error) => {
                // As lettre does: after any failure the session state is unknown.
                conn.abort();
                Err(error)
            }
        }
    }
}

impl Drop for SmtpClient {
    fn drop(&mut self) {
        // The last clone says goodbye on the idle connections.
        if Arc::strong_count(&self.idle) == 1 {
            for (mut conn, _) in self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .drain(..)
            {
                let _ = conn.quit();
            }
        }
    }
}

/// One SMTP transaction: MAIL, RCPT for each recipient, DATA, then the message and its end
/// marker in one write.
fn transaction(conn: &mut SmtpConnection, email: &Message) -> Result<(), MailError> {
    let envelope = email.envelope();
    let body = email.formatted();
    let mut parameters = Vec::new();
    let mut addresses = envelope.from().into_iter().chain(envelope.to());
    if addresses.any(|a: &lettre::Address| !AsRef::<str>::as_ref(a).is_ascii()) {
        if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
            return Err(MailError::Build(
                "the SMTP server does not accept non-ASCII addresses (SMTPUTF8)".to_owned(),
            ));
        }
        parameters.push(MailParameter::SmtpUtfEight);
    }
    if !body.is_ascii() {
        if !conn.server_info().supports_feature(Extension::EightBitMime) {
            return Err(MailError::Build(
                "the SMTP server does not accept 8-bit messages (8BITMIME)".to_owned(),
            ));
        }
        parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    conn.command(Mail::new(envelope.from().cloned(), parameters))?;
    for to in envelope.to() {
        conn.command(Rcpt::new(to.clone(), Vec::new()))?;
    }
    conn.command(Data)?;
    match String::from_utf8(dot_stuffed(&body)) {
        Ok(payload) => conn.command(Payload(&payload))?,
        // Not text (it always is, as built here): lettre's two writes, slower but correct.
        Err(_) => conn.message(&body)?,
    };
    Ok(())
}

/// The message as DATA carries it: a line that starts with `.` gets a second one (RFC 5321
/// 4.5.2), and the `<CRLF>.<CRLF>` end marker follows.
fn dot_stuffed(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 64);
    // A line starts after CRLF only, as lettre's encoder has it.
    let mut line_start = true;
    let mut after_cr = false;
    for &b in body {
        if line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        line_start = after_cr && b == b'\n';
        after_cr = b == b'\r';
    }
    out.extend_from_slice(b"\r\n.\r\n");
    out
}

/// The DATA payload, written as one "command" so that lettre sends it in one write and then
/// reads the server's verdict.
struct Payload<'a>(&'a str);

impl fmt::Display for Payload<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Decodes `%XX` escapes of a URL's user or password (as lettre does); anything else is kept.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && let Some(hi) = bytes.get(i + 1).copied().and_then(hex)
            && let Some(lo) = bytes.get(i + 2).copied().and_then(hex)
        {
            out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_that_start_with_a_dot_are_stuffed_and_the_end_marker_follows() {
        assert_eq!(
            dot_stuffed(b".a\r\nb.\r\n..c\r\n"),
            b"..a\r\nb.\r\n...c\r\n\r\n.\r\n"
        );
        assert_eq!(
            dot_stuffed(b"a\n.b"),
            b"a\n.b\r\n.\r\n",
            "a bare LF ends no line"
        );
        assert_eq!(dot_stuffed(b""), b"\r\n.\r\n");
    }

    #[test]
    fn urls_are_read_as_lettre_reads_them() {
        let plain = SmtpClient::from_url("smtp://127.0.0.1:2525", None).unwrap();
        assert_eq!((plain.server.as_str(), plain.port), ("127.0.0.1", 2525));
        assert!(matches!(plain.tls, Tls::None));
        assert!(plain.credentials.is_none());
        let starttls =
            SmtpClient::from_url("smtp://user:p%40ss@mail.example.vn?tls=required", None).unwrap();
        assert_eq!(starttls.port, SUBMISSION_PORT);
        assert!(matches!(starttls.tls, Tls::Required(_)));
        assert_eq!(
            starttls.credentials,
            Some(Credentials::new("user".to_owned(), "p@ss".to_owned()))
        );
        let wrapped =
            SmtpClient::from_url("smtps://mail.example.vn/khaosat.example.vn", None).unwrap();
        assert_eq!(wrapped.port, SUBMISSIONS_PORT);
        assert!(matches!(wrapped.tls, Tls::Wrapper(_)));
        assert_eq!(
            wrapped.hello,
            ClientId::Domain("khaosat.example.vn".to_owned())
        );
        assert!(SmtpClient::from_url("http://mail.example.vn", None).is_err());
        assert!(SmtpClient::from_url("smtp://mail.example.vn?tls=sometimes", None).is_err());
    }
}
