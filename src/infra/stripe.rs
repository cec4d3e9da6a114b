//! Stripe, the payment provider: PaymentIntents over Stripe's REST API, and webhook
//! signatures (HMAC-SHA256 over `{t}.{payload}`, as Stripe documents).
//!
//! Calls go through reqwest rather than async-stripe: async-stripe's typed
//! PaymentIntent requires about 45 fields (`amount_capturable`, `payment_method_types`,
//! …) that the Stripe-compatible server the tests run (localstripe) does not send, so
//! every answer failed to parse; this reads only the fields Keyward uses.

use super::payments::{
    BrowserSetup, Payment, PaymentEvent, PaymentEventKind, PaymentProvider, PaymentRequest,
    PaymentState, ProviderError, ProviderFuture, WebhookRefusal,
};
use super::stripe_objects::{invoice_of_event, subscription_of_event};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::time::Duration;

pub use super::webhook_signature::{
    check_signature, sign, signature_header, WEBHOOK_TOLERANCE_SECS,
};
const API_BASE: &str = "https://api.stripe.com";
const JS_URL: &str = "https://js.stripe.com/v3/";
/// The Stripe API version every request names (`Stripe-Version`).
pub const API_VERSION: &str = "2024-06-20";

/// The secret key and webhook secret are `SecretString`s: `Debug` prints `[REDACTED]`.
#[derive(Clone, Debug)]
pub struct StripeConfig {
    pub secret_key: SecretString,
    pub publishable_key: String,
    pub webhook_secret: SecretString,
    /// `KEYWARD_STRIPE_API_BASE`: another Stripe-compatible server (tests use localstripe).
    pub api_base: String,
    /// `KEYWARD_STRIPE_JS_URL`: where the checkout page loads Stripe.js from.
    pub js_url: String,
}

impl StripeConfig {
    /// From `KEYWARD_STRIPE_*` through `var`: all three keys, or none (card payments
    /// off); some but not all is an error naming what is missing.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, String> {
        let names = [
            "KEYWARD_STRIPE_SECRET_KEY",
            "KEYWARD_STRIPE_PUBLISHABLE_KEY",
            "KEYWARD_STRIPE_WEBHOOK_SECRET",
        ];
        let values: Vec<Option<String>> = names.iter().map(|n| var(n)).collect();
        if values.iter().all(Option::is_none) {
            return Ok(None);
        }
        let missing: Vec<&str> = names
            .iter()
            .zip(&values)
            .filter(|(_, v)| v.is_none())
            .map(|(n, _)| *n)
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "card payments need all three Stripe keys; {} is not set",
                missing.join(" and ")
            ));
        }
        let mut values = values.into_iter().map(Option::unwrap_or_default);
        let mut next = || values.next().unwrap_or_default();
        let (secret_key, publishable_key, webhook_secret) = (next(), next(), next());
        let url = |name: &str, default: &str| -> Result<String, String> {
            let value = var(name).unwrap_or_else(|| default.to_string());
            if origin_of(&value).is_none() {
                return Err(format!("{name}={value:?} is not an http(s) URL"));
            }
            Ok(value)
        };
        Ok(Some(Self {
            secret_key: secret_key.into(),
            publishable_key,
            webhook_secret: webhook_secret.into(),
            api_base: url("KEYWARD_STRIPE_API_BASE", API_BASE)?
                .trim_end_matches('/')
                .to_string(),
            js_url: url("KEYWARD_STRIPE_JS_URL", JS_URL)?,
        }))
    }
}

/// `https://js.stripe.com` from `https://js.stripe.com/v3/`, parsed by the url crate.
/// Only http(s) with a plain host: it goes into a Content-Security-Policy, where a `;`
/// or a space would end the directive.
pub fn origin_of(value: &str) -> Option<String> {
    let url = url::Url::parse(value).ok()?;
    let host = url.host_str()?;
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '[' | ']' | ':');
    if !matches!(url.scheme(), "http" | "https")
        || host.is_empty()
        || !host.chars().all(plain)
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return None;
    }
    Some(url.origin().ascii_serialization())
}

pub struct Stripe {
    config: StripeConfig,
    http: reqwest::Client,
}

impl Stripe {
    pub fn new(config: StripeConfig) -> Result<Self, String> {
        // The API version Keyward reads answers as: an account's default version moves on
        // (newer ones drop `/v1/invoices/upcoming` and move a subscription's period to its
        // items), and this client must not change with it.
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "Stripe-Version",
            reqwest::header::HeaderValue::from_static(API_VERSION),
        );
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            .build()
            .map_err(|e| format!("HTTP client for Stripe: {e}"))?;
        Ok(Self { config, http })
    }

    /// The API's URL for `segments` (`["v1", "payment_intents", id]`), each one
    /// percent-encoded as a path segment by the url crate.
    pub(super) fn endpoint(&self, segments: &[&str]) -> Result<url::Url, ProviderError> {
        let unusable =
            || ProviderError::Unavailable("KEYWARD_STRIPE_API_BASE is not a base URL".into());
        let mut url = url::Url::parse(&self.config.api_base).map_err(|_| unusable())?;
        url.path_segments_mut()
            .map_err(|_| unusable())?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    pub(super) async fn post(
        &self,
        segments: &[&str],
        form: &[(&str, &str)],
        idempotency_key: &str,
    ) -> Result<Value, ProviderError> {
        let request = self
            .http
            .post(self.endpoint(segments)?)
            .bearer_auth(self.config.secret_key.expose_secret())
            .header("Idempotency-Key", idempotency_key)
            .form(form);
        answer(request.send().await).await
    }

    pub(super) async fn get(&self, segments: &[&str]) -> Result<Value, ProviderError> {
        self.get_with(segments, &[]).await
    }

    pub(super) async fn delete(&self, segments: &[&str]) -> Result<Value, ProviderError> {
        let request = self
            .http
            .delete(self.endpoint(segments)?)
            .bearer_auth(self.config.secret_key.expose_secret());
        answer(request.send().await).await
    }

    /// A GET with query parameters (form-encoded by reqwest).
    pub(super) async fn get_with(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<Value, ProviderError> {
        let request = self
            .http
            .get(self.endpoint(segments)?)
            .query(query)
            .bearer_auth(self.config.secret_key.expose_secret());
        answer(request.send().await).await
    }
}

/// A Stripe answer as JSON, or what went wrong. A 402 is a decline with Stripe's
/// message for the person; anything else unusable is `Unavailable` (logged by the caller).
pub(super) async fn answer(
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Result<Value, ProviderError> {
    let response = sent.map_err(|e| ProviderError::Unavailable(format!("request failed: {e}")))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| ProviderError::Unavailable(format!("{status}: unreadable answer: {e}")))?;
    if status.is_success() {
        return Ok(body);
    }
    let message = body["error"]["message"].as_str().unwrap_or("").to_string();
    if status.as_u16() == 402 {
        return Err(ProviderError::Declined {
            payment_id: body["error"]["payment_intent"]["id"]
                .as_str()
                .map(str::to_string),
            reason: if message.is_empty() {
                "The card was declined.".into()
            } else {
                message
            },
        });
    }
    Err(ProviderError::Unavailable(format!("{status}: {message}")))
}

/// Reads the PaymentIntent fields Keyward uses.
fn payment_intent(object: &Value) -> Result<Payment, ProviderError> {
    let id = object["id"]
        .as_str()
        .filter(|id| id.starts_with("pi_"))
        .ok_or_else(|| ProviderError::Unavailable("answer without a PaymentIntent id".into()))?;
    let reason = object["last_payment_error"]["message"]
        .as_str()
        .map(str::to_string);
    let state = match object["status"].as_str().unwrap_or("") {
        "succeeded" => PaymentState::Succeeded,
        "requires_action" => PaymentState::RequiresAction {
            client_secret: object["client_secret"].as_str().unwrap_or("").to_string(),
        },
        "canceled" => PaymentState::Failed {
            reason: reason.unwrap_or_else(|| "The payment was canceled.".into()),
        },
        "requires_payment_method" => PaymentState::Failed {
            reason: reason.unwrap_or_else(|| "The payment was not completed.".into()),
        },
        // requires_confirmation, requires_capture, processing: not settled yet.
        _ => PaymentState::Processing,
    };
    Ok(Payment {
        id: id.to_string(),
        amount_minor: object["amount"].as_i64().unwrap_or(0),
        currency: object["currency"].as_str().unwrap_or("").to_string(),
        reference: object["metadata"]["order_id"].as_str().map(str::to_string),
        state,
    })
}

impl PaymentProvider for Stripe {
    fn pay(&self, request: PaymentRequest) -> ProviderFuture<'_, Payment> {
        Box::pin(async move {
            let amount = request.amount_minor.to_string();
            // Created, then confirmed: the PaymentIntent's id is known (and kept) even
            // when the confirmation is declined.
            let created = self
                .post(
                    &["v1", "payment_intents"],
                    &[
                        ("amount", &amount),
                        ("currency", &request.currency),
                        ("metadata[order_id]", &request.reference),
                        ("payment_method", &request.payment_method),
                    ],
                    &request.idempotency_key,
                )
                .await?;
            let created = payment_intent(&created)?;
            if created.state != PaymentState::Processing {
                return Ok(created);
            }
            let key = format!("{}:confirm", request.idempotency_key);
            let confirm = ["v1", "payment_intents", &created.id, "confirm"];
            match self.post(&confirm, &[], &key).await {
                Ok(confirmed) => payment_intent(&confirmed),
                Err(ProviderError::Declined { reason, .. }) => Err(ProviderError::Declined {
                    payment_id: Some(created.id),
                    reason,
                }),
                Err(other) => Err(other),
            }
        })
    }

    fn retrieve<'a>(&'a self, payment_id: &'a str) -> ProviderFuture<'a, Payment> {
        Box::pin(async move {
            if !payment_id.starts_with("pi_")
                || !payment_id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(ProviderError::Unavailable("not a PaymentIntent id".into()));
            }
            payment_intent(&self.get(&["v1", "payment_intents", payment_id]).await?)
        })
    }

    fn read_webhook(
        &self,
        payload: &[u8],
        signature: Option<&str>,
        now_secs: i64,
    ) -> Result<PaymentEvent, WebhookRefusal> {
        let header = signature.ok_or(WebhookRefusal::MissingSignature)?;
        check_signature(
            payload,
            header,
            self.config.webhook_secret.expose_secret(),
            now_secs,
        )?;
        let event: Value =
            serde_json::from_slice(payload).map_err(|_| WebhookRefusal::Malformed)?;
        let id = event["id"].as_str().ok_or(WebhookRefusal::Malformed)?;
        let kind = event["type"].as_str().ok_or(WebhookRefusal::Malformed)?;
        let object = &event["data"]["object"];
        let payment = || payment_intent(object).map_err(|_| WebhookRefusal::Malformed);
        Ok(PaymentEvent {
            id: id.to_string(),
            created: event["created"].as_i64().unwrap_or(0),
            kind: match kind {
                "payment_intent.succeeded" => PaymentEventKind::Succeeded(payment()?),
                "payment_intent.payment_failed" => PaymentEventKind::Failed(payment()?),
                "customer.subscription.created" | "customer.subscription.updated" => {
                    PaymentEventKind::SubscriptionChanged(
                        subscription_of_event(object).ok_or(WebhookRefusal::Malformed)?,
                    )
                }
                "customer.subscription.deleted" => PaymentEventKind::SubscriptionEnded(
                    subscription_of_event(object).ok_or(WebhookRefusal::Malformed)?,
                ),
                "invoice.paid" | "invoice.payment_succeeded" => PaymentEventKind::InvoicePaid(
                    invoice_of_event(object).ok_or(WebhookRefusal::Malformed)?,
                ),
                "invoice.payment_failed" => PaymentEventKind::InvoiceFailed(
                    invoice_of_event(object).ok_or(WebhookRefusal::Malformed)?,
                ),
                other => PaymentEventKind::Other(other.chars().take(64).collect()),
            },
        })
    }

    fn browser_setup(&self) -> BrowserSetup {
        BrowserSetup {
            publishable_key: self.config.publishable_key.clone(),
            script_url: self.config.js_url.clone(),
        }
    }

    fn page_origins(&self) -> Vec<String> {
        let mut origins: Vec<String> = [&self.config.js_url, &self.config.api_base]
            .into_iter()
            .filter_map(|url| origin_of(url))
            .collect();
        origins.dedup();
        origins
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_come_from_urls_and_refuse_what_could_break_a_policy() {
        assert_eq!(
            origin_of("https://js.stripe.com/v3/").as_deref(),
            Some("https://js.stripe.com")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:8420").as_deref(),
            Some("http://127.0.0.1:8420")
        );
        for bad in [
            "js.stripe.com",
            "ftp://x",
            "https://",
            "https://a;b",
            "https://a b/",
            "https://user@host/",
            "https://a,b",
        ] {
            assert_eq!(origin_of(bad), None, "{bad}");
        }
    }
}
