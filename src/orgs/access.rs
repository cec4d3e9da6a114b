//! Who may do what in an organization. Every server function and endpoint asks here
//! first; someone who is not a member gets `NotFound`, the answer for an organization
//! that does not exist, and a member without the role gets it too for what their role
//! cannot see.

use super::{OrgSummary, Role};
use crate::error::AppError;
use crate::infra::db::Db;

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
    let row: Option<(String, String, String, String, i64)> = sqlx::query_as(
        "SELECT o.id, o.name, o.slug, m.role, o.created_at FROM organizations o \
         JOIN org_members m ON m.org_id = o.id WHERE o.slug = $1 AND m.user_id = $2",
    )
    .bind(slug.trim().to_ascii_lowercase())
    .bind(user_id)
    .fetch_optional(&db.pool)
    .await?;
    let (org_id, name, slug, role, created_at) = row.ok_or(AppError::NotFound)?;
    let role = Role::parse(&role).ok_or(AppError::NotFound)?;
    // At most one write a minute per member, so reads stay reads.
    sqlx::query(
        "UPDATE org_members SET last_active_at = $1 WHERE org_id = $2 AND user_id = $3 \
         AND (last_active_at IS NULL OR last_active_at < $4)",
    )
    .bind(now)
    .bind(&org_id)
    .bind(user_id)
    .bind(now - 60_000)
    .execute(&db.pool)
    .await?;
    Ok(Membership {
        org_id,
        name,
        slug,
        role,
        created_at,
    })
}

/// The organizations the person belongs to, by name.
pub async fn organizations_of(db: &Db, user_id: &str) -> Result<Vec<OrgSummary>, AppError> {
    let rows: Vec<(String, String, String, String, i64, i64)> = sqlx::query_as(
        "SELECT o.id, o.name, o.slug, m.role, o.created_at, \
         (SELECT COUNT(*) FROM org_members c WHERE c.org_id = o.id) \
         FROM organizations o JOIN org_members m ON m.org_id = o.id \
         WHERE m.user_id = $1 ORDER BY LOWER(o.name), o.slug",
    )
    .bind(user_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, name, slug, role, created_at, members)| {
            Some(OrgSummary {
                id,
                name,
                slug,
                role: Role::parse(&role)?,
                members,
                created_at,
            })
        })
        .collect())
}
