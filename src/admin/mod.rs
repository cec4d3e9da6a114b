//! Operators' tools in the browser: promo codes and credit grants. Every server
//! function here answers `NotFound` to anyone who is not an admin, exactly as for a
//! page that does not exist.

pub mod api;

/// The longest reason a grant may carry.
pub const MAX_REASON_CHARS: usize = 200;
