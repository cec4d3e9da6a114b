//! The discounts of promotion codes as invoice items waiting at the provider: made for
//! each invoice a code still covers, taken back before an invoice that is not a
//! period's, and ended when the code no longer applies. What a code is and who may use
//! it are `discounts`.

use super::discounts::{of_subscription, set_pending};
use crate::error::AppError;
use crate::infra::billing::BillingProvider;
use crate::infra::db::Db;
use crate::wallet::promos::plan_list;

fn unavailable(error: crate::infra::payments::ProviderError) -> AppError {
    tracing::warn!(?error, "billing provider: discount item");
    AppError::Unavailable("The billing provider did not answer.".into())
}

/// Takes back the discount waiting for the next invoice (before an invoice that is not
/// a period's, such as an upgrade's, would take it); `sync` puts it back.
pub async fn withdraw(
    db: &Db,
    provider: &dyn BillingProvider,
    subscription: &str,
) -> Result<(), AppError> {
    let Some(discount) = of_subscription(db, subscription).await? else {
        return Ok(());
    };
    if let Some(item) = &discount.pending_item {
        provider
            .delete_invoice_item(item)
            .await
            .map_err(unavailable)?;
        set_pending(db, &discount.id, None, 0).await?;
    }
    Ok(())
}

/// Makes the provider's pending discount match what the subscription's next invoice is
/// owed: one item of minus the discount at its price while the code has periods left
/// (the periods' invoices paid so far count; a plan change's do not), none after. Safe
/// to call again: an item still pending at the right amount is left.
pub async fn sync(
    db: &Db,
    provider: &dyn BillingProvider,
    row: &super::store::SubscriptionRow,
) -> Result<(), AppError> {
    let Some(discount) = of_subscription(db, &row.id).await? else {
        return Ok(());
    };
    let (used,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM subscription_invoices i WHERE i.subscription_id = $1 \
         AND i.status = 'paid' AND NOT EXISTS \
         (SELECT 1 FROM subscription_changes c WHERE c.invoice_id = i.id)",
    )
    .bind(&row.id)
    .fetch_one(&db.pool)
    .await?;
    let owed = row.gives_plan()
        && !row.cancel_at_period_end
        && discount.periods.is_none_or(|periods| used < periods);
    let amount = if owed {
        discount.on(row.price_minor)
    } else {
        0
    };
    if let Some(item) = &discount.pending_item {
        let pending = provider
            .invoice_item_pending(item)
            .await
            .map_err(unavailable)?;
        if pending && amount > 0 && discount.pending_minor == amount {
            return Ok(());
        }
        if pending {
            provider
                .delete_invoice_item(item)
                .await
                .map_err(unavailable)?;
        }
        set_pending(db, &discount.id, None, 0).await?;
    }
    if amount > 0 {
        // Never a key used before (a deleted item's would be answered again).
        let key = format!("discount:{}", crate::infra::random::id("dik")?);
        let item = provider
            .add_invoice_item(
                &row.customer_id,
                Some(&row.id),
                -amount,
                &row.price_currency,
                &discount.description(),
                &key,
            )
            .await
            .map_err(unavailable)?;
        set_pending(db, &discount.id, Some(&item), amount).await?;
    } else if discount.periods.is_some_and(|periods| used >= periods) || !row.gives_plan() {
        end(db, &discount.id).await?;
    }
    Ok(())
}

/// After a change of plan: a code limited to some plans, or counted in periods of the
/// old interval, ends (what is waiting at the provider is taken back); any other keeps
/// discounting the new price.
pub async fn after_change(
    db: &Db,
    provider: &dyn BillingProvider,
    subscription: &str,
    new_plan: &str,
    interval_changed: bool,
) -> Result<(), AppError> {
    let Some(discount) = of_subscription(db, subscription).await? else {
        return Ok(());
    };
    let (plans,): (Option<String>,) = sqlx::query_as(
        "SELECT p.plans FROM subscription_discounts d JOIN promo_codes p ON p.id = d.promo_code_id \
         WHERE d.id = $1",
    )
    .bind(&discount.id)
    .fetch_one(&db.pool)
    .await?;
    let plans = plan_list(plans.as_deref().unwrap_or_default());
    let still_applies = plans.is_empty() || plans.iter().any(|plan| plan == new_plan);
    let counted_in_periods = discount.periods.is_some();
    if still_applies && !(interval_changed && counted_in_periods) {
        return Ok(());
    }
    withdraw(db, provider, subscription).await?;
    end(db, &discount.id).await
}

/// The code discounts no more invoices of its subscription.
async fn end(db: &Db, id: &str) -> Result<(), AppError> {
    sqlx::query("UPDATE subscription_discounts SET status = 'ended' WHERE id = $1")
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// `sync` for the subscription of that id, unless a change to its owner's subscription is
/// under way (which brings the discount in line itself when it is done): for webhooks
/// and page views, which may arrive in the middle of one.
pub async fn sync_unless_busy(
    db: &Db,
    provider: &dyn BillingProvider,
    subscription: &str,
    now: i64,
) -> Result<(), AppError> {
    let Some(row) = super::store::by_id(&db.pool, subscription).await? else {
        return Ok(());
    };
    if super::customers::claimed(db, &row.owner, now).await? {
        return Ok(());
    }
    sync(db, provider, &row).await
}
