//! Leaf services with no domain knowledge: database, clock, randomness, configuration,
//! throttles. Nothing here imports a domain (`auth`, `keys`, …) or `web`; a test checks it.

#[cfg(feature = "ssr")]
pub mod clock;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod extra_scopes;
#[cfg(feature = "ssr")]
pub mod hub_config;
#[cfg(feature = "ssr")]
pub mod jupyterhub;
#[cfg(feature = "ssr")]
pub mod lab_config;
#[cfg(feature = "ssr")]
pub mod mail;
pub mod money;
#[cfg(feature = "ssr")]
pub mod payments;
#[cfg(feature = "ssr")]
pub mod plans;
#[cfg(feature = "ssr")]
pub mod random;
#[cfg(feature = "ssr")]
pub mod stripe;
#[cfg(feature = "ssr")]
pub mod throttle;
#[cfg(feature = "ssr")]
pub mod unique_rule;
pub mod url;
#[cfg(feature = "ssr")]
pub mod webhook_signature;
pub mod wire;
