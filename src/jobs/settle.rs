//! A job's status changes, as the job service reports them, and what each does to the
//! hold: completion captures the final cost and releases the rest, failure and
//! cancellation release all of it, and a job the service forgot expires. Every ledger
//! entry is written in the transaction that changes the job, with its webhook.

use super::{JobStatus, JobView, MAX_COST};
use crate::error::AppError;
use crate::infra::db::Db;
use crate::wallet::ledger::{post_in, wallet_id, Posted, Posting};
use crate::wallet::EntryKind;
use crate::workspace::Owner;

type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// What the service reports.
#[derive(Clone, Debug, Default)]
pub struct Change {
    pub status: Option<JobStatus>,
    pub status_message: Option<String>,
    pub queue_position: Option<i64>,
    pub final_cost: Option<i64>,
}

/// What reporting did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Changed {
    Updated(Box<JobView>),
    /// The job cannot go there from where it is.
    Illegal {
        current: JobStatus,
        allowed: Vec<JobStatus>,
    },
    NotFound,
}

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

pub(super) async fn lock(
    tx: &mut Tx<'_>,
    job_id: &str,
    now: i64,
) -> Result<Option<Locked>, AppError> {
    Ok(sqlx::query_as(
        "UPDATE jobs SET updated_at = $1 WHERE id = $2 \
         RETURNING owner_kind, owner_id, key_id, name, device, status, held, held_included",
    )
    .bind(now)
    .bind(job_id)
    .fetch_optional(&mut **tx)
    .await?)
}

/// Applies the service's report to a job.
pub async fn change(db: &Db, job_id: &str, change: &Change, now: i64) -> Result<Changed, AppError> {
    if let Some(message) = &change.status_message {
        super::records::validate_message(message)?;
    }
    if change.queue_position.is_some_and(|p| p < 0) {
        return Err(AppError::invalid(
            "queue_position",
            "A queue position is 0 or more.",
        ));
    }
    if change
        .final_cost
        .is_some_and(|c| !(0..=MAX_COST).contains(&c))
    {
        return Err(AppError::invalid(
            "final_cost",
            format!("The final cost is a whole number of credits from 0 to {MAX_COST}."),
        ));
    }
    let mut tx = db.begin_write().await?;
    let Some(job) = lock(&mut tx, job_id, now).await? else {
        return Ok(Changed::NotFound);
    };
    let current = job.status();
    let next = change.status.unwrap_or(current);
    if !current.next().contains(&next) {
        return Ok(Changed::Illegal {
            current,
            allowed: current.next().to_vec(),
        });
    }
    if next == JobStatus::Completed && change.final_cost.is_none() {
        return Err(AppError::invalid(
            "final_cost",
            "A completed job needs its final cost.",
        ));
    }
    if next != JobStatus::Completed && change.final_cost.is_some() {
        return Err(AppError::invalid(
            "final_cost",
            "A final cost is sent with status completed only.",
        ));
    }
    sqlx::query(
        "UPDATE jobs SET status = $1, \
         status_message = CASE WHEN $2 IS NULL THEN status_message ELSE $2 END, \
         queue_position = CASE WHEN $3 IS NULL THEN queue_position ELSE $3 END WHERE id = $4",
    )
    .bind(next.as_str())
    .bind(change.status_message.as_deref())
    .bind(change.queue_position)
    .bind(job_id)
    .execute(&mut *tx)
    .await?;
    if next != current {
        super::records::record_event(&mut tx, job_id, next, change.status_message.as_deref(), now)
            .await?;
    }
    match next {
        JobStatus::Running if current == JobStatus::Queued => {
            sqlx::query("UPDATE jobs SET started_at = $1, queue_position = NULL WHERE id = $2")
                .bind(now)
                .bind(job_id)
                .execute(&mut *tx)
                .await?;
        }
        JobStatus::Completed => {
            let final_cost = change.final_cost.unwrap_or(0);
            capture(&mut tx, job_id, &job, final_cost, now).await?;
        }
        JobStatus::Failed | JobStatus::Cancelled => {
            let reason = change
                .status_message
                .as_deref()
                .unwrap_or(if next == JobStatus::Failed {
                    "reported by the job service"
                } else {
                    "confirmed by the job service"
                });
            release(&mut tx, job_id, &job, next, reason, now).await?;
        }
        _ => {}
    }
    let view = super::store::job_in(&mut tx, job_id)
        .await?
        .ok_or_else(|| AppError::internal("jobs", "a changed job vanished"))?;
    let event = match next {
        JobStatus::Completed if current != next => Some("job.completed"),
        JobStatus::Failed if current != next => Some("job.failed"),
        _ => None,
    };
    if let Some(event) = event {
        crate::operator_webhooks::outbox::enqueue_in(&mut tx, event, webhook_object(&view), now)
            .await?;
    }
    tx.commit().await?;
    Ok(Changed::Updated(Box::new(view)))
}

/// A job as a webhook carries it.
pub fn webhook_object(job: &JobView) -> serde_json::Value {
    serde_json::to_value(job).unwrap_or(serde_json::Value::Null)
}

/// Completion: the hold is released and the final cost charged. Beyond the hold it is
/// charged when the rest of the balance covers it; otherwise the hold is charged and
/// the difference recorded as owed.
async fn capture(
    tx: &mut Tx<'_>,
    job_id: &str,
    job: &Locked,
    final_cost: i64,
    now: i64,
) -> Result<(), AppError> {
    let available = give_back(tx, job_id, job, "Released at completion", now).await?;
    let owner = job.owner()?;
    let (charge, owed) = if final_cost <= job.held || final_cost <= available {
        (final_cost, 0)
    } else {
        (job.held, final_cost - job.held)
    };
    if charge > 0 {
        let posting = Posting {
            owner,
            amount: -charge,
            kind: EntryKind::Charge,
            reference: Some(job_id.to_string()),
            description: format!("Job {} on {}", job.name, job.device),
            actor: format!("API key {}", job.key_id),
            key_id: Some(job.key_id.clone()),
            metadata: None,
            idempotency_key: format!("job-charge:{job_id}"),
            may_overdraw: false,
        };
        if let Posted::Insufficient { .. } = post_in(tx, &posting, now).await? {
            return Err(AppError::internal(
                "jobs",
                "a job's capture exceeded what its release gave back",
            ));
        }
    }
    super::records::add_key_spending(tx, &job.key_id, charge - job.held, now).await?;
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
    give_back(tx, job_id, job, &description, now).await?;
    super::records::add_key_spending(tx, &job.key_id, -job.held, now).await?;
    sqlx::query("UPDATE jobs SET ended_at = $1, queue_position = NULL WHERE id = $2")
        .bind(now)
        .bind(job_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Releases what is held for the job (a `release` entry; included credits the hold
/// took are included again, as far as live grants still stand behind them). Answers
/// the balance after it.
async fn give_back(
    tx: &mut Tx<'_>,
    job_id: &str,
    job: &Locked,
    description: &str,
    now: i64,
) -> Result<i64, AppError> {
    let owner = job.owner()?;
    let wallet = wallet_id(&owner);
    if job.held <= 0 {
        return crate::wallet::ledger::balance_in(tx, &wallet).await;
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
    // Included again: no more than the hold took, nor than live grants still hold.
    let (included, live): (i64, i64) = sqlx::query_as(
        "SELECT included, (SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM credit_grants \
         WHERE wallet_id = $1 AND expired_at IS NULL) FROM wallets WHERE id = $1",
    )
    .bind(&wallet)
    .fetch_one(&mut **tx)
    .await?;
    let restored = job.held_included.min(live - included).max(0);
    sqlx::query("UPDATE wallets SET held = held - $1, included = included + $2 WHERE id = $3")
        .bind(job.held)
        .bind(restored)
        .bind(&wallet)
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE jobs SET held = 0 WHERE id = $1")
        .bind(job_id)
        .execute(&mut **tx)
        .await?;
    Ok(balance)
}
