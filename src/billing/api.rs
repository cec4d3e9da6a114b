//! The Subscription page's server functions. `org` is an organization's slug (its
//! subscription, which any member sees and only Owners and Admins change), or None for
//! the person's own.

use super::SubscriptionPage;
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::lifecycle::{self, Billing},
    super::store::{self, PlanSource},
    super::{customers, invoices},
    super::{CurrentPlan, PlanOffer},
    crate::auth::User,
    crate::infra::money::format_money,
    crate::web::request::Caller,
    crate::web::state::AppState,
    crate::workspace::access::{Need, Workspace},
    crate::workspace::Owner,
};

/// How many invoices the page lists.
#[cfg(feature = "ssr")]
const INVOICES_SHOWN: i64 = 24;

#[server(endpoint = "subscription_overview", output = crate::infra::wire::Wire)]
pub async fn subscription_overview(org: Option<String>) -> Result<SubscriptionPage, AppError> {
    Caller::in_workspace(
        org,
        Need::Use,
        async |caller: &Caller, _user: User, space: Workspace| {
            overview(&caller.state, &space.owner, space.can_manage()).await
        },
    )
    .await
}

#[cfg(feature = "ssr")]
async fn overview(
    state: &AppState,
    owner: &Owner,
    can_manage: bool,
) -> Result<SubscriptionPage, AppError> {
    let config = &state.config;
    let currency = &config.currency;
    let plans: Vec<PlanOffer> = config
        .plans
        .all()
        .iter()
        .map(|plan| PlanOffer {
            id: plan.id.clone(),
            name: plan.name.clone(),
            monthly_price: format_money(plan.monthly_price_minor, currency),
            yearly_price: plan.yearly_price_minor.map(|p| format_money(p, currency)),
            included_credits: plan.included_credits,
            lab_hours: plan.lab_hours,
            features: plan.features.clone(),
            free: plan.is_free(),
        })
        .collect();
    let (plan_id, source) = store::plan_of(&state.db, &config.plans, owner, state.now_ms()).await?;
    let plan = config.plans.or_free(&plan_id);
    // Any subscription not ended, even one that gives no plan now (unpaid, or a plan
    // the catalog dropped): the page shows it and lets it be cancelled.
    let subscription = match &source {
        PlanSource::Subscription(row) => Some((**row).clone()),
        _ => store::live(&state.db.pool, owner).await?,
    };
    // What it is billed, which a later price change in the plans file does not change.
    let price = subscription
        .as_ref()
        .filter(|row| row.price_minor > 0)
        .map(|row| format_money(row.price_minor, &row.price_currency));
    let changes_to = subscription.as_ref().and_then(|row| {
        row.kept_plan(state.now_ms())
            .map(|(_, until)| (config.plans.or_free(&row.plan).name.clone(), until))
    });
    let next_invoice = match (&subscription, state.billing.as_deref()) {
        (Some(row), Some(billing)) if !row.cancel_at_period_end => {
            next_invoice(state, billing, row).await
        }
        _ => None,
    };
    Ok(SubscriptionPage {
        available: state.billing.is_some(),
        can_manage,
        plans,
        current: CurrentPlan {
            plan: plan.id.clone(),
            plan_name: plan.name.clone(),
            source: source.as_str().to_string(),
            status: subscription.as_ref().map(|row| row.status.clone()),
            interval: subscription.as_ref().map(|row| row.interval.clone()),
            price,
            current_period_end: subscription.as_ref().map(|row| row.current_period_end),
            cancel_at_period_end: subscription
                .as_ref()
                .is_some_and(|row| row.cancel_at_period_end),
            changes_to,
        },
        next_invoice,
        card: customers::card_of(&state.db, owner).await?,
        invoices: invoices::invoices(&state.db, owner, INVOICES_SHOWN).await?,
    })
}

/// The provider's next invoice for `row` (kept a minute): its date and amount.
#[cfg(feature = "ssr")]
async fn next_invoice(
    state: &AppState,
    billing: &dyn crate::infra::billing::BillingProvider,
    row: &store::SubscriptionRow,
) -> Option<(i64, String)> {
    let now = state.now_ms();
    if let Some(kept) = state.upcoming_invoices.get(&row.id, now) {
        return kept;
    }
    let answer = match billing.upcoming_invoice(&row.customer_id, &row.id).await {
        Ok(upcoming) => upcoming.map(|upcoming| {
            (
                upcoming
                    .created
                    .max(row.current_period_end / 1000)
                    .saturating_mul(1000),
                format_money(upcoming.total_minor, &upcoming.currency),
            )
        }),
        Err(error) => {
            tracing::warn!(?error, "could not read the upcoming invoice");
            // Not kept: the next view asks again.
            return None;
        }
    };
    // Some Stripe-compatible servers (localstripe) attach pending items to the preview
    // they answer, taking a promotion code's discount away from the real next invoice;
    // it is checked and made again. On Stripe this is one read of an item still pending.
    if let Err(error) =
        super::discount_items::sync_unless_busy(&state.db, billing, &row.id, now).await
    {
        tracing::warn!(?error, "discount not brought in line after the preview");
    }
    state.upcoming_invoices.put(&row.id, answer.clone(), now);
    answer
}

#[cfg(feature = "ssr")]
fn billing(state: &AppState) -> Result<Billing<'_>, AppError> {
    let provider = state.billing.as_deref().ok_or_else(|| {
        AppError::Unavailable("Subscriptions are not set up on this server.".into())
    })?;
    Ok(Billing {
        db: &state.db,
        provider,
        plans: &state.config.plans,
        currency: &state.config.currency,
        now: state.now_ms(),
    })
}

/// Subscribes to `plan` paid each `interval` ("month" or "year") with the card the
/// card form tokenised (`card_token`).
#[server(endpoint = "subscribe", output = crate::infra::wire::Wire)]
pub async fn subscribe(
    org: Option<String>,
    plan: String,
    interval: String,
    card_token: String,
    promo_code: Option<String>,
) -> Result<(), AppError> {
    Caller::in_workspace(
        org,
        Need::Manage,
        async |caller: &Caller, user: User, space: Workspace| {
            let billing = billing(&caller.state)?;
            let who = lifecycle::Subscriber {
                owner: &space.owner,
                user_id: &user.id,
                email: &user.email,
                promo_code: promo_code.as_deref(),
            };
            lifecycle::subscribe(&billing, &who, &plan, &interval, &card_token)
                .await
                .map(|_| ())
        },
    )
    .await
}

/// What a promotion code takes off a subscription to `plan` paid each `interval`, or
/// why it does not apply (beside the field).
#[server(endpoint = "quote_subscription_code", output = crate::infra::wire::Wire)]
pub async fn quote_subscription_code(
    org: Option<String>,
    plan: String,
    interval: String,
    code: String,
) -> Result<super::CodeQuote, AppError> {
    Caller::in_workspace(
        org,
        Need::Manage,
        async |caller: &Caller, user: User, space: Workspace| {
            let config = &caller.state.config;
            if code.trim().is_empty() {
                return Err(AppError::invalid("promo_code", "Enter a promotion code."));
            }
            let Some(spec) = config.plans.get(&plan) else {
                return Err(AppError::invalid("plan", "Choose one of the plans shown."));
            };
            let Some(price) = super::prices::price_of(spec, &interval, &config.currency) else {
                return Err(AppError::invalid("plan", "Choose one of the plans shown."));
            };
            let asked = super::discounts::Asked {
                code: &code,
                user_id: &user.id,
                owner: &space.owner,
                plan: spec,
                interval: &interval,
                price_minor: price.amount_minor,
                currency: &config.currency,
            };
            super::discounts::quote(&caller.state.db, &asked, caller.state.now_ms())
                .await?
                .map_err(|refused| AppError::invalid("promo_code", refused.message()))
        },
    )
    .await
}

/// What changing to `plan` paid each `interval` would do, to show before confirming.
#[server(endpoint = "preview_plan_change", output = crate::infra::wire::Wire)]
pub async fn preview_plan_change(
    org: Option<String>,
    plan: String,
    interval: String,
) -> Result<super::PlanChangeQuote, AppError> {
    Caller::in_workspace(
        org,
        Need::Manage,
        async |caller: &Caller, _user: User, space: Workspace| {
            let billing = billing(&caller.state)?;
            super::change::preview(&billing, &space.owner, &plan, &interval).await
        },
    )
    .await
}

/// Makes the change `preview_plan_change` showed (`quoted_at` and `charge_minor` are
/// from it, so the charge is the amount shown).
#[server(endpoint = "change_plan", output = crate::infra::wire::Wire)]
pub async fn change_plan(
    org: Option<String>,
    plan: String,
    interval: String,
    quoted_at: i64,
    charge_minor: i64,
) -> Result<(), AppError> {
    Caller::in_workspace(
        org,
        Need::Manage,
        async |caller: &Caller, _user: User, space: Workspace| {
            let billing = billing(&caller.state)?;
            let changed = super::change::change(
                &billing,
                &space.owner,
                &plan,
                &interval,
                quoted_at,
                charge_minor,
            )
            .await;
            if let Some(live) = store::live(&caller.state.db.pool, &space.owner).await? {
                caller.state.upcoming_invoices.forget(&live.id);
            }
            changed.map(|_| ())
        },
    )
    .await
}

/// Cancels at the end of the period, with an optional reason.
#[server(endpoint = "cancel_subscription", output = crate::infra::wire::Wire)]
pub async fn cancel_subscription(org: Option<String>, reason: String) -> Result<(), AppError> {
    Caller::in_workspace(
        org,
        Need::Manage,
        async |caller: &Caller, _user: User, space: Workspace| {
            let billing = billing(&caller.state)?;
            let row = lifecycle::set_cancel(&billing, &space.owner, true, Some(&reason)).await?;
            caller.state.upcoming_invoices.forget(&row.id);
            Ok(())
        },
    )
    .await
}

/// Undoes a cancellation before the period ends.
#[server(endpoint = "resume_subscription", output = crate::infra::wire::Wire)]
pub async fn resume_subscription(org: Option<String>) -> Result<(), AppError> {
    Caller::in_workspace(
        org,
        Need::Manage,
        async |caller: &Caller, _user: User, space: Workspace| {
            let billing = billing(&caller.state)?;
            let row = lifecycle::set_cancel(&billing, &space.owner, false, None).await?;
            caller.state.upcoming_invoices.forget(&row.id);
            Ok(())
        },
    )
    .await
}

/// Replaces the card on file with the one the card form tokenised.
#[server(endpoint = "update_card", output = crate::infra::wire::Wire)]
pub async fn update_card(org: Option<String>, card_token: String) -> Result<(), AppError> {
    Caller::in_workspace(
        org,
        Need::Manage,
        async |caller: &Caller, _user: User, space: Workspace| {
            let billing = billing(&caller.state)?;
            lifecycle::update_card(&billing, &space.owner, &card_token)
                .await
                .map(|_| ())
        },
    )
    .await
}

/// Admin > Subscriptions, for operators only.
#[server(endpoint = "admin_subscriptions", output = crate::infra::wire::Wire)]
pub async fn admin_subscriptions() -> Result<super::AdminSubscriptions, AppError> {
    Caller::admin(async |caller: &Caller, _user: User| {
        let state = &caller.state;
        super::report::admin_report(&state.db, &state.config.plans, &state.config.currency).await
    })
    .await
}
