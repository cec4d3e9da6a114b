//! Whose a key is: a person's own (no organization), or an organization's.

use crate::wallet::Owner;

/// The SQL condition "this key belongs to `owner`", with the owner's id as `$n`:
/// a personal key is the person's and no organization's.
pub fn owned_by(owner: &Owner, n: usize) -> String {
    match owner {
        Owner::User(_) => format!("(user_id = ${n} AND org_id IS NULL)"),
        Owner::Org(_) => format!("org_id = ${n}"),
    }
}
