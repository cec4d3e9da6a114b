//! One module per page; `account/` holds the signed-in area's layout and its pages.

pub mod account;
mod credentials_form;
pub mod not_found;
pub mod sign_in;
pub mod sign_up;
