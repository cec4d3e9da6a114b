//! The organizations a person belongs to, and the lock every change to one holds.
//! (Who may act in an organization: `workspace::access`.)

use super::{OrgSummary, Role};
use crate::error::AppError;
use crate::infra::db::Db;

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

/// Locks the organization's row until `tx` ends; one deleted meanwhile is `NotFound`.
pub(crate) async fn lock_org(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    org_id: &str,
) -> Result<(), AppError> {
    let locked = sqlx::query("UPDATE organizations SET id = id WHERE id = $1")
        .bind(org_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if locked == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}
