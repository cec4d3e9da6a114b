//! Webhooks to the operator's services: endpoints the operator registers, each with a
//! signing secret shown once, and deliveries of events (`job.cancel_requested`, ...)
//! signed like Stripe's (`Keyward-Signature: t=…,v1=…`) and retried with backoff for
//! 24 hours. An event's deliveries are written to the outbox in the transaction of the
//! event itself (`outbox`), so none is lost across a restart; `sender` posts them.

pub mod api;
#[cfg(feature = "ssr")]
pub mod endpoints;
#[cfg(feature = "ssr")]
pub mod outbox;
#[cfg(feature = "ssr")]
pub mod sender;

use serde::{Deserialize, Serialize};

/// The events an endpoint may subscribe to, with what each means.
pub const EVENT_TYPES: [(&str, &str); 5] = [
    (
        "job.cancel_requested",
        "A person asked to cancel a job; confirm with PATCH …/jobs/{id} status cancelled.",
    ),
    ("job.completed", "A job completed and its cost was settled."),
    ("job.failed", "A job failed and its hold was released."),
    (
        "credits.low_balance",
        "A wallet's balance fell below its owner's alert threshold.",
    ),
    ("key.revoked", "An API key was deactivated or deleted."),
];

/// How long a delivery is retried before it is given up.
pub const RETRY_FOR_MS: i64 = 24 * 3_600_000;
/// How long one attempt may take.
pub const ATTEMPT_TIMEOUT_SECS: u64 = 5;

/// An endpoint as the admin page lists it (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointView {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub active: bool,
    pub created_at: i64,
}

/// An endpoint just made: its signing secret, shown this once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEndpoint {
    pub endpoint: EndpointView,
    pub secret: String,
}

/// Where a delivery is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its (next) attempt.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Retried for 24 hours without a 2xx.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            DeliveryStatus::Pending,
            DeliveryStatus::Delivered,
            DeliveryStatus::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "Pending",
            DeliveryStatus::Delivered => "Delivered",
            DeliveryStatus::Failed => "Failed",
        }
    }
}

/// One delivery as Admin > Webhooks shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub id: String,
    pub endpoint_url: String,
    pub event_id: String,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    /// The HTTP status of the last attempt, if it got one.
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<i64>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

/// Admin > Webhooks: the endpoints and the latest deliveries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhooksOverview {
    pub endpoints: Vec<EndpointView>,
    pub deliveries: Vec<DeliveryView>,
}
