//! Organizations: workspaces beside each person's personal one, with members, roles
//! and invitations by email. Every access goes through `workspace::access::membership`, which
//! answers "no such organization" to anyone who is not a member, exactly as for one
//! that does not exist.

#[cfg(feature = "ssr")]
pub mod access;
pub mod api;
#[cfg(feature = "ssr")]
pub mod credit_requests;
#[cfg(feature = "ssr")]
pub mod credits;
#[cfg(feature = "ssr")]
pub mod departure;
#[cfg(feature = "ssr")]
mod emails;
#[cfg(feature = "ssr")]
pub mod invitation_limits;
#[cfg(feature = "ssr")]
pub mod invitations;
#[cfg(feature = "ssr")]
pub mod members;

use crate::error::FieldError;
/// Roles are the workspace's notion (`workspace::Role`); named here too, where pages
/// and the organization's own files look for them.
pub use crate::workspace::Role;
use serde::{Deserialize, Serialize};

/// How long an invitation's link works.
pub const INVITATION_DAYS: i64 = 7;
pub const MAX_NAME_CHARS: usize = 64;
pub const MAX_SLUG_CHARS: usize = 40;

/// An organization as one of its members sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgSummary {
    pub id: String,
    pub name: String,
    pub slug: String,
    /// The role of the person asking.
    pub role: Role,
    pub members: i64,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub role: Role,
    pub joined_at: i64,
    pub last_active_at: Option<i64>,
}

/// An organization key a member created or last regenerated: what their removal decides.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberKey {
    pub id: String,
    pub name: String,
}

/// A pending invitation, as the organization's Admins see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub invited_by: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// An invitation as the invited person sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncomingInvitation {
    pub id: String,
    pub org_name: String,
    pub org_slug: String,
    pub role: Role,
    pub invited_by: String,
    pub expires_at: i64,
}

/// The Members page: the organization, its members, and (for Admins) the pending
/// invitations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgMembers {
    pub org: OrgSummary,
    pub members: Vec<Member>,
    pub invitations: Vec<Invitation>,
}

/// One line of a bulk invitation's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteResult {
    pub email: String,
    /// None when the invitation went out; otherwise why not.
    pub problem: Option<String>,
}

/// How an Admin answered a request for credits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestOutcome {
    Approved,
    Declined,
}

impl RequestOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestOutcome::Approved => "approved",
            RequestOutcome::Declined => "declined",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "approved" => Some(RequestOutcome::Approved),
            "declined" => Some(RequestOutcome::Declined),
            _ => None,
        }
    }
}

/// A member's request for credits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditRequest {
    pub id: String,
    pub user_id: String,
    pub email: String,
    pub credits: i64,
    pub note: String,
    pub created_at: i64,
    /// None while it waits for an answer.
    pub outcome: Option<RequestOutcome>,
    pub decided_at: Option<i64>,
}

/// An answer the person has not dismissed yet, for their dashboard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnsweredRequest {
    pub id: String,
    pub org_name: String,
    pub org_slug: String,
    pub credits: i64,
    pub outcome: RequestOutcome,
}

/// A name of 1 to 64 characters, trimmed.
pub fn normalize_name(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(FieldError::new(
            "name",
            "Enter a name for the organization.",
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::new(
            "name",
            format!("Names are at most {MAX_NAME_CHARS} characters."),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new(
            "name",
            "Names cannot hold control characters.",
        ));
    }
    Ok(name.to_string())
}

/// A slug of 2 to 40 lowercase letters, digits and single hyphens, not at either end.
pub fn normalize_slug(raw: &str) -> Result<String, FieldError> {
    let slug = raw.trim().to_ascii_lowercase();
    let valid = (2..=MAX_SLUG_CHARS).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--");
    if valid {
        Ok(slug)
    } else {
        Err(FieldError::new(
            "slug",
            format!("Use 2 to {MAX_SLUG_CHARS} lowercase letters, digits and single hyphens, e.g. acme-research."),
        ))
    }
}

/// The slug a name suggests: "Acme Research, Inc." → "acme-research-inc".
pub fn suggest_slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= MAX_SLUG_CHARS {
            break;
        }
    }
    slug.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_names() {
        assert_eq!(normalize_slug(" Acme-Research ").unwrap(), "acme-research");
        for bad in ["a", "-acme", "acme-", "ac--me", "acme research", "ácme"] {
            assert!(normalize_slug(bad).is_err(), "{bad}");
        }
        assert_eq!(suggest_slug("Acme Research, Inc."), "acme-research-inc");
        assert!(normalize_name("  ").is_err());
        assert_eq!(normalize_name(" Acme ").unwrap(), "Acme");
        assert!(Role::Owner.manages() && Role::Admin.manages() && !Role::Member.manages());
    }
}
