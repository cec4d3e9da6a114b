//! `/api/v1/subscription`: a key reading its owner's plan and what is left of the
//! credits it included: a paid subscription's plan (Stripe Billing), else one an
//! operator gave the person (`keyward plan set`), else the free plan.

use super::auth::ApiCaller;
use super::error::{ApiResult, ErrorBody};
use crate::billing::store::{self, PlanSource};
use crate::wallet::included;
use crate::web::state::AppState;
use axum::{extract::State, Extension, Json};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Subscription {
    /// The plan's id: "free", "standard", "pro" or one the operator configured.
    plan: String,
    /// The plan's name as people read it.
    plan_name: String,
    /// "active", or a paid subscription's status: "past_due" while the card is being
    /// retried, "canceled" once it ended.
    status: String,
    /// "free" (nobody pays for it), "complimentary" (an operator's gift) or
    /// "subscription" (paid through the billing provider).
    source: &'static str,
    /// "month" or "year" for a paid subscription; absent otherwise.
    interval: Option<String>,
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
    let (plan_id, source) = store::plan_of(&state.db, plans, &owner, state.now_ms()).await?;
    let plan = plans.or_free(&plan_id);
    let subscription = match source {
        PlanSource::Subscription(row) => Some(*row),
        _ => None,
    };
    let left = included::left(&state.db, &owner).await?;
    Ok(Json(Subscription {
        plan: plan.id.clone(),
        plan_name: plan.name.clone(),
        status: subscription
            .as_ref()
            .map_or_else(|| "active".to_string(), |row| row.status.clone()),
        source: match (&subscription, plan.is_free()) {
            (Some(_), _) => "subscription",
            (None, true) => "free",
            (None, false) => "complimentary",
        },
        interval: subscription.as_ref().map(|row| row.interval.clone()),
        current_period_end: subscription.as_ref().map(|row| row.current_period_end),
        cancel_at_period_end: subscription
            .as_ref()
            .is_some_and(|row| row.cancel_at_period_end),
        included_credits_left: left.credits,
        included_credits_expire_at: left.first_expiry,
    }))
}
