//! `GET /account/wallet/card-form`: the document the checkout page frames to hold the
//! payment provider's card element. The provider's script runs here, in its own
//! document, under a policy that allows the provider's origins and is framed by our
//! own pages only; the app's pages never run third-party script. (It also keeps a
//! provider script's globals — localstripe's declares a global `Element` class, which
//! shadows the DOM's for every script of a document — away from the app.)
//!
//! Same origin, so the checkout page calls `window.keywardCard.token()` and
//! `.confirm(secret)` on this frame directly.

use super::headers::card_frame_csp;
use super::state::AppState;
use crate::infra::mail::html_escape;
use crate::infra::random;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

pub async fn card_form(State(state): State<AppState>) -> Response {
    let Some(provider) = state.payments.as_deref() else {
        return (
            StatusCode::NOT_FOUND,
            "Card payments are not set up on this server.",
        )
            .into_response();
    };
    let Ok(nonce) = random::base62(22) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let setup = provider.browser_setup();
    // A JSON string inside a script: `<` escaped so no value can close the element.
    let key = serde_json::to_string(&setup.publishable_key)
        .unwrap_or_else(|_| "\"\"".into())
        .replace('<', "\\u003c");
    let html = format!(
        r##"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="color-scheme" content="light dark"><title>Card details</title>
<style nonce="{nonce}">
body {{ margin: 0; font: 14px/1.4 system-ui, sans-serif; background: transparent; color: #1f2328; }}
#card {{ display: flex; flex-wrap: wrap; gap: 6px; align-items: center; padding: 2px 0; }}
#card input {{ height: 30px; padding: 0 8px; border: 1px solid #cfd3d8; border-radius: 4px; font: inherit; max-width: 100%; background: #fff; color: inherit; }}
@media (prefers-color-scheme: dark) {{ body {{ color: #e6e8eb; }} #card input {{ background: #161a20; border-color: #3a414b; }} }}
</style>
<script src="{src}" nonce="{nonce}"></script>
</head><body><div id="card"></div>
<script nonce="{nonce}">
(function () {{
  var api = {{ ready: false, error: null }};
  window.keywardCard = api;
  if (typeof Stripe !== "function") {{ api.error = "The card form could not be loaded. Check your connection and reload the page."; return; }}
  try {{
    var stripe = Stripe({key});
    var card = stripe.elements().create("card", {{}});
    card.mount("#card");
    api.token = function () {{
      return stripe.createToken(card).then(function (r) {{
        if (r.error) return {{ error: r.error.message || "The card could not be used." }};
        return {{ id: r.token && r.token.card && r.token.card.id, token: r.token && r.token.id }};
      }}, function () {{ return {{ error: "The card could not be checked. Try again." }}; }});
    }};
    api.confirm = function (secret) {{
      return stripe.confirmCardPayment(secret).then(function (r) {{
        return r.error ? {{ error: r.error.message || "The payment was not confirmed." }} : {{}};
      }}, function () {{ return {{ error: "The payment could not be confirmed. Try again." }}; }});
    }};
    api.ready = true;
    // Keeps the frame as tall as the form, which wraps onto more rows when narrow.
    var fit = function () {{
      var frame = window.frameElement, form = document.getElementById("card");
      if (frame && form) frame.style.height = (form.offsetHeight + 16) + "px";
    }};
    if (window.ResizeObserver) new ResizeObserver(fit).observe(document.getElementById("card"));
    fit();
  }} catch (e) {{ api.error = "The card form could not be loaded. Reload the page to try again."; }}
}})();
</script></body></html>"##,
        src = html_escape(&setup.script_url),
    );
    let policy = card_frame_csp(&nonce, &provider.page_origins());
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
            (header::CONTENT_SECURITY_POLICY, policy),
            // Framed by the checkout page, and by nothing else.
            (header::X_FRAME_OPTIONS, "SAMEORIGIN".to_string()),
            (header::CACHE_CONTROL, "private, no-cache".to_string()),
        ],
        html,
    )
        .into_response()
}
