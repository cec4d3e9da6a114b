//! The outbox: an event's deliveries, one per endpoint that subscribes to it, written
//! in the caller's transaction so they exist exactly when the event does.

use crate::error::AppError;
use crate::infra::random;

type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// Queues `event_type` with `object` for every active endpoint subscribed to it, inside
/// `tx`. Answers the event's id (the same in every delivery), or None when no endpoint
/// wants it.
pub async fn enqueue_in(
    tx: &mut Tx<'_>,
    event_type: &str,
    object: serde_json::Value,
    now: i64,
) -> Result<Option<String>, AppError> {
    let endpoints: Vec<(String, String)> =
        sqlx::query_as("SELECT id, events FROM webhook_endpoints WHERE active = 1")
            .fetch_all(&mut **tx)
            .await?;
    let subscribed: Vec<String> = endpoints
        .into_iter()
        .filter(|(_, events)| events.split(',').any(|e| e == event_type))
        .map(|(id, _)| id)
        .collect();
    if subscribed.is_empty() {
        return Ok(None);
    }
    let event_id = random::ordered_id("evt", now)?;
    let payload = serde_json::json!({
        "id": event_id,
        "type": event_type,
        "created": now / 1000,
        "data": { "object": object },
    })
    .to_string();
    for endpoint in subscribed {
        sqlx::query(
            "INSERT INTO webhook_deliveries \
             (id, endpoint_id, event_id, event_type, payload, status, attempts, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6)",
        )
        .bind(random::ordered_id("whd", now)?)
        .bind(&endpoint)
        .bind(&event_id)
        .bind(event_type)
        .bind(&payload)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(Some(event_id))
}
