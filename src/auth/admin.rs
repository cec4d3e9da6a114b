//! Operators: users with the admin role, granted and revoked from the command line.

use super::normalize_email;
use crate::error::AppError;
use crate::infra::db::Db;

/// The user with this email, if any: their id.
pub async fn user_id_by_email(db: &Db, email: &str) -> Result<Option<String>, AppError> {
    let email = normalize_email(email).map_err(|e| AppError::Validation(vec![e]))?;
    let row: Option<(String,)> = sqlx::query_as("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|(id,)| id))
}

/// Gives or takes the admin role; false when no account has this email.
pub async fn set_admin(db: &Db, email: &str, admin: bool) -> Result<bool, AppError> {
    let email = normalize_email(email).map_err(|e| AppError::Validation(vec![e]))?;
    let changed = sqlx::query("UPDATE users SET is_admin = $1 WHERE email = $2")
        .bind(i64::from(admin))
        .bind(email)
        .execute(&db.pool)
        .await?
        .rows_affected();
    Ok(changed > 0)
}

/// Whether this user is an operator. Asked on every admin request, never cached, so a
/// revoke takes effect at once.
pub async fn is_admin(db: &Db, user_id: &str) -> Result<bool, AppError> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT is_admin FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.is_some_and(|(admin,)| admin != 0))
}
