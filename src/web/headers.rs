//! Security headers on every response: a Content-Security-Policy (pages get one with
//! the per-request nonce Leptos puts on its inline scripts; everything else a policy
//! that allows nothing), no framing, no sniffing, a strict referrer, HSTS behind https,
//! and a Permissions-Policy denying what the app never uses.

use axum::http::{header, HeaderName, HeaderValue};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

/// For responses that are not pages (JSON, static files): nothing may load or frame them.
const LOCKED_DOWN_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";
const PERMISSIONS_POLICY: &str =
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), \
     midi=(), magnetometer=(), gyroscope=(), accelerometer=(), browsing-topics=()";
/// Two years, the preload list's minimum.
const HSTS: &str = "max-age=63072000; includeSubDomains";

/// The policy for a page whose inline scripts carry `nonce`: only the app's own scripts
/// (and WebAssembly), styles and images.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
         frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// The policy of the card form's frame (`web::card_frame`): its own nonce'd script and
/// style, the payment provider's script, frames and API (`origins`), framed by our own
/// pages only.
pub fn card_frame_csp(nonce: &str, origins: &[String]) -> String {
    let extra: String = origins.iter().map(|origin| format!(" {origin}")).collect();
    format!(
        "default-src 'none'; script-src 'nonce-{nonce}'{extra}; style-src 'nonce-{nonce}'; \
         connect-src{extra}; frame-src{extra}; img-src data:{extra}; base-uri 'none'; \
         form-action 'none'; frame-ancestors 'self'"
    )
}

/// Adds the headers to every response of `router`; `https` adds HSTS.
pub fn with_security_headers<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    https: bool,
) -> Router<S> {
    let set = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    let router = router
        .layer(set(header::CONTENT_SECURITY_POLICY, LOCKED_DOWN_CSP))
        .layer(set(header::X_FRAME_OPTIONS, "DENY"))
        .layer(set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(set(
            header::REFERRER_POLICY,
            "strict-origin-when-cross-origin",
        ))
        .layer(set(
            HeaderName::from_static("permissions-policy"),
            PERMISSIONS_POLICY,
        ));
    if https {
        router.layer(set(header::STRICT_TRANSPORT_SECURITY, HSTS))
    } else {
        router
    }
}
