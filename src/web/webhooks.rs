//! `POST /webhooks/stripe`: the payment provider's notifications. No cookies, no keys:
//! the signature (`Stripe-Signature`, checked by the provider) is the only credential,
//! so the cross-site guard of the pages does not apply here.

use super::rest::error::ApiError;
use super::state::AppState;
use crate::billing::events::{self, Applied};
use crate::billing::{discount_items, notices};
use crate::infra::payments::WebhookRefusal;
use crate::wallet::card_payments;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

/// Notifications are small; anything bigger is not one.
const MAX_BODY_BYTES: usize = 256 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/stripe", post(stripe_webhook))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
}

async fn stripe_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(provider) = state.payments.as_deref() else {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "Card payments are not set up on this server.",
        )
        .into_response();
    };
    let signature = headers
        .get("stripe-signature")
        .and_then(|value| value.to_str().ok());
    let now = state.now_ms();
    let event = match provider.read_webhook(&body, signature, now.div_euclid(1000)) {
        Ok(event) => event,
        Err(refusal) => {
            tracing::warn!(?refusal, "webhook refused");
            let (code, message) = match refusal {
                WebhookRefusal::MissingSignature => {
                    ("missing_signature", "No Stripe-Signature header.")
                }
                WebhookRefusal::BadSignature => ("bad_signature", "The signature does not match."),
                WebhookRefusal::Stale => (
                    "stale_signature",
                    "The signature is too old or from the future.",
                ),
                WebhookRefusal::Malformed => ("malformed_event", "The event could not be read."),
            };
            return ApiError::new(StatusCode::BAD_REQUEST, code, message).into_response();
        }
    };
    let applied = match state.billing.as_deref() {
        Some(billing) if events::is_billing(&event) => {
            // What the subscription page shows as the next invoice may have changed.
            if let Some(subscription) = events::subscription_of(&event) {
                state.upcoming_invoices.forget(subscription);
            }
            let applied = events::apply(&state.db, &state.config.plans, billing, &event, now).await;
            // A paid invoice used one of a promotion code's periods: the next one's
            // discount is made to wait for the next invoice (or none, when it is over).
            if let (Ok(_), Some(subscription)) = (&applied, events::subscription_of(&event)) {
                if let Err(error) =
                    discount_items::sync_unless_busy(&state.db, billing, subscription, now).await
                {
                    tracing::warn!(%subscription, ?error, "discount not brought in line");
                }
            }
            match applied {
                Ok(Applied::PastDue(subscription)) => {
                    let plans = &state.config.plans;
                    let base_url = state.config.base_url();
                    if let Err(error) =
                        notices::past_due(&state.db, &state.mailer, plans, &base_url, &subscription)
                            .await
                    {
                        tracing::warn!(?error, "past-due email not sent");
                    }
                    Ok(())
                }
                Ok(Applied::Nothing) => Ok(()),
                Err(error) => Err(error),
            }
        }
        _ => card_payments::apply_event(&state.db, &event, now).await,
    };
    match applied {
        Ok(()) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({ "received": true })),
        )
            .into_response(),
        // The provider delivers again later.
        Err(error) => ApiError::from(error).into_response(),
    }
}
