//! 12: e-mail delivery from the outbox to an SMTP receiver on loopback, through the same
//! sender (`send_batch`, its leases and bookkeeping) that `khaosat round send-invitations`
//! runs. The receiver accepts everything at once, so the figure is khaosat's own cost.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Result, bail};
use khaosat::app::config::DatabaseUrl;
use khaosat::app::config::Settings;
use khaosat::db;

use super::progress;
use crate::prep::{BenchDb, lib_err};
use crate::report::{Row, Verdict};

/// Messages delivered.
const MESSAGES: usize = 2000;

/// The target rate.
const TARGET_PER_SECOND: f64 = 200.0;

/// Starts an SMTP receiver on a free loopback port; returns the port and the count of
/// accepted messages.
fn receiver() -> Result<(u16, Arc<AtomicUsize>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let counter = Arc::clone(&counter);
            std::thread::spawn(move || {
                let _ = serve(stream, &counter);
            });
        }
    });
    Ok((port, accepted))
}

/// Just enough SMTP for lettre: every command is accepted, every message counted.
fn serve(stream: TcpStream, accepted: &AtomicUsize) -> std::io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    writer.write_all(b"220 bench ESMTP\r\n")?;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        if command.starts_with("EHLO") {
            writer.write_all(b"250-bench\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")?;
        } else if command == "DATA" {
            writer.write_all(b"354 go ahead\r\n")?;
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
            }
            accepted.fetch_add(1, Ordering::SeqCst);
            writer.write_all(b"250 queued\r\n")?;
        } else if command.starts_with("QUIT") {
            writer.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            writer.write_all(b"250 OK\r\n")?;
        }
    }
}

/// Queues [`MESSAGES`] invitation-sized messages and times their delivery.
pub fn mail() -> Result<Row> {
    let bench = BenchDb::sqlite("mail")?;
    let pool = bench.pool(2)?;
    let (port, accepted) = receiver()?;
    let body = "Kính gửi Ông/Bà Nguyễn Văn An,\n\n".repeat(40);
    let html = format!("<p>{}</p>", body.replace('\n', "<br>"));
    {
        let mut conn = pool.get()?;
        let now = db::now();
        db::write_transaction(&mut conn, |conn| {
            for i in 0..MESSAGES {
                db::outbox::enqueue(
                    conn,
                    &db::outbox::NewMessage {
                        message_key: &format!("bench:{i}"),
                        kind: "invitation",
                        invitation_id: None,
                        to_address: &format!("r{i}@sonoivu.gov.vn"),
                        subject: "Thư mời tham gia khảo sát CCHC 2025",
                        body_text: &body,
                        body_html: &html,
                        next_attempt_at: now,
                        created_at: now,
                    },
                )?;
            }
            Ok::<_, diesel::result::Error>(())
        })?;
    }
    let mut settings = Settings::for_database(DatabaseUrl::parse(&bench.url).map_err(lib_err)?);
    settings.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
    settings.smtp_from = Some("khaosat@sonoivu.gov.vn".to_owned());
    let Some(mailer) = khaosat::app::mail::Mailer::from_settings(&settings)? else {
        bail!("the mailer was not configured");
    };
    progress(&format!(
        "mail: delivering {MESSAGES} messages to 127.0.0.1:{port}"
    ));
    let start = Instant::now();
    let mut sent = 0;
    loop {
        let report = khaosat::app::mail::sender::send_batch(
            &pool,
            &mailer,
            50,
            chrono::Duration::minutes(2),
        )?;
        sent += report.sent;
        if report.handled() == 0 {
            break;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let received = accepted.load(Ordering::SeqCst);
    if sent != MESSAGES || received != MESSAGES {
        return Ok(Row::new(
            "12",
            "E-mail delivery to a loopback SMTP receiver",
            "≥ 200 messages/s",
            format!("{sent} marked sent, {received} received"),
            Verdict::Failed(format!("{MESSAGES} queued")),
        ));
    }
    let rate = MESSAGES as f64 / seconds;
    Ok(Row::new(
        "12",
        "E-mail delivery to a loopback SMTP receiver",
        "≥ 200 messages/s",
        format!("{rate:.0} messages/s ({MESSAGES} in {seconds:.2} s)"),
        Verdict::check(rate >= TARGET_PER_SECOND, rate / TARGET_PER_SECOND),
    ))
}
