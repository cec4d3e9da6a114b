//! Keyward: a self-hosted account dashboard for API key management.

// Deeply nested view types need more room when components are not erased (release builds without `--cfg erase_components`).
#![recursion_limit = "256"]

pub mod admin;
pub mod app;
pub mod auth;
pub mod billing;
pub mod components;
pub mod dashboard;
pub mod error;
pub mod infra;
pub mod jobs;
pub mod keys;
pub mod lab;
pub mod operator_webhooks;
pub mod orgs;
pub mod pages;
pub mod time_fmt;
pub mod usage;
pub mod wallet;
pub mod workspace;

#[cfg(feature = "ssr")]
pub mod web;

/// Cases for a property test: `default` on every `make test`, `KEYWARD_PROPERTY_CASES`
/// when set (`make fuzz` sets a million).
#[cfg(test)]
pub(crate) fn property_cases(default: u32) -> u32 {
    std::env::var("KEYWARD_PROPERTY_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(default)
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(app::App);
}
