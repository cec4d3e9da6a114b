//! Changing a subscription's plan. An upgrade takes effect at once: the provider
//! prorates the price change as of the moment the person was shown the amount, and the
//! difference is invoiced and paid there and then (a longer interval starts a new
//! period, which the provider invoices itself). A downgrade moves the provider's price
//! at once with its prorations removed, so the renewal bills the new price, while
//! Keyward keeps the plan paid for until the period ends; choosing that plan again
//! before then keeps it.

use super::customers;
use super::events;
use super::lifecycle::{provider_error, Billing};
use super::prices::{is_interval, plan_of_price, price_of};
use super::quote::{interval_days, quote, Quote, Terms};
use super::store::{self, SubscriptionRow};
use super::PlanChangeQuote;
use crate::error::AppError;
use crate::infra::billing::PriceSpec;
use crate::infra::money::format_money;
use crate::workspace::Owner;

/// How long a shown amount may be confirmed (seconds).
const QUOTE_LIFETIME_S: i64 = 15 * 60;

/// The change asked for, checked against the owner's subscription.
struct Target {
    live: SubscriptionRow,
    price: PriceSpec,
    plan_name: String,
    included_credits: i64,
}

async fn target(
    billing: &Billing<'_>,
    owner: &Owner,
    plan: &str,
    interval: &str,
) -> Result<Target, AppError> {
    if !is_interval(interval) {
        return Err(AppError::invalid("interval", "Choose monthly or yearly."));
    }
    let Some(spec) = billing.plans.get(plan) else {
        return Err(AppError::invalid("plan", "Choose one of the plans shown."));
    };
    let Some(live) = store::live(&billing.db.pool, owner)
        .await?
        .filter(SubscriptionRow::gives_plan)
    else {
        return Err(AppError::invalid(
            "plan",
            "There is no subscription to change; choose a plan to subscribe.",
        ));
    };
    let Some(price) = price_of(spec, interval, billing.currency) else {
        return Err(AppError::invalid(
            "plan",
            if spec.is_free() {
                "To move to the free plan, cancel the subscription: it ends with the period."
            } else {
                "This plan is not offered yearly."
            },
        ));
    };
    if live.cancel_at_period_end {
        return Err(AppError::invalid(
            "plan",
            "The subscription is set to cancel. Resume it to change its plan.",
        ));
    }
    if live.status == "past_due" {
        return Err(AppError::invalid(
            "plan",
            "The last payment failed. Update the card so it is paid before changing plan.",
        ));
    }
    if price.id == live.price_id() && live.kept_plan(billing.now).is_none() {
        return Err(AppError::invalid("plan", "This is the plan you are on."));
    }
    Ok(Target {
        live,
        price,
        plan_name: spec.name.clone(),
        included_credits: spec.included_credits,
    })
}

fn terms(billing: &Billing<'_>, plan: &str, interval: &str, price_minor: i64) -> Terms {
    Terms {
        price_minor,
        included_credits: billing.plans.or_free(plan).included_credits,
        interval_days: interval_days(interval),
    }
}

/// What the change would do as of `at` (Unix seconds).
fn quote_at(billing: &Billing<'_>, target: &Target, at: i64) -> Result<PlanChangeQuote, AppError> {
    let live = &target.live;
    let new_price = format!(
        "{} per {}",
        format_money(target.price.amount_minor, &target.price.currency),
        target.price.interval
    );
    let base = PlanChangeQuote {
        plan: billing
            .plans
            .get(&plan_of_price(&target.price.id).unwrap_or_default().0)
            .map(|p| p.id.clone())
            .unwrap_or_default(),
        plan_name: target.plan_name.clone(),
        interval: target.price.interval.clone(),
        kind: String::new(),
        charge_now: format_money(0, &target.price.currency),
        charge_now_minor: 0,
        credits_now: 0,
        new_price,
        effective_at: at.saturating_mul(1000),
        quoted_at: at,
    };
    // A downgrade already in effect (its period over) offers nothing to keep.
    let waiting = live.prior_price.as_ref().filter(|_| {
        live.prior_until
            .is_some_and(|until| until > at.saturating_mul(1000))
    });
    if let Some(prior) = waiting {
        // A downgrade is waiting: the one change offered is keeping the plan paid for.
        if *prior == target.price.id {
            return Ok(PlanChangeQuote {
                kind: "keep".into(),
                ..base
            });
        }
        let until = live.prior_until.unwrap_or(live.current_period_end);
        return Err(AppError::invalid(
            "plan",
            format!(
                "A change to {} is waiting for {}. Keep your current plan first, then choose another.",
                billing.plans.or_free(&live.plan).name,
                crate::time_fmt::date(until)
            ),
        ));
    }
    let old = terms(billing, &live.plan, &live.interval, live.price_minor);
    let new = Terms {
        price_minor: target.price.amount_minor,
        included_credits: target.included_credits,
        interval_days: interval_days(&target.price.interval),
    };
    let (start, end) = (
        live.current_period_start / 1000,
        live.current_period_end / 1000,
    );
    match quote(old, new, start, end, at) {
        Quote::Upgrade {
            charge_minor,
            credits,
            ..
        } => Ok(PlanChangeQuote {
            kind: "upgrade".into(),
            charge_now: format_money(charge_minor, &target.price.currency),
            charge_now_minor: charge_minor,
            credits_now: credits,
            ..base
        }),
        Quote::Downgrade => Ok(PlanChangeQuote {
            kind: "downgrade".into(),
            effective_at: live.current_period_end,
            ..base
        }),
        Quote::ShorterInterval => Err(AppError::invalid(
            "interval",
            format!(
                "A yearly subscription moves to monthly when its year ends: cancel it, and choose monthly after {}.",
                crate::time_fmt::date(live.current_period_end)
            ),
        )),
    }
}

/// What changing to `plan` paid each `interval` would do now.
pub async fn preview(
    billing: &Billing<'_>,
    owner: &Owner,
    plan: &str,
    interval: &str,
) -> Result<PlanChangeQuote, AppError> {
    let target = target(billing, owner, plan, interval).await?;
    quote_at(billing, &target, billing.now / 1000)
}

/// Makes the change `preview` showed at `quoted_at` (Unix seconds), charging
/// `charge_minor` now for an upgrade. A quote too old, or one whose amount no longer
/// holds (the plans changed), is refused and nothing changes.
pub async fn change(
    billing: &Billing<'_>,
    owner: &Owner,
    plan: &str,
    interval: &str,
    quoted_at: i64,
    charge_minor: i64,
) -> Result<PlanChangeQuote, AppError> {
    let now_s = billing.now / 1000;
    if quoted_at > now_s + 5 || quoted_at < now_s - QUOTE_LIFETIME_S {
        return Err(AppError::invalid(
            "plan",
            "This amount was worked out a while ago. Review the change again.",
        ));
    }
    // Claimed first, so what is checked is what is changed.
    if !customers::claim(billing.db, owner, billing.now).await? {
        return Err(AppError::LimitReached(
            "A change to this subscription is under way; wait a moment and reload the page.".into(),
        ));
    }
    let changed =
        checked_and_applied(billing, owner, plan, interval, quoted_at, charge_minor).await;
    customers::release(billing.db, owner).await?;
    // The next invoice's discount at the price it now bills.
    if let Some(row) = store::live(&billing.db.pool, owner).await? {
        if let Err(error) = super::discount_items::sync(billing.db, billing.provider, &row).await {
            tracing::warn!(subscription = %row.id, ?error, "discount not brought in line");
        }
    }
    changed
}

async fn checked_and_applied(
    billing: &Billing<'_>,
    owner: &Owner,
    plan: &str,
    interval: &str,
    quoted_at: i64,
    charge_minor: i64,
) -> Result<PlanChangeQuote, AppError> {
    let target = target(billing, owner, plan, interval).await?;
    let shown = quote_at(billing, &target, quoted_at)?;
    if shown.charge_now_minor != charge_minor {
        return Err(AppError::invalid(
            "plan",
            "The amount has changed since it was shown. Review the change again.",
        ));
    }
    apply(billing, &target, &shown).await?;
    let interval_changed = target.price.interval != target.live.interval;
    let new_plan = plan_of_price(&target.price.id).unwrap_or_default().0;
    super::discount_items::after_change(
        billing.db,
        billing.provider,
        &target.live.id,
        &new_plan,
        interval_changed,
    )
    .await?;
    Ok(shown)
}

async fn apply(
    billing: &Billing<'_>,
    target: &Target,
    shown: &PlanChangeQuote,
) -> Result<(), AppError> {
    let live = &target.live;
    let provider = billing.provider;
    let price_id = provider
        .ensure_price(&target.price)
        .await
        .map_err(|e| provider_error(e, "price"))?;
    let at_provider = provider
        .subscription(&live.id)
        .await
        .map_err(|e| provider_error(e, "read subscription"))?;
    // A key of its own for each change (a client's `quoted_at` may come again).
    let key = format!("change:{}:{}", live.id, crate::infra::random::id("chk")?);
    if shown.kind == "upgrade" {
        // The discount waiting for the next period's invoice is not the change's.
        super::discount_items::withdraw(billing.db, provider, &live.id).await?;
    }
    let changed = provider
        .change_price(&at_provider, &price_id, shown.quoted_at, &key)
        .await
        .map_err(|e| provider_error(e, "change price"))?;
    if shown.kind != "upgrade" {
        // Nothing is billed for the rest of this period: the renewal bills the new price.
        provider
            .drop_prorations(&live.customer_id, &live.id)
            .await
            .map_err(|e| provider_error(e, "drop prorations"))?;
    }
    let mut tx = billing.db.begin_write().await?;
    events::subscription_in(&mut tx, &changed, billing.now).await?;
    let (prior_price, prior_until) = match shown.kind.as_str() {
        "downgrade" => (Some(live.price_id()), Some(live.current_period_end)),
        _ => (None, None),
    };
    sqlx::query("UPDATE subscriptions SET prior_price = $1, prior_until = $2 WHERE id = $3")
        .bind(prior_price)
        .bind(prior_until)
        .bind(&live.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    if shown.kind != "upgrade" {
        record(billing, target, shown, &price_id, None).await?;
        return Ok(());
    }
    // A new period is invoiced by the provider with the change; otherwise the prorations
    // are invoiced here.
    let new_period = target.price.interval != live.interval;
    let invoice = match (&changed.latest_invoice, new_period) {
        (Some(id), true) => provider.invoice(id).await,
        _ => {
            provider
                .invoice_pending(&live.customer_id, &live.id, &format!("{key}:invoice"))
                .await
        }
    }
    .map_err(|e| provider_error(e, "invoice the change"))?;
    record(billing, target, shown, &price_id, Some(&invoice.id)).await?;
    if (invoice.total_minor - shown.charge_now_minor).abs() > 1 {
        // The provider prorated otherwise than shown (its own rules, or a server that
        // does not prorate by time): logged for the operator to look at.
        tracing::warn!(
            invoice = %invoice.id,
            shown = shown.charge_now_minor,
            invoiced = invoice.total_minor,
            "a plan change was invoiced at another amount than shown"
        );
    }
    let paid = if invoice.status == "paid" {
        Ok(invoice.clone())
    } else {
        provider
            .pay_invoice(&invoice.id, &format!("{key}:pay"))
            .await
    };
    match paid {
        Ok(paid) if paid.status == "paid" => {
            events::invoice(billing.db, billing.plans, &paid, billing.now).await
        }
        Ok(_) | Err(crate::infra::payments::ProviderError::Declined { .. }) => {
            let unpaid = provider.invoice(&invoice.id).await.unwrap_or(invoice);
            let mut tx = billing.db.begin_write().await?;
            events::invoice_in(&mut tx, billing.plans, &unpaid, true, billing.now).await?;
            tx.commit().await?;
            Err(AppError::invalid(
                "card",
                "The card was declined. The new plan is on, and its charge is on an open invoice the provider tries again: update the card to pay it.",
            ))
        }
        Err(error) => Err(provider_error(error, "pay the change")),
    }
}

/// Keeps the change as shown, with the invoice that bills it (whose payment grants
/// `credits_now` in place of a full period's).
async fn record(
    billing: &Billing<'_>,
    target: &Target,
    shown: &PlanChangeQuote,
    to_price: &str,
    invoice: Option<&str>,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO subscription_changes (id, subscription_id, from_price, to_price, kind, \
         amount_minor, credits, invoice_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (invoice_id) DO NOTHING",
    )
    .bind(crate::infra::random::id("chg")?)
    .bind(&target.live.id)
    .bind(target.live.price_id())
    .bind(to_price)
    .bind(&shown.kind)
    .bind(shown.charge_now_minor)
    .bind(shown.credits_now)
    .bind(invoice)
    .bind(billing.now)
    .execute(&billing.db.pool)
    .await?;
    Ok(())
}
