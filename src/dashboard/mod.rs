//! The dashboards: a person's summary of their keys, use and credits, and an
//! organization's (its wallet, keys and use, and the credits it shares).

pub mod api;
#[cfg(feature = "ssr")]
pub mod server;

use crate::orgs::{CreditRequest, OrgSummary};
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
    /// The plan's name when its last renewal failed (the subscription is past due).
    pub past_due_plan: Option<String>,
    /// Jobs running and queued, and the credits held for them.
    pub jobs: crate::jobs::JobsAtAGlance,
}

/// What an organization's dashboard shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgOverview {
    pub org: OrgSummary,
    pub balance: i64,
    pub total_keys: i64,
    pub active_keys: i64,
    pub requests_30d: i64,
    /// The asking person's unspent allocation from this organization.
    pub my_allocation: i64,
    /// For Admins every member's requests; for a Member their own.
    pub requests: Vec<CreditRequest>,
    /// For Admins, who can receive an allocation: (user id, email).
    pub members: Vec<(String, String)>,
}
