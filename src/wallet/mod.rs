//! Credits: a wallet per owner, changed only through ledger entries.
//!
//! Credits are whole numbers; money is kept in minor units (cents), never floats.
//! Every change of a balance is one append-only entry, written in the same transaction
//! as the balance, with a unique idempotency key so that a retry never doubles it.

pub mod api;
#[cfg(feature = "ssr")]
mod batch_sql;
#[cfg(feature = "ssr")]
pub mod card_payments;
#[cfg(feature = "ssr")]
mod charge_batch;
#[cfg(feature = "ssr")]
pub mod charges;
mod entry_kind;
#[cfg(feature = "ssr")]
pub mod included;
#[cfg(feature = "ssr")]
pub mod key_spending;
#[cfg(feature = "ssr")]
pub mod ledger;
#[cfg(feature = "ssr")]
pub mod low_balance;
#[cfg(feature = "ssr")]
pub mod order_history;
#[cfg(feature = "ssr")]
pub mod order_promos;
#[cfg(feature = "ssr")]
pub mod orders;
#[cfg(feature = "ssr")]
pub mod promos;
#[cfg(feature = "ssr")]
pub mod redemptions;
#[cfg(feature = "ssr")]
pub mod summary;

/// Money and credits as people read them (`infra::money`, shared with the browser).
pub use crate::infra::money::{
    example_money, format_credits, format_money, minor_digits, parse_money, parse_optional_credits,
};
pub use entry_kind::EntryKind;

use crate::workspace::Owner;

use serde::{Deserialize, Serialize};

/// A wallet's id follows from its owner, so posting never has to look it up.
#[cfg(feature = "ssr")]
pub fn wallet_id(owner: &Owner) -> String {
    format!("wal_{}", owner.id())
}

/// One ledger entry as the owner sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LedgerEntry {
    pub id: String,
    /// Signed: positive adds credits, negative spends them.
    pub amount: i64,
    pub kind: EntryKind,
    /// The order, charge or grant this entry belongs to.
    pub reference: Option<String>,
    pub description: String,
    /// Who caused it: a person's email, "API key kid_…", "service", "operator".
    pub actor: String,
    /// The key a charge was made with.
    pub key_id: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// A page of the ledger, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LedgerPage {
    pub entries: Vec<LedgerEntry>,
    /// Pass as `before` to get the next (older) page; absent on the last page.
    pub next_before: Option<String>,
}

/// How many entries a ledger page holds at most.
pub const LEDGER_PAGE_SIZE: usize = 50;

/// Days the wallet's chart and burn rate cover.
pub const BURN_DAYS: i64 = 30;

/// Credits spent on one UTC day (charges less refunds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailySpend {
    /// Unix milliseconds at the start of the UTC day.
    pub day_start: i64,
    pub credits: i64,
}

/// A wallet at a glance: the Wallet page's top and `GET /api/v1/credits` both read it
/// (`summary::read`), so they cannot disagree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletSummary {
    pub balance: i64,
    /// The part of the balance that is included credits (spent first; they expire).
    pub included: i64,
    /// When the first of the included credits expire (Unix milliseconds).
    pub included_expires_at: Option<i64>,
    /// The balance's worth in the currency's minor unit.
    pub value_minor: i64,
    pub currency: String,
    /// Credits spent per day (charges less refunds), oldest first, `BURN_DAYS` long.
    pub spent_per_day: Vec<DailySpend>,
    /// The low-balance alert's threshold, if the person set one.
    pub low_balance_threshold: Option<i64>,
    /// Whether the person may buy credits for this wallet (an organization's Members may not).
    pub can_buy: bool,
    /// Credits held for jobs still running: not in the balance until released.
    pub on_hold: i64,
    /// Final costs of jobs beyond what the balance could cover.
    pub owed: i64,
}

impl WalletSummary {
    /// Whether the balance is below the person's alert threshold.
    pub fn below_alert(&self) -> bool {
        self.low_balance_threshold.is_some_and(|t| self.balance < t)
    }

    pub fn spent(&self) -> i64 {
        self.spent_per_day
            .iter()
            .map(|d| d.credits)
            .sum::<i64>()
            .max(0)
    }

    /// Credits per day over the period (the REST API's number; the page shows the label).
    pub fn burn_rate_per_day(&self) -> f64 {
        self.spent() as f64 / BURN_DAYS as f64
    }

    /// "12.5": credits per day over the period, to one decimal, without floats.
    pub fn burn_rate_label(&self) -> String {
        let tenths = self.spent() * 10 / BURN_DAYS;
        format!("{}.{}", format_credits(tenths / 10), tenths % 10)
    }

    /// Whole days the balance lasts at the burn rate; None when nothing is spent.
    pub fn runway_days(&self) -> Option<i64> {
        let spent = self.spent();
        (spent > 0 && self.balance > 0).then(|| self.balance.saturating_mul(BURN_DAYS) / spent)
    }
}

/// A request to spend credits.
#[derive(Clone, Debug)]
pub struct ChargeRequest {
    pub owner: Owner,
    pub key_id: String,
    pub cost: i64,
    /// The caller's key for this charge: sent again, it never charges twice.
    pub idempotency_key: Option<String>,
    pub description: String,
    /// Small JSON the service attaches (job id, ...), stored with the entry.
    pub metadata: Option<String>,
    /// The key's monthly spending limit, if it has one.
    pub key_spend_limit: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChargeOutcome {
    Charged {
        charge_id: String,
        balance: i64,
    },
    /// The same idempotency key, owner and cost as an earlier charge: that one.
    Replayed {
        charge_id: String,
        balance: i64,
    },
    /// The idempotency key belongs to a different charge.
    KeyReused,
    /// The balance cannot cover the cost; nothing was charged.
    Insufficient {
        balance: i64,
    },
    /// The key's monthly spending limit cannot cover the cost (whatever the balance).
    KeyLimitReached {
        spent: i64,
        limit: i64,
        balance: i64,
    },
}

/// How a person may buy credits on this server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseOptions {
    /// Preset amounts of credits (`KEYWARD_CREDIT_PACKS`).
    pub packs: Vec<i64>,
    /// Bounds of a custom amount.
    pub min_credits: i64,
    pub max_credits: i64,
    pub credit_price_cents: i64,
    pub currency: String,
    /// How to show the card form, when card payments are set up (Stripe); without,
    /// only orders a code pays in full can complete.
    pub card: Option<CardSetup>,
}

/// What the checkout page needs to load the provider's card form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardSetup {
    pub publishable_key: String,
    pub script_url: String,
}

/// Where paying by card left the order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardPaymentStep {
    pub order: OrderView,
    /// Set when the bank asks the person to confirm (3-D Secure): the provider's script
    /// takes it to show that step; then the page asks the server again.
    pub confirm_secret: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Open,
    /// The card payment is under way; the provider has not answered yet.
    Processing,
    Paid,
    /// The payment failed; `failure_reason` says why. The order can be paid again.
    Failed,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Open => "open",
            OrderStatus::Processing => "processing",
            OrderStatus::Paid => "paid",
            OrderStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Self {
        match text {
            "processing" => OrderStatus::Processing,
            "paid" => OrderStatus::Paid,
            "failed" => OrderStatus::Failed,
            _ => OrderStatus::Open,
        }
    }
}

/// An order as its checkout page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    pub id: String,
    pub credits: i64,
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    pub total_minor: i64,
    pub currency: String,
    /// The applied code and what it gives ("SPRING20", "20% off").
    pub promo: Option<(String, String)>,
    pub status: OrderStatus,
    pub failure_reason: Option<String>,
    pub created_at: i64,
    /// Set when the credits are for an organization's wallet: (id, slug, name).
    pub org: Option<(String, String, String)>,
}

/// A promo code as operators see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromoCodeInfo {
    pub id: String,
    pub code: String,
    /// "20% off" or "$5.00 off".
    pub discount: String,
    pub expires_at: Option<i64>,
    pub max_redemptions: Option<i64>,
    /// Reserved and completed redemptions.
    pub redeemed: i64,
    pub once_per_user: bool,
    pub min_purchase_minor: Option<i64>,
    pub first_purchase_only: bool,
    pub active: bool,
    pub note: Option<String>,
    pub created_at: i64,
    /// The currency money amounts are in.
    pub currency: String,
    /// "credits", "subscriptions" or "both".
    pub applies_to: String,
    /// The plan ids it is for (empty: every plan).
    pub plans: Vec<String>,
    /// On subscriptions: "once", "for 3 months" or "forever".
    pub duration: String,
}

/// What an operator fills in to create a promo code.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPromo {
    pub code: String,
    /// 1 to 100, or None for a fixed amount.
    pub percent_off: Option<i64>,
    /// Money off in minor units, or None for a percentage.
    pub amount_off_minor: Option<i64>,
    pub expires_at: Option<i64>,
    pub max_redemptions: Option<i64>,
    pub once_per_user: bool,
    pub min_purchase_minor: Option<i64>,
    pub first_purchase_only: bool,
    pub note: Option<String>,
    /// "credits", "subscriptions" or "both" (empty: both).
    #[serde(default)]
    pub applies_to: String,
    /// Plan ids, comma-separated (empty: every plan).
    #[serde(default)]
    pub plans: String,
    /// "once", "repeating" or "forever" (empty: once).
    #[serde(default)]
    pub duration: String,
    /// For "repeating": how many months.
    #[serde(default)]
    pub duration_months: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burn_rate_and_runway_use_whole_numbers() {
        let mut overview = WalletSummary {
            included: 0,
            included_expires_at: None,
            balance: 1_000,
            value_minor: 1_000,
            currency: "usd".into(),
            low_balance_threshold: None,
            can_buy: true,
            on_hold: 0,
            owed: 0,
            spent_per_day: (0..BURN_DAYS)
                .map(|day| DailySpend {
                    day_start: day,
                    credits: 0,
                })
                .collect(),
        };
        assert_eq!(overview.burn_rate_label(), "0.0");
        assert_eq!(overview.runway_days(), None);
        overview.spent_per_day[3].credits = 375;
        assert_eq!(overview.burn_rate_label(), "12.5");
        assert_eq!(overview.burn_rate_per_day(), 12.5);
        assert_eq!(overview.runway_days(), Some(80));
        overview.spent_per_day[4].credits = -1_000;
        assert_eq!(
            overview.runway_days(),
            None,
            "refunds beyond spending are not a burn"
        );
    }
}
