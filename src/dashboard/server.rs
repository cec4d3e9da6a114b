//! Builds the dashboards from the key store, the usage queries, the wallet and the
//! organization's members and credits.

use super::{OrgOverview, Overview};
use crate::auth::User;
use crate::error::AppError;
use crate::infra::db::Db;
use crate::infra::plans::PlanCatalog;
use crate::keys::store::KeyStore;
use crate::orgs::OrgSummary;
use crate::usage::queries;
use crate::wallet::{ledger, low_balance};
use crate::workspace::access::Membership;
use crate::workspace::Owner;

pub async fn overview(
    keys: &KeyStore,
    db: &Db,
    plans: &PlanCatalog,
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
        past_due_plan: crate::billing::store::live(&db.pool, &owner)
            .await?
            .filter(|subscription| subscription.status == "past_due")
            .map(|subscription| plans.or_free(&subscription.plan).name.clone()),
        jobs: crate::jobs::store::glance(db, &owner).await?,
    })
}

/// An organization's dashboard, as the member `m` sees it.
pub async fn org_overview(
    db: &Db,
    keys: &KeyStore,
    m: &Membership,
    user_id: &str,
    now: i64,
) -> Result<OrgOverview, AppError> {
    let owner = Owner::Org(m.org_id.clone());
    let totals = keys.totals(&owner).await?;
    let members = crate::orgs::members::list(db, &m.org_id).await?;
    let manages = m.role.manages();
    let requests =
        crate::orgs::credit_requests::requests(db, &m.org_id, (!manages).then_some(user_id))
            .await?;
    let mut conn = db.pool.acquire().await?;
    let my_allocation = crate::orgs::credits::unspent(&mut conn, &m.org_id, user_id).await?;
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
