//! The Lab page's, the dashboard card's and the sidebar's server functions, and the
//! Admin section's Lab tools.

use super::{LabOverview, LabSession, ServerStatus};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use {
    super::{control, store, StopReason},
    crate::auth::User,
    crate::web::request::Caller,
};

/// Sessions the history shows.
pub const HISTORY_LENGTH: i64 = 20;

#[cfg(feature = "ssr")]
fn lab_of(caller: &Caller) -> Result<&control::Lab, AppError> {
    caller
        .state
        .lab
        .as_ref()
        .ok_or_else(|| AppError::Unavailable(control::NOT_SET_UP.into()))
}

#[server(endpoint = "lab_summary", output = crate::infra::wire::Wire)]
pub async fn lab_summary() -> Result<LabOverview, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        let state = &caller.state;
        control::overview(state.lab.as_ref(), &state.db, &user.id, state.now_ms()).await
    })
    .await
}

#[server(endpoint = "lab_history", output = crate::infra::wire::Wire)]
pub async fn lab_history() -> Result<Vec<LabSession>, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        store::history(&caller.state.db, &user.id, HISTORY_LENGTH).await
    })
    .await
}

/// Starts the person's server; answers the URL of their JupyterLab.
#[server(endpoint = "launch_lab", output = crate::infra::wire::Wire)]
pub async fn launch_lab() -> Result<String, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        let state = &caller.state;
        control::launch(lab_of(caller)?, &state.db, &user.id, state.now_ms()).await
    })
    .await
}

#[server(endpoint = "stop_lab", output = crate::infra::wire::Wire)]
pub async fn stop_lab() -> Result<ServerStatus, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        let state = &caller.state;
        control::stop(
            lab_of(caller)?,
            &state.db,
            &user.id,
            StopReason::User,
            state.now_ms(),
        )
        .await
    })
    .await
}

#[server(endpoint = "set_continue_with_credits", output = crate::infra::wire::Wire)]
pub async fn set_continue_with_credits(on: bool) -> Result<(), AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        let state = &caller.state;
        lab_of(caller)?;
        store::ensure_account(&state.db, &user.id, state.now_ms()).await?;
        store::set_continue_with_credits(&state.db, &user.id, on).await
    })
    .await
}

#[server(endpoint = "dismiss_lab_notice", output = crate::infra::wire::Wire)]
pub async fn dismiss_lab_notice(session_id: String) -> Result<(), AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        store::dismiss_notice(&caller.state.db, &user.id, &session_id).await
    })
    .await
}

/// A running server, as the Admin section lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningServer {
    pub user_id: String,
    pub email: String,
    pub started_at: i64,
    pub cpu_ms: i64,
}

#[server(endpoint = "admin_lab_servers", output = crate::infra::wire::Wire)]
pub async fn admin_lab_servers() -> Result<Vec<RunningServer>, AppError> {
    Caller::admin(async |caller: &Caller, _user: User| {
        Ok(store::open_sessions(&caller.state.db)
            .await?
            .into_iter()
            .map(|s| RunningServer {
                user_id: s.user_id,
                email: s.email,
                started_at: s.started_at,
                cpu_ms: s.cpu_ms,
            })
            .collect())
    })
    .await
}

#[server(endpoint = "admin_stop_lab", output = crate::infra::wire::Wire)]
pub async fn admin_stop_lab(user_id: String) -> Result<(), AppError> {
    Caller::admin(async |caller: &Caller, admin: User| {
        let state = &caller.state;
        if store::open_session_of(&state.db, &user_id).await?.is_none() {
            return Err(AppError::NotFound);
        }
        control::stop(
            lab_of(caller)?,
            &state.db,
            &user_id,
            StopReason::Operator,
            state.now_ms(),
        )
        .await?;
        tracing::info!(user = %user_id, by = %admin.id, "Lab server stopped by an operator");
        Ok(())
    })
    .await
}

/// The plans an operator may put a person on: (id, name), in the catalog's order.
#[server(endpoint = "admin_plans", output = crate::infra::wire::Wire)]
pub async fn admin_plans() -> Result<Vec<(String, String)>, AppError> {
    Caller::admin(async |caller: &Caller, _admin: User| {
        let plans = caller.state.config.plans.all();
        Ok(plans
            .iter()
            .map(|p| (p.id.clone(), p.name.clone()))
            .collect())
    })
    .await
}

#[server(endpoint = "admin_set_plan", output = crate::infra::wire::Wire)]
pub async fn admin_set_plan(email: String, plan: String) -> Result<(), AppError> {
    Caller::admin(async |caller: &Caller, admin: User| {
        let state = &caller.state;
        let plans = &state.config.plans;
        let plan = plans
            .find(&plan)
            .ok_or_else(|| AppError::invalid("plan", format!("Choose {}.", plans.ids_listed())))?;
        if email.trim().is_empty() {
            return Err(AppError::invalid("email", "Enter the person's email."));
        }
        if !store::set_plan(&state.db, &email, &plan.id, state.now_ms()).await? {
            return Err(AppError::invalid("email", "No account has this email."));
        }
        tracing::info!(plan = %plan.id, by = %admin.id, "Lab plan set");
        Ok(())
    })
    .await
}
