//! Making organizations and changing who is in them: create, members, roles,
//! ownership transfer and deletion (removal and leaving are `departure`). Callers have checked the asking
//! person's role through `access`; the rules about the Owner are kept here.

use super::access;
use super::{normalize_name, normalize_slug, Member, OrgSummary, Role};
use crate::error::{AppError, FieldError};
use crate::infra::db::Db;
use crate::infra::random;
use crate::workspace::access::Membership;
use crate::workspace::Owner;

/// Most organizations one person may create.
pub const MAX_OWNED: i64 = 20;

/// Creates an organization with `user_id` as its Owner.
pub async fn create(
    db: &Db,
    user_id: &str,
    name: &str,
    slug: &str,
    now: i64,
) -> Result<OrgSummary, AppError> {
    let name = normalize_name(name);
    let slug = normalize_slug(slug);
    let (name, slug) = match (name, slug) {
        (Ok(name), Ok(slug)) => (name, slug),
        (name, slug) => {
            return Err(AppError::Validation(
                [name.err(), slug.err()].into_iter().flatten().collect(),
            ))
        }
    };
    let id = random::id("org")?;
    let mut tx = db.begin_write().await?;
    // Counted with the person's row locked, so the limit holds however many arrive at once.
    sqlx::query("UPDATE users SET id = id WHERE id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let (owned,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM org_members WHERE user_id = $1 AND role = 'owner'")
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?;
    if owned >= MAX_OWNED {
        return Err(AppError::LimitReached(format!(
            "You own {MAX_OWNED} organizations, the most one person may. Delete one or transfer it first."
        )));
    }
    let inserted = sqlx::query(
        "INSERT INTO organizations (id, name, slug, created_by, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (slug) DO NOTHING",
    )
    .bind(&id)
    .bind(&name)
    .bind(&slug)
    .bind(user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Err(AppError::Validation(vec![FieldError::new(
            "slug",
            "Another organization has this URL. Choose another.",
        )]));
    }
    sqlx::query(
        "INSERT INTO org_members (org_id, user_id, role, joined_at, last_active_at) VALUES ($1, $2, 'owner', $3, $3)",
    )
    .bind(&id)
    .bind(user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(org = %id, by = %user_id, "organization created");
    Ok(OrgSummary {
        id,
        name,
        slug,
        role: Role::Owner,
        members: 1,
        created_at: now,
    })
}

/// Every member, the Owner first, then Admins, then by email.
pub async fn list(db: &Db, org_id: &str) -> Result<Vec<Member>, AppError> {
    let rows: Vec<(String, String, String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT m.user_id, u.email, m.role, m.joined_at, m.last_active_at FROM org_members m \
         JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 \
         ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, u.email",
    )
    .bind(org_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(user_id, email, role, joined_at, last_active_at)| {
            Some(Member {
                user_id,
                email,
                role: Role::parse(&role)?,
                joined_at,
                last_active_at,
            })
        })
        .collect())
}

pub(super) async fn role_of(
    db: &Db,
    org_id: &str,
    user_id: &str,
) -> Result<Option<Role>, AppError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT role FROM org_members WHERE org_id = $1 AND user_id = $2")
            .bind(org_id)
            .bind(user_id)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.and_then(|(role,)| Role::parse(&role)))
}

/// Makes another member an Admin or a Member. The Owner's role changes only by a
/// transfer; an Admin may not change another Admin (only the Owner may).
pub async fn set_role(
    db: &Db,
    acting: &Membership,
    user_id: &str,
    role: Role,
) -> Result<(), AppError> {
    acting.require_manager()?;
    let current = role_of(db, &acting.org_id, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if role == Role::Owner {
        return Err(AppError::invalid(
            "role",
            "Transfer ownership to make someone the Owner.",
        ));
    }
    if current == Role::Owner {
        return Err(AppError::invalid(
            "role",
            "The Owner's role changes only by transferring ownership.",
        ));
    }
    if current == Role::Admin && acting.role != Role::Owner {
        return Err(AppError::invalid(
            "role",
            "Only the Owner changes an Admin's role.",
        ));
    }
    sqlx::query(
        "UPDATE org_members SET role = $1 WHERE org_id = $2 AND user_id = $3 AND role <> 'owner'",
    )
    .bind(role.as_str())
    .bind(&acting.org_id)
    .bind(user_id)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// The Owner hands the organization to one of its Admins and becomes an Admin.
pub async fn transfer(
    db: &Db,
    acting: &Membership,
    owner_id: &str,
    to: &str,
) -> Result<(), AppError> {
    acting.require_owner()?;
    match role_of(db, &acting.org_id, to).await? {
        Some(Role::Admin) => {}
        Some(_) => {
            return Err(AppError::invalid(
                "member",
                "Make this member an Admin first; ownership goes to an Admin.",
            ))
        }
        None => return Err(AppError::NotFound),
    }
    let mut tx = db.begin_write().await?;
    // The organization's row is locked first: a second transfer waits for the first
    // and then finds the ownership changed, instead of running into the one-owner index.
    access::lock_org(&mut tx, &acting.org_id).await?;
    // In this order, so that there is never more than one Owner.
    let demoted = sqlx::query(
        "UPDATE org_members SET role = 'admin' WHERE org_id = $1 AND user_id = $2 AND role = 'owner'",
    )
    .bind(&acting.org_id)
    .bind(owner_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if demoted != 1 {
        return Err(ownership_changed());
    }
    let promoted = sqlx::query(
        "UPDATE org_members SET role = 'owner' WHERE org_id = $1 AND user_id = $2 AND role = 'admin'",
    )
    .bind(&acting.org_id)
    .bind(to)
    .execute(&mut *tx)
    .await;
    match promoted {
        Ok(done) if done.rows_affected() == 1 => {}
        Ok(_) => return Err(ownership_changed()),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Err(ownership_changed()),
        Err(e) => return Err(e.into()),
    }
    tx.commit().await?;
    tracing::info!(org = %acting.org_id, from = %owner_id, to = %to, "organization ownership transferred");
    Ok(())
}

/// Deletes the organization, its memberships and invitations. `confirm` must be its slug.
pub async fn delete(db: &Db, acting: &Membership, confirm: &str) -> Result<(), AppError> {
    acting.require_owner()?;
    if confirm.trim() != acting.slug {
        return Err(AppError::invalid(
            "confirm",
            format!("Type {} to confirm.", acting.slug),
        ));
    }
    // Keys and credits are the organization's: they are not thrown away with it.
    let (keys,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM api_keys WHERE org_id = $1")
        .bind(&acting.org_id)
        .fetch_one(&db.pool)
        .await?;
    if keys > 0 {
        return Err(AppError::invalid(
            "confirm",
            format!("Delete the organization's {keys} API keys first."),
        ));
    }
    let mut conn = db.pool.acquire().await?;
    let subscribed = has_subscription(&mut conn, &acting.org_id).await;
    drop(conn);
    subscribed?;
    let balance = crate::wallet::ledger::balance(db, &Owner::Org(acting.org_id.clone())).await?;
    if balance > 0 {
        return Err(AppError::invalid(
            "confirm",
            format!(
                "The organization still has {} credits. Allocate them to members first.",
                crate::wallet::format_credits(balance)
            ),
        ));
    }
    let mut tx = db.begin_write().await?;
    // Locked first, as invitations, transfers and key creation lock it; a key made since
    // the count above still stops the deletion.
    access::lock_org(&mut tx, &acting.org_id).await?;
    let (keys,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM api_keys WHERE org_id = $1")
        .bind(&acting.org_id)
        .fetch_one(&mut *tx)
        .await?;
    if keys > 0 {
        return Err(AppError::invalid(
            "confirm",
            format!("Delete the organization's {keys} API keys first."),
        ));
    }
    // Checked again under the lock: a subscription made since.
    has_subscription(&mut tx, &acting.org_id).await?;
    // Credits held for jobs come back to the wallet when the jobs end: not to a wallet
    // without an owner. (With its keys gone, no new hold can be made.)
    let held: Option<(i64,)> =
        sqlx::query_as("SELECT held FROM wallets WHERE owner_kind = 'org' AND owner_id = $1")
            .bind(&acting.org_id)
            .fetch_optional(&mut *tx)
            .await?;
    if let Some((held,)) = held.filter(|(held,)| *held > 0) {
        return Err(AppError::invalid(
            "confirm",
            format!(
                "{} credits are on hold for the organization's running jobs. Delete it once they have ended.",
                crate::wallet::format_credits(held)
            ),
        ));
    }
    for sql in [
        "DELETE FROM org_invitations WHERE org_id = $1",
        "DELETE FROM org_members WHERE org_id = $1",
        "DELETE FROM organizations WHERE id = $1",
    ] {
        sqlx::query(sql)
            .bind(&acting.org_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    tracing::info!(org = %acting.org_id, "organization deleted");
    Ok(())
}

/// A subscription bills the organization until it ends: it is cancelled first.
async fn has_subscription(conn: &mut sqlx::AnyConnection, org_id: &str) -> Result<(), AppError> {
    let (subscriptions,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM subscriptions WHERE owner_kind = 'org' AND owner_id = $1 \
         AND ended_at IS NULL",
    )
    .bind(org_id)
    .fetch_one(&mut *conn)
    .await?;
    if subscriptions > 0 {
        return Err(AppError::invalid(
            "confirm",
            "The organization has a subscription. Cancel it on its Subscription page, and delete the organization once the period has ended.",
        ));
    }
    Ok(())
}

fn ownership_changed() -> AppError {
    AppError::LimitReached(
        "The organization's ownership or roles changed while you were asking. Reload the page and try again."
            .into(),
    )
}
