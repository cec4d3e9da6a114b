//! Every Rust integration test, in one binary: it links once instead of once per file
//! (27 links of the whole server took most of `make test`'s Rust build). Each file is a
//! module named after what it tests; `common` is their shared setup.

#[macro_use]
mod common;
mod account_security;
mod accounts;
mod api_keys;
mod assets;
mod attacks;
mod bad_text;
mod card_payments;
mod cli;
mod crash;
mod fuzz;
mod hub_sign_in;
mod included_credits;
mod injection;
pub mod jobs;
mod key_limits;
mod lab;
mod lab_hub;
mod layering;
mod low_balance;
mod operations;
mod operator_webhooks;
mod org_attacks;
mod org_resources;
mod organizations;
mod plan_changes;
mod promos;
mod recovery;
mod rest_api;
mod running;
mod sessions;
mod subscription_promos;
mod subscriptions;
mod two_factor;
mod upgrades;
mod wallet;
