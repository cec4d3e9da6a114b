//! Subscribing, cancelling at the end of the period, and resuming, through the billing
//! provider. No transaction is held open while the provider is asked; what it answers
//! is written after (and again by its webhooks, which change nothing the second time).

use super::customers;
use super::discount_items;
use super::discounts;
use super::events;
use super::prices::{is_interval, price_of};
use super::store::{self, SubscriptionRow};
use super::CANCEL_REASONS;
use crate::error::AppError;
use crate::infra::billing::{BillingProvider, ProviderSubscription};
use crate::infra::db::Db;
use crate::infra::payments::{card_form_id, ProviderError};
use crate::infra::plans::PlanCatalog;
use crate::workspace::Owner;

/// What a subscription change needs from the server.
pub struct Billing<'a> {
    pub db: &'a Db,
    pub provider: &'a dyn BillingProvider,
    pub plans: &'a PlanCatalog,
    pub currency: &'a str,
    pub now: i64,
}

const UNAVAILABLE: &str =
    "The payment provider did not answer. Nothing was charged; try again in a minute.";

pub(super) fn provider_error(error: ProviderError, what: &str) -> AppError {
    match error {
        ProviderError::Declined { reason, .. } => AppError::invalid("card", reason),
        ProviderError::Unavailable(error) => {
            tracing::error!(%error, what, "billing provider unavailable");
            AppError::Unavailable(UNAVAILABLE.into())
        }
    }
}

fn reference(owner: &Owner) -> String {
    format!("{}:{}", owner.kind(), owner.id())
}

/// Subscribes `owner` to `plan` paid each `interval` with the card the browser's card
/// form tokenised. The first invoice is paid at once; its included credits are granted
/// before this answers.
/// Who subscribes, and with which promotion code (if any).
pub struct Subscriber<'a> {
    pub owner: &'a Owner,
    pub user_id: &'a str,
    pub email: &'a str,
    pub promo_code: Option<&'a str>,
}

pub async fn subscribe(
    billing: &Billing<'_>,
    who: &Subscriber<'_>,
    plan: &str,
    interval: &str,
    card_token: &str,
) -> Result<SubscriptionRow, AppError> {
    let (owner, email) = (who.owner, who.email);
    // No card is needed only when a code pays every invoice in full (checked below).
    let card_token = match card_token.trim() {
        "" => None,
        token => Some(card_form_id(token)?),
    };
    let no_card = || AppError::invalid("card", "Enter your card details.");
    if card_token.is_none() && who.promo_code.is_none_or(|c| c.trim().is_empty()) {
        return Err(no_card());
    }
    if !is_interval(interval) {
        return Err(AppError::invalid("interval", "Choose monthly or yearly."));
    }
    let Some(spec) = billing.plans.get(plan) else {
        return Err(AppError::invalid("plan", "Choose one of the plans shown."));
    };
    let Some(price) = price_of(spec, interval, billing.currency) else {
        return Err(AppError::invalid(
            "plan",
            if spec.is_free() {
                "The free plan needs no subscription."
            } else {
                "This plan is not offered yearly."
            },
        ));
    };
    if let Some(live) = store::live(&billing.db.pool, owner).await? {
        if live.gives_plan() {
            return Err(AppError::LimitReached(
                "There is a subscription already; cancel it before choosing another plan.".into(),
            ));
        }
    }
    let customer = match customers::customer_of(billing.db, owner).await? {
        Some(customer) => customer,
        None => {
            let made = billing
                .provider
                .create_customer(
                    &reference(owner),
                    email,
                    &format!("customer:{}", reference(owner)),
                )
                .await
                .map_err(|e| provider_error(e, "create customer"))?;
            customers::keep_customer(billing.db, owner, &made, billing.now).await?
        }
    };
    if !customers::claim(billing.db, owner, billing.now).await? {
        return Err(AppError::LimitReached(
            "A subscription is being set up already; wait a moment and reload the page.".into(),
        ));
    }
    let discount = match who.promo_code.map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(code) => {
            let asked = discounts::Asked {
                code,
                user_id: who.user_id,
                owner,
                plan: spec,
                interval,
                price_minor: price.amount_minor,
                currency: billing.currency,
            };
            match discounts::reserve(billing.db, &asked, billing.now).await {
                Ok(Ok(discount)) => Some(discount),
                Ok(Err(refused)) => {
                    customers::release(billing.db, owner).await?;
                    return Err(AppError::invalid("promo_code", refused.message()));
                }
                Err(error) => {
                    customers::release(billing.db, owner).await?;
                    return Err(error);
                }
            }
        }
    };
    let free_forever = discount
        .as_ref()
        .is_some_and(|d| d.periods.is_none() && d.on(price.amount_minor) >= price.amount_minor);
    let subscribed = if card_token.is_none() && !free_forever {
        Err(no_card())
    } else {
        subscribe_claimed(
            billing,
            owner,
            &customer,
            &price,
            card_token,
            discount.as_ref(),
        )
        .await
    };
    if let (Err(_), Some(discount)) = (&subscribed, &discount) {
        discounts::release(billing.db, &discount.id).await?;
    }
    customers::release(billing.db, owner).await?;
    subscribed
}

async fn subscribe_claimed(
    billing: &Billing<'_>,
    owner: &Owner,
    customer: &str,
    price: &crate::infra::billing::PriceSpec,
    card_token: Option<&str>,
    discount: Option<&discounts::Discount>,
) -> Result<SubscriptionRow, AppError> {
    // Checked again under the claim: two tabs that both passed the first check.
    if let Some(live) = store::live(&billing.db.pool, owner).await? {
        if live.gives_plan() {
            return Err(AppError::LimitReached(
                "There is a subscription already; cancel it before choosing another plan.".into(),
            ));
        }
        // One that stopped giving its plan (unpaid, incomplete, paused) ends at the
        // provider before another starts, so it can never bill alongside the new one.
        let ended = billing
            .provider
            .cancel_now(&live.id)
            .await
            .map_err(|e| provider_error(e, "end an unpaid subscription"))?;
        events::subscription(billing.db, &ended, billing.now).await?;
    }
    if let Some(card_token) = card_token {
        let card = billing
            .provider
            .set_card(customer, card_token, &format!("card:{card_token}"))
            .await
            .map_err(|e| provider_error(e, "keep card"))?;
        customers::keep_card(billing.db, owner, &card).await?;
    }
    let price_id = billing
        .provider
        .ensure_price(price)
        .await
        .map_err(|e| provider_error(e, "price"))?;
    // The code's first discount waits at the provider for the first invoice.
    let first_item = match discount {
        Some(discount) if discount.on(price.amount_minor) > 0 => {
            let amount = discount.on(price.amount_minor);
            let item = billing
                .provider
                .add_invoice_item(
                    customer,
                    None,
                    -amount,
                    &price.currency,
                    &discount.description(),
                    &format!("discount:{}:first", discount.id),
                )
                .await
                .map_err(|e| provider_error(e, "discount"))?;
            discounts::set_pending(billing.db, &discount.id, Some(&item), amount).await?;
            Some(item)
        }
        _ => None,
    };
    let subscription = match billing
        .provider
        .subscribe(
            customer,
            &price_id,
            &reference(owner),
            &format!(
                "subscribe:{}:{}",
                reference(owner),
                card_token
                    .or(discount.map(|d| d.id.as_str()))
                    .unwrap_or_default()
            ),
        )
        .await
    {
        Ok(subscription) => subscription,
        Err(error) => {
            if let Some(item) = &first_item {
                if let Err(error) = billing.provider.delete_invoice_item(item).await {
                    tracing::warn!(%item, ?error, "could not take back a discount item");
                }
            }
            return Err(provider_error(error, "subscribe"));
        }
    };
    if !store::GIVES_PLAN.contains(&subscription.status.as_str()) {
        // The first payment did not go through (some providers answer an incomplete
        // subscription rather than an error): it is ended, not left to take the slot.
        let ended = match billing.provider.cancel_now(&subscription.id).await {
            Ok(ended) => ended,
            Err(error) => {
                tracing::warn!(subscription = %subscription.id, ?error, "could not end an unpaid subscription");
                ProviderSubscription {
                    status: "incomplete_expired".into(),
                    ..subscription
                }
            }
        };
        events::subscription(billing.db, &ended, billing.now).await?;
        return Err(AppError::invalid(
            "card",
            "The card was declined. Try another card, or ask your bank why.",
        ));
    }
    let row = events::subscription(billing.db, &subscription, billing.now)
        .await?
        .ok_or_else(|| AppError::internal("subscription", "not written after subscribing"))?;
    if let Some(discount) = discount {
        discounts::activate(billing.db, &discount.id, &row.id).await?;
    }
    if let Some(invoice_id) = &subscription.latest_invoice {
        match billing.provider.invoice(invoice_id).await {
            Ok(invoice) => {
                events::invoice(billing.db, billing.plans, &invoice, billing.now).await?
            }
            // The webhook brings it.
            Err(error) => {
                tracing::warn!(invoice = %invoice_id, ?error, "could not read the first invoice")
            }
        }
    }
    // The next invoice's discount, if the code covers more than the first.
    if let Err(error) = discount_items::sync(billing.db, billing.provider, &row).await {
        tracing::warn!(subscription = %row.id, ?error, "the next discount waits for the next invoice event");
    }
    Ok(row)
}

/// Cancels at the end of the period (`cancel`), with an optional reason from
/// `CANCEL_REASONS`, or resumes a subscription set to cancel.
pub async fn set_cancel(
    billing: &Billing<'_>,
    owner: &Owner,
    cancel: bool,
    reason: Option<&str>,
) -> Result<SubscriptionRow, AppError> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if let Some(reason) = reason {
        if !CANCEL_REASONS.iter().any(|(id, _)| *id == reason) {
            return Err(AppError::invalid(
                "reason",
                "Choose one of the reasons shown.",
            ));
        }
    }
    let Some(live) = store::live(&billing.db.pool, owner).await? else {
        return Err(AppError::NotFound);
    };
    if live.cancel_at_period_end == cancel {
        return Ok(live);
    }
    let key = format!("cancel:{}:{cancel}:{}", live.id, billing.now);
    let updated = billing
        .provider
        .cancel_at_period_end(&live.id, cancel, &key)
        .await
        .map_err(|e| provider_error(e, "cancel at period end"))?;
    let row = events::subscription(billing.db, &updated, billing.now)
        .await?
        .ok_or(AppError::NotFound)?;
    store::set_cancel_reason(billing.db, &row.id, if cancel { reason } else { None }).await?;
    if let Err(error) = discount_items::sync(billing.db, billing.provider, &row).await {
        tracing::warn!(subscription = %row.id, ?error, "discount not brought in line");
    }
    Ok(row)
}

/// Replaces the card renewals are paid with (the browser's card form tokenised it).
pub async fn update_card(
    billing: &Billing<'_>,
    owner: &Owner,
    card_token: &str,
) -> Result<crate::infra::billing::CardOnFile, AppError> {
    let card_token = card_form_id(card_token)?;
    let Some(customer) = customers::customer_of(billing.db, owner).await? else {
        return Err(AppError::NotFound);
    };
    let card = billing
        .provider
        .set_card(&customer, card_token, &format!("card:{card_token}"))
        .await
        .map_err(|e| provider_error(e, "update card"))?;
    customers::keep_card(billing.db, owner, &card).await?;
    Ok(card)
}
