//! What happened to an order, for operators (`keyward orders show`): its status and
//! every provider event its payments received, oldest first.

use crate::error::AppError;
use crate::infra::db::Db;

/// An order as an operator looks it up.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OrderRecord {
    pub id: String,
    pub status: String,
    pub credits: i64,
    pub total_minor: i64,
    pub currency: String,
    pub failure_reason: Option<String>,
}

/// A provider event (a Stripe webhook) about one of the order's payments.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OrderEvent {
    pub event_id: String,
    pub kind: String,
    pub received_at: i64,
    pub payment_id: String,
}

/// The order and its payments' events; None when there is no such order.
pub async fn order_history(
    db: &Db,
    order_id: &str,
) -> Result<Option<(OrderRecord, Vec<OrderEvent>)>, AppError> {
    let order: Option<OrderRecord> = sqlx::query_as(
        "SELECT id, status, credits, total_minor, currency, failure_reason FROM orders WHERE id = $1",
    )
    .bind(order_id)
    .fetch_optional(&db.pool)
    .await?;
    let Some(order) = order else {
        return Ok(None);
    };
    let events: Vec<OrderEvent> = sqlx::query_as(
        "SELECT w.id AS event_id, w.kind, w.received_at, p.payment_id \
         FROM order_payments p JOIN webhook_events w ON w.object_id = p.payment_id \
         WHERE p.order_id = $1 ORDER BY w.received_at, w.id",
    )
    .bind(order_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(Some((order, events)))
}

/// Records a provider event's first delivery, in the transaction that applies it:
/// false when it was delivered (and applied) before.
pub async fn first_delivery(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    event_id: &str,
    kind: &str,
    object_id: &str,
    now: i64,
) -> Result<bool, AppError> {
    let first: Option<(String,)> = sqlx::query_as(
        "INSERT INTO webhook_events (id, kind, received_at, object_id) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (id) DO NOTHING RETURNING id",
    )
    .bind(event_id)
    .bind(kind)
    .bind(now)
    .bind((!object_id.is_empty()).then_some(object_id))
    .fetch_optional(&mut **tx)
    .await?;
    Ok(first.is_some())
}
