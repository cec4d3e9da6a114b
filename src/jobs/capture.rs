//! What ending a job does to its hold, inside the transaction that ends it: the hold
//! is released (a `release` entry), included credits it took are included again (or
//! expire, when their grant ended while they were held), the final cost is charged, and
//! the key's monthly spending gives the hold back and counts the charge.

use super::JobStatus;
use crate::error::AppError;
use crate::wallet::ledger::{post_in, wallet_id, Posted, Posting};
use crate::wallet::EntryKind;
use crate::workspace::Owner;

type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// The parts of a job its settlement reads, locked for the transaction.
#[derive(sqlx::FromRow)]
pub(super) struct Locked {
    pub owner_kind: String,
    pub owner_id: String,
    key_id: String,
    name: String,
    device: String,
    status: String,
    held: i64,
    held_included: i64,
    hold_month: Option<i64>,
    pub final_cost: Option<i64>,
}

impl Locked {
    fn owner(&self) -> Result<Owner, AppError> {
        Owner::from_parts(&self.owner_kind, self.owner_id.clone())
            .ok_or_else(|| AppError::internal("jobs", "a job with an unknown owner kind"))
    }

    pub fn status(&self) -> JobStatus {
        JobStatus::parse(&self.status).unwrap_or(JobStatus::Expired)
    }
}

/// Whether locking the job counts as an update from the job service (which keeps its
/// hold from expiring).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Touch {
    Update,
    Keep,
}

const LOCKED_COLUMNS: &str =
    "owner_kind, owner_id, key_id, name, device, status, held, held_included, hold_month, final_cost";

/// Locks the job's row for the transaction (an UPDATE takes the lock on Postgres).
pub(super) async fn lock(
    tx: &mut Tx<'_>,
    job_id: &str,
    touch: Touch,
    now: i64,
) -> Result<Option<Locked>, AppError> {
    let (touch_sql, keep_sql) = (
        format!("UPDATE jobs SET updated_at = $1 WHERE id = $2 RETURNING {LOCKED_COLUMNS}"),
        format!("UPDATE jobs SET updated_at = updated_at WHERE id = $1 RETURNING {LOCKED_COLUMNS}"),
    );
    let query = match touch {
        Touch::Update => sqlx::query_as(&touch_sql).bind(now),
        Touch::Keep => sqlx::query_as(&keep_sql),
    };
    Ok(query.bind(job_id).fetch_optional(&mut **tx).await?)
}

/// Locks the job only if it still holds credits and has not been updated since
/// `cutoff`: the expiry sweep's check, made on the locked row.
pub(super) async fn lock_if_stale(
    tx: &mut Tx<'_>,
    job_id: &str,
    cutoff: i64,
    now: i64,
) -> Result<Option<Locked>, AppError> {
    Ok(sqlx::query_as(&format!(
        "UPDATE jobs SET updated_at = $1 WHERE id = $2 AND held > 0 AND updated_at < $3 \
         AND status IN ('queued', 'running', 'cancel_requested') RETURNING {LOCKED_COLUMNS}"
    ))
    .bind(now)
    .bind(job_id)
    .bind(cutoff)
    .fetch_optional(&mut **tx)
    .await?)
}

/// Completion: the hold is released and the final cost charged. Beyond the hold it is
/// charged when the rest of the balance covers it and the key's monthly limit allows
/// it; otherwise the hold is charged and the difference recorded as owed.
pub(super) async fn capture(
    tx: &mut Tx<'_>,
    job_id: &str,
    job: &Locked,
    final_cost: i64,
    now: i64,
) -> Result<(), AppError> {
    let released = give_back(tx, job_id, job, "Released at completion", now).await?;
    let limited = super::records::limit_and_spent(tx, &job.key_id, now).await?;
    let within_limit =
        limited.is_none_or(|(limit, spent)| spent.saturating_add(final_cost) <= limit);
    let (charge, owed) =
        if final_cost <= job.held || (final_cost <= released.balance && within_limit) {
            (final_cost, 0)
        } else {
            (job.held, final_cost - job.held)
        };
    if charge > 0 {
        let posting = Posting {
            owner: job.owner()?,
            amount: -charge,
            kind: EntryKind::Charge,
            reference: Some(job_id.to_string()),
            description: format!("Job {} on {}", job.name, job.device),
            actor: format!("API key {}", job.key_id),
            key_id: Some(job.key_id.clone()),
            metadata: None,
            idempotency_key: format!("job-charge:{job_id}"),
            // Up to the hold, the credits were set aside for it: they are charged even
            // if an operator's deduction has since taken the balance below zero.
            may_overdraw: charge <= job.held,
        };
        if let Posted::Insufficient { .. } = post_in(tx, &posting, now).await? {
            return Err(AppError::internal(
                "jobs",
                "a job's capture beyond its hold exceeded the balance",
            ));
        }
        if limited.is_some() {
            super::records::add_key_spending(
                tx,
                &job.key_id,
                charge,
                crate::time_fmt::month_of(now).0,
            )
            .await?;
        }
    }
    // Included credits whose grant ended while held, and that the charge did not use.
    expire_lost(
        tx,
        job_id,
        job,
        released.lost_included.saturating_sub(charge),
        now,
    )
    .await?;
    sqlx::query(
        "UPDATE jobs SET final_cost = $1, charged = $2, owed = $3, ended_at = $4, queue_position = NULL WHERE id = $5",
    )
    .bind(final_cost)
    .bind(charge)
    .bind(owed)
    .bind(now)
    .bind(job_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Failure, cancellation or expiry: the whole hold goes back, with the reason.
pub(super) async fn release(
    tx: &mut Tx<'_>,
    job_id: &str,
    job: &Locked,
    status: JobStatus,
    reason: &str,
    now: i64,
) -> Result<(), AppError> {
    let description = format!(
        "Hold released: job {} {} ({reason})",
        job.name,
        status.label().to_lowercase()
    );
    let released = give_back(tx, job_id, job, &description, now).await?;
    expire_lost(tx, job_id, job, released.lost_included, now).await?;
    sqlx::query("UPDATE jobs SET ended_at = $1, queue_position = NULL WHERE id = $2")
        .bind(now)
        .bind(job_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// What releasing a hold left.
struct Released {
    /// The balance after it.
    balance: i64,
    /// Included credits the hold took whose grant has since ended: included again for
    /// now (a charge takes them first), then expired.
    lost_included: i64,
}

/// Releases what is held for the job (a `release` entry), includes again the included
/// credits the hold took, and gives the hold back to the key's month it was counted in.
async fn give_back(
    tx: &mut Tx<'_>,
    job_id: &str,
    job: &Locked,
    description: &str,
    now: i64,
) -> Result<Released, AppError> {
    let owner = job.owner()?;
    let wallet = wallet_id(&owner);
    if job.held <= 0 {
        let balance = crate::wallet::ledger::balance_in(tx, &wallet).await?;
        return Ok(Released {
            balance,
            lost_included: 0,
        });
    }
    let posting = Posting {
        owner,
        amount: job.held,
        kind: EntryKind::Release,
        reference: Some(job_id.to_string()),
        description: description.to_string(),
        actor: "Keyward".into(),
        key_id: Some(job.key_id.clone()),
        metadata: None,
        idempotency_key: format!("release:{job_id}"),
        may_overdraw: true,
    };
    let balance = match post_in(tx, &posting, now).await? {
        Posted::New { balance, .. } | Posted::Duplicate { balance, .. } => balance,
        Posted::Insufficient { balance } => balance,
    };
    // Of the included credits the hold took, live grants still stand behind some; the
    // rest had their grant end meanwhile.
    let (included, live): (i64, i64) = sqlx::query_as(
        "SELECT included, (SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM credit_grants \
         WHERE wallet_id = $1 AND expired_at IS NULL) FROM wallets WHERE id = $1",
    )
    .bind(&wallet)
    .fetch_one(&mut **tx)
    .await?;
    let restored = job.held_included.min(live - included).max(0);
    let lost_included = job.held_included - restored;
    sqlx::query("UPDATE wallets SET held = held - $1, included = included + $2 WHERE id = $3")
        .bind(job.held)
        .bind(job.held_included)
        .bind(&wallet)
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE jobs SET held = 0 WHERE id = $1")
        .bind(job_id)
        .execute(&mut **tx)
        .await?;
    if let Some(month) = job.hold_month {
        super::records::add_key_spending(tx, &job.key_id, -job.held, month).await?;
    }
    Ok(Released {
        balance,
        lost_included,
    })
}

/// Expires `credits` of the included credits a released hold gave back, whose grant
/// ended while they were held.
async fn expire_lost(
    tx: &mut Tx<'_>,
    job_id: &str,
    job: &Locked,
    credits: i64,
    now: i64,
) -> Result<(), AppError> {
    if credits <= 0 {
        return Ok(());
    }
    let posting = Posting {
        owner: job.owner()?,
        amount: -credits,
        kind: EntryKind::Expiry,
        reference: Some(job_id.to_string()),
        description: "Included credits expired while held for a job".into(),
        actor: "Keyward".into(),
        key_id: None,
        metadata: None,
        idempotency_key: format!("expire-held:{job_id}"),
        may_overdraw: true,
    };
    post_in(tx, &posting, now).await?;
    Ok(())
}
