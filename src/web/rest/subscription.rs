//! `/api/v1/subscription`: a key reading its owner's plan and what is left of the
//! credits it included. Plans are paid by card through Stripe Billing once that lands;
//! today a person is on the free plan or on one an operator gave them
//! (`keyward plan set`), and an organization is on the free plan.

use super::auth::ApiCaller;
use super::error::{ApiResult, ErrorBody};
use crate::wallet::included;
use crate::web::state::AppState;
use crate::workspace::Owner;
use axum::{extract::State, Extension, Json};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Subscription {
    /// The plan's id: "free", "standard", "pro" or one the operator configured.
    plan: String,
    /// The plan's name as people read it.
    plan_name: String,
    /// "active".
    status: &'static str,
    /// "free" (nobody pays for it) or "complimentary" (an operator's gift).
    source: &'static str,
    /// "month" or "year" for a paid subscription; absent otherwise.
    interval: Option<&'static str>,
    /// When the paid period ends (Unix milliseconds); absent without one.
    current_period_end: Option<i64>,
    /// Whether the plan ends with the period instead of renewing.
    cancel_at_period_end: bool,
    /// What is left of the credits the plan included; spent before bought ones.
    included_credits_left: i64,
    /// When the first of those expire (Unix milliseconds); absent without any.
    included_credits_expire_at: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/subscription", tag = "billing", security(("api_key" = [])),
    responses((status = 200, body = Subscription), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn subscription(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
) -> ApiResult<Json<Subscription>> {
    caller.require("billing:read")?;
    let owner = caller.key.owner();
    let plans = &state.config.plans;
    let plan_id = match &owner {
        Owner::User(user_id) => crate::lab::store::account_of(&state.db, user_id)
            .await?
            .map(|account| account.plan),
        Owner::Org(_) => None,
    };
    let plan = plan_id
        .as_deref()
        .map_or_else(|| plans.free(), |id| plans.or_free(id));
    let left = included::left(&state.db, &owner).await?;
    Ok(Json(Subscription {
        plan: plan.id.clone(),
        plan_name: plan.name.clone(),
        status: "active",
        source: if plan.is_free() {
            "free"
        } else {
            "complimentary"
        },
        interval: None,
        current_period_end: None,
        cancel_at_period_end: false,
        included_credits_left: left.credits,
        included_credits_expire_at: left.first_expiry,
    }))
}
