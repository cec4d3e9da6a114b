//! A job's status changes, as the job service reports them, and what each does to the
//! hold: completion captures the final cost and releases the rest, failure and
//! cancellation release all of it, and a job the service forgot expires. Every ledger
//! entry is written in the transaction that changes the job, with its webhook.

use super::capture::{capture, lock, release, Touch};
use super::{JobStatus, JobView, MAX_COST};
use crate::error::AppError;
use crate::infra::db::Db;

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
    let Some(job) = lock(&mut tx, job_id, Touch::Update, now).await? else {
        return Ok(Changed::NotFound);
    };
    let current = job.status();
    let next = change.status.unwrap_or(current);
    // The same end sent again (its answer was lost): answered as before, changing nothing.
    let repeated = current.ended()
        && next == current
        && (current != JobStatus::Completed || change.final_cost == job.final_cost);
    if repeated {
        drop(tx);
        return match super::store::get_any(db, job_id).await? {
            Some(view) => Ok(Changed::Updated(Box::new(view))),
            None => Ok(Changed::NotFound),
        };
    }
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
