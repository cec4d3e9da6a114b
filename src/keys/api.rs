//! Server functions behind the API Keys page. Each checks the session, calls the
//! store with the caller's own user id, and answers.

use super::{Expiry, KeyDetails, KeySummary, KeysPage, RevealedKey};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::store::{self, Actor},
    crate::auth::User,
    crate::server::request::Caller,
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
    let caller = Caller::from_context()?;
    let result = async {
        let user = caller.user().await?;
        Ok(KeysPage {
            keys: store::list(&caller.state, &user.id).await?,
            catalog: store::catalog(&caller.state),
            now: caller.state.now_ms(),
        })
    }
    .await;
    caller.reply(result)
}

#[server(endpoint = "key_details")]
pub async fn get_key_details(id: String) -> Result<KeyDetails, AppError> {
    let caller = Caller::from_context()?;
    let result = async {
        let user = caller.user().await?;
        store::details(&caller.state, &user.id, &id).await
    }
    .await;
    caller.reply(result)
}

#[server(endpoint = "create_key", input = leptos::server_fn::codec::Json)]
pub async fn create_key(
    name: String,
    scopes: Vec<String>,
    expiry: Expiry,
) -> Result<RevealedKey, AppError> {
    let caller = Caller::from_context()?;
    let result = async {
        let user = caller.user().await?;
        let input = store::NewKey {
            name,
            scopes,
            expiry,
        };
        store::create(&caller.state, &actor(&caller, &user), input).await
    }
    .await;
    caller.reply(result)
}

#[server(endpoint = "regenerate_key")]
pub async fn regenerate_key(id: String, grace_secs: i64) -> Result<RevealedKey, AppError> {
    let caller = Caller::from_context()?;
    let result = async {
        let user = caller.user().await?;
        store::regenerate(&caller.state, &actor(&caller, &user), &id, grace_secs).await
    }
    .await;
    caller.reply(result)
}

#[server(endpoint = "delete_key")]
pub async fn delete_key(id: String) -> Result<(), AppError> {
    let caller = Caller::from_context()?;
    let result = async {
        let user = caller.user().await?;
        store::delete(&caller.state, &actor(&caller, &user), &id).await
    }
    .await;
    caller.reply(result)
}

#[server(endpoint = "set_key_active")]
pub async fn set_key_active(id: String, active: bool) -> Result<KeySummary, AppError> {
    let caller = Caller::from_context()?;
    let result = async {
        let user = caller.user().await?;
        store::set_active(&caller.state, &actor(&caller, &user), &id, active).await
    }
    .await;
    caller.reply(result)
}
