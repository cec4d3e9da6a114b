//! API keys: the types the page and the REST API share, and the rules for their input.

pub mod api;
#[cfg(feature = "ssr")]
pub mod audit;
#[cfg(feature = "ssr")]
pub mod cache;
#[cfg(feature = "ssr")]
pub mod departing;
#[cfg(feature = "ssr")]
pub mod emails;
#[cfg(feature = "ssr")]
mod regenerate;
#[cfg(feature = "ssr")]
pub mod rules;
#[cfg(feature = "ssr")]
pub mod secret;
#[cfg(feature = "ssr")]
pub mod spend_limit;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod verify;

use crate::error::FieldError;
use crate::usage::{DailyCount, RequestLogEntry, UsageStats};
use serde::{Deserialize, Serialize};

pub const MAX_NAME_CHARS: usize = 64;
/// The reference advises rotating every 90 days; older keys get a badge.
pub const ROTATION_DAYS: i64 = 90;
pub const PAGE_SIZE: usize = 50;

/// A permission a key may carry, with the one line people read when choosing it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeInfo {
    pub name: String,
    pub description: String,
}

pub const BUILTIN_SCOPES: [(&str, &str); 11] = [
    (
        "account:read",
        "Read your account's ID, email and sign-up date.",
    ),
    ("keys:read", "List your API keys and read their usage."),
    ("keys:write", "Create, regenerate and delete your API keys."),
    (
        "credits:read",
        "Read your credit balance, burn rate and transactions.",
    ),
    (
        "billing:read",
        "Read your plan and the included credits it has left.",
    ),
    (
        "lab:read",
        "Read your Lab server's state, compute hours and plan.",
    ),
    ("lab:write", "Stop your Lab server."),
    ("org:read", "List your organizations and their members."),
    (
        "jobs:submit",
        "Submit jobs to the job service, holding their estimated cost in credits.",
    ),
    (
        "jobs:read",
        "List your jobs and read their status and cost.",
    ),
    ("jobs:write", "Cancel your jobs."),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyStatus {
    Active,
    Inactive,
    Expired,
}

impl KeyStatus {
    pub fn label(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Inactive => "Inactive",
            KeyStatus::Expired => "Expired",
        }
    }

    pub fn of(active: bool, expires_at: Option<i64>, now: i64) -> Self {
        match (active, expires_at) {
            (_, Some(at)) if at <= now => KeyStatus::Expired,
            (false, _) => KeyStatus::Inactive,
            (true, _) => KeyStatus::Active,
        }
    }
}

/// A key as lists show it. There is no secret here, by construction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct KeySummary {
    /// Public identifier, used in REST API paths.
    pub id: String,
    pub name: String,
    /// `kw_AbCd…wXyZ`
    pub preview: String,
    pub scopes: Vec<String>,
    pub active: bool,
    #[cfg_attr(feature = "ssr", schema(value_type = String))]
    pub status: KeyStatus,
    /// Unix milliseconds.
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub regenerated_at: Option<i64>,
    /// Credits this key may charge per calendar month (UTC); None for no limit.
    pub monthly_spend_limit: Option<i64>,
}

/// "1,000" or "1000" credits, or empty for no limit; anything else says what to type.
pub fn parse_spend_limit(text: &str) -> Result<Option<i64>, crate::error::AppError> {
    // The same bound as `spend_limit::MAX_SPEND_LIMIT`, which is server-only.
    crate::wallet::parse_optional_credits(text, 1_000_000_000_000).ok_or_else(|| {
        crate::error::AppError::invalid(
            "monthly_spend_limit",
            "A monthly limit is a whole number of credits, at least 1. Leave it empty for no limit.",
        )
    })
}

impl KeySummary {
    /// True when the current value is older than the rotation advice.
    pub fn rotation_due(&self, now: i64) -> bool {
        let since = self.regenerated_at.unwrap_or(self.created_at);
        now - since > ROTATION_DAYS * crate::time_fmt::DAY_MS
    }
}

/// A lifecycle event: created, regenerated, activated, deactivated, deleted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, sqlx::FromRow))]
pub struct KeyEvent {
    pub event: String,
    pub at: i64,
    pub actor: String,
    pub client_addr: String,
}

/// Everything the expanded row shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct KeyDetails {
    pub key: KeySummary,
    pub usage: UsageStats,
    /// The last 30 UTC days, oldest first, today last.
    pub daily: Vec<DailyCount>,
    /// The 20 most recent requests, newest first.
    pub recent: Vec<RequestLogEntry>,
    pub events: Vec<KeyEvent>,
    /// Credits charged with this key this calendar month (UTC).
    pub spent_this_month: i64,
}

/// The only response that ever carries a key's value: right after create or regenerate.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RevealedKey {
    pub key: KeySummary,
    pub secret: String,
}

/// Debug output (and so any log line) never shows the value.
impl std::fmt::Debug for RevealedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevealedKey")
            .field("key", &self.key)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// What the API Keys page loads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeysPage {
    pub keys: Vec<KeySummary>,
    pub catalog: Vec<ScopeInfo>,
    /// Server time, so "Rotation recommended" and "Expired" agree with the server.
    pub now: i64,
    /// False for an organization's Members: they see the keys but cannot change them.
    pub can_manage: bool,
}

/// How long a new key lives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Expiry {
    Days(u32),
    /// `YYYY-MM-DD`; the key works through the end of that UTC day.
    Date(String),
    Never,
}

impl Default for Expiry {
    fn default() -> Self {
        Expiry::Days(90)
    }
}

/// How long a regenerated key's old value keeps working.
pub const GRACE_CHOICES: [(i64, &str); 4] = [
    (0, "Immediately"),
    (3_600, "After 1 hour"),
    (86_400, "After 24 hours"),
    (604_800, "After 7 days"),
];

/// Trims a key name and checks its length and characters.
pub fn normalize_name(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    let chars = name.chars().count();
    if chars == 0 {
        return Err(FieldError::new(
            "name",
            "Give the key a name, such as \"ci-runner\".",
        ));
    }
    if chars > MAX_NAME_CHARS {
        return Err(FieldError::new(
            "name",
            format!("Use at most {MAX_NAME_CHARS} characters ({chars} now)."),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new(
            "name",
            "Names cannot contain control characters.",
        ));
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(normalize_name("  ci-runner ").unwrap(), "ci-runner");
        assert!(normalize_name("   ").is_err());
        assert!(normalize_name(&"x".repeat(65)).is_err());
        assert!(normalize_name(&"é".repeat(64)).is_ok());
        assert!(normalize_name("a\u{0}b").is_err());
    }

    #[test]
    fn status() {
        assert_eq!(KeyStatus::of(true, None, 10), KeyStatus::Active);
        assert_eq!(KeyStatus::of(false, None, 10), KeyStatus::Inactive);
        assert_eq!(KeyStatus::of(true, Some(10), 10), KeyStatus::Expired);
        assert_eq!(KeyStatus::of(false, Some(5), 10), KeyStatus::Expired);
    }
}
