//! An organization's dashboard: its wallet, keys and use, and the credits it shares.

use super::access::Membership;
use super::{OrgOverview, OrgSummary};
use crate::error::AppError;
use crate::infra::db::Db;
use crate::keys::store::KeyStore;
use crate::usage::queries;
use crate::wallet::{ledger, Owner};

pub async fn overview(
    db: &Db,
    keys: &KeyStore,
    m: &Membership,
    user_id: &str,
    now: i64,
) -> Result<OrgOverview, AppError> {
    let owner = Owner::Org(m.org_id.clone());
    let totals = keys.totals(&owner).await?;
    let members = super::members::list(db, &m.org_id).await?;
    let manages = m.role.manages();
    let requests =
        super::credit_requests::requests(db, &m.org_id, (!manages).then_some(user_id)).await?;
    let mut conn = db.pool.acquire().await?;
    let my_allocation = super::credits::unspent(&mut conn, &m.org_id, user_id).await?;
    drop(conn);
    Ok(OrgOverview {
        org: OrgSummary {
            id: m.org_id.clone(),
            name: m.name.clone(),
            slug: m.slug.clone(),
            role: m.role,
            members: members.len() as i64,
            created_at: m.created_at,
        },
        balance: ledger::balance(db, &owner).await?,
        total_keys: totals.total,
        active_keys: totals.active,
        requests_30d: queries::owner_requests_30d(db, &owner, now).await?,
        my_allocation,
        requests,
        members: if manages {
            members.into_iter().map(|m| (m.user_id, m.email)).collect()
        } else {
            Vec::new()
        },
    })
}
