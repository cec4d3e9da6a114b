//! Jobs: the work people's keys submit to the operator's job service. Keyward does not
//! run them; it holds their estimated cost on the owner's wallet when they are
//! submitted (`holds`), settles or refunds it when they end (`settle`), lets people see
//! and cancel them (`store`, `api`), and tells the service through signed webhooks.

pub mod api;
#[cfg(feature = "ssr")]
pub mod cancel;
#[cfg(feature = "ssr")]
mod capture;
#[cfg(feature = "ssr")]
pub mod holds;
#[cfg(feature = "ssr")]
mod records;
#[cfg(feature = "ssr")]
pub mod settle;
#[cfg(feature = "ssr")]
pub mod store;

use crate::wallet::LedgerEntry;
use serde::{Deserialize, Serialize};

/// Jobs per page on Account > Jobs and `GET /api/v1/jobs`.
pub const PAGE_SIZE: usize = 25;
/// The largest estimated or final cost of one job.
pub const MAX_COST: i64 = 1_000_000_000_000;
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_DEVICE_CHARS: usize = 100;
pub const MAX_MESSAGE_CHARS: usize = 500;
pub const MAX_SHOTS: i64 = 1_000_000_000;

/// Where a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    /// The person asked to cancel; the service has been told and confirms.
    CancelRequested,
    Completed,
    Failed,
    Cancelled,
    /// The service did not update it for `KEYWARD_JOB_HOLD_HOURS`; its hold was released.
    Expired,
}

impl JobStatus {
    pub const ALL: [JobStatus; 7] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::CancelRequested,
        JobStatus::Completed,
        JobStatus::Failed,
        JobStatus::Cancelled,
        JobStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::CancelRequested => "cancel_requested",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
            JobStatus::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            JobStatus::Queued => "Queued",
            JobStatus::Running => "Running",
            JobStatus::CancelRequested => "Cancel requested",
            JobStatus::Completed => "Completed",
            JobStatus::Failed => "Failed",
            JobStatus::Cancelled => "Cancelled",
            JobStatus::Expired => "Expired",
        }
    }

    /// Whether the job has ended (its hold is settled or released).
    pub fn ended(self) -> bool {
        matches!(
            self,
            JobStatus::Completed | JobStatus::Failed | JobStatus::Cancelled | JobStatus::Expired
        )
    }

    /// Whether a person may ask to cancel it.
    pub fn cancellable(self) -> bool {
        matches!(self, JobStatus::Queued | JobStatus::Running)
    }

    /// The statuses the job service may move a job to from this one. Staying in
    /// `queued` or `running` updates the message or queue position; a job that ran too
    /// briefly to report `running` may complete from `queued`.
    pub fn next(self) -> &'static [JobStatus] {
        use JobStatus::*;
        match self {
            Queued => &[Queued, Running, Completed, Failed, Cancelled],
            Running => &[Running, Completed, Failed, Cancelled],
            CancelRequested => &[CancelRequested, Completed, Failed, Cancelled],
            Completed | Failed | Cancelled | Expired => &[],
        }
    }
}

/// A job as its owner sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobView {
    pub id: String,
    pub name: String,
    pub device: String,
    pub status: JobStatus,
    /// The service's last word on it ("Calibrating", "Out of memory", ...).
    pub status_message: Option<String>,
    pub queue_position: Option<i64>,
    pub shots: Option<i64>,
    pub estimated_cost: i64,
    /// Credits held for it now (0 once it has ended).
    pub held: i64,
    /// The cost the service reported when it completed.
    pub final_cost: Option<i64>,
    /// Credits charged for it.
    pub charged: i64,
    /// Credits of its final cost the wallet could not cover.
    pub owed: i64,
    pub key_id: String,
    /// The key's name when the job was submitted.
    pub key_name: String,
    /// Unix milliseconds.
    pub submitted_at: i64,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
}

impl JobView {
    /// How long it ran (or has been running), in milliseconds.
    pub fn duration_ms(&self, now: i64) -> Option<i64> {
        let start = self.started_at?;
        Some(self.ended_at.unwrap_or(now).saturating_sub(start).max(0))
    }
}

/// One step of a job's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobEvent {
    pub status: JobStatus,
    pub message: Option<String>,
    pub created_at: i64,
}

/// A job with its timeline and the ledger entries it made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobDetail {
    pub job: JobView,
    pub timeline: Vec<JobEvent>,
    pub entries: Vec<LedgerEntry>,
}

/// What a list of jobs is narrowed to; every part optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFilter {
    pub status: Option<JobStatus>,
    pub device: Option<String>,
    pub key_id: Option<String>,
    /// Submitted at or after (Unix milliseconds).
    pub from: Option<i64>,
    /// Submitted before (Unix milliseconds).
    pub until: Option<i64>,
}

/// A page of jobs, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobPage {
    pub jobs: Vec<JobView>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<String>,
}

/// What the filters offer: the owner's devices and the keys that submitted jobs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobChoices {
    pub devices: Vec<String>,
    /// (key id, key name)
    pub keys: Vec<(String, String)>,
}

/// Running jobs and credits on hold, for the dashboard and the wallet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobsAtAGlance {
    pub running: i64,
    pub queued: i64,
    pub on_hold: i64,
    /// Final costs the wallet could not cover.
    pub owed: i64,
}

/// The start of a `YYYY-MM-DD` day (UTC), in Unix milliseconds: a filter's `from`.
pub fn start_of_day(text: &str) -> Option<i64> {
    crate::time_fmt::end_of_iso_date(text).map(|end| end - crate::time_fmt::DAY_MS)
}

/// The end of a `YYYY-MM-DD` day (UTC): a filter's `until`, so the day is included.
pub fn end_of_day(text: &str) -> Option<i64> {
    crate::time_fmt::end_of_iso_date(text)
}
