//! Server functions behind the API Keys page. Each checks the session, calls the
//! store with the caller's own user id, and answers.

use super::{Expiry, KeyDetails, KeySummary, KeysPage, RevealedKey};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::{rules::NewKey, store::Actor},
    crate::auth::User,
    crate::web::request::Caller,
};

#[cfg(feature = "ssr")]
fn actor(caller: &Caller, user: &User) -> Actor {
    Actor {
        user_id: user.id.clone(),
        label: user.email.clone(),
        client_addr: caller.client_addr.clone(),
    }
}

#[server(endpoint = "list_keys")]
pub async fn list_keys() -> Result<KeysPage, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        let keys = &caller.state.keys;
        Ok(KeysPage {
            keys: keys.list(&user.id).await?,
            catalog: keys.catalog(),
            now: caller.state.now_ms(),
        })
    })
    .await
}

#[server(endpoint = "key_details")]
pub async fn get_key_details(id: String) -> Result<KeyDetails, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        caller.state.keys.details(&user.id, &id).await
    })
    .await
}

#[server(endpoint = "create_key", input = leptos::server_fn::codec::Json)]
pub async fn create_key(
    name: String,
    scopes: Vec<String>,
    expiry: Expiry,
) -> Result<RevealedKey, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        let input = NewKey {
            name,
            scopes,
            expiry,
            not_after: None,
        };
        caller.state.keys.create(&actor(caller, &user), input).await
    })
    .await
}

#[server(endpoint = "regenerate_key")]
pub async fn regenerate_key(id: String, grace_secs: i64) -> Result<RevealedKey, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        let keys = &caller.state.keys;
        keys.regenerate(&actor(caller, &user), &id, grace_secs)
            .await
    })
    .await
}

#[server(endpoint = "delete_key")]
pub async fn delete_key(id: String) -> Result<(), AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        caller.state.keys.delete(&actor(caller, &user), &id).await
    })
    .await
}

#[server(endpoint = "set_key_active")]
pub async fn set_key_active(id: String, active: bool) -> Result<KeySummary, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        let keys = &caller.state.keys;
        keys.set_active(&actor(caller, &user), &id, active).await
    })
    .await
}

/// Sets the key's monthly spending limit in credits; `limit` empty removes it.
#[server(endpoint = "set_key_spend_limit")]
pub async fn set_key_spend_limit(id: String, limit: String) -> Result<KeySummary, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        let limit = super::parse_spend_limit(&limit)?;
        let keys = &caller.state.keys;
        keys.set_spend_limit(&actor(caller, &user), &id, limit)
            .await
    })
    .await
}
