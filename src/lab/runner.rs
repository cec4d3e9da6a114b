//! The background task that meters Lab servers and enforces their limits, once per
//! deployment: every `meter_secs` the process holding the lease reads the hub's
//! active servers, opens sessions for servers it did not start (from the hub's own
//! page, say), closes those that stopped, counts running time into the month, and
//! stops servers that are idle or past their plan's hours (or, with Continue with
//! credits, charges the wallet for each further CPU hour).

use super::control::{self, Lab};
use super::store::{self, OpenSession};
use super::StopReason;
use crate::error::AppError;
use crate::infra::clock::Clock;
use crate::infra::db::Db;
use crate::infra::jupyterhub::{HubUser, ServerState};
use crate::infra::mail::Mailer;
use crate::wallet::{ledger, EntryKind};
use crate::workspace::Owner;
use std::collections::HashMap;
use std::time::Duration;

#[derive(Clone)]
pub struct Runner {
    pub lab: Lab,
    pub db: Db,
    pub clock: Clock,
    pub mailer: Mailer,
    /// Where links in emails point.
    pub base_url: String,
    /// This process's name on the lease.
    pub holder: String,
}

/// What one pass did (for logs and tests).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    /// False when another process holds the lease (nothing was done).
    pub ran: bool,
    /// Sessions opened for servers started outside Keyward.
    pub opened: usize,
    /// Sessions closed because their server was gone.
    pub closed: usize,
    /// Servers this pass stopped: (user id, why).
    pub stopped: Vec<(String, StopReason)>,
    /// CPU hours charged to wallets.
    pub hours_charged: i64,
}

impl Runner {
    pub fn new(
        lab: Lab,
        db: Db,
        clock: Clock,
        mailer: Mailer,
        base_url: String,
    ) -> Result<Self, AppError> {
        Ok(Self {
            lab,
            db,
            clock,
            mailer,
            base_url,
            holder: crate::infra::random::id("runner")?,
        })
    }

    /// Runs a pass every `meter_secs` for as long as the process lives.
    pub fn start(self) {
        tokio::spawn(async move {
            let mut tick =
                tokio::time::interval(Duration::from_secs(self.lab.settings.meter_secs.max(1)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match self.pass().await {
                    Ok(pass) if !pass.stopped.is_empty() || pass.opened + pass.closed > 0 => {
                        tracing::info!(?pass, "Lab metering pass")
                    }
                    Ok(_) => {}
                    Err(error) => tracing::error!(%error, "Lab metering pass failed; will retry"),
                }
            }
        });
    }

    /// One pass at the clock's now.
    pub async fn pass(&self) -> Result<Pass, AppError> {
        let now = self.clock.now_ms();
        let ttl = (self.lab.settings.meter_secs as i64)
            .saturating_mul(3_000)
            .max(10_000);
        if !store::hold_lease(&self.db, &self.holder, now, ttl).await? {
            return Ok(Pass::default());
        }
        let mut pass = Pass {
            ran: true,
            ..Pass::default()
        };
        let active = match self.lab.hub.active_users().await {
            Ok(users) => users,
            Err(error) => {
                // Nothing is closed or metered while the hub cannot be read.
                tracing::warn!(%error, "Lab metering: the hub did not answer");
                return Ok(pass);
            }
        };
        let by_name: HashMap<&str, &HubUser> =
            active.iter().map(|u| (u.name.as_str(), u)).collect();
        let names: Vec<String> = active.iter().map(|u| u.name.clone()).collect();
        let open_before: Vec<String> = store::open_sessions(&self.db)
            .await?
            .into_iter()
            .map(|s| s.user_id)
            .collect();
        for (hub_name, user_id) in store::users_by_hub_name(&self.db, &names).await? {
            let Some(user) = by_name.get(hub_name.as_str()) else {
                continue;
            };
            let started = match user.server {
                ServerState::Running { started_at_ms, .. }
                | ServerState::Starting { started_at_ms } => started_at_ms.unwrap_or(now).min(now),
                ServerState::Stopping | ServerState::Stopped => continue,
            };
            if !open_before.contains(&user_id) {
                store::open_session(&self.db, &user_id, started).await?;
                pass.opened += 1;
            }
        }
        for session in store::open_sessions(&self.db).await? {
            match by_name.get(session.hub_name.as_str()).map(|u| &u.server) {
                None | Some(ServerState::Stopped) => {
                    let reason = session
                        .stop_requested
                        .as_deref()
                        .and_then(StopReason::parse)
                        .unwrap_or(StopReason::Hub);
                    store::close_session(&self.db, &session, now, self.lab.settings.cpus, reason)
                        .await?;
                    pass.closed += 1;
                }
                Some(state) => {
                    let mut tx = self.db.begin_write().await?;
                    store::meter_in(&mut tx, &session, now, self.lab.settings.cpus).await?;
                    tx.commit().await?;
                    self.enforce(&session, state, now, &mut pass).await?;
                }
            }
        }
        Ok(pass)
    }

    /// Stops an idle server, or one past its hours; charges for hours past the limit.
    async fn enforce(
        &self,
        session: &OpenSession,
        state: &ServerState,
        now: i64,
        pass: &mut Pass,
    ) -> Result<(), AppError> {
        let settings = &self.lab.settings;
        if let ServerState::Running {
            started_at_ms,
            last_activity_ms,
        } = state
        {
            let last = last_activity_ms
                .or(*started_at_ms)
                .unwrap_or(session.started_at);
            if now - last > settings.idle_minutes.saturating_mul(60_000) {
                return self.stop(session, StopReason::Idle, now, pass).await;
            }
        }
        if matches!(state, ServerState::Stopping) {
            return Ok(());
        }
        let account = store::ensure_account(&self.db, &session.user_id, now).await?;
        let compute = control::compute_use(&self.db, &self.lab, &account, now).await?;
        if !compute.limit_reached() {
            return Ok(());
        }
        if !compute.continue_with_credits {
            return self.stop(session, StopReason::Limit, now, pass).await;
        }
        let due = store::hours_due(compute.used_cpu_ms, compute.limit_hours);
        for hour in compute.paid_hours + 1..=due {
            match self
                .charge_hour(session, hour, &compute.plan_name, now)
                .await?
            {
                Charged::Yes => pass.hours_charged += 1,
                Charged::Raced => break,
                Charged::Insufficient => {
                    return self.stop(session, StopReason::Credits, now, pass).await;
                }
            }
        }
        Ok(())
    }

    /// Charges CPU hour number `hour` past the limit this month, once whatever retries.
    async fn charge_hour(
        &self,
        session: &OpenSession,
        hour: i64,
        plan: &str,
        now: i64,
    ) -> Result<Charged, AppError> {
        let month = store::month_key(now);
        let mut tx = self.db.begin_write().await?;
        if !store::mark_hour_paid(&mut tx, &session.user_id, &month, hour).await? {
            return Ok(Charged::Raced);
        }
        let posting = ledger::Posting {
            owner: Owner::User(session.user_id.clone()),
            amount: -self.lab.settings.credits_per_cpu_hour,
            kind: EntryKind::Charge,
            reference: Some(session.id.clone()),
            description: format!("Lab: CPU hour {hour} past the {plan} plan's monthly hours"),
            actor: "Lab".into(),
            key_id: None,
            metadata: None,
            idempotency_key: format!("lab:{}:{month}:{hour}", session.user_id),
            may_overdraw: false,
        };
        match ledger::post_in(&mut tx, &posting, now).await? {
            ledger::Posted::Insufficient { .. } => Ok(Charged::Insufficient),
            ledger::Posted::New { .. } | ledger::Posted::Duplicate { .. } => {
                tx.commit().await?;
                Ok(Charged::Yes)
            }
        }
    }

    async fn stop(
        &self,
        session: &OpenSession,
        reason: StopReason,
        now: i64,
        pass: &mut Pass,
    ) -> Result<(), AppError> {
        match control::stop(&self.lab, &self.db, &session.user_id, reason, now).await {
            Ok(_) => {
                pass.stopped.push((session.user_id.clone(), reason));
                let email = super::emails::stopped(
                    &session.email,
                    reason,
                    self.lab.settings.idle_minutes,
                    &self.base_url,
                );
                if let Some(email) = email {
                    self.mailer.send(email);
                }
                Ok(())
            }
            // The hub is down: the next pass tries again.
            Err(AppError::Unavailable(_)) => Ok(()),
            Err(error) => Err(error),
        }
    }
}

enum Charged {
    Yes,
    /// Another writer recorded this hour first.
    Raced,
    Insufficient,
}
