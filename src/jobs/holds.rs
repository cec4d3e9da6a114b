//! Submitting a job: its estimated cost is held on the owner's wallet in the
//! transaction that creates it. A hold is a `hold` ledger entry (the balance, which is
//! what can be spent, goes down; the wallet's `held` goes up); the same idempotency key
//! never holds twice.

use super::records::printable;
use super::{JobView, MAX_COST, MAX_DEVICE_CHARS, MAX_NAME_CHARS, MAX_SHOTS};
use crate::error::{AppError, FieldError};
use crate::infra::{db::Db, random};
use crate::wallet::ledger::{post_in, wallet_id, Posted, Posting};
use crate::wallet::EntryKind;
use crate::workspace::Owner;

pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;
pub const MAX_METADATA_BYTES: usize = 4_096;

/// A job the service submits for a verified key.
#[derive(Clone, Debug)]
pub struct Submission {
    pub owner: Owner,
    pub key_id: String,
    pub key_spend_limit: Option<i64>,
    pub name: Option<String>,
    pub device: String,
    pub shots: Option<i64>,
    pub estimated_cost: i64,
    pub idempotency_key: String,
    pub metadata: Option<String>,
}

/// What submitting did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Submitted {
    /// Created with its hold; the balance that can still be spent.
    Created { job: JobView, available: i64 },
    /// This idempotency key made this job before; nothing new was held.
    Replayed { job: JobView, available: i64 },
    /// The available balance cannot cover the hold; no job was made.
    Insufficient { available: i64 },
    /// The key's monthly spending limit would be passed; no job was made.
    KeyLimitReached { spent: i64, limit: i64 },
    /// The idempotency key was used for a different job.
    KeyReused,
}

/// Checks what the service sent; every problem is named by its field.
pub fn validate(submission: &Submission) -> Result<(), AppError> {
    let mut errors = Vec::new();
    if !(1..=MAX_COST).contains(&submission.estimated_cost) {
        errors.push(FieldError::new(
            "estimated_cost",
            format!("The estimated cost is a whole number of credits from 1 to {MAX_COST}."),
        ));
    }
    let device = submission.device.trim();
    if device.is_empty() || !printable(device, MAX_DEVICE_CHARS) {
        errors.push(FieldError::new(
            "device",
            format!("The device is 1 to {MAX_DEVICE_CHARS} printable characters."),
        ));
    }
    if submission
        .name
        .as_deref()
        .is_some_and(|n| !printable(n, MAX_NAME_CHARS))
    {
        errors.push(FieldError::new(
            "name",
            format!("A name is at most {MAX_NAME_CHARS} printable characters."),
        ));
    }
    if submission
        .shots
        .is_some_and(|s| !(1..=MAX_SHOTS).contains(&s))
    {
        errors.push(FieldError::new(
            "shots",
            format!("Shots are a whole number from 1 to {MAX_SHOTS}."),
        ));
    }
    let key = &submission.idempotency_key;
    if key.is_empty() || !printable(key, MAX_IDEMPOTENCY_KEY_CHARS) {
        errors.push(FieldError::new(
            "idempotency_key",
            format!("An idempotency key is 1 to {MAX_IDEMPOTENCY_KEY_CHARS} printable characters."),
        ));
    }
    if submission
        .metadata
        .as_deref()
        .is_some_and(|m| m.len() > MAX_METADATA_BYTES || m.contains('\0'))
    {
        errors.push(FieldError::new(
            "metadata",
            format!("Metadata is at most {MAX_METADATA_BYTES} bytes of JSON."),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Creates the job and holds its estimated cost, in one transaction.
pub async fn submit(db: &Db, submission: &Submission, now: i64) -> Result<Submitted, AppError> {
    validate(submission)?;
    let job_id = random::ordered_id("job", now)?;
    let device = submission.device.trim();
    let name = submission
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(device);
    // The key's name as it is now, kept with the job.
    let key_name: Option<(String,)> = sqlx::query_as("SELECT name FROM api_keys WHERE id = $1")
        .bind(&submission.key_id)
        .fetch_optional(&db.pool)
        .await?;
    let key_name = key_name.map_or_else(|| submission.key_id.clone(), |(n,)| n);
    let mut tx = db.begin_write().await?;
    // The job first: a second submission with the same key waits here for the first to
    // commit, then finds it.
    let inserted: Option<(String,)> = sqlx::query_as(
        "INSERT INTO jobs (id, owner_kind, owner_id, key_id, key_name, name, device, shots, status, \
         estimated_cost, held, metadata, idempotency_key, submitted_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $9, $9, $10, $11, $12, $12) \
         ON CONFLICT (owner_kind, owner_id, idempotency_key) DO NOTHING RETURNING id",
    )
    .bind(&job_id)
    .bind(submission.owner.kind())
    .bind(submission.owner.id())
    .bind(&submission.key_id)
    .bind(&key_name)
    .bind(name)
    .bind(device)
    .bind(submission.shots)
    .bind(submission.estimated_cost)
    .bind(submission.metadata.as_deref())
    .bind(&submission.idempotency_key)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    if inserted.is_none() {
        drop(tx);
        return replay(db, submission).await;
    }
    // The wallet's row first, then the key's month, in the order charges lock them
    // (`charge_batch`), so a job and a charge for the same key never deadlock.
    let wallet = wallet_id(&submission.owner);
    let included_before = included_of(&mut tx, &wallet).await?;
    if let Some(limit) = submission.key_spend_limit {
        let spent = super::records::lock_key_spending(&mut tx, &submission.key_id, now).await?;
        if spent.saturating_add(submission.estimated_cost) > limit {
            return Ok(Submitted::KeyLimitReached { spent, limit });
        }
    }
    let posting = Posting {
        owner: submission.owner.clone(),
        amount: -submission.estimated_cost,
        kind: EntryKind::Hold,
        reference: Some(job_id.clone()),
        description: format!("Hold for job {name} on {device}"),
        actor: format!("API key {}", submission.key_id),
        key_id: Some(submission.key_id.clone()),
        metadata: None,
        idempotency_key: format!("hold:{job_id}"),
        may_overdraw: false,
    };
    let available = match post_in(&mut tx, &posting, now).await? {
        Posted::New { balance, .. } => balance,
        Posted::Insufficient { balance } => {
            return Ok(Submitted::Insufficient { available: balance })
        }
        Posted::Duplicate { .. } => {
            return Err(AppError::internal("jobs", "a new job's hold key was taken"))
        }
    };
    let held_included = (included_before - included_of(&mut tx, &wallet).await?).max(0);
    sqlx::query("UPDATE wallets SET held = held + $1 WHERE id = $2")
        .bind(submission.estimated_cost)
        .bind(&wallet)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE jobs SET held_included = $1 WHERE id = $2")
        .bind(held_included)
        .bind(&job_id)
        .execute(&mut *tx)
        .await?;
    if submission.key_spend_limit.is_some() {
        let month = crate::time_fmt::month_of(now).0;
        super::records::add_key_spending(
            &mut tx,
            &submission.key_id,
            submission.estimated_cost,
            month,
        )
        .await?;
        // Settling gives the hold back to this month's count, whenever it settles.
        sqlx::query("UPDATE jobs SET hold_month = $1 WHERE id = $2")
            .bind(month)
            .bind(&job_id)
            .execute(&mut *tx)
            .await?;
    }
    super::records::record_event(&mut tx, &job_id, super::JobStatus::Queued, None, now).await?;
    let job = super::store::job_in(&mut tx, &job_id)
        .await?
        .ok_or_else(|| AppError::internal("jobs", "a new job vanished"))?;
    tx.commit().await?;
    Ok(Submitted::Created { job, available })
}

/// The job an idempotency key made, if it was for the same owner, key, device and cost.
async fn replay(db: &Db, submission: &Submission) -> Result<Submitted, AppError> {
    let found: Option<(String, String, String, String, i64, String)> = sqlx::query_as(
        "SELECT id, owner_kind, owner_id, key_id, estimated_cost, device FROM jobs \
         WHERE owner_kind = $1 AND owner_id = $2 AND idempotency_key = $3",
    )
    .bind(submission.owner.kind())
    .bind(submission.owner.id())
    .bind(&submission.idempotency_key)
    .fetch_optional(&db.pool)
    .await?;
    let Some((id, kind, owner_id, key_id, cost, device)) = found else {
        // Rolled back by the submission that held the key: nothing was made under it.
        return Err(AppError::Unavailable(
            "Another request with this idempotency key was under way. Send it again.".into(),
        ));
    };
    let same = kind == submission.owner.kind()
        && owner_id == submission.owner.id()
        && key_id == submission.key_id
        && cost == submission.estimated_cost
        && device == submission.device.trim();
    if !same {
        return Ok(Submitted::KeyReused);
    }
    let job = super::store::get(db, &submission.owner, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let available = crate::wallet::ledger::balance(db, &submission.owner).await?;
    Ok(Submitted::Replayed { job, available })
}

type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// The wallet's included credits, its row locked for the transaction (an UPDATE that
/// changes nothing takes the lock on Postgres).
async fn included_of(tx: &mut Tx<'_>, wallet: &str) -> Result<i64, AppError> {
    let row: Option<(i64,)> =
        sqlx::query_as("UPDATE wallets SET held = held WHERE id = $1 RETURNING included")
            .bind(wallet)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.map_or(0, |(n,)| n))
}
