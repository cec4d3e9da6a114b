//! Builds the overview from the key store and the usage queries.

use super::Overview;
use crate::auth::User;
use crate::error::AppError;
use crate::infra::db::Db;
use crate::keys::store::KeyStore;
use crate::usage::queries;
use crate::wallet::{low_balance, Owner};

pub async fn overview(
    keys: &KeyStore,
    db: &Db,
    now: i64,
    user: &User,
) -> Result<Overview, AppError> {
    let owner = Owner::User(user.id.clone());
    let totals = keys.totals(&owner).await?;
    let alert = low_balance::state(db, &owner).await?;
    Ok(Overview {
        email: user.email.clone(),
        email_verified: user.email_verified_at.is_some(),
        member_since: user.created_at,
        total_keys: totals.total,
        active_keys: totals.active,
        last_used_at: totals.last_used_at,
        requests_30d: queries::owner_requests_30d(db, &owner, now).await?,
        balance: alert.balance,
        low_balance_threshold: alert.threshold,
    })
}
