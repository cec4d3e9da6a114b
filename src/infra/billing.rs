//! The billing-provider interface: customers with a card on file, prices, subscriptions
//! to a price, and their invoices. Nothing here knows what a plan grants;
//! `infra::stripe_billing` is the one real implementation (Stripe Billing).

use super::provider_error::ProviderFuture;

/// A card kept with a customer for renewals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardOnFile {
    pub brand: String,
    pub last4: String,
    pub exp_month: i64,
    pub exp_year: i64,
}

/// A subscription as the provider knows it. Times are Unix seconds, as providers say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderSubscription {
    pub id: String,
    pub customer: String,
    /// `active`, `past_due`, `incomplete`, `canceled`, `unpaid`, `trialing`, …
    pub status: String,
    /// The provider's id of the price it bills.
    pub price: String,
    /// The provider's id of the subscription's one item (what a price change replaces).
    pub item: String,
    pub current_period_start: i64,
    pub current_period_end: i64,
    pub cancel_at_period_end: bool,
    pub latest_invoice: Option<String>,
}

/// One line of an invoice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderInvoiceLine {
    pub description: String,
    pub amount_minor: i64,
}

/// An invoice as the provider knows it. Times are Unix seconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderInvoice {
    pub id: String,
    pub customer: String,
    pub subscription: Option<String>,
    /// The number printed on it (the id when the provider gave none).
    pub number: String,
    /// `draft`, `open`, `paid`, `void`, `uncollectible`.
    pub status: String,
    pub total_minor: i64,
    pub currency: String,
    pub period_start: i64,
    pub period_end: i64,
    pub created: i64,
    pub lines: Vec<ProviderInvoiceLine>,
}

/// A recurring price to create (or find) at the provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceSpec {
    /// Stable across restarts and processes: the same spec names the same price.
    pub id: String,
    pub name: String,
    pub amount_minor: i64,
    pub currency: String,
    /// `month` or `year`.
    pub interval: String,
}

pub trait BillingProvider: Send + Sync {
    /// Creates a customer for `reference` (who Keyward bills) with `email`.
    fn create_customer<'a>(
        &'a self,
        reference: &'a str,
        email: &'a str,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, String>;
    /// Keeps the card the browser's card form tokenised (`token`) as the customer's
    /// default for every invoice. A declined card is `Declined`.
    fn set_card<'a>(
        &'a self,
        customer: &'a str,
        token: &'a str,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, CardOnFile>;
    /// The price `spec` names, created the first time it is asked for.
    fn ensure_price<'a>(&'a self, spec: &'a PriceSpec) -> ProviderFuture<'a, String>;
    /// Subscribes the customer to `price`, paying the first invoice with the card on
    /// file at once; a declined first payment is `Declined` and leaves no subscription.
    fn subscribe<'a>(
        &'a self,
        customer: &'a str,
        price: &'a str,
        reference: &'a str,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, ProviderSubscription>;
    fn subscription<'a>(&'a self, id: &'a str) -> ProviderFuture<'a, ProviderSubscription>;
    /// Cancels at the end of the period (`true`) or undoes that (`false`).
    fn cancel_at_period_end<'a>(
        &'a self,
        id: &'a str,
        cancel: bool,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, ProviderSubscription>;
    /// Ends the subscription now (one whose first payment did not go through).
    fn cancel_now<'a>(&'a self, id: &'a str) -> ProviderFuture<'a, ProviderSubscription>;
    fn invoice<'a>(&'a self, id: &'a str) -> ProviderFuture<'a, ProviderInvoice>;
    /// Moves the subscription's item to `price`, prorated as of `proration_date` (Unix
    /// seconds) by the provider's own rules: the difference is left as pending invoice
    /// items (`invoice_now` bills them; `drop_prorations` removes them). A change of
    /// billing interval starts a new period, which the provider invoices and charges at
    /// once (`latest_invoice` of the answer).
    fn change_price<'a>(
        &'a self,
        subscription: &'a ProviderSubscription,
        price: &'a str,
        proration_date: i64,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, ProviderSubscription>;
    /// Removes the pending proration items of a subscription (a change that is not to be
    /// billed until the period ends). Answers how many were removed.
    fn drop_prorations<'a>(
        &'a self,
        customer: &'a str,
        subscription: &'a str,
    ) -> ProviderFuture<'a, usize>;
    /// A new invoice of the subscription's pending items (a draft, not paid yet).
    fn invoice_pending<'a>(
        &'a self,
        customer: &'a str,
        subscription: &'a str,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, ProviderInvoice>;
    /// Pays an invoice with the card on file. A declined card is `Declined`, or an
    /// answer with the invoice still `open` (the provider retries it, as a renewal).
    fn pay_invoice<'a>(
        &'a self,
        id: &'a str,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, ProviderInvoice>;
    /// An invoice item of `amount_minor` (negative: a discount) left pending for the
    /// customer's next invoice (of `subscription`, when named). Answers its id.
    #[allow(clippy::too_many_arguments)]
    fn add_invoice_item<'a>(
        &'a self,
        customer: &'a str,
        subscription: Option<&'a str>,
        amount_minor: i64,
        currency: &'a str,
        description: &'a str,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, String>;
    /// Whether an invoice item is still waiting for an invoice (false: on one, or gone).
    fn invoice_item_pending<'a>(&'a self, id: &'a str) -> ProviderFuture<'a, bool>;
    fn delete_invoice_item<'a>(&'a self, id: &'a str) -> ProviderFuture<'a, ()>;
    /// The next invoice the subscription will bring, if the provider can tell.
    fn upcoming_invoice<'a>(
        &'a self,
        customer: &'a str,
        subscription: &'a str,
    ) -> ProviderFuture<'a, Option<ProviderInvoice>>;
}
