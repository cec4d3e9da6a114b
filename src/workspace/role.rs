//! What a member of an organization may do.

use serde::{Deserialize, Serialize};

/// What a member may do. An organization has exactly one Owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Member,
    Admin,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Admin => "Admin",
            Role::Member => "Member",
        }
    }

    /// "the Owner", "an Admin", "a Member", for sentences.
    pub fn with_article(self) -> &'static str {
        match self {
            Role::Owner => "the Owner",
            Role::Admin => "an Admin",
            Role::Member => "a Member",
        }
    }

    /// Owners and Admins manage members, invitations, keys and credits.
    pub fn manages(self) -> bool {
        self >= Role::Admin
    }
}
