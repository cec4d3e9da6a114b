//! Usage of API keys: every authenticated REST request, buffered in memory and written
//! in batches (`recorder`), and every query that reads it back (`queries`).

#[cfg(feature = "ssr")]
mod batch;
#[cfg(feature = "ssr")]
mod batch_writer;
#[cfg(feature = "ssr")]
pub mod queries;
#[cfg(feature = "ssr")]
pub mod recorder;

use serde::{Deserialize, Serialize};

/// Requests counted for one key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UsageStats {
    pub last_24h: i64,
    pub last_7d: i64,
    pub last_30d: i64,
    pub total: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DailyCount {
    /// Unix milliseconds at the start of the UTC day.
    pub day_start: i64,
    pub requests: i64,
}

/// One authenticated request made with a key. Never holds the key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, sqlx::FromRow))]
pub struct RequestLogEntry {
    /// Unix milliseconds.
    pub at: i64,
    pub method: String,
    pub path: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "i64"))]
    pub status: u16,
    pub client_addr: String,
    pub user_agent: String,
}

/// What one key's usage looks like: counters, the last 30 days, the latest requests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyUsage {
    pub stats: UsageStats,
    /// The last 30 UTC days, oldest first, today last.
    pub daily: Vec<DailyCount>,
    /// The most recent requests, newest first.
    pub recent: Vec<RequestLogEntry>,
}
