//! The account dashboard's summary of a person's keys and their use.

#[cfg(feature = "ssr")]
mod server;

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSummary {
    pub email: String,
    pub member_since: i64,
    pub active_keys: i64,
    pub total_keys: i64,
    pub requests_30d: i64,
    pub last_used_at: Option<i64>,
}

#[server(endpoint = "account_overview")]
pub async fn account_overview() -> Result<AccountSummary, AppError> {
    let caller = crate::server::request::Caller::from_context()?;
    let result = async {
        let user = caller.user().await?;
        server::overview(&caller.state, &user).await
    }
    .await;
    caller.reply(result)
}
