//! Lab servers: a JupyterLab per person, run by a JupyterHub that Keyward signs people
//! in to (`auth::oauth`) and drives through its REST API (`infra::jupyterhub`).
//!
//! Keyward records each time a server runs (a session), meters compute hours
//! (vCPUs x hours) into the calendar month, and enforces the plan's monthly limit and
//! the idle timeout from one background task per deployment (`runner`). Past the limit,
//! a person who turned on Continue with credits pays for each further CPU hour from
//! their wallet, through the ledger.

pub mod api;
#[cfg(feature = "ssr")]
pub mod control;
#[cfg(feature = "ssr")]
mod emails;
#[cfg(feature = "ssr")]
pub mod runner;
#[cfg(feature = "ssr")]
pub mod store;

use serde::{Deserialize, Serialize};

/// CPU-milliseconds in one compute hour.
pub const CPU_HOUR_MS: i64 = 3_600_000;

/// Why a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The person stopped it (here, or through the API).
    User,
    /// No activity for the idle timeout.
    Idle,
    /// The month's compute hours ran out.
    Limit,
    /// Past the limit with Continue with credits, the wallet could not pay the next hour.
    Credits,
    /// An operator stopped it.
    Operator,
    /// It stopped outside Keyward (from the hub's own page, or the hub ended it).
    Hub,
}

impl StopReason {
    pub const ALL: [StopReason; 6] = [
        StopReason::User,
        StopReason::Idle,
        StopReason::Limit,
        StopReason::Credits,
        StopReason::Operator,
        StopReason::Hub,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::User => "user",
            StopReason::Idle => "idle",
            StopReason::Limit => "limit",
            StopReason::Credits => "credits",
            StopReason::Operator => "operator",
            StopReason::Hub => "hub",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// How the session history says it.
    pub fn label(self) -> &'static str {
        match self {
            StopReason::User => "By you",
            StopReason::Idle => "Idle",
            StopReason::Limit => "Limit reached",
            StopReason::Credits => "Out of credits",
            StopReason::Operator => "By an operator",
            StopReason::Hub => "On the hub",
        }
    }

    /// Whether the person is told about it on their next visit.
    pub fn needs_notice(self) -> bool {
        matches!(
            self,
            StopReason::Idle | StopReason::Limit | StopReason::Credits | StopReason::Operator
        )
    }
}

/// The server, as the hub reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ServerStatus {
    Stopped,
    Starting,
    Running {
        /// Unix milliseconds.
        started_at: Option<i64>,
        last_activity_at: Option<i64>,
    },
    Stopping,
}

impl ServerStatus {
    /// Whether there is a server to stop.
    pub fn is_active(&self) -> bool {
        !matches!(self, ServerStatus::Stopped)
    }
}

/// Whether Lab can be used on this server right now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// No hub is configured.
    NotSetUp,
    /// The hub is configured but does not answer.
    Unavailable,
    Available(ServerStatus),
}

/// Compute hours this month against the plan's limit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ComputeUse {
    /// The plan's id (`infra::plans`) and name.
    pub plan: String,
    pub plan_name: String,
    /// CPU-milliseconds used this calendar month (UTC).
    pub used_cpu_ms: i64,
    /// The plan's monthly compute hours.
    pub limit_hours: i64,
    /// CPU hours bought with credits this month, past the limit.
    pub paid_hours: i64,
    /// vCPUs per server.
    pub cpus: i64,
    pub continue_with_credits: bool,
    /// Credits one CPU hour past the limit costs.
    pub credits_per_cpu_hour: i64,
    /// When the month turns and the hours reset (Unix milliseconds).
    pub resets_at: i64,
}

impl ComputeUse {
    pub fn used_hours(&self) -> f64 {
        self.used_cpu_ms as f64 / CPU_HOUR_MS as f64
    }

    /// Used, as a share of the limit (1.0 and more: the limit is reached).
    pub fn share(&self) -> f64 {
        if self.limit_hours <= 0 {
            return if self.used_cpu_ms > 0 { 1.0 } else { 0.0 };
        }
        self.used_hours() / self.limit_hours as f64
    }

    pub fn limit_reached(&self) -> bool {
        self.used_cpu_ms >= self.limit_hours.saturating_mul(CPU_HOUR_MS)
    }

    /// CPU-milliseconds of the plan's hours left this month.
    pub fn left_cpu_ms(&self) -> i64 {
        (self.limit_hours.saturating_mul(CPU_HOUR_MS) - self.used_cpu_ms).max(0)
    }

    /// Whether what is left of the plan's hours runs a server for less than a minute
    /// (but more than nothing).
    pub fn under_a_minute_left(&self) -> bool {
        !self.limit_reached() && self.left_cpu_ms() < self.cpus.max(1) * 60_000
    }

    /// 90 % and more, below 100 %.
    pub fn nearly_reached(&self) -> bool {
        !self.limit_reached() && self.share() >= 0.9
    }
}

/// One time a server ran.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LabSession {
    pub id: String,
    pub started_at: i64,
    /// Absent while it runs.
    pub stopped_at: Option<i64>,
    /// Running time counted so far, in milliseconds.
    pub duration_ms: i64,
    pub cpu_ms: i64,
    pub stop_reason: Option<StopReason>,
}

/// Why the last session stopped, when the person has not been told yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopNotice {
    pub session_id: String,
    pub reason: StopReason,
    pub stopped_at: i64,
}

/// Everything the Lab page, the dashboard card and the sidebar show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabOverview {
    pub availability: Availability,
    /// None when Lab is not set up.
    pub compute: Option<ComputeUse>,
    pub notice: Option<StopNotice>,
    /// Minutes without activity after which a server stops.
    pub idle_minutes: i64,
    /// The person's JupyterLab on the hub (the hub signs them in through Keyward).
    pub lab_url: Option<String>,
}

impl LabOverview {
    pub fn server(&self) -> Option<&ServerStatus> {
        match &self.availability {
            Availability::Available(status) => Some(status),
            _ => None,
        }
    }

    /// Whether a Stop control makes sense.
    pub fn can_stop(&self) -> bool {
        self.server().is_some_and(ServerStatus::is_active)
    }
}

/// "12.5" compute hours, one decimal.
pub fn format_hours(cpu_ms: i64) -> String {
    let tenths = cpu_ms.max(0) / (CPU_HOUR_MS / 10);
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// "1 h 05 min", "12 min", "40 s".
pub fn format_duration(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    match secs {
        0..=59 => format!("{secs} s"),
        60..=3_599 => format!("{} min", secs / 60),
        _ => format!("{} h {:02} min", secs / 3600, (secs % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_and_limits() {
        assert_eq!(format_hours(0), "0.0");
        assert_eq!(format_hours(CPU_HOUR_MS * 25 / 2), "12.5");
        assert_eq!(format_duration(65 * 60_000), "1 h 05 min");
        let mut used = ComputeUse {
            plan: "free".into(),
            plan_name: "Free".into(),
            used_cpu_ms: 22 * CPU_HOUR_MS,
            limit_hours: 25,
            paid_hours: 0,
            cpus: 2,
            continue_with_credits: false,
            credits_per_cpu_hour: 10,
            resets_at: 0,
        };
        assert!(!used.nearly_reached() && !used.limit_reached());
        used.used_cpu_ms = 23 * CPU_HOUR_MS;
        assert!(used.nearly_reached());
        used.used_cpu_ms = 25 * CPU_HOUR_MS;
        assert!(used.limit_reached() && !used.nearly_reached());
    }
}
