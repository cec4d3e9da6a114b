//! The dashboards' server functions.

use super::{OrgOverview, Overview};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    crate::auth::User,
    crate::web::request::Caller,
    crate::workspace::access::{Need, Workspace},
};

#[server(endpoint = "account_overview", output = crate::infra::wire::Wire)]
pub async fn account_overview() -> Result<Overview, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        let state = &caller.state;
        super::server::overview(
            &state.keys,
            &state.db,
            &state.config.plans,
            state.now_ms(),
            &user,
        )
        .await
    })
    .await
}

/// An organization's dashboard, for its members.
#[server(endpoint = "organization_overview", output = crate::infra::wire::Wire)]
pub async fn organization_overview(slug: String) -> Result<OrgOverview, AppError> {
    Caller::in_workspace(
        Some(slug),
        Need::Use,
        async |caller: &Caller, user: User, space: Workspace| {
            let state = &caller.state;
            let m = space.membership.ok_or(AppError::NotFound)?;
            super::server::org_overview(&state.db, &state.keys, &m, &user.id, state.now_ms()).await
        },
    )
    .await
}
