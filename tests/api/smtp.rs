//! A small SMTP server on loopback for tests: it speaks enough SMTP for lettre (EHLO, MAIL,
//! RCPT, DATA, RSET, NOOP, QUIT), keeps every accepted message, and can hold a client at
//! `MAIL FROM` so a test can kill the sender at a moment when no message is half-accepted.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Received {
    /// RCPT TO addresses.
    pub to: Vec<String>,
    /// The raw message (headers and body).
    pub data: Vec<u8>,
}

impl Received {
    /// The decoded plain-text body.
    pub fn text(&self) -> String {
        mail_parser::MessageParser::default()
            .parse(&self.data)
            .and_then(|m| m.body_text(0).map(|t| t.into_owned()))
            .unwrap_or_default()
    }
}

/// The running server.
#[derive(Clone)]
pub struct SmtpSink {
    /// Its port on 127.0.0.1.
    pub port: u16,
    messages: Arc<Mutex<Vec<Received>>>,
    /// Clients at MAIL FROM wait until this many messages... see `hold_after`.
    hold_after: Arc<AtomicUsize>,
    holding: Arc<AtomicUsize>,
    /// Answer every RCPT with a greylisting reply that names the recipient.
    greylisting: Arc<AtomicBool>,
}

impl SmtpSink {
    /// Starts the server on a free port.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let sink = SmtpSink {
            port,
            messages: Arc::default(),
            hold_after: Arc::new(AtomicUsize::new(usize::MAX)),
            holding: Arc::default(),
            greylisting: Arc::default(),
        };
        let accepting = sink.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let sink = accepting.clone();
                std::thread::spawn(move || {
                    let _ = sink.serve(stream);
                });
            }
        });
        sink
    }

    /// The URL for `SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message accepted so far.
    pub fn messages(&self) -> Vec<Received> {
        self.messages.lock().unwrap().clone()
    }

    /// Once `n` messages are accepted, hold every further client at MAIL FROM (never answer).
    pub fn hold_after(&self, n: usize) {
        self.hold_after.store(n, Ordering::SeqCst);
    }

    /// Answers clients normally again.
    pub fn release(&self) {
        self.hold_after.store(usize::MAX, Ordering::SeqCst);
    }

    /// Refuses every recipient for now with `450 <address>: ... Greylisted`, as greylisting
    /// servers do.
    pub fn greylist(&self) {
        self.greylisting.store(true, Ordering::SeqCst);
    }

    /// True while a client is being held.
    pub fn is_holding(&self) -> bool {
        self.holding.load(Ordering::SeqCst) > 0
    }

    /// Waits until `n` messages have arrived (or the timeout passes) and returns them.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let start = Instant::now();
        while self.messages.lock().unwrap().len() < n && start.elapsed() < timeout {
            std::thread::sleep(Duration::from_millis(50));
        }
        self.messages()
    }

    fn serve(&self, stream: TcpStream) -> std::io::Result<()> {
        let mut writer = stream.try_clone()?;
        let mut reader = BufReader::new(stream);
        writer.write_all(b"220 khaosat-test ESMTP\r\n")?;
        let mut to = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let command = line.trim_end().to_ascii_uppercase();
            if command.starts_with("EHLO") {
                writer.write_all(b"250-khaosat-test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")?;
            } else if command.starts_with("HELO")
                || command.starts_with("RSET")
                || command.starts_with("NOOP")
            {
                to.clear();
                writer.write_all(b"250 OK\r\n")?;
            } else if command.starts_with("MAIL FROM") {
                if self.messages.lock().unwrap().len() >= self.hold_after.load(Ordering::SeqCst) {
                    self.holding.fetch_add(1, Ordering::SeqCst);
                    while self.messages.lock().unwrap().len()
                        >= self.hold_after.load(Ordering::SeqCst)
                    {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    self.holding.fetch_sub(1, Ordering::SeqCst);
                }
                writer.write_all(b"250 OK\r\n")?;
            } else if command.starts_with("RCPT TO") {
                let address = line.trim_end()[8..]
                    .trim()
                    .trim_start_matches(':')
                    .trim()
                    .trim_matches(['<', '>'])
                    .to_owned();
                if self.greylisting.load(Ordering::SeqCst) {
                    writer.write_all(
                        format!(
                            "450 4.2.0 <{address}>: Recipient address rejected: Greylisted\r\n"
                        )
                        .as_bytes(),
                    )?;
                    continue;
                }
                to.push(address.to_ascii_lowercase());
                writer.write_all(b"250 OK\r\n")?;
            } else if command == "DATA" {
                writer.write_all(b"354 go ahead\r\n")?;
                let mut data = Vec::new();
                loop {
                    line.clear();
                    if reader.read_line(&mut line)? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    let unstuffed = line
                        .strip_prefix('.')
                        .filter(|_| line.starts_with(".."))
                        .unwrap_or(&line);
                    data.extend_from_slice(unstuffed.as_bytes());
                }
                self.messages.lock().unwrap().push(Received {
                    to: std::mem::take(&mut to),
                    data,
                });
                writer.write_all(b"250 queued\r\n")?;
            } else if command.starts_with("QUIT") {
                writer.write_all(b"221 bye\r\n")?;
                return Ok(());
            } else {
                writer.write_all(b"502 not implemented\r\n")?;
            }
        }
    }
}
