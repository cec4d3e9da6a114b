//! Posts the outbox's due deliveries. Each is claimed first by one conditional UPDATE
//! (for a minute, and a batch's attempts run at once, each at most 5 s), so processes
//! sharing the database never post the same attempt twice, and a process killed
//! mid-attempt leaves it to be taken again. Any answer but a 2xx, or none within 5 s,
//! is retried with exponential backoff for 24 hours.

use super::{ATTEMPT_TIMEOUT_SECS, RETRY_FOR_MS};
use crate::error::AppError;
use crate::infra::{clock::Clock, db::Db, webhook_signature::signature_header};
use std::time::Duration;

/// Deliveries taken per round.
const BATCH: i64 = 20;
/// How long a claim keeps others off an attempt.
const CLAIM_MS: i64 = 60_000;
/// The first retry's wait; each next one doubles, up to an hour.
const FIRST_RETRY_MS: i64 = 10_000;
const LONGEST_RETRY_MS: i64 = 3_600_000;

/// The wait before attempt `attempts + 1`, after `attempts` failed ones.
pub fn backoff_ms(attempts: i64) -> i64 {
    let doublings = (attempts - 1).clamp(0, 20) as u32;
    FIRST_RETRY_MS
        .saturating_mul(1_i64 << doublings)
        .min(LONGEST_RETRY_MS)
}

/// The HTTP client deliveries go out with: 5 s per attempt, no redirects.
pub fn client() -> Result<reqwest::Client, AppError> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(ATTEMPT_TIMEOUT_SECS))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Keyward-Webhooks/1")
        .build()
        .map_err(|e| AppError::internal("webhooks", e))
}

#[derive(sqlx::FromRow)]
struct Claimed {
    id: String,
    endpoint_id: String,
    event_id: String,
    payload: String,
    attempts: i64,
    created_at: i64,
}

/// Posts every delivery due at `now` (up to a batch, all at once, so one slow endpoint
/// holds up no other); answers how many were attempted. The claim's end is its token:
/// an attempt's outcome is written only while the claim is still this one's.
pub async fn deliver_due(db: &Db, http: &reqwest::Client, now: i64) -> Result<usize, AppError> {
    let claim = now + CLAIM_MS;
    let claimed: Vec<Claimed> = sqlx::query_as(
        "UPDATE webhook_deliveries SET claimed_until = $1 \
         WHERE status = 'pending' AND next_attempt_at <= $2 \
           AND (claimed_until IS NULL OR claimed_until <= $2) \
           AND id IN (SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $2 \
                      AND (claimed_until IS NULL OR claimed_until <= $2) ORDER BY next_attempt_at LIMIT $3) \
         RETURNING id, endpoint_id, event_id, payload, attempts, created_at",
    )
    .bind(claim)
    .bind(now)
    .bind(BATCH)
    .fetch_all(&db.pool)
    .await?;
    let attempted = claimed.len();
    let attempts = claimed.into_iter().map(|delivery| async move {
        let id = delivery.id.clone();
        if let Err(error) = attempt(db, http, delivery, claim, now).await {
            // Its claim lapses and it is taken again.
            tracing::error!(delivery = %id, ?error, "recording a webhook attempt failed");
        }
    });
    futures::future::join_all(attempts).await;
    Ok(attempted)
}

async fn attempt(
    db: &Db,
    http: &reqwest::Client,
    delivery: Claimed,
    claim: i64,
    now: i64,
) -> Result<(), AppError> {
    let endpoint: Option<(String, String, i64)> =
        sqlx::query_as("SELECT url, secret, active FROM webhook_endpoints WHERE id = $1")
            .bind(&delivery.endpoint_id)
            .fetch_optional(&db.pool)
            .await?;
    let outcome = match endpoint {
        None => Err((None, "The endpoint was removed.".to_string(), true)),
        // Kept, and tried again while its 24 hours last: it may be switched on again.
        Some((_, _, 0)) => Err((None, "The endpoint is switched off.".to_string(), false)),
        Some((url, secret, _)) => post(http, &url, &secret, &delivery, now).await,
    };
    let attempts = delivery.attempts + 1;
    match outcome {
        Ok(status) => {
            sqlx::query(
                "UPDATE webhook_deliveries SET status = 'delivered', attempts = $1, last_status = $2, \
                 last_error = NULL, delivered_at = $3, claimed_until = NULL WHERE id = $4 AND claimed_until = $5",
            )
            .bind(attempts)
            .bind(status)
            .bind(now)
            .bind(&delivery.id)
            .bind(claim)
            .execute(&db.pool)
            .await?;
        }
        Err((status, error, give_up)) => {
            let next = now + backoff_ms(attempts);
            let failed = give_up || next > delivery.created_at + RETRY_FOR_MS;
            tracing::warn!(delivery = %delivery.id, event = %delivery.event_id, status, %error, "webhook delivery failed");
            sqlx::query(
                "UPDATE webhook_deliveries SET status = $1, attempts = $2, last_status = $3, \
                 last_error = $4, next_attempt_at = $5, claimed_until = NULL \
                 WHERE id = $6 AND claimed_until = $7 AND status = 'pending'",
            )
            .bind(if failed { "failed" } else { "pending" })
            .bind(attempts)
            .bind(status)
            .bind(error.chars().take(300).collect::<String>())
            .bind(next)
            .bind(&delivery.id)
            .bind(claim)
            .execute(&db.pool)
            .await?;
        }
    }
    Ok(())
}

/// One attempt: the HTTP status of a 2xx, or (status, error, give up).
async fn post(
    http: &reqwest::Client,
    url: &str,
    secret: &str,
    delivery: &Claimed,
    now: i64,
) -> Result<i64, (Option<i64>, String, bool)> {
    let signature = signature_header(delivery.payload.as_bytes(), now / 1000, secret);
    let sent = http
        .post(url)
        .header("Content-Type", "application/json")
        .header("Keyward-Signature", signature)
        .header("Keyward-Event-Id", &delivery.event_id)
        .body(delivery.payload.clone())
        .send()
        .await;
    match sent {
        Ok(response) if response.status().is_success() => Ok(i64::from(response.status().as_u16())),
        Ok(response) => {
            let status = i64::from(response.status().as_u16());
            Err((
                Some(status),
                format!("The endpoint answered {status}."),
                false,
            ))
        }
        Err(error) if error.is_timeout() => Err((
            None,
            format!("No answer within {ATTEMPT_TIMEOUT_SECS} s."),
            false,
        )),
        Err(error) if error.is_connect() => {
            Err((None, "Could not connect to the endpoint.".into(), false))
        }
        Err(_) => Err((None, "The request failed.".into(), false)),
    }
}

/// Delivers every second, for as long as the process runs.
pub fn start(db: Db, clock: Clock) {
    let http = match client() {
        Ok(http) => http,
        Err(error) => {
            tracing::error!(?error, "webhook deliveries did not start");
            return;
        }
    };
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            // A full batch means more are due: go on at once.
            loop {
                match deliver_due(&db, &http, clock.now_ms()).await {
                    Ok(n) if n as i64 == BATCH => continue,
                    Ok(_) => break,
                    Err(error) => {
                        tracing::error!(?error, "webhook deliveries failed this round");
                        break;
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::backoff_ms;

    #[test]
    fn retries_double_up_to_an_hour() {
        assert_eq!(backoff_ms(1), 10_000);
        assert_eq!(backoff_ms(2), 20_000);
        assert_eq!(backoff_ms(3), 40_000);
        assert_eq!(backoff_ms(12), 3_600_000);
        assert_eq!(backoff_ms(500), 3_600_000);
    }
}
