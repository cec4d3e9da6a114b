//! The keys' audit trail: who changed which key, from where, and when.

use crate::error::AppError;
use crate::infra::random;
use crate::workspace::Owner;

/// Who performed a change, for the audit trail, and in which workspace.
pub struct Actor {
    /// The person acting (a key acting through the REST API acts for its creator).
    pub user_id: String,
    /// Whose keys are acted on: the person's own, or an organization's.
    pub owner: Owner,
    /// The person's email, or "API key kid_…" when a key acted through the REST API.
    pub label: String,
    pub client_addr: String,
}

/// Writes one lifecycle event inside the transaction that made the change.
pub async fn record_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    actor: &Actor,
    key_id: &str,
    key_name: &str,
    event: &str,
    at: i64,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO key_events (id, key_id, user_id, key_name, event, actor, client_addr, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(random::id("evt")?)
    .bind(key_id)
    .bind(&actor.user_id)
    .bind(key_name)
    .bind(event)
    .bind(&actor.label)
    .bind(&actor.client_addr)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    // The operator's services hear of a key that stops working, with the event.
    if event == "deleted" || event == "deactivated" || event.starts_with("revoked") {
        let object = serde_json::json!({
            "key_id": key_id,
            "name": key_name,
            "owner_type": actor.owner.kind(),
            "owner_id": actor.owner.id(),
            "reason": event,
        });
        crate::operator_webhooks::outbox::enqueue_in(tx, "key.revoked", object, at).await?;
    }
    Ok(())
}
