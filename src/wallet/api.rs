//! The Wallet page's server functions. `org` is an organization's slug (its wallet,
//! which any member sees and only Owners and Admins buy for), or None for the person's.

use super::{LedgerPage, WalletSummary};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::{ledger, EntryKind, Owner, LEDGER_PAGE_SIZE},
    crate::auth::User,
    crate::web::request::Caller,
    crate::workspace::access::{Need, Workspace},
};

#[server(endpoint = "wallet_overview", output = crate::infra::wire::Wire)]
pub async fn wallet_overview(org: Option<String>) -> Result<WalletSummary, AppError> {
    Caller::in_workspace(
        org,
        Need::Use,
        async |caller: &Caller, _user: User, space: Workspace| {
            let state = &caller.state;
            let summary =
                super::summary::read(&state.db, &state.config, &space.owner, state.now_ms());
            Ok(WalletSummary {
                can_buy: space.can_manage(),
                ..summary.await?
            })
        },
    )
    .await
}

/// One page of the person's ledger, newest first; `kind` "" for all kinds.
#[server(endpoint = "wallet_transactions", output = crate::infra::wire::Wire)]
pub async fn wallet_transactions(
    org: Option<String>,
    kind: String,
    before: Option<String>,
) -> Result<LedgerPage, AppError> {
    Caller::in_workspace(
        org,
        Need::Use,
        async |caller: &Caller, _user: User, space: Workspace| {
            let state = &caller.state;
            let kind = match kind.as_str() {
                "" => None,
                text => Some(EntryKind::parse(text).ok_or(AppError::NotFound)?),
            };
            ledger::entries(
                &state.db,
                &space.owner,
                kind,
                before.as_deref(),
                LEDGER_PAGE_SIZE,
            )
            .await
        },
    )
    .await
}

/// Packs, bounds and price for the Buy credits form.
#[server(endpoint = "purchase_options", output = crate::infra::wire::Wire)]
pub async fn purchase_options() -> Result<super::PurchaseOptions, AppError> {
    Caller::signed_in(async |caller: &Caller, _user: User| {
        let state = &caller.state;
        Ok(super::orders::purchase_options(
            &state.config,
            state.payments.as_deref(),
        ))
    })
    .await
}

/// Starts an order for `credits`; answers its id for the checkout page.
#[server(endpoint = "create_order", output = crate::infra::wire::Wire)]
pub async fn create_order(org: Option<String>, credits: i64) -> Result<String, AppError> {
    Caller::in_workspace(
        org,
        Need::Manage,
        async |caller: &Caller, user: User, space: Workspace| {
            let (state, now) = (&caller.state, caller.state.now_ms());
            let org_id = space.membership.as_ref().map(|m| m.org_id.as_str());
            super::orders::create(&state.db, &state.config, &user.id, org_id, credits, now).await
        },
    )
    .await
}

#[server(endpoint = "order_details", output = crate::infra::wire::Wire)]
pub async fn order_details(order_id: String) -> Result<super::OrderView, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        super::orders::view(&caller.state.db.pool, &user.id, &order_id).await
    })
    .await
}

#[server(endpoint = "apply_promo_code", output = crate::infra::wire::Wire)]
pub async fn apply_promo_code(
    order_id: String,
    code: String,
) -> Result<super::OrderView, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        let state = &caller.state;
        super::order_promos::apply_promo(&state.db, &user.id, &order_id, &code, state.now_ms())
            .await
    })
    .await
}

#[server(endpoint = "remove_promo_code", output = crate::infra::wire::Wire)]
pub async fn remove_promo_code(order_id: String) -> Result<super::OrderView, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        super::order_promos::remove_promo(&caller.state.db, &user.id, &order_id).await
    })
    .await
}

/// Completes an order with nothing left to pay.
#[server(endpoint = "complete_order", output = crate::infra::wire::Wire)]
pub async fn complete_order(order_id: String) -> Result<super::OrderView, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        let state = &caller.state;
        let order = super::orders::view(&state.db.pool, &user.id, &order_id).await?;
        if order.total_minor > 0 {
            return Err(AppError::LimitReached(match state.payments {
                Some(_) => "This order has an amount to pay; pay it by card.".into(),
                None => "Card payments are not set up on this server. Only orders a promotion code pays in full can be completed.".into(),
            }));
        }
        super::orders::complete_free(&state.db, &user.id, &order_id, state.now_ms()).await
    })
    .await
}

/// Pays the order's total by card; `payment_method` is what the card form gave.
#[server(endpoint = "pay_order", output = crate::infra::wire::Wire)]
pub async fn pay_order(
    order_id: String,
    payment_method: String,
) -> Result<super::CardPaymentStep, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        let state = &caller.state;
        let provider = state.payments.as_deref().ok_or_else(card_payments_off)?;
        let now = state.now_ms();
        super::card_payments::pay(
            &state.db,
            provider,
            &user.id,
            &order_id,
            &payment_method,
            now,
        )
        .await
    })
    .await
}

/// Asks the provider how the order's payment stands (after the bank's confirmation
/// step, or while it is processing).
#[server(endpoint = "refresh_order_payment", output = crate::infra::wire::Wire)]
pub async fn refresh_order_payment(order_id: String) -> Result<super::OrderView, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        let state = &caller.state;
        let provider = state.payments.as_deref().ok_or_else(card_payments_off)?;
        super::card_payments::refresh(&state.db, provider, &user.id, &order_id, state.now_ms())
            .await
    })
    .await
}

#[cfg(feature = "ssr")]
fn card_payments_off() -> AppError {
    AppError::LimitReached("Card payments are not set up on this server.".into())
}

/// Sets the low-balance alert in credits; `threshold` empty turns it off. Answers the
/// threshold now in force.
#[server(endpoint = "set_low_balance_alert", output = crate::infra::wire::Wire)]
pub async fn set_low_balance_alert(threshold: String) -> Result<Option<i64>, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        let threshold = super::low_balance::parse_threshold(&threshold)?;
        let state = &caller.state;
        let owner = Owner::User(user.id);
        let alert =
            super::low_balance::set_threshold(&state.db, &owner, threshold, state.now_ms()).await?;
        Ok(alert.threshold)
    })
    .await
}
