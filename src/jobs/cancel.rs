//! What people and time do to a job: a person asks to cancel it (the service is told
//! and confirms), and a job the service stopped updating expires, its hold released.

use super::capture::{lock, lock_if_stale, release, Touch};
use super::settle::webhook_object;
use super::{JobStatus, JobView};
use crate::error::AppError;
use crate::infra::db::Db;
use crate::workspace::Owner;

/// A person asks to cancel their job: it is marked `cancel_requested` and the service
/// told through `job.cancel_requested`; the hold stays until the service confirms.
pub async fn request_cancel(
    db: &Db,
    owner: &Owner,
    job_id: &str,
    actor: &str,
    now: i64,
) -> Result<JobView, AppError> {
    let mut tx = db.begin_write().await?;
    // Not an update from the job service: the hold's 24 hours keep counting.
    let job = lock(&mut tx, job_id, Touch::Keep, now)
        .await?
        .filter(|job| job.owner_kind == owner.kind() && job.owner_id == owner.id())
        .ok_or(AppError::NotFound)?;
    let current = job.status();
    if current == JobStatus::CancelRequested {
        drop(tx);
        return super::store::get(db, owner, job_id)
            .await?
            .ok_or(AppError::NotFound);
    }
    if !current.cancellable() {
        return Err(AppError::invalid(
            "job",
            format!(
                "This job has ended ({}); there is nothing to cancel.",
                current.label().to_lowercase()
            ),
        ));
    }
    sqlx::query("UPDATE jobs SET status = 'cancel_requested' WHERE id = $1")
        .bind(job_id)
        .execute(&mut *tx)
        .await?;
    let message = format!("Cancel requested by {actor}");
    super::records::record_event(
        &mut tx,
        job_id,
        JobStatus::CancelRequested,
        Some(&message),
        now,
    )
    .await?;
    let view = super::store::job_in(&mut tx, job_id)
        .await?
        .ok_or(AppError::NotFound)?;
    crate::operator_webhooks::outbox::enqueue_in(
        &mut tx,
        "job.cancel_requested",
        webhook_object(&view),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(view)
}

/// Releases the holds of jobs the service has not updated for `hold_hours`, marking
/// them expired, each in its own transaction (at most `limit`). Answers how many.
pub async fn expire_stale(
    db: &Db,
    hold_hours: i64,
    now: i64,
    limit: i64,
) -> Result<usize, AppError> {
    let cutoff = now - hold_hours * 3_600_000;
    let due: Vec<(String,)> = sqlx::query_as(
        "SELECT id FROM jobs WHERE held > 0 AND updated_at < $1 ORDER BY updated_at LIMIT $2",
    )
    .bind(cutoff)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    let mut expired = 0;
    for (job_id,) in due {
        // One job that fails (and is tried again next time) holds up none of the rest.
        match expire_one(db, &job_id, hold_hours, cutoff, now).await {
            Ok(true) => expired += 1,
            Ok(false) => {}
            Err(error) => tracing::error!(job = %job_id, %error, "expiring a job's hold failed"),
        }
    }
    Ok(expired)
}

/// Expires one job if, on its locked row, it is still stale; answers whether it did.
async fn expire_one(
    db: &Db,
    job_id: &str,
    hold_hours: i64,
    cutoff: i64,
    now: i64,
) -> Result<bool, AppError> {
    let mut tx = db.begin_write().await?;
    // Updated (or ended) since it was found: the service is alive after all.
    let Some(job) = lock_if_stale(&mut tx, job_id, cutoff, now).await? else {
        return Ok(false);
    };
    let reason =
        format!("No update from the job service for {hold_hours} hours; the hold was released.");
    sqlx::query("UPDATE jobs SET status = 'expired', status_message = $1 WHERE id = $2")
        .bind(&reason)
        .bind(job_id)
        .execute(&mut *tx)
        .await?;
    super::records::record_event(&mut tx, job_id, JobStatus::Expired, Some(&reason), now).await?;
    release(&mut tx, job_id, &job, JobStatus::Expired, &reason, now).await?;
    tx.commit().await?;
    Ok(true)
}
