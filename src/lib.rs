//! Keyward: a self-hosted account dashboard for API key management.

pub mod account;
pub mod app;
pub mod auth;
pub mod components;
pub mod error;
pub mod keys;
pub mod pages;
pub mod time_fmt;
pub mod usage;

#[cfg(feature = "ssr")]
pub mod server;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
