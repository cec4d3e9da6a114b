//! Orders for credits: created from the Wallet page, priced, discounted by a promo
//! code (`order_promos`), and paid by card or, when a code covers everything,
//! completed at once.

use super::ledger::{self, Posted, Posting};
use super::promos::{self, RESERVATION_MS};
use super::redemptions;
use super::{CardSetup, EntryKind, OrderStatus, OrderView, Owner, PurchaseOptions};
use crate::error::{AppError, FieldError};
use crate::infra::payments::PaymentProvider;
use crate::infra::{config::Config, db::Db, random};

/// How credits may be bought here, from the configuration.
pub fn purchase_options(
    config: &Config,
    provider: Option<&dyn PaymentProvider>,
) -> PurchaseOptions {
    PurchaseOptions {
        packs: config.credit_packs.clone(),
        min_credits: config.min_credit_purchase,
        max_credits: config.max_credit_purchase,
        credit_price_cents: config.credit_price_cents,
        currency: config.currency.clone(),
        card: provider.map(|provider| {
            let setup = provider.browser_setup();
            CardSetup {
                publishable_key: setup.publishable_key,
                script_url: setup.script_url,
            }
        }),
    }
}

/// Starts an order for `credits`, priced now, placed by `user_id` for their own wallet
/// or (`org_id`) an organization's; the caller checked they may.
pub async fn create(
    db: &Db,
    config: &Config,
    user_id: &str,
    org_id: Option<&str>,
    credits: i64,
    now: i64,
) -> Result<String, AppError> {
    if !(config.min_credit_purchase..=config.max_credit_purchase).contains(&credits) {
        return Err(AppError::Validation(vec![FieldError::new(
            "credits",
            format!(
                "Buy from {} to {} credits.",
                super::format_credits(config.min_credit_purchase),
                super::format_credits(config.max_credit_purchase)
            ),
        )]));
    }
    let subtotal = credits.saturating_mul(config.credit_price_cents);
    let id = random::id("ord")?;
    sqlx::query(
        "INSERT INTO orders (id, user_id, credits, subtotal_minor, discount_minor, total_minor, currency, status, created_at, org_id) \
         VALUES ($1, $2, $3, $4, 0, $4, $5, 'open', $6, $7)",
    )
    .bind(&id)
    .bind(user_id)
    .bind(credits)
    .bind(subtotal)
    .bind(&config.currency)
    .bind(now)
    .bind(org_id)
    .execute(&db.pool)
    .await?;
    Ok(id)
}

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: String,
    credits: i64,
    subtotal_minor: i64,
    discount_minor: i64,
    total_minor: i64,
    currency: String,
    status: String,
    failure_reason: Option<String>,
    created_at: i64,
    code: Option<String>,
    percent_off: Option<i64>,
    amount_off_minor: Option<i64>,
    org_id: Option<String>,
    org_slug: Option<String>,
    org_name: Option<String>,
}

/// Whose order this is; for provider notifications, which name no person.
pub(super) async fn owner_of<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    order_id: &str,
) -> Result<Option<String>, AppError> {
    let row: Option<(String,)> = sqlx::query_as("SELECT user_id FROM orders WHERE id = $1")
        .bind(order_id)
        .fetch_optional(executor)
        .await?;
    Ok(row.map(|(user_id,)| user_id))
}

/// The person's order; another person's answers exactly like a missing one.
pub async fn view<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    user_id: &str,
    order_id: &str,
) -> Result<OrderView, AppError> {
    let row: Option<OrderRow> = sqlx::query_as(
        "SELECT o.id, o.credits, o.subtotal_minor, o.discount_minor, o.total_minor, o.currency, o.status, \
                o.failure_reason, o.created_at, p.code, p.percent_off, p.amount_off_minor, \
                o.org_id, g.slug AS org_slug, g.name AS org_name \
         FROM orders o LEFT JOIN promo_codes p ON p.id = o.promo_code_id \
         LEFT JOIN organizations g ON g.id = o.org_id \
         WHERE o.id = $1 AND o.user_id = $2",
    )
    .bind(order_id)
    .bind(user_id)
    .fetch_optional(executor)
    .await?;
    let row = row.ok_or(AppError::NotFound)?;
    let promo = row.code.map(|code| {
        let label = promos::discount_label(row.percent_off, row.amount_off_minor, &row.currency);
        (code, label)
    });
    Ok(OrderView {
        id: row.id,
        credits: row.credits,
        subtotal_minor: row.subtotal_minor,
        discount_minor: row.discount_minor,
        total_minor: row.total_minor,
        currency: row.currency,
        promo,
        status: OrderStatus::parse(&row.status),
        failure_reason: row.failure_reason,
        created_at: row.created_at,
        // An organization deleted since keeps its id here, so the order still pays it.
        org: row.org_id.map(|id| {
            let slug = row.org_slug.unwrap_or_default();
            let name = row
                .org_name
                .unwrap_or_else(|| "A deleted organization".to_string());
            (id, slug, name)
        }),
    })
}

/// Locks the person's order row until `tx` ends, before anything about it is read: every
/// change to an order (a code applied, taken off or released as stale, the order paid or
/// claimed for a card) then happens one after the other, and none decides on a view of
/// the order another has changed since. Another person's order answers `NotFound`.
pub(super) async fn lock(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    order_id: &str,
) -> Result<(), AppError> {
    let locked = sqlx::query("UPDATE orders SET id = id WHERE id = $1 AND user_id = $2")
        .bind(order_id)
        .bind(user_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if locked == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

pub(super) fn changeable(order: &OrderView) -> Result<(), AppError> {
    match order.status {
        OrderStatus::Open | OrderStatus::Failed => Ok(()),
        OrderStatus::Processing => Err(AppError::LimitReached(
            "The payment for this order is under way; wait for it to finish.".into(),
        )),
        OrderStatus::Paid => Err(AppError::LimitReached("This order is already paid.".into())),
    }
}

/// Completes an order a code pays in full: paid, the code consumed, the credits added,
/// all in one transaction.
pub async fn complete_free(
    db: &Db,
    user_id: &str,
    order_id: &str,
    now: i64,
) -> Result<OrderView, AppError> {
    let mut tx = db.begin_write().await?;
    lock(&mut tx, user_id, order_id).await?;
    let order = view(&mut *tx, user_id, order_id).await?;
    changeable(&order)?;
    if order.total_minor != 0 {
        return Err(AppError::LimitReached(
            "This order has an amount to pay; pay it by card.".into(),
        ));
    }
    pay_in(&mut tx, user_id, &order, "order_completed", now).await?;
    let updated = view(&mut *tx, user_id, order_id).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Marks an order paid and adds its credits, once: a second call finds it paid and
/// changes nothing.
pub(super) async fn pay_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    order: &OrderView,
    actor: &str,
    now: i64,
) -> Result<bool, AppError> {
    let redeemed = redemptions::redeem(
        tx,
        &order.id,
        user_id,
        order.subtotal_minor,
        &order.currency,
        now,
    )
    .await?;
    if let Err(refusal) = redeemed {
        if order.total_minor == 0 {
            return Err(AppError::invalid("code", refusal.message()));
        }
        // Paid by card: the provider took the discounted total, so the order stands.
        tracing::warn!(order_id = %order.id, reason = %refusal.message(),
            "a card payment succeeded for an order whose code no longer applies");
    }
    // Only at the total this view of the order was priced at: an order changed since is
    // not paid on an old view of it.
    let changed = sqlx::query(
        "UPDATE orders SET status = 'paid', paid_at = $1, failure_reason = NULL \
         WHERE id = $2 AND status <> 'paid' AND total_minor = $3",
    )
    .bind(now)
    .bind(&order.id)
    .bind(order.total_minor)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Ok(false);
    }
    let free = order.total_minor == 0;
    let description = match (&order.promo, free) {
        (Some((code, _)), true) => format!(
            "{} credits with code {code}",
            super::format_credits(order.credits)
        ),
        (Some((code, _)), false) => format!(
            "{} credits (code {code})",
            super::format_credits(order.credits)
        ),
        (None, _) => format!("{} credits", super::format_credits(order.credits)),
    };
    let owner = match &order.org {
        Some((org_id, _, _)) => Owner::Org(org_id.clone()),
        None => Owner::User(user_id.to_string()),
    };
    let posting = Posting {
        owner,
        amount: order.credits,
        kind: if free {
            EntryKind::PromoGrant
        } else {
            EntryKind::Purchase
        },
        reference: Some(order.id.clone()),
        description,
        actor: actor.to_string(),
        key_id: None,
        metadata: None,
        idempotency_key: format!("order:{}", order.id),
        may_overdraw: false,
    };
    match ledger::post_in(tx, &posting, now).await? {
        Posted::New { .. } | Posted::Duplicate { .. } => Ok(true),
        Posted::Insufficient { .. } => Err(AppError::internal(
            "paying an order",
            "a purchase was short",
        )),
    }
}

/// Releases codes held by orders abandoned for `RESERVATION_MS`; answers how many.
pub async fn release_stale(db: &Db, now: i64) -> Result<usize, AppError> {
    let stale: Vec<(String,)> = sqlx::query_as(
        "SELECT r.order_id FROM promo_redemptions r JOIN orders o ON o.id = r.order_id \
         WHERE r.status = 'reserved' AND r.reserved_at < $1 AND o.status IN ('open', 'failed')",
    )
    .bind(now - RESERVATION_MS)
    .fetch_all(&db.pool)
    .await?;
    for (order_id,) in &stale {
        // Only while the order is still open and its code still the stale one: an order
        // paid meanwhile keeps its code, and so does one whose code was applied again.
        let mut tx = db.begin_write().await?;
        let cleared = sqlx::query(
            "UPDATE orders SET promo_code_id = NULL, discount_minor = 0, total_minor = subtotal_minor \
             WHERE id = $1 AND status IN ('open', 'failed') AND EXISTS (SELECT 1 FROM promo_redemptions r \
             WHERE r.order_id = $1 AND r.status = 'reserved' AND r.reserved_at < $2)",
        )
        .bind(order_id)
        .bind(now - RESERVATION_MS)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if cleared > 0 {
            redemptions::release(&mut tx, order_id).await?;
        }
        tx.commit().await?;
    }
    Ok(stale.len())
}
