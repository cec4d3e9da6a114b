//! The organization's credits beyond its wallet: allocations to members (spent from
//! the member's own wallet) and their return when a member leaves. Every move is a
//! pair of ledger entries in one transaction.

use crate::error::{AppError, FieldError};
use crate::infra::{db::Db, random};
use crate::wallet::ledger::{self, Posted, Posting};
use crate::wallet::{format_credits, EntryKind};
use crate::workspace::access::Membership;
use crate::workspace::Owner;

type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// The most credits one allocation or request may move.
pub const MAX_CREDITS: i64 = 1_000_000_000;

pub(super) fn check_credits(credits: i64) -> Result<(), FieldError> {
    if (1..=MAX_CREDITS).contains(&credits) {
        Ok(())
    } else {
        Err(FieldError::new(
            "credits",
            format!(
                "Enter a whole number of credits from 1 to {}.",
                format_credits(MAX_CREDITS)
            ),
        ))
    }
}

fn allocation_key(org: &Membership, request_id: &str, user_id: &str) -> String {
    format!("alloc:{}:{request_id}:{user_id}", org.org_id)
}

/// Only bought credits can be given to members: the included ones stay with the
/// organization's plan and expire there.
fn short_of(bought: i64, needed: i64) -> AppError {
    AppError::invalid(
        "credits",
        format!(
            "The organization has {} credits to give (included credits stay with its plan); this needs {}. Buy credits for it first.",
            format_credits(bought.max(0)),
            format_credits(needed)
        ),
    )
}

/// The organization's credits that may be given: its balance less its included ones.
async fn givable(db: &Db, org_id: &str) -> Result<i64, AppError> {
    let owner = Owner::Org(org_id.to_string());
    let balance = ledger::balance(db, &owner).await?;
    let included = crate::wallet::included::left(db, &owner).await?.credits;
    Ok(balance - included)
}

/// Gives `credits` to each of `to` (member ids), all or nothing. `request_id` makes a
/// retry of the same submission a no-op. Answers the organization's balance after.
pub async fn allocate(
    db: &Db,
    acting: &Membership,
    actor_email: &str,
    to: &[String],
    credits: i64,
    request_id: &str,
    now: i64,
) -> Result<i64, AppError> {
    acting.require_manager()?;
    let mut errors = Vec::new();
    if let Err(e) = check_credits(credits) {
        errors.push(e);
    }
    if to.is_empty() {
        errors.push(FieldError::new("members", "Choose who gets the credits."));
    }
    if !(16..=64).contains(&request_id.len()) {
        errors.push(FieldError::new("form", "Reload the page and try again."));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let balance = ledger::balance(db, &Owner::Org(acting.org_id.clone())).await?;
    // The same submission again: it was made (in one transaction), so nothing to do.
    let first = format!("{}:out", allocation_key(acting, request_id, &to[0]));
    let replay = sqlx::query("SELECT 1 FROM ledger_entries WHERE idempotency_key = $1")
        .bind(&first)
        .fetch_optional(&db.pool)
        .await?;
    if replay.is_some() {
        return Ok(balance);
    }
    let needed = credits.saturating_mul(to.len() as i64);
    let bought = givable(db, &acting.org_id).await?;
    if needed > bought {
        return Err(short_of(bought, needed));
    }
    let mut tx = db.begin_write().await?;
    // Under the organization's lock, as a member's removal takes it: credits never land
    // with someone removed meanwhile.
    super::access::lock_org(&mut tx, &acting.org_id).await?;
    for user_id in to {
        let key = allocation_key(acting, request_id, user_id);
        let description = format!("Allocated by {}", acting.name);
        move_in(
            &mut tx,
            acting,
            user_id,
            credits,
            &key,
            &description,
            actor_email,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    tracing::info!(org = %acting.org_id, members = to.len(), credits, "credits allocated");
    ledger::balance(db, &Owner::Org(acting.org_id.clone())).await
}

/// One allocation inside `tx`: the organization pays, the member receives, and the
/// member's outstanding allocation grows. A repeated `key` changes nothing.
#[allow(clippy::too_many_arguments)]
pub(super) async fn move_in(
    tx: &mut Tx<'_>,
    org: &Membership,
    user_id: &str,
    credits: i64,
    key: &str,
    description: &str,
    actor: &str,
    now: i64,
) -> Result<(), AppError> {
    let (is_member,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM org_members WHERE org_id = $1 AND user_id = $2")
            .bind(&org.org_id)
            .bind(user_id)
            .fetch_one(&mut **tx)
            .await?;
    if is_member == 0 {
        return Err(AppError::invalid(
            "members",
            "Choose members of the organization.",
        ));
    }
    let out = Posting {
        owner: Owner::Org(org.org_id.clone()),
        amount: -credits,
        kind: EntryKind::Allocation,
        reference: Some(user_id.to_string()),
        description: format!("Allocated to a member ({user_id})"),
        actor: actor.to_string(),
        key_id: None,
        metadata: None,
        idempotency_key: format!("{key}:out"),
        may_overdraw: false,
    };
    match ledger::post_in(tx, &out, now).await? {
        Posted::New { .. } => {}
        Posted::Duplicate { .. } => return Ok(()),
        // Spent by a charge since the check in `allocate`.
        Posted::Insufficient { .. } => {
            let (bought,): (i64,) =
                sqlx::query_as("SELECT balance - included FROM wallets WHERE id = $1")
                    .bind(crate::wallet::ledger::wallet_id(&out.owner))
                    .fetch_one(&mut **tx)
                    .await?;
            return Err(short_of(bought, credits));
        }
    }
    let received = Posting {
        owner: Owner::User(user_id.to_string()),
        amount: credits,
        idempotency_key: format!("{key}:in"),
        reference: Some(org.org_id.clone()),
        description: description.to_string(),
        ..out
    };
    ledger::post_in(tx, &received, now).await?;
    sqlx::query(
        "INSERT INTO org_allocations (org_id, user_id, outstanding, total, since, updated_at) \
         VALUES ($1, $2, $3, $3, $4, $4) ON CONFLICT (org_id, user_id) DO UPDATE SET \
         since = CASE WHEN org_allocations.outstanding <= 0 THEN excluded.since ELSE org_allocations.since END, \
         outstanding = org_allocations.outstanding + excluded.outstanding, \
         total = org_allocations.total + excluded.total, updated_at = excluded.updated_at",
    )
    .bind(&org.org_id)
    .bind(user_id)
    .bind(credits)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What is left of a member's allocation: spending since it was given counts against
/// it first, and it is never more than the member's balance.
pub async fn unspent(
    conn: &mut sqlx::AnyConnection,
    org_id: &str,
    user_id: &str,
) -> Result<i64, AppError> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT outstanding, since FROM org_allocations WHERE org_id = $1 AND user_id = $2",
    )
    .bind(org_id)
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((outstanding, since)) = row.filter(|(outstanding, _)| *outstanding > 0) else {
        return Ok(0);
    };
    let wallet = crate::wallet::wallet_id(&Owner::User(user_id.to_string()));
    let (spent, balance): (i64, i64) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(CASE WHEN e.kind IN ('charge', 'refund') THEN -e.amount ELSE 0 END), 0) AS BIGINT), \
         COALESCE(MAX(w.balance - w.included), 0) FROM wallets w \
         LEFT JOIN ledger_entries e ON e.wallet_id = w.id AND e.created_at >= $2 WHERE w.id = $1",
    )
    .bind(&wallet)
    .bind(since)
    .fetch_one(&mut *conn)
    .await?;
    Ok((outstanding - spent.max(0)).clamp(0, balance.max(0)))
}

/// Inside the removal's transaction: the member's unspent allocation goes back to the
/// organization. Answers the credits returned.
pub async fn return_unspent(
    tx: &mut Tx<'_>,
    org: &Membership,
    user_id: &str,
    now: i64,
) -> Result<i64, AppError> {
    let credits = unspent(&mut *tx, &org.org_id, user_id).await?;
    if credits > 0 {
        let key = format!("return:{}:{user_id}:{}", org.org_id, random::id("ret")?);
        let back = Posting {
            owner: Owner::User(user_id.to_string()),
            amount: -credits,
            kind: EntryKind::Allocation,
            reference: Some(org.org_id.clone()),
            description: format!("Unspent allocation returned to {}", org.name),
            actor: "organization".to_string(),
            key_id: None,
            metadata: None,
            idempotency_key: format!("{key}:out"),
            may_overdraw: false,
        };
        if let Posted::New { .. } = ledger::post_in(tx, &back, now).await? {
            let received = Posting {
                owner: Owner::Org(org.org_id.clone()),
                amount: credits,
                reference: Some(user_id.to_string()),
                description: format!("Unspent allocation returned by a member ({user_id})"),
                idempotency_key: format!("{key}:in"),
                ..back
            };
            ledger::post_in(tx, &received, now).await?;
        }
    }
    sqlx::query("DELETE FROM org_allocations WHERE org_id = $1 AND user_id = $2")
        .bind(&org.org_id)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(credits)
}
