//! One module per page.

pub mod account;
mod credentials;
pub mod not_found;

pub use credentials::{sign_in, sign_up};
