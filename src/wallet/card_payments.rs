//! Paying an order by card through the payment provider. The credits are added only
//! when the provider says the payment succeeded: in its answer, when the page asks
//! again after a confirmation step, or in its webhook, whichever comes first; the
//! others then find the order paid and change nothing.
//!
//! No transaction is held open while the provider is asked: the order is claimed
//! (`processing`) first, the answer is written after.

use super::order_history::first_delivery;
use super::orders::{self, changeable, owner_of, pay_in, view};
use super::redemptions;
use super::{CardPaymentStep, OrderStatus, OrderView};
use crate::error::AppError;
use crate::infra::db::Db;
use crate::infra::payments::{
    card_form_id, Payment, PaymentEvent, PaymentEventKind, PaymentProvider, PaymentRequest,
    PaymentState, ProviderError,
};

/// Who the provider's confirmations are credited as, in the ledger.
const ACTOR: &str = "card payment";

const UNAVAILABLE: &str =
    "The payment provider did not answer. If your card was charged, the credits are added as soon as it confirms; otherwise try again in a minute.";

/// Pays an open order's total with what the card form gave (`payment_method`).
pub async fn pay(
    db: &Db,
    provider: &dyn PaymentProvider,
    user_id: &str,
    order_id: &str,
    payment_method: &str,
    now: i64,
) -> Result<CardPaymentStep, AppError> {
    let payment_method = card_form_id(payment_method)?;
    let (order, attempt) = claim(db, user_id, order_id, now).await?;
    let request = PaymentRequest {
        amount_minor: order.total_minor,
        currency: order.currency.clone(),
        reference: order.id.clone(),
        payment_method: payment_method.to_string(),
        // One key per attempt: a retried request reaches the same payment.
        idempotency_key: format!("{}-{attempt}", order.id),
    };
    match provider.pay(request).await {
        Ok(payment) => {
            record(db, &order, &payment.id, now).await?;
            settle(db, user_id, &order, &payment, now).await
        }
        Err(ProviderError::Declined { payment_id, reason }) => {
            if let Some(payment_id) = &payment_id {
                record(db, &order, payment_id, now).await?;
            }
            tracing::info!(order_id, %reason, "card payment declined");
            fail(db, order_id, payment_id.as_deref(), &reason, now).await?;
            step(db, user_id, order_id, None).await
        }
        Err(ProviderError::Unavailable(error)) => {
            tracing::error!(order_id, %error, "payment provider unavailable");
            fail(db, order_id, None, UNAVAILABLE, now).await?;
            step(db, user_id, order_id, None).await
        }
    }
}

/// Asks the provider how the order's latest payment stands (after a confirmation step,
/// or while it is processing) and settles the order by the answer.
pub async fn refresh(
    db: &Db,
    provider: &dyn PaymentProvider,
    user_id: &str,
    order_id: &str,
    now: i64,
) -> Result<OrderView, AppError> {
    let order = view(&db.pool, user_id, order_id).await?;
    if order.status != OrderStatus::Processing {
        return Ok(order);
    }
    let payment_id: Option<(Option<String>,)> =
        sqlx::query_as("SELECT payment_intent_id FROM orders WHERE id = $1")
            .bind(order_id)
            .fetch_optional(&db.pool)
            .await?;
    let Some((Some(payment_id),)) = payment_id else {
        return Ok(order);
    };
    match provider.retrieve(&payment_id).await {
        Ok(payment) => Ok(settle(db, user_id, &order, &payment, now).await?.order),
        Err(error) => {
            tracing::warn!(order_id, ?error, "could not ask the payment provider");
            Ok(order)
        }
    }
}

/// Claims the order for one payment attempt; answers it and the attempt's number.
async fn claim(
    db: &Db,
    user_id: &str,
    order_id: &str,
    now: i64,
) -> Result<(OrderView, i64), AppError> {
    let mut tx = db.begin_write().await?;
    orders::lock(&mut tx, user_id, order_id).await?;
    let order = view(&mut *tx, user_id, order_id).await?;
    changeable(&order)?;
    if order.total_minor <= 0 {
        return Err(AppError::LimitReached(
            "There is nothing to pay; complete the order.".into(),
        ));
    }
    // The code is redeemed before the card is charged, so every rule holds for the
    // price the provider is asked for; a failed payment gives it back (`fail`).
    if let Err(refusal) = redemptions::redeem(
        &mut tx,
        order_id,
        user_id,
        order.subtotal_minor,
        &order.currency,
        now,
    )
    .await?
    {
        return Err(AppError::invalid("code", refusal.message()));
    }
    let attempt: Option<(i64,)> = sqlx::query_as(
        "UPDATE orders SET status = 'processing', failure_reason = NULL, payment_intent_id = NULL, \
         payment_attempts = payment_attempts + 1 \
         WHERE id = $1 AND status IN ('open', 'failed') RETURNING payment_attempts",
    )
    .bind(order_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((attempt,)) = attempt else {
        return Err(AppError::LimitReached(
            "The payment for this order is under way; wait for it to finish.".into(),
        ));
    };
    tx.commit().await?;
    Ok((order, attempt))
}

/// Keeps the payment with its order, so the provider's notification finds it.
async fn record(db: &Db, order: &OrderView, payment_id: &str, now: i64) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO order_payments (payment_id, order_id, amount_minor, currency, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (payment_id) DO NOTHING",
    )
    .bind(payment_id)
    .bind(&order.id)
    .bind(order.total_minor)
    .bind(&order.currency)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE orders SET payment_intent_id = $1 WHERE id = $2")
        .bind(payment_id)
        .bind(&order.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Settles the order by what the provider said of `payment`.
async fn settle(
    db: &Db,
    user_id: &str,
    order: &OrderView,
    payment: &Payment,
    now: i64,
) -> Result<CardPaymentStep, AppError> {
    match &payment.state {
        PaymentState::Succeeded => {
            let mut tx = db.begin_write().await?;
            credit(&mut tx, user_id, order, payment, now).await?;
            tx.commit().await?;
            step(db, user_id, &order.id, None).await
        }
        PaymentState::Processing => step(db, user_id, &order.id, None).await,
        PaymentState::RequiresAction { client_secret } => {
            step(db, user_id, &order.id, Some(client_secret.clone())).await
        }
        PaymentState::Failed { reason } => {
            fail(db, &order.id, Some(&payment.id), reason, now).await?;
            step(db, user_id, &order.id, None).await
        }
    }
}

/// Adds the order's credits for a payment that succeeded, once; a payment of another
/// amount than the order's is logged and credits nothing.
async fn credit(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    order: &OrderView,
    payment: &Payment,
    now: i64,
) -> Result<(), AppError> {
    // The order is locked and read again first, as every other change to it does: what
    // is credited is the order as it stands, not as it was when the provider was asked.
    orders::lock(tx, user_id, &order.id).await?;
    let order = &view(&mut **tx, user_id, &order.id).await?;
    if payment.amount_minor != order.total_minor || payment.currency != order.currency {
        tracing::error!(
            order_id = %order.id,
            payment_id = %payment.id,
            paid = payment.amount_minor,
            total = order.total_minor,
            "a payment does not match its order; no credits added, check it at the provider"
        );
        return Ok(());
    }
    if !pay_in(tx, user_id, order, ACTOR, now).await? {
        let paid_with: Option<(Option<String>,)> =
            sqlx::query_as("SELECT payment_intent_id FROM orders WHERE id = $1")
                .bind(&order.id)
                .fetch_optional(&mut **tx)
                .await?;
        if paid_with.and_then(|(id,)| id).as_deref() != Some(payment.id.as_str()) {
            tracing::warn!(
                order_id = %order.id,
                payment_id = %payment.id,
                "an order was paid twice; refund this payment at the provider"
            );
        }
    }
    Ok(())
}

/// Marks a processing order failed with the provider's reason, unless a later attempt
/// replaced `payment_id` (None: whatever attempt is current).
async fn fail(
    db: &Db,
    order_id: &str,
    payment_id: Option<&str>,
    reason: &str,
    now: i64,
) -> Result<(), AppError> {
    let reason: String = reason.chars().take(300).collect();
    let mut tx = db.begin_write().await?;
    let failed = sqlx::query(
        "UPDATE orders SET status = 'failed', failure_reason = $1 \
         WHERE id = $2 AND status = 'processing' AND ($3 IS NULL OR payment_intent_id = $3)",
    )
    .bind(&reason)
    .bind(order_id)
    .bind(payment_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if failed > 0 {
        redemptions::unredeem(&mut tx, order_id, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn step(
    db: &Db,
    user_id: &str,
    order_id: &str,
    confirm_secret: Option<String>,
) -> Result<CardPaymentStep, AppError> {
    Ok(CardPaymentStep {
        order: view(&db.pool, user_id, order_id).await?,
        confirm_secret,
    })
}

/// Applies a verified provider notification, once: the event's id is written in the
/// same transaction as its effect, so a redelivery changes nothing, and a failure that
/// arrives after the success (out of order) finds the order paid and leaves it.
pub async fn apply_event(db: &Db, event: &PaymentEvent, now: i64) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let (kind, object_id) = match &event.kind {
        PaymentEventKind::Succeeded(payment) => ("payment_intent.succeeded", payment.id.as_str()),
        PaymentEventKind::Failed(payment) => ("payment_intent.payment_failed", payment.id.as_str()),
        PaymentEventKind::Other(kind) => (kind.as_str(), ""),
        // Billing events are applied by `billing::events`.
        _ => return Ok(()),
    };
    if !first_delivery(&mut tx, &event.id, kind, object_id, now).await? {
        tracing::info!(event_id = %event.id, "webhook event delivered again; already handled");
        return Ok(());
    }
    match &event.kind {
        PaymentEventKind::Succeeded(payment) => match order_of(&mut tx, payment).await? {
            Some((user_id, order)) => credit(&mut tx, &user_id, &order, payment, now).await?,
            None => tracing::warn!(payment_id = %payment.id, "a payment for no known order"),
        },
        PaymentEventKind::Failed(payment) => {
            let reason = match &payment.state {
                PaymentState::Failed { reason } => reason.clone(),
                _ => "The payment failed.".to_string(),
            };
            let failed: Vec<(String,)> = sqlx::query_as(
                "UPDATE orders SET status = 'failed', failure_reason = $1 \
                 WHERE payment_intent_id = $2 AND status = 'processing' RETURNING id",
            )
            .bind(reason.chars().take(300).collect::<String>())
            .bind(&payment.id)
            .fetch_all(&mut *tx)
            .await?;
            for (order_id,) in failed {
                redemptions::unredeem(&mut tx, &order_id, now).await?;
            }
        }
        _ => {}
    }
    tx.commit().await?;
    Ok(())
}

/// The order a payment belongs to: by the attempt Keyward recorded, else (the answer to
/// the payment request never arrived) by the order id the provider kept with it.
async fn order_of(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    payment: &Payment,
) -> Result<Option<(String, OrderView)>, AppError> {
    let recorded: Option<(String,)> =
        sqlx::query_as("SELECT order_id FROM order_payments WHERE payment_id = $1")
            .bind(&payment.id)
            .fetch_optional(&mut **tx)
            .await?;
    let Some(order_id) = recorded
        .map(|(id,)| id)
        .or_else(|| payment.reference.clone())
    else {
        return Ok(None);
    };
    let Some(user_id) = owner_of(&mut **tx, &order_id).await? else {
        return Ok(None);
    };
    let order = orders::view(&mut **tx, &user_id, &order_id).await?;
    Ok(Some((user_id, order)))
}
