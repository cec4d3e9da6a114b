//! Whose something is (a wallet, a key, its use): a person's own workspace, or an
//! organization's.

use serde::{Deserialize, Serialize};

/// Whose a wallet (or a key) is: a person's own workspace or an organization's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Owner {
    User(String),
    Org(String),
}

impl Owner {
    pub fn kind(&self) -> &'static str {
        match self {
            Owner::User(_) => "user",
            Owner::Org(_) => "org",
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Owner::User(id) | Owner::Org(id) => id,
        }
    }

    /// The owner a stored (kind, id) pair names.
    pub fn from_parts(kind: &str, id: String) -> Option<Self> {
        match kind {
            "user" => Some(Owner::User(id)),
            "org" => Some(Owner::Org(id)),
            _ => None,
        }
    }
}

/// The SQL condition "this key belongs to `owner`", with the owner's id as `$n`:
/// a personal key is the person's and no organization's.
#[cfg(feature = "ssr")]
pub fn owned_by(owner: &Owner, n: usize) -> String {
    keys_of_table("", owner, n)
}

/// [`owned_by`] for the keys table under an alias (`k` → `k.user_id …`), in joins.
#[cfg(feature = "ssr")]
pub fn keys_of_table(alias: &str, owner: &Owner, n: usize) -> String {
    let dot = if alias.is_empty() { "" } else { "." };
    match owner {
        Owner::User(_) => format!("({alias}{dot}user_id = ${n} AND {alias}{dot}org_id IS NULL)"),
        Owner::Org(_) => format!("{alias}{dot}org_id = ${n}"),
    }
}
