//! `GET /api/v1/me`: whom a key acts for: a person, or an organization.

use super::auth::ApiCaller;
use super::error::{ApiResult, ErrorBody};
use axum::{Extension, Json};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Me {
    /// `user` for a personal key, `org` for an organization's key.
    #[serde(rename = "type")]
    kind: &'static str,
    /// The person's or the organization's id.
    id: String,
    /// The person's email (personal keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    /// The organization's name (organization keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    /// Sign-up time, Unix milliseconds (personal keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "account", security(("api_key" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn me(Extension(caller): Extension<ApiCaller>) -> ApiResult<Json<Me>> {
    caller.require("account:read")?;
    let key = &caller.key;
    Ok(Json(match &key.org {
        Some(org) => Me {
            kind: "org",
            id: org.id.clone(),
            email: None,
            name: Some(org.name.clone()),
            created_at: None,
        },
        None => Me {
            kind: "user",
            id: key.user_id.clone(),
            email: Some(key.owner_email.clone()),
            name: None,
            created_at: Some(key.owner_created_at),
        },
    }))
}
