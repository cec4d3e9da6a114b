//! Workspaces: whose something is, and who may act for them. A person acts in their own
//! workspace or in an organization's; keys, wallets and their use belong to one
//! (`Owner`), and every request resolves its workspace with the role it needs
//! (`access::workspace`) before touching anything. Below every domain: it imports only
//! `infra` and `error`.

#[cfg(feature = "ssr")]
pub mod access;
mod owner;
mod role;

pub use owner::Owner;
#[cfg(feature = "ssr")]
pub use owner::{keys_of_table, owned_by};
pub use role::Role;
