//! Who may act in which workspace. Every server function and endpoint asks here first;
//! someone who is not a member of an organization gets `NotFound`, the answer for an
//! organization that does not exist, and a member without the role gets it too for
//! what their role cannot see.

use super::{Owner, Role};
use crate::error::AppError;
use crate::infra::db::Db;

/// What a server function needs of the person in a workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// See and use what the workspace holds (any member).
    Use,
    /// Create, change or delete what it holds (Admins and the Owner).
    Manage,
}

/// The workspace a request acts on: the person's own, or an organization's.
#[derive(Clone, Debug)]
pub struct Workspace {
    pub owner: Owner,
    /// The person's membership when the workspace is an organization.
    pub membership: Option<Membership>,
}

impl Workspace {
    /// Whether the person may create and change what the workspace holds.
    pub fn can_manage(&self) -> bool {
        self.membership.as_ref().is_none_or(|m| m.role.manages())
    }
}

/// Resolves `org` (an organization's slug, or None for the personal workspace) for
/// the person, checking `need`; `NotFound` when they are not a member or lack the role.
pub async fn workspace(
    db: &Db,
    org: Option<&str>,
    user_id: &str,
    now: i64,
    need: Need,
) -> Result<Workspace, AppError> {
    let Some(slug) = org.filter(|slug| !slug.trim().is_empty()) else {
        return Ok(Workspace {
            owner: Owner::User(user_id.to_string()),
            membership: None,
        });
    };
    let membership = membership(db, slug, user_id, now).await?;
    if need == Need::Manage {
        membership.require_manager()?;
    }
    Ok(Workspace {
        owner: Owner::Org(membership.org_id.clone()),
        membership: Some(membership),
    })
}

/// An organization and the asking person's role in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    pub org_id: String,
    pub name: String,
    pub slug: String,
    pub role: Role,
    pub created_at: i64,
}

impl Membership {
    /// Admins and the Owner only; anyone else is told it is not there.
    pub fn require_manager(&self) -> Result<(), AppError> {
        if self.role.manages() {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    pub fn require_owner(&self) -> Result<(), AppError> {
        if self.role == Role::Owner {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }
}

/// The person's membership of the organization with this slug, and a touch of their
/// last activity there; `NotFound` for non-members and unknown slugs alike.
pub async fn membership(
    db: &Db,
    slug: &str,
    user_id: &str,
    now: i64,
) -> Result<Membership, AppError> {
    let slug = slug.trim().to_ascii_lowercase();
    let found = read_membership(db, "o.slug", &slug, user_id).await?;
    let Membership { org_id, .. } = &found;
    // At most one write a minute per member, so reads stay reads.
    sqlx::query(
        "UPDATE org_members SET last_active_at = $1 WHERE org_id = $2 AND user_id = $3 \
         AND (last_active_at IS NULL OR last_active_at < $4)",
    )
    .bind(now)
    .bind(org_id)
    .bind(user_id)
    .bind(now - 60_000)
    .execute(&db.pool)
    .await?;
    Ok(found)
}

/// The person's membership of the organization with this id (the REST API names
/// organizations by id); `NotFound` for non-members and unknown ids alike.
pub async fn membership_by_id(
    db: &Db,
    org_id: &str,
    user_id: &str,
) -> Result<Membership, AppError> {
    read_membership(db, "o.id", org_id, user_id).await
}

async fn read_membership(
    db: &Db,
    column: &str,
    value: &str,
    user_id: &str,
) -> Result<Membership, AppError> {
    let row: Option<(String, String, String, String, i64)> = sqlx::query_as(&format!(
        "SELECT o.id, o.name, o.slug, m.role, o.created_at FROM organizations o \
         JOIN org_members m ON m.org_id = o.id WHERE {column} = $1 AND m.user_id = $2"
    ))
    .bind(value)
    .bind(user_id)
    .fetch_optional(&db.pool)
    .await?;
    let (org_id, name, slug, role, created_at) = row.ok_or(AppError::NotFound)?;
    Ok(Membership {
        org_id,
        name,
        slug,
        role: Role::parse(&role).ok_or(AppError::NotFound)?,
        created_at,
    })
}
