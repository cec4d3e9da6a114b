//! The Wallet page's server functions.

use super::{LedgerPage, WalletSummary};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::{ledger, EntryKind, Owner, BURN_DAYS, LEDGER_PAGE_SIZE},
    crate::auth::User,
    crate::usage::DailyCount,
    crate::web::request::Caller,
};

#[server(endpoint = "wallet_overview")]
pub async fn wallet_overview() -> Result<WalletSummary, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        let state = &caller.state;
        let owner = Owner::User(user.id);
        let now = state.now_ms();
        let balance = ledger::balance(&state.db, &owner).await?;
        let per_day = ledger::spent_per_day(&state.db, &owner, BURN_DAYS, now).await?;
        let today = now.div_euclid(crate::time_fmt::DAY_MS);
        let first = today - BURN_DAYS + 1;
        Ok(WalletSummary {
            balance,
            value_minor: balance.saturating_mul(state.config.credit_price_cents),
            currency: state.config.currency.clone(),
            spent_per_day: per_day
                .into_iter()
                .enumerate()
                .map(|(i, spent)| DailyCount {
                    day_start: (first + i as i64) * crate::time_fmt::DAY_MS,
                    requests: spent,
                })
                .collect(),
        })
    })
    .await
}

/// One page of the person's ledger, newest first; `kind` "" for all kinds.
#[server(endpoint = "wallet_transactions")]
pub async fn wallet_transactions(
    kind: String,
    before: Option<String>,
) -> Result<LedgerPage, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        let kind = match kind.as_str() {
            "" => None,
            text => Some(EntryKind::parse(text).ok_or(AppError::NotFound)?),
        };
        ledger::entries(
            &caller.state.db,
            &Owner::User(user.id),
            kind,
            before.as_deref(),
            LEDGER_PAGE_SIZE,
        )
        .await
    })
    .await
}
