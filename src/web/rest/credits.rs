//! `/api/v1/credits`: a key reading its owner's wallet.

use super::auth::ApiCaller;
use super::error::{ApiError, ApiResult, ErrorBody};
use crate::wallet::{ledger, summary, EntryKind, LedgerPage, LEDGER_PAGE_SIZE};
use crate::web::state::AppState;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    Extension, Json,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct Credits {
    /// Whole credits; may be negative after a refund of credits already spent.
    balance: i64,
    /// The part of the balance a plan included: spent first, and what is left of it
    /// expires at the end of its period.
    included: i64,
    /// The rest of the balance: bought, granted or given credits, which never expire.
    bought: i64,
    /// When the first of the included credits expire (Unix milliseconds); absent
    /// without included credits.
    included_expires_at: Option<i64>,
    /// Credits held for jobs that have not ended: not in `balance` (which is what can be
    /// spent) until they are released or charged.
    on_hold: i64,
    /// Final costs of jobs beyond what the balance could cover.
    owed: i64,
    /// The balance's worth in the currency's minor unit (cents).
    value_minor: i64,
    currency: String,
    /// Credits spent per day, averaged over the last 30 days (charges less refunds).
    burn_rate_per_day: f64,
    /// Days the balance lasts at that rate; absent when nothing is being spent.
    runway_days: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/credits", tag = "credits", security(("api_key" = [])),
    responses((status = 200, body = Credits), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn credits(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
) -> ApiResult<Json<Credits>> {
    caller.require("credits:read")?;
    let owner = caller.key.owner();
    let summary = summary::read(&state.db, &state.config, &owner, state.now_ms()).await?;
    Ok(Json(Credits {
        balance: summary.balance,
        included: summary.included,
        bought: summary.balance - summary.included,
        included_expires_at: (summary.included > 0)
            .then_some(summary.included_expires_at)
            .flatten(),
        value_minor: summary.value_minor,
        on_hold: summary.on_hold,
        owed: summary.owed,
        burn_rate_per_day: summary.burn_rate_per_day(),
        runway_days: summary.runway_days(),
        currency: summary.currency,
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct TransactionsQuery {
    /// Only entries of this kind: purchase, promo_grant, operator_grant, included_grant,
    /// charge, refund, adjustment, allocation, expiry.
    kind: Option<String>,
    /// `next_before` from the previous page.
    before: Option<String>,
    /// Entries per page, 1 to 50 (default 50).
    limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/v1/credits/transactions", tag = "credits", security(("api_key" = [])),
    params(TransactionsQuery),
    responses((status = 200, body = LedgerPage), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(super) async fn transactions(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
    query: Result<Query<TransactionsQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<LedgerPage>> {
    caller.require("credits:read")?;
    let Ok(Query(query)) = query else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "Query parameters are kind, before and limit (1 to 50).",
        ));
    };
    let kind = match query.kind.as_deref() {
        None | Some("") => None,
        Some(text) => Some(EntryKind::parse(text).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "kind is one of purchase, promo_grant, operator_grant, charge, refund, adjustment, allocation.",
            )
        })?),
    };
    let owner = caller.key.owner();
    let page = ledger::entries(
        &state.db,
        &owner,
        kind,
        query.before.as_deref().filter(|b| !b.is_empty()),
        query.limit.unwrap_or(LEDGER_PAGE_SIZE),
    )
    .await?;
    Ok(Json(page))
}
