//! `GET /api/v1/me`: the account a key belongs to.

use super::auth::ApiCaller;
use super::error::{ApiResult, ErrorBody};
use axum::{Extension, Json};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Me {
    id: String,
    email: String,
    /// Sign-up time, Unix milliseconds.
    created_at: i64,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "account", security(("api_key" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn me(Extension(caller): Extension<ApiCaller>) -> ApiResult<Json<Me>> {
    caller.require("account:read")?;
    Ok(Json(Me {
        id: caller.key.user_id.clone(),
        email: caller.key.owner_email.clone(),
        created_at: caller.key.owner_created_at,
    }))
}
