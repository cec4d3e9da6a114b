//! A promo code on an open order: applied (replacing any it had) or taken off, under
//! the order's lock, with the reason beside the code field when it does not apply.

use super::orders::{changeable, lock, release_stale, view};
use super::promos;
use super::redemptions;
use super::OrderView;
use crate::error::{AppError, FieldError};
use crate::infra::db::Db;

/// Applies a promo code to an open order (replacing any code it had), or says exactly
/// why the code does not apply, beside the code field.
pub async fn apply_promo(
    db: &Db,
    user_id: &str,
    order_id: &str,
    code: &str,
    now: i64,
) -> Result<OrderView, AppError> {
    if promos::normalize_code(code).is_empty() {
        return Err(AppError::Validation(vec![FieldError::new(
            "code",
            "Enter a promotion code.",
        )]));
    }
    release_stale(db, now).await?;
    let mut tx = db.begin_write().await?;
    lock(&mut tx, user_id, order_id).await?;
    let order = view(&mut *tx, user_id, order_id).await?;
    changeable(&order)?;
    redemptions::release(&mut tx, order_id).await?;
    let reserved = match redemptions::reserve(
        &mut tx,
        code,
        user_id,
        order_id,
        order.subtotal_minor,
        &order.currency,
        now,
    )
    .await?
    {
        Ok(reserved) => reserved,
        Err(refusal) => {
            // Nothing of this attempt is kept, and the order keeps the code it had.
            tx.rollback().await?;
            return Err(AppError::Validation(vec![FieldError::new(
                "code",
                refusal.message(),
            )]));
        }
    };
    let discount = promos::discount_on(
        order.subtotal_minor,
        reserved.percent_off,
        reserved.amount_off_minor,
    );
    sqlx::query(
        "UPDATE orders SET promo_code_id = $1, discount_minor = $2, total_minor = subtotal_minor - $2, \
         status = 'open', failure_reason = NULL WHERE id = $3",
    )
    .bind(&reserved.promo_code_id)
    .bind(discount)
    .bind(order_id)
    .execute(&mut *tx)
    .await?;
    let updated = view(&mut *tx, user_id, order_id).await?;
    tx.commit().await?;
    tracing::info!(order_id, code = %reserved.code, "promotion code applied");
    Ok(updated)
}

/// Takes the code off an open order.
pub async fn remove_promo(db: &Db, user_id: &str, order_id: &str) -> Result<OrderView, AppError> {
    let mut tx = db.begin_write().await?;
    lock(&mut tx, user_id, order_id).await?;
    let order = view(&mut *tx, user_id, order_id).await?;
    changeable(&order)?;
    redemptions::release(&mut tx, order_id).await?;
    clear_promo(&mut tx, order_id).await?;
    let updated = view(&mut *tx, user_id, order_id).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Takes the code off an order that is still open; answers whether it did.
async fn clear_promo(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    order_id: &str,
) -> Result<bool, AppError> {
    let changed = sqlx::query(
        "UPDATE orders SET promo_code_id = NULL, discount_minor = 0, total_minor = subtotal_minor \
         WHERE id = $1 AND status IN ('open', 'failed')",
    )
    .bind(order_id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(changed > 0)
}
