//! The account dashboard: a summary of a person's keys and their use.

pub mod api;
#[cfg(feature = "ssr")]
pub mod server;

use serde::{Deserialize, Serialize};

/// What the dashboard shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub email: String,
    /// Whether the address was verified (the dashboard asks for it until it is).
    pub email_verified: bool,
    pub member_since: i64,
    pub active_keys: i64,
    pub total_keys: i64,
    pub requests_30d: i64,
    pub last_used_at: Option<i64>,
    /// Credits in the person's wallet, and their low-balance alert's threshold.
    pub balance: i64,
    pub low_balance_threshold: Option<i64>,
}
