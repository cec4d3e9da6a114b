//! Subscriptions: plans people and organizations pay for each month or year through
//! the billing provider (Stripe Billing), the included credits each paid period grants,
//! and the invoices.

pub mod api;
#[cfg(feature = "ssr")]
pub mod change;
#[cfg(feature = "ssr")]
pub mod customers;
#[cfg(feature = "ssr")]
pub mod discount_items;
#[cfg(feature = "ssr")]
pub mod discounts;
#[cfg(feature = "ssr")]
pub mod events;
#[cfg(feature = "ssr")]
pub mod invoices;
#[cfg(feature = "ssr")]
pub mod lifecycle;
#[cfg(feature = "ssr")]
pub mod notices;
#[cfg(feature = "ssr")]
pub mod prices;
#[cfg(feature = "ssr")]
pub mod quote;
#[cfg(feature = "ssr")]
pub mod report;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod upcoming;

use serde::{Deserialize, Serialize};

/// A plan as the subscription page offers it; prices formatted in the server's currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanOffer {
    pub id: String,
    pub name: String,
    pub monthly_price: String,
    /// None: paid monthly only.
    pub yearly_price: Option<String>,
    pub included_credits: i64,
    pub lab_hours: i64,
    pub features: Vec<String>,
    pub free: bool,
}

/// The plan the owner is on now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentPlan {
    pub plan: String,
    pub plan_name: String,
    /// "free", "complimentary" (an operator's gift) or "subscription".
    pub source: String,
    /// The subscription's status ("active", "past_due", …); None without one.
    pub status: Option<String>,
    /// "month" or "year".
    pub interval: Option<String>,
    /// What each period costs, formatted.
    pub price: Option<String>,
    /// When the paid period ends (Unix ms).
    pub current_period_end: Option<i64>,
    pub cancel_at_period_end: bool,
    /// A downgrade waiting for the period to end: the plan's name it changes to, when.
    pub changes_to: Option<(String, i64)>,
}

/// A promotion code applied on the subscribe form: what it takes off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeQuote {
    pub code: String,
    /// "50% off for 3 months".
    pub label: String,
    /// The discount on the first invoice, formatted ("$10.00").
    pub discount: String,
    /// The first invoice after it.
    pub first_invoice: String,
    /// It pays every invoice in full (100 % off, forever): no card is needed.
    pub pays_every_invoice: bool,
}

/// What changing to a plan would do, shown before the person confirms it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanChangeQuote {
    pub plan: String,
    pub plan_name: String,
    /// "month" or "year".
    pub interval: String,
    /// "upgrade": at once, `charge_now` charged to the card on file; "downgrade": at
    /// `effective_at`, nothing charged now; "keep": undoes a downgrade not in effect yet.
    pub kind: String,
    pub charge_now: String,
    pub charge_now_minor: i64,
    /// Included credits the change adds now (expiring with the period).
    pub credits_now: i64,
    /// What each period costs after the change, formatted ("$80.00 per month").
    pub new_price: String,
    /// When the change takes effect (Unix ms).
    pub effective_at: i64,
    /// When the amount was worked out (Unix seconds); confirming sends it back, so the
    /// charge is the amount shown.
    pub quoted_at: i64,
}

/// The card the provider keeps for renewals.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardView {
    pub brand: String,
    pub last4: String,
    pub exp_month: i64,
    pub exp_year: i64,
}

/// One invoice in the list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceRow {
    pub id: String,
    pub number: String,
    /// "paid", "open", "failed", "void", …
    pub status: String,
    pub total: String,
    pub period_start: i64,
    pub period_end: i64,
    pub created_at: i64,
    pub credits_granted: i64,
}

/// Everything the subscription page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionPage {
    /// Whether the server takes subscriptions (Stripe is configured).
    pub available: bool,
    /// Whether the person asking may change it (an organization's Owner or Admin).
    pub can_manage: bool,
    pub plans: Vec<PlanOffer>,
    pub current: CurrentPlan,
    /// The next invoice's date (Unix ms) and amount, from the provider.
    pub next_invoice: Option<(i64, String)>,
    pub card: Option<CardView>,
    pub invoices: Vec<InvoiceRow>,
}

/// Reasons a person may give for cancelling (the page's short list).
pub const CANCEL_REASONS: [(&str, &str); 5] = [
    ("too_expensive", "It costs too much"),
    ("not_using", "I am not using it enough"),
    ("missing_features", "It lacks something I need"),
    ("switching", "I am moving to another service"),
    ("other", "Another reason"),
];

/// One subscription in Admin > Subscriptions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminSubscriptionRow {
    /// The person's email, or the organization's name.
    pub who: String,
    pub organization: bool,
    pub plan_name: String,
    pub interval: String,
    pub status: String,
    pub cancel_at_period_end: bool,
    pub current_period_end: i64,
    /// What it brings in each month (a yearly price / 12), formatted.
    pub monthly_value: String,
}

/// Admin > Subscriptions: who pays for which plan, what that brings in each month, who
/// is behind on payment, and the plans operators gave.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminSubscriptions {
    /// Monthly recurring revenue: active and past-due subscriptions, formatted.
    pub mrr: String,
    pub active: i64,
    pub past_due: i64,
    pub subscriptions: Vec<AdminSubscriptionRow>,
    /// (email, plan name) of people on a plan an operator gave them.
    pub complimentary: Vec<(String, String)>,
}
