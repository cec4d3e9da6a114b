//! Outgoing email: over SMTP when `KEYWARD_SMTP_URL` is set, otherwise written to the
//! server log at INFO (with a warning at start-up), so `make run` needs no mail server.
//! Sending happens off the request's path; a failure is logged, never shown.

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// One message: plain text for every client, simple HTML for those that show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Messages the log mailer keeps for `recent()`, newest last.
const RECENT: usize = 64;

#[derive(Clone)]
pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    recent: Arc<Mutex<VecDeque<Email>>>,
}

impl Mailer {
    /// `smtp_url` like `smtp://127.0.0.1:1025` or `smtps://user:pass@mail.example.com`;
    /// `None` logs mail instead. `from` like `Keyward <no-reply@example.com>`.
    pub fn new(smtp_url: Option<&str>, from: &str) -> Result<Self, String> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| format!("KEYWARD_MAIL_FROM={from:?} is not an address: {e}"))?;
        let transport = match smtp_url {
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| format!("KEYWARD_SMTP_URL is not a usable SMTP URL: {e}"))?
                    .build(),
            ),
            None => None,
        };
        Ok(Self {
            transport,
            from,
            recent: Arc::default(),
        })
    }

    /// Whether mail really leaves the server.
    pub fn is_smtp(&self) -> bool {
        self.transport.is_some()
    }

    /// Sends in the background; the caller does not wait for the mail server.
    pub fn send(&self, email: Email) {
        let mailer = self.clone();
        tokio::spawn(async move {
            if let Err(error) = mailer.deliver(email).await {
                tracing::error!(%error, "sending email failed");
            }
        });
    }

    /// Sends and waits for the mail server's answer.
    pub async fn deliver(&self, email: Email) -> Result<(), String> {
        {
            let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
            if recent.len() == RECENT {
                recent.pop_front();
            }
            recent.push_back(email.clone());
        }
        let Some(transport) = &self.transport else {
            tracing::info!(
                to = %email.to,
                subject = %email.subject,
                "email (KEYWARD_SMTP_URL is not set, so it is logged instead of sent):\n{}",
                email.text
            );
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

    /// The latest messages this process sent or logged, newest last (operators'
    /// diagnostics and tests).
    pub fn recent(&self) -> Vec<Email> {
        self.recent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }
}

/// Escapes text for the HTML part.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
