//! What a person (or an operator) does with a Lab server: read its state and the
//! month's compute, launch it, stop it. The hub's answer is the truth about the
//! server; Keyward's tables hold the sessions and the compute used.

use super::store::{self, LabAccount};
use super::{Availability, ComputeUse, LabOverview, ServerStatus, StopReason};
use crate::error::AppError;
use crate::infra::db::Db;
use crate::infra::hub_config::HubConnection;
use crate::infra::jupyterhub::{Hub, HubError, ServerState};
use crate::infra::lab_config::LabSettings;
use crate::infra::plans::PlanCatalog;
use crate::wallet::ledger;
use crate::workspace::Owner;

/// The hub Lab servers run on, and how they are metered.
#[derive(Clone, Debug)]
pub struct Lab {
    pub hub: Hub,
    /// The hub's URL as browsers reach it.
    pub hub_url: String,
    pub settings: LabSettings,
    /// Each plan's monthly compute hours (`lab_hours`).
    pub plans: PlanCatalog,
}

pub const NOT_SET_UP: &str = "Lab is not set up on this server.";
pub const UNAVAILABLE: &str = "Lab is unavailable right now. Try again in a few minutes.";

impl Lab {
    pub fn new(
        connection: &HubConnection,
        settings: LabSettings,
        plans: PlanCatalog,
    ) -> Result<Self, String> {
        Ok(Self {
            hub: Hub::new(connection)?,
            hub_url: connection.url.trim_end_matches('/').to_string(),
            settings,
            plans,
        })
    }
}

fn unavailable(error: HubError) -> AppError {
    tracing::warn!(%error, "Lab hub call failed");
    AppError::Unavailable(UNAVAILABLE.into())
}

pub fn status_of(state: &ServerState) -> ServerStatus {
    match state {
        ServerState::Stopped => ServerStatus::Stopped,
        ServerState::Starting { .. } => ServerStatus::Starting,
        ServerState::Running {
            started_at_ms,
            last_activity_ms,
        } => ServerStatus::Running {
            started_at: *started_at_ms,
            last_activity_at: *last_activity_ms,
        },
        ServerState::Stopping => ServerStatus::Stopping,
    }
}

/// The month's compute against the plan's limit. A plan the catalog no longer has
/// counts as the free plan.
pub async fn compute_use(
    db: &Db,
    lab: &Lab,
    account: &LabAccount,
    now: i64,
) -> Result<ComputeUse, AppError> {
    let settings = &lab.settings;
    let owner = crate::workspace::Owner::User(account.user_id.clone());
    let (plan_id, _) = crate::billing::store::plan_of(db, &lab.plans, &owner, now).await?;
    let plan = lab.plans.or_free(&plan_id);
    let (used_cpu_ms, paid_hours) = store::month_usage(db, &account.user_id, now).await?;
    Ok(ComputeUse {
        plan: plan.id.clone(),
        plan_name: plan.name.clone(),
        used_cpu_ms,
        limit_hours: plan.lab_hours,
        paid_hours,
        cpus: settings.cpus,
        continue_with_credits: account.continue_with_credits,
        credits_per_cpu_hour: settings.credits_per_cpu_hour,
        resets_at: store::next_month_start(now),
    })
}

/// The server as the hub reports it.
async fn server_status(lab: &Lab, hub_name: &str) -> Result<ServerStatus, HubError> {
    Ok(match lab.hub.user(hub_name).await? {
        Some(user) => status_of(&user.server),
        None => ServerStatus::Stopped,
    })
}

/// What the Lab page, the dashboard and the sidebar show. A hub that is down makes
/// the server's state `Unavailable`; it never fails the call.
pub async fn overview(
    lab: Option<&Lab>,
    db: &Db,
    user_id: &str,
    now: i64,
) -> Result<LabOverview, AppError> {
    let Some(lab) = lab else {
        return Ok(LabOverview {
            availability: Availability::NotSetUp,
            compute: None,
            notice: None,
            idle_minutes: 0,
            lab_url: None,
        });
    };
    let account = store::ensure_account(db, user_id, now).await?;
    let availability = match server_status(lab, &account.hub_name).await {
        Ok(status) => Availability::Available(status),
        Err(error) => {
            tracing::warn!(%error, "Lab hub call failed");
            Availability::Unavailable
        }
    };
    Ok(LabOverview {
        availability,
        compute: Some(compute_use(db, lab, &account, now).await?),
        notice: store::notice(db, user_id).await?,
        idle_minutes: lab.settings.idle_minutes,
        lab_url: Some(lab_url(lab, &account.hub_name)),
    })
}

/// Why launching is refused now, if it is: the month's hours are used up and the
/// person does not pay with credits, or their wallet cannot pay the next hour.
async fn refusal(db: &Db, compute: &ComputeUse, user_id: &str) -> Result<Option<String>, AppError> {
    let resets = crate::time_fmt::date(compute.resets_at);
    // A server the meter would stop while the hub still starts it: refused, and why.
    if compute.under_a_minute_left() && !compute.continue_with_credits {
        let seconds = compute.left_cpu_ms() / compute.cpus.max(1) / 1000;
        return Ok(Some(format!(
            "Only {} of your {} plan's compute hours are left this month: too little to start a server. Lab can launch again on {resets}, or turn on Continue with credits.",
            crate::time_fmt::duration_words(seconds.max(0) as u64),
            compute.plan_name
        )));
    }
    if !compute.limit_reached() {
        return Ok(None);
    }
    let used_up = format!(
        "You have used all {} compute hours of your {} plan this month.",
        compute.limit_hours, compute.plan_name
    );
    if !compute.continue_with_credits {
        return Ok(Some(format!(
            "{used_up} Lab can launch again on {resets}, or turn on Continue with credits."
        )));
    }
    let due = store::hours_due(compute.used_cpu_ms, compute.limit_hours);
    let balance = ledger::balance(db, &Owner::User(user_id.to_string())).await?;
    if compute.paid_hours < due && balance < compute.credits_per_cpu_hour {
        return Ok(Some(format!(
            "{used_up} Continuing costs {} credits per CPU hour and your wallet has {}. Buy credits, or wait until {resets}.",
            compute.credits_per_cpu_hour,
            crate::wallet::format_credits(balance)
        )));
    }
    Ok(None)
}

/// Starts the person's server through the hub and answers where their browser goes:
/// their JupyterLab, which the hub opens once it has signed them in through Keyward.
pub async fn launch(lab: &Lab, db: &Db, user_id: &str, now: i64) -> Result<String, AppError> {
    let account = store::ensure_account(db, user_id, now).await?;
    let compute = compute_use(db, lab, &account, now).await?;
    if let Some(message) = refusal(db, &compute, user_id).await? {
        return Err(AppError::LimitReached(message));
    }
    lab.hub
        .ensure_user(&account.hub_name)
        .await
        .map_err(unavailable)?;
    lab.hub
        .start(&account.hub_name)
        .await
        .map_err(unavailable)?;
    store::open_session(db, user_id, now).await?;
    tracing::info!(user = %user_id, hub_user = %account.hub_name, "Lab server launched");
    Ok(lab_url(lab, &account.hub_name))
}

fn lab_url(lab: &Lab, hub_name: &str) -> String {
    format!("{}/user/{hub_name}/lab", lab.hub_url)
}

/// Stops the person's server for `reason` and ends its session. Answers the state the
/// hub reports afterwards (often `Stopping` for a moment).
pub async fn stop(
    lab: &Lab,
    db: &Db,
    user_id: &str,
    reason: StopReason,
    now: i64,
) -> Result<ServerStatus, AppError> {
    let account = store::ensure_account(db, user_id, now).await?;
    let session = store::open_session_of(db, user_id).await?;
    if let Some(session) = &session {
        store::request_stop(db, &session.id, reason).await?;
    }
    lab.hub.stop(&account.hub_name).await.map_err(unavailable)?;
    if let Some(session) = &session {
        store::close_session(db, session, now, lab.settings.cpus, reason).await?;
    }
    tracing::info!(user = %user_id, reason = reason.as_str(), "Lab server stopped");
    server_status(lab, &account.hub_name)
        .await
        .map_err(unavailable)
}
