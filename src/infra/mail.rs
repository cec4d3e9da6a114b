//! Outgoing email: over SMTP when `KEYWARD_SMTP_URL` is set. Without it no mail leaves
//! the server: the log says one was not sent (to whom, its subject), never its text,
//! which may hold a sign-in, reset or invitation link. `KEYWARD_MAIL_LOG_BODIES=1`
//! (development, and `make run`) writes each one to the log in full and keeps the last
//! few in memory. Sending happens off the request's path; a failure is logged, never
//! shown.

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// One message: plain text for every client, simple HTML for those that show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Messages kept for `recent()` while bodies are logged, newest last.
const RECENT: usize = 64;

#[derive(Clone)]
pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    /// `Some` only with `KEYWARD_MAIL_LOG_BODIES=1`: then every message is logged in full
    /// and the latest are kept here.
    recent: Option<Arc<Mutex<VecDeque<Email>>>>,
    /// Messages handed to `send` and not yet delivered (or failed), and a wake-up for
    /// `flush` when that reaches zero.
    in_flight: Arc<(AtomicUsize, Notify)>,
}

/// The sender, parsed; an error names the variable.
fn sender(from: &str) -> Result<Mailbox, String> {
    from.parse()
        .map_err(|e| format!("KEYWARD_MAIL_FROM={from:?} is not an address: {e}"))
}

/// The SMTP client for `url`, unconnected; an error names the variable, not the URL
/// (it may hold a password).
fn smtp(url: &str) -> Result<lettre::transport::smtp::AsyncSmtpTransportBuilder, String> {
    AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map_err(|e| format!("KEYWARD_SMTP_URL is not a usable SMTP URL (smtp://host:port or smtps://user:password@host): {e}"))
}

/// Checks the mail settings without building a client (no runtime needed): what
/// `Config::from_env` refuses to start with.
pub fn check_settings(smtp_url: Option<&str>, from: &str) -> Result<(), String> {
    sender(from)?;
    smtp_url.map(smtp).transpose()?;
    Ok(())
}

impl Mailer {
    /// `smtp_url` like `smtp://127.0.0.1:1025` or `smtps://user:pass@mail.example.com`;
    /// `None` sends nothing. `from` like `Keyward <no-reply@example.com>`. `log_bodies`:
    /// `KEYWARD_MAIL_LOG_BODIES`.
    pub fn new(smtp_url: Option<&str>, from: &str, log_bodies: bool) -> Result<Self, String> {
        let from = sender(from)?;
        let transport = smtp_url
            .map(smtp)
            .transpose()?
            .map(|builder| builder.build());
        Ok(Self {
            transport,
            from,
            recent: log_bodies.then(Arc::default),
            in_flight: Arc::default(),
        })
    }

    /// Whether mail really leaves the server.
    pub fn is_smtp(&self) -> bool {
        self.transport.is_some()
    }

    /// Sends in the background; the caller does not wait for the mail server.
    pub fn send(&self, email: Email) {
        let mailer = self.clone();
        self.in_flight.0.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            if let Err(error) = mailer.deliver(email).await {
                tracing::error!(%error, "sending email failed");
            }
            let (count, done) = &*mailer.in_flight;
            if count.fetch_sub(1, Ordering::SeqCst) == 1 {
                done.notify_waiters();
            }
        });
    }

    /// Waits until every message handed to `send` so far was delivered or failed (a
    /// graceful shutdown; tests that check a mail was not sent).
    pub async fn flush(&self) {
        let (count, done) = &*self.in_flight;
        loop {
            // Registered before the count is read, so a wake-up in between is not lost.
            let woken = done.notified();
            if count.load(Ordering::SeqCst) == 0 {
                return;
            }
            woken.await;
        }
    }

    /// Sends and waits for the mail server's answer.
    pub async fn deliver(&self, email: Email) -> Result<(), String> {
        if let Some(recent) = &self.recent {
            tracing::info!(
                to = %email.to,
                subject = %email.subject,
                "email (KEYWARD_MAIL_LOG_BODIES is set):\n{}",
                email.text
            );
            let mut recent = recent.lock().unwrap_or_else(|p| p.into_inner());
            if recent.len() == RECENT {
                recent.pop_front();
            }
            recent.push_back(email.clone());
        }
        let Some(transport) = &self.transport else {
            if self.recent.is_none() {
                tracing::info!(
                    to = %email.to,
                    subject = %email.subject,
                    "email not sent: KEYWARD_SMTP_URL is not set"
                );
            }
            return Ok(());
        };
        let to: Mailbox = email.to.parse().map_err(|e| format!("recipient: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&email.subject)
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(email.text),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(email.html),
                    ),
            )
            .map_err(|e| format!("message: {e}"))?;
        transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP: {e}"))
    }

    /// The latest messages this process sent or logged, newest last, while
    /// `KEYWARD_MAIL_LOG_BODIES` is set (development and tests); otherwise none are kept.
    pub fn recent(&self) -> Vec<Email> {
        self.recent
            .as_ref()
            .map(|recent| {
                let recent = recent.lock().unwrap_or_else(|p| p.into_inner());
                recent.iter().cloned().collect()
            })
            .unwrap_or_default()
    }
}

/// Escapes text for the HTML part, in text or in a quoted attribute (`&<>"'`).
pub fn html_escape(text: &str) -> String {
    html_escape::encode_quoted_attribute(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::{Email, Mailer};

    fn reset_link() -> Email {
        Email {
            to: "ada@example.com".into(),
            subject: "Reset your password".into(),
            text: "https://keyward.example/reset-password?token=secret-token".into(),
            html: String::new(),
        }
    }

    #[tokio::test]
    async fn without_smtp_a_mail_is_kept_only_while_bodies_are_logged() {
        let quiet = Mailer::new(None, "Keyward <no-reply@example.com>", false).unwrap();
        quiet.deliver(reset_link()).await.unwrap();
        assert!(
            quiet.recent().is_empty(),
            "kept in memory without the setting"
        );

        let development = Mailer::new(None, "Keyward <no-reply@example.com>", true).unwrap();
        development.deliver(reset_link()).await.unwrap();
        assert_eq!(development.recent(), vec![reset_link()]);
    }

    #[tokio::test]
    async fn flush_waits_for_every_mail_handed_over() {
        let mailer = Mailer::new(None, "Keyward <no-reply@example.com>", true).unwrap();
        mailer.flush().await;
        for _ in 0..20 {
            mailer.send(reset_link());
        }
        mailer.flush().await;
        assert_eq!(mailer.recent().len(), 20);
    }
}
