//! Low-balance alerts: the owner chooses a threshold; while the balance is below it
//! the dashboard shows a banner, and each time the balance crosses it downward one
//! email goes out. The crossing is found in the same transaction as the balance change
//! and written to an outbox (`low_balance_alerts`), so a crash loses no alert, and the
//! flag on the wallet row makes a crossing count once however many processes run.

use super::{wallet_id, Owner};
use crate::error::AppError;
use crate::infra::db::{
    padded_len, padded_list, param, placeholders, placeholders_from, Db, Script, Value,
};
use crate::infra::mail::{html_escape, Email, Mailer};
use crate::infra::{clock::Clock, random};
use std::time::Duration;

/// The largest threshold a person may choose.
pub const MAX_THRESHOLD: i64 = 1_000_000_000_000;
/// How often the sender looks for alerts to email.
const SEND_EVERY: Duration = Duration::from_secs(2);

/// Where a wallet stands against its alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlertState {
    pub threshold: Option<i64>,
    pub balance: i64,
}

impl AlertState {
    pub fn below(&self) -> bool {
        self.threshold.is_some_and(|t| self.balance < t)
    }
}

/// "500" or "1,000" credits, or empty to turn the alert off.
pub fn parse_threshold(text: &str) -> Result<Option<i64>, AppError> {
    super::parse_optional_credits(text, MAX_THRESHOLD).ok_or_else(|| {
        AppError::invalid(
            "threshold",
            "The alert is a whole number of credits, at least 1. Leave it empty to turn it off.",
        )
    })
}

/// Sets (or with None removes) the owner's threshold. Setting one the balance is
/// already below shows the banner but sends no email: nothing crossed it.
pub async fn set_threshold(
    db: &Db,
    owner: &Owner,
    threshold: Option<i64>,
    now: i64,
) -> Result<AlertState, AppError> {
    let wallet = wallet_id(owner);
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO wallets (id, owner_kind, owner_id, balance, created_at, low_balance_threshold) \
         VALUES ($1, $2, $3, 0, $4, $5) \
         ON CONFLICT (owner_kind, owner_id) DO UPDATE SET low_balance_threshold = excluded.low_balance_threshold",
    )
    .bind(&wallet)
    .bind(owner.kind())
    .bind(owner.id())
    .bind(now)
    .bind(threshold)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE wallets SET low_balance_alerted = CASE \
         WHEN low_balance_threshold IS NOT NULL AND balance < low_balance_threshold THEN 1 ELSE 0 END \
         WHERE id = $1",
    )
    .bind(&wallet)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    state(db, owner).await
}

pub async fn state(db: &Db, owner: &Owner) -> Result<AlertState, AppError> {
    let row: Option<(Option<i64>, i64)> =
        sqlx::query_as("SELECT low_balance_threshold, balance FROM wallets WHERE id = $1")
            .bind(wallet_id(owner))
            .fetch_optional(&db.pool)
            .await?;
    let (threshold, balance) = row.unwrap_or((None, 0));
    Ok(AlertState { threshold, balance })
}

/// Adds to `script` what records downward crossings (and, when balances may have
/// risen, re-arms the alerts of wallets back at or above their threshold) for
/// `wallets`, to run in the transaction that changed their balances. A crossing
/// becomes an outbox row and sets the wallet's flag in the same statements, so it is
/// found once however many writers run.
pub fn track_in(
    script: &mut Script,
    wallets: &[&str],
    may_have_risen: bool,
    now: i64,
) -> Result<(), AppError> {
    if wallets.is_empty() {
        return Ok(());
    }
    let backend = script.backend();
    // Padded (see `padded_len`): IN lists by repeating the last id (the same row), the
    // VALUES by rows of NULLs, which join no wallet.
    let ids = padded_list(wallets.iter().map(|w| Value::from(*w)).collect());
    let list = placeholders(backend, 1, ids.len());
    let rows = padded_len(wallets.len());
    if may_have_risen {
        script.push(
            format!(
                "UPDATE wallets SET low_balance_alerted = 0 WHERE id IN {list} AND low_balance_alerted = 1 \
                 AND (low_balance_threshold IS NULL OR balance >= low_balance_threshold)"
            ),
            ids.clone(),
        );
    }
    let below = "w.low_balance_alerted = 0 AND w.low_balance_threshold IS NOT NULL \
                 AND w.balance < w.low_balance_threshold";
    // `now` first: SQLite binds its `?` in the order they appear.
    let mut values = Vec::with_capacity(rows * 2 + 1);
    values.push(Value::Int(now));
    for wallet in wallets {
        values.push(Value::Text(random::id("lba")?));
        values.push(Value::from(*wallet));
    }
    values.resize(rows * 2 + 1, Value::Null);
    script.push(
        format!(
            "INSERT INTO low_balance_alerts (id, wallet_id, balance, threshold, created_at) \
             SELECT v.column1, w.id, w.balance, w.low_balance_threshold, {} \
             FROM (VALUES {}) AS v JOIN wallets w ON w.id = v.column2 WHERE {below}",
            param(backend, 1),
            placeholders_from(backend, rows, 2, 2),
        ),
        values,
    );
    script.push(
        format!("UPDATE wallets AS w SET low_balance_alerted = 1 WHERE w.id IN {list} AND {below}"),
        ids,
    );
    Ok(())
}

/// Emails the alerts not sent yet; answers how many went out. Each is claimed by one
/// conditional UPDATE first, so two processes never send the same one.
pub async fn send_pending(
    db: &Db,
    mailer: &Mailer,
    base_url: &str,
    now: i64,
) -> Result<usize, AppError> {
    let pending: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT a.id, u.email, a.balance, a.threshold FROM low_balance_alerts a \
         JOIN wallets w ON w.id = a.wallet_id JOIN users u ON w.owner_kind = 'user' AND u.id = w.owner_id \
         WHERE a.sent_at IS NULL ORDER BY a.created_at LIMIT 100",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut sent = 0;
    for (id, email, balance, threshold) in pending {
        let claimed = sqlx::query(
            "UPDATE low_balance_alerts SET sent_at = $1 WHERE id = $2 AND sent_at IS NULL",
        )
        .bind(now)
        .bind(&id)
        .execute(&db.pool)
        .await?
        .rows_affected();
        if claimed == 1 {
            mailer.send(alert_email(&email, balance, threshold, base_url));
            sent += 1;
        }
    }
    Ok(sent)
}

/// Sends alerts every couple of seconds, for as long as the process runs.
pub fn start_sender(db: Db, mailer: Mailer, clock: Clock, base_url: String) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SEND_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(error) = send_pending(&db, &mailer, &base_url, clock.now_ms()).await {
                tracing::warn!(?error, "low-balance alerts not sent this time");
            }
        }
    });
}

fn alert_email(to: &str, balance: i64, threshold: i64, base_url: &str) -> Email {
    let first = format!(
        "Your Keyward balance is {} credits, below the {} credits you asked to be told about.",
        super::format_credits(balance),
        super::format_credits(threshold)
    );
    let second =
        "Charges are refused once the balance cannot cover them. Buy credits on your Wallet page:";
    let link = format!("{base_url}/account/wallet");
    Email {
        to: to.into(),
        subject: "Your Keyward balance is low".into(),
        text: format!("{first}\n\n{second}\n{link}\n"),
        html: format!(
            "<div style=\"font-family:system-ui,sans-serif;font-size:15px;line-height:1.5\"><p>{}</p><p>{} <a href=\"{}\">{}</a></p><p style=\"color:#59636e;font-size:13px\">Keyward</p></div>",
            html_escape(&first),
            html_escape(second),
            html_escape(&link),
            html_escape(&link)
        ),
    }
}

/// Queues the `credits.low_balance` webhook of each alert that has not had it; each
/// claimed and queued in one transaction, so it is queued once whoever runs this.
/// Answers how many were queued.
pub async fn queue_webhooks(db: &Db, now: i64) -> Result<usize, AppError> {
    let pending: Vec<(String, String, String, i64, i64, i64)> = sqlx::query_as(
        "SELECT a.id, w.owner_kind, w.owner_id, a.balance, a.threshold, a.created_at \
         FROM low_balance_alerts a JOIN wallets w ON w.id = a.wallet_id \
         WHERE a.webhook_queued_at IS NULL ORDER BY a.created_at LIMIT 100",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut queued = 0;
    for (id, owner_kind, owner_id, balance, threshold, created_at) in pending {
        let mut tx = db.begin_write().await?;
        let claimed = sqlx::query(
            "UPDATE low_balance_alerts SET webhook_queued_at = $1 WHERE id = $2 AND webhook_queued_at IS NULL",
        )
        .bind(now)
        .bind(&id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed != 1 {
            continue;
        }
        let object = serde_json::json!({
            "owner_type": owner_kind,
            "owner_id": owner_id,
            "balance": balance,
            "threshold": threshold,
            "crossed_at": created_at,
        });
        crate::operator_webhooks::outbox::enqueue_in(&mut tx, "credits.low_balance", object, now)
            .await?;
        tx.commit().await?;
        queued += 1;
    }
    Ok(queued)
}
