//! What a provider call (a payment, a subscription) answers when it does not succeed.

use std::future::Future;
use std::pin::Pin;

pub type ProviderFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, ProviderError>> + Send + 'a>>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProviderError {
    /// The provider refused the payment with a message for the person (declined card).
    Declined {
        payment_id: Option<String>,
        reason: String,
    },
    /// The provider could not be reached or answered something unusable; logged, and
    /// the person is asked to try again.
    Unavailable(String),
}
