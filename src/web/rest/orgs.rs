//! `/api/v1/orgs`: the organizations a key can see. A personal key sees its person's
//! organizations; an organization's key sees that organization alone. Any other id
//! answers 404, exactly as one that does not exist.

use super::auth::ApiCaller;
use super::error::{ApiResult, ErrorBody};
use crate::error::AppError;
use crate::orgs::{access, members};
use crate::web::state::AppState;
use axum::{
    extract::{Path, State},
    Extension, Json,
};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Organization {
    id: String,
    name: String,
    slug: String,
    /// The key's person's role (`owner`, `admin`, `member`); absent for an organization's key.
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<String>,
    /// Unix milliseconds.
    created_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct OrgMember {
    user_id: String,
    email: String,
    role: String,
    /// Unix milliseconds.
    joined_at: i64,
    last_active_at: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/orgs", tag = "orgs", security(("api_key" = [])),
    responses((status = 200, body = Vec<Organization>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn list_orgs(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
) -> ApiResult<Json<Vec<Organization>>> {
    caller.require("org:read")?;
    let key = &caller.key;
    let orgs = access::organizations_of(&state.db, &key.user_id).await?;
    let visible = orgs
        .into_iter()
        .filter(|org| key.org.as_ref().is_none_or(|own| own.id == org.id))
        .map(|org| Organization {
            role: key.org.is_none().then(|| org.role.as_str().to_string()),
            id: org.id,
            name: org.name,
            slug: org.slug,
            created_at: org.created_at,
        });
    Ok(Json(visible.collect()))
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/members", tag = "orgs", security(("api_key" = [])),
    params(("id" = String, Path, description = "The organization's id")),
    responses((status = 200, body = Vec<OrgMember>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn org_members(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<OrgMember>>> {
    caller.require("org:read")?;
    let key = &caller.key;
    let org_id = match &key.org {
        Some(own) if own.id == id => own.id.clone(),
        Some(_) => return Err(AppError::NotFound.into()),
        None => {
            crate::workspace::access::membership_by_id(&state.db, &id, &key.user_id)
                .await?
                .org_id
        }
    };
    let list = members::list(&state.db, &org_id).await?;
    Ok(Json(
        list.into_iter()
            .map(|m| OrgMember {
                user_id: m.user_id,
                email: m.email,
                role: m.role.as_str().to_string(),
                joined_at: m.joined_at,
                last_active_at: m.last_active_at,
            })
            .collect(),
    ))
}
