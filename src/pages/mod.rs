//! One module per page; `account/` holds the signed-in area's layout and its pages.

pub mod account;
mod auth_card;
mod credentials_form;
pub mod forgot_password;
pub mod not_found;
pub mod reset_password;
pub mod sign_in;
pub mod sign_up;
pub mod verify_email;
