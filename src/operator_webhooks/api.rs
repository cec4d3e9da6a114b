//! Admin > Webhooks' server functions: operators only.

use super::{NewEndpoint, WebhooksOverview};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {crate::auth::User, crate::web::request::Caller};

/// Deliveries the page lists.
#[cfg(feature = "ssr")]
const RECENT_DELIVERIES: i64 = 50;

#[server(endpoint = "list_webhooks", output = crate::infra::wire::Wire)]
pub async fn list_webhooks() -> Result<WebhooksOverview, AppError> {
    Caller::admin(async |caller: &Caller, _user: User| {
        super::endpoints::overview(&caller.state.db, RECENT_DELIVERIES).await
    })
    .await
}

/// Adds an endpoint; the answer holds its signing secret, shown this once.
#[server(endpoint = "add_webhook_endpoint", input = leptos::server_fn::codec::Json, output = crate::infra::wire::Wire)]
pub async fn add_webhook_endpoint(
    url: String,
    events: Vec<String>,
) -> Result<NewEndpoint, AppError> {
    Caller::admin(async |caller: &Caller, user: User| {
        let state = &caller.state;
        let made = super::endpoints::create(&state.db, &url, &events, state.now_ms()).await?;
        tracing::info!(endpoint = %made.endpoint.id, by = %user.id, "webhook endpoint added");
        Ok(made)
    })
    .await
}

#[server(endpoint = "set_webhook_endpoint_active", output = crate::infra::wire::Wire)]
pub async fn set_webhook_endpoint_active(id: String, active: bool) -> Result<(), AppError> {
    Caller::admin(async |caller: &Caller, _user: User| {
        super::endpoints::set_active(&caller.state.db, &id, active).await
    })
    .await
}

#[server(endpoint = "remove_webhook_endpoint", output = crate::infra::wire::Wire)]
pub async fn remove_webhook_endpoint(id: String) -> Result<(), AppError> {
    Caller::admin(async |caller: &Caller, user: User| {
        let state = &caller.state;
        super::endpoints::remove(&state.db, &id, state.now_ms()).await?;
        tracing::info!(endpoint = %id, by = %user.id, "webhook endpoint removed");
        Ok(())
    })
    .await
}

/// Sends a delivery's event again to its endpoint.
#[server(endpoint = "resend_webhook", output = crate::infra::wire::Wire)]
pub async fn resend_webhook(id: String) -> Result<String, AppError> {
    Caller::admin(async |caller: &Caller, _user: User| {
        let state = &caller.state;
        super::endpoints::resend(&state.db, &id, state.now_ms()).await
    })
    .await
}
