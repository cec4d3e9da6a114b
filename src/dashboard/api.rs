//! The dashboard's server function.

use super::Overview;
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {crate::auth::User, crate::web::request::Caller};

#[server(endpoint = "account_overview")]
pub async fn account_overview() -> Result<Overview, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        let state = &caller.state;
        super::server::overview(&state.keys, &state.db, state.now_ms(), &user).await
    })
    .await
}
