//! The payment-provider interface: take money for an amount with a reference, tell
//! how that payment stands, and check that a notification really came from the
//! provider. Nothing here knows what is being bought; `infra::stripe` is the one real
//! implementation.

use super::billing::{ProviderInvoice, ProviderSubscription};
pub use super::provider_error::{ProviderError, ProviderFuture};

/// A payment to start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentRequest {
    /// In the currency's minor unit (cents).
    pub amount_minor: i64,
    /// Lower-case ISO code, e.g. "usd".
    pub currency: String,
    /// What the payment is for (an order id); the provider keeps it with the payment.
    pub reference: String,
    /// What the browser's card form gave (a card or payment method id).
    pub payment_method: String,
    /// Sent again (a retry), the provider answers the first payment instead of a second.
    pub idempotency_key: String,
}

/// Where a payment stands, as the provider says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PaymentState {
    Succeeded,
    /// Under way at the provider; a notification will follow.
    Processing,
    /// The person must confirm it in the browser (3-D Secure); `client_secret` lets the
    /// provider's script do that.
    RequiresAction {
        client_secret: String,
    },
    /// Declined or abandoned; `reason` is the provider's message for the person.
    Failed {
        reason: String,
    },
}

/// A payment as the provider knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    pub id: String,
    pub amount_minor: i64,
    pub currency: String,
    /// The `reference` it was started with, if the provider returned it.
    pub reference: Option<String>,
    pub state: PaymentState,
}

/// A notification the provider sent, after its signature was checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentEvent {
    /// The provider's event id: the same event delivered twice has the same id.
    pub id: String,
    /// When the provider created it (Unix seconds).
    pub created: i64,
    pub kind: PaymentEventKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PaymentEventKind {
    Succeeded(Payment),
    Failed(Payment),
    /// `customer.subscription.created` or `.updated`.
    SubscriptionChanged(ProviderSubscription),
    /// `customer.subscription.deleted`.
    SubscriptionEnded(ProviderSubscription),
    /// `invoice.paid` (or `invoice.payment_succeeded`, which some servers send instead).
    InvoicePaid(ProviderInvoice),
    /// `invoice.payment_failed`.
    InvoiceFailed(ProviderInvoice),
    /// Any other event type (named), acknowledged and ignored.
    Other(String),
}

/// Why a notification was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebhookRefusal {
    MissingSignature,
    BadSignature,
    /// Signed longer ago than the tolerance (a replay), or in the future.
    Stale,
    Malformed,
}

/// What the browser needs to show the provider's card form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrowserSetup {
    pub publishable_key: String,
    pub script_url: String,
}

/// What the browser's card form gave (a card, payment method or token id): letters,
/// digits and `_`, at most 255 bytes; anything else is the person's card details to ask
/// for again (`AppError` beside the "card" field).
pub fn card_form_id(text: &str) -> Result<&str, crate::error::AppError> {
    let id = text.trim();
    if id.is_empty() || id.len() > 255 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(crate::error::AppError::invalid(
            "card",
            "Enter your card details.",
        ));
    }
    Ok(id)
}

pub trait PaymentProvider: Send + Sync {
    /// Starts and confirms a payment.
    fn pay(&self, request: PaymentRequest) -> ProviderFuture<'_, Payment>;
    /// How a payment stands now.
    fn retrieve<'a>(&'a self, payment_id: &'a str) -> ProviderFuture<'a, Payment>;
    /// Checks a notification's signature (at `now_secs`) and reads it.
    fn read_webhook(
        &self,
        payload: &[u8],
        signature: Option<&str>,
        now_secs: i64,
    ) -> Result<PaymentEvent, WebhookRefusal>;
    fn browser_setup(&self) -> BrowserSetup;
    /// Origins the checkout page must be allowed to load scripts from and connect to.
    fn page_origins(&self) -> Vec<String>;
}
