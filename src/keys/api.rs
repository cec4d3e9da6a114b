//! Server functions behind the API Keys page. Each checks the session, resolves the
//! workspace (`org`: an organization's slug, or None for the person's own keys) with
//! the role the action needs, calls the store for that owner, and answers.

use super::{Expiry, KeyDetails, KeySummary, KeysPage, RevealedKey};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::{rules::NewKey, store::Actor},
    crate::auth::User,
    crate::web::request::Caller,
    crate::workspace::access::{Need, Workspace},
};

/// The person acting on the keys of the workspace they were let into.
#[cfg(feature = "ssr")]
fn actor(caller: &Caller, user: User, space: Workspace) -> Actor {
    Actor {
        user_id: user.id,
        owner: space.owner,
        label: user.email,
        client_addr: caller.client_addr.clone(),
    }
}

#[server(endpoint = "list_keys", output = crate::infra::wire::Wire)]
pub async fn list_keys(org: Option<String>) -> Result<KeysPage, AppError> {
    Caller::in_workspace(
        org,
        Need::Use,
        async |caller: &Caller, _user: User, space: Workspace| {
            let state = &caller.state;
            Ok(KeysPage {
                keys: state.keys.list(&space.owner).await?,
                catalog: state.keys.catalog(),
                now: state.now_ms(),
                can_manage: space.can_manage(),
            })
        },
    )
    .await
}

#[server(endpoint = "key_details", output = crate::infra::wire::Wire)]
pub async fn get_key_details(org: Option<String>, id: String) -> Result<KeyDetails, AppError> {
    Caller::in_workspace(
        org,
        Need::Use,
        async |caller: &Caller, _user: User, space: Workspace| {
            caller.state.keys.details(&space.owner, &id).await
        },
    )
    .await
}

#[server(endpoint = "create_key", input = leptos::server_fn::codec::Json, output = crate::infra::wire::Wire)]
pub async fn create_key(
    org: Option<String>,
    name: String,
    scopes: Vec<String>,
    expiry: Expiry,
) -> Result<RevealedKey, AppError> {
    Caller::in_workspace(
        org,
        Need::Manage,
        async |caller: &Caller, user: User, space: Workspace| {
            let input = NewKey {
                name,
                scopes,
                expiry,
                not_after: None,
            };
            let actor = actor(caller, user, space);
            caller.state.keys.create(&actor, input).await
        },
    )
    .await
}

#[server(endpoint = "regenerate_key", output = crate::infra::wire::Wire)]
pub async fn regenerate_key(
    org: Option<String>,
    id: String,
    grace_secs: i64,
) -> Result<RevealedKey, AppError> {
    Caller::in_workspace(
        org,
        Need::Manage,
        async |caller: &Caller, user: User, space: Workspace| {
            let actor = actor(caller, user, space);
            caller.state.keys.regenerate(&actor, &id, grace_secs).await
        },
    )
    .await
}

#[server(endpoint = "delete_key", output = crate::infra::wire::Wire)]
pub async fn delete_key(org: Option<String>, id: String) -> Result<(), AppError> {
    Caller::in_workspace(
        org,
        Need::Manage,
        async |caller: &Caller, user: User, space: Workspace| {
            let actor = actor(caller, user, space);
            caller.state.keys.delete(&actor, &id).await
        },
    )
    .await
}

#[server(endpoint = "set_key_active", output = crate::infra::wire::Wire)]
pub async fn set_key_active(
    org: Option<String>,
    id: String,
    active: bool,
) -> Result<KeySummary, AppError> {
    Caller::in_workspace(
        org,
        Need::Manage,
        async |caller: &Caller, user: User, space: Workspace| {
            let actor = actor(caller, user, space);
            caller.state.keys.set_active(&actor, &id, active).await
        },
    )
    .await
}

/// Sets the key's monthly spending limit in credits; `limit` empty removes it.
#[server(endpoint = "set_key_spend_limit", output = crate::infra::wire::Wire)]
pub async fn set_key_spend_limit(
    org: Option<String>,
    id: String,
    limit: String,
) -> Result<KeySummary, AppError> {
    Caller::in_workspace(
        org,
        Need::Manage,
        async |caller: &Caller, user: User, space: Workspace| {
            let limit = super::parse_spend_limit(&limit)?;
            let actor = actor(caller, user, space);
            caller.state.keys.set_spend_limit(&actor, &id, limit).await
        },
    )
    .await
}
