//! The operator's endpoints: added with the events they want and a signing secret
//! shown once, switched off, removed; and the deliveries Admin > Webhooks lists and
//! resends.

use super::{
    DeliveryStatus, DeliveryView, EndpointView, NewEndpoint, WebhooksOverview, EVENT_TYPES,
};
use crate::error::{AppError, FieldError};
use crate::infra::{db::Db, random};

pub const MAX_URL_CHARS: usize = 2_048;
pub const MAX_ENDPOINTS: i64 = 20;

/// Checks an endpoint's URL and events; answers the events as stored (known, unique).
pub fn validate(url: &str, events: &[String]) -> Result<Vec<String>, AppError> {
    let mut errors = Vec::new();
    let url = url.trim();
    let parsed = url::Url::parse(url).ok();
    let good_url = url.chars().count() <= MAX_URL_CHARS
        && parsed.as_ref().is_some_and(|u| {
            matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some_and(|h| !h.is_empty())
                && u.username().is_empty()
                && u.password().is_none()
        });
    if !good_url {
        errors.push(FieldError::new(
            "url",
            format!("Enter an http:// or https:// address of at most {MAX_URL_CHARS} characters, without a user name or password."),
        ));
    }
    let mut chosen: Vec<String> = Vec::new();
    for event in events {
        let event = event.trim();
        if event.is_empty() {
            continue;
        }
        if !EVENT_TYPES.iter().any(|(name, _)| *name == event) {
            let shown: String = event.chars().take(40).filter(|c| !c.is_control()).collect();
            errors.push(FieldError::new(
                "events",
                format!("`{shown}` is not an event. Events: {}.", event_names()),
            ));
            break;
        }
        if !chosen.iter().any(|c| c == event) {
            chosen.push(event.to_string());
        }
    }
    if chosen.is_empty() && errors.iter().all(|e| e.field != "events") {
        errors.push(FieldError::new("events", "Choose at least one event."));
    }
    if errors.is_empty() {
        Ok(chosen)
    } else {
        Err(AppError::Validation(errors))
    }
}

fn event_names() -> String {
    EVENT_TYPES.map(|(name, _)| name).join(", ")
}

/// Adds an endpoint; its secret is in the answer and never shown again.
pub async fn create(
    db: &Db,
    url: &str,
    events: &[String],
    now: i64,
) -> Result<NewEndpoint, AppError> {
    let events = validate(url, events)?;
    let url = url.trim().to_string();
    let secret = format!("whsec_{}", random::base62(32)?);
    let id = random::ordered_id("we", now)?;
    let mut tx = db.begin_write().await?;
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM webhook_endpoints")
        .fetch_one(&mut *tx)
        .await?;
    if count >= MAX_ENDPOINTS {
        return Err(AppError::LimitReached(format!(
            "There are {MAX_ENDPOINTS} endpoints already. Remove one first."
        )));
    }
    sqlx::query(
        "INSERT INTO webhook_endpoints (id, url, events, secret, active, created_at) VALUES ($1, $2, $3, $4, 1, $5)",
    )
    .bind(&id)
    .bind(&url)
    .bind(events.join(","))
    .bind(&secret)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(NewEndpoint {
        endpoint: EndpointView {
            id,
            url,
            events,
            active: true,
            created_at: now,
        },
        secret,
    })
}

pub async fn list(db: &Db) -> Result<Vec<EndpointView>, AppError> {
    let rows: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
        "SELECT id, url, events, active, created_at FROM webhook_endpoints ORDER BY created_at, id",
    )
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, url, events, active, created_at)| EndpointView {
            id,
            url,
            events: events.split(',').map(String::from).collect(),
            active: active == 1,
            created_at,
        })
        .collect())
}

/// Switches an endpoint on or off; an endpoint that is off gets no new deliveries.
pub async fn set_active(db: &Db, id: &str, active: bool) -> Result<(), AppError> {
    let changed = sqlx::query("UPDATE webhook_endpoints SET active = $1 WHERE id = $2")
        .bind(i64::from(active))
        .bind(id)
        .execute(&db.pool)
        .await?
        .rows_affected();
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// Removes an endpoint; its pending deliveries are given up.
pub async fn remove(db: &Db, id: &str, now: i64) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let removed = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if removed == 0 {
        return Err(AppError::NotFound);
    }
    sqlx::query(
        "UPDATE webhook_deliveries SET status = 'failed', last_error = 'The endpoint was removed.', \
         next_attempt_at = $1 WHERE endpoint_id = $2 AND status = 'pending'",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The endpoints and the latest `limit` deliveries, newest first.
pub async fn overview(db: &Db, limit: i64) -> Result<WebhooksOverview, AppError> {
    let endpoints = list(db).await?;
    type Row = (
        String,
        Option<String>,
        String,
        String,
        String,
        i64,
        Option<i64>,
        Option<String>,
        i64,
        i64,
        Option<i64>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT d.id, e.url, d.event_id, d.event_type, d.status, d.attempts, d.last_status, \
         d.last_error, d.next_attempt_at, d.created_at, d.delivered_at \
         FROM webhook_deliveries d LEFT JOIN webhook_endpoints e ON e.id = d.endpoint_id \
         ORDER BY d.created_at DESC, d.id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    let deliveries = rows
        .into_iter()
        .map(
            |(
                id,
                url,
                event_id,
                event_type,
                status,
                attempts,
                last_status,
                last_error,
                next,
                created_at,
                delivered_at,
            )| {
                let status = DeliveryStatus::parse(&status).unwrap_or(DeliveryStatus::Failed);
                DeliveryView {
                    id,
                    endpoint_url: url.unwrap_or_else(|| "(removed)".into()),
                    event_id,
                    event_type,
                    status,
                    attempts,
                    last_status,
                    last_error,
                    next_attempt_at: (status == DeliveryStatus::Pending).then_some(next),
                    created_at,
                    delivered_at,
                }
            },
        )
        .collect();
    Ok(WebhooksOverview {
        endpoints,
        deliveries,
    })
}

/// Sends a delivery's event again, as a new delivery to the same endpoint (which must
/// still exist). Answers the new delivery's id.
pub async fn resend(db: &Db, delivery_id: &str, now: i64) -> Result<String, AppError> {
    let id = random::ordered_id("whd", now)?;
    let inserted = sqlx::query(
        "INSERT INTO webhook_deliveries \
         (id, endpoint_id, event_id, event_type, payload, status, attempts, next_attempt_at, created_at) \
         SELECT $1, d.endpoint_id, d.event_id, d.event_type, d.payload, 'pending', 0, $2, $2 \
         FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.id = $3",
    )
    .bind(&id)
    .bind(now)
    .bind(delivery_id)
    .execute(&db.pool)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Err(AppError::NotFound);
    }
    Ok(id)
}
