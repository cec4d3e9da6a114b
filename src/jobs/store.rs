//! Reading jobs back: one owner's, filtered and paged, with a job's timeline and its
//! ledger entries. Another owner's job answers like a missing one.

use super::{
    JobChoices, JobDetail, JobEvent, JobFilter, JobPage, JobStatus, JobView, JobsAtAGlance,
    PAGE_SIZE,
};
use crate::error::AppError;
use crate::infra::db::Db;
use crate::wallet::{ledger::wallet_id, EntryKind, LedgerEntry};
use crate::workspace::Owner;

type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

const COLUMNS: &str = "id, name, device, status, status_message, queue_position, shots, \
     estimated_cost, held, final_cost, charged, owed, key_id, key_name, submitted_at, \
     started_at, ended_at";

#[derive(sqlx::FromRow)]
struct JobRow {
    id: String,
    name: String,
    device: String,
    status: String,
    status_message: Option<String>,
    queue_position: Option<i64>,
    shots: Option<i64>,
    estimated_cost: i64,
    held: i64,
    final_cost: Option<i64>,
    charged: i64,
    owed: i64,
    key_id: String,
    key_name: String,
    submitted_at: i64,
    started_at: Option<i64>,
    ended_at: Option<i64>,
}

impl JobRow {
    fn into_view(self) -> JobView {
        JobView {
            id: self.id,
            name: self.name,
            device: self.device,
            status: JobStatus::parse(&self.status).unwrap_or(JobStatus::Expired),
            status_message: self.status_message,
            queue_position: self.queue_position,
            shots: self.shots,
            estimated_cost: self.estimated_cost,
            held: self.held,
            final_cost: self.final_cost,
            charged: self.charged,
            owed: self.owed,
            key_id: self.key_id,
            key_name: self.key_name,
            submitted_at: self.submitted_at,
            started_at: self.started_at,
            ended_at: self.ended_at,
        }
    }
}

/// A job by id inside a transaction, whoever owns it (the service's view).
pub async fn job_in(tx: &mut Tx<'_>, job_id: &str) -> Result<Option<JobView>, AppError> {
    let row: Option<JobRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM jobs WHERE id = $1"))
        .bind(job_id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.map(JobRow::into_view))
}

/// A job by id, whoever owns it (the job service's view).
pub async fn get_any(db: &Db, job_id: &str) -> Result<Option<JobView>, AppError> {
    let row: Option<JobRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM jobs WHERE id = $1"))
        .bind(job_id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(JobRow::into_view))
}

/// The owner's job, or None (also for another owner's).
pub async fn get(db: &Db, owner: &Owner, job_id: &str) -> Result<Option<JobView>, AppError> {
    let row: Option<JobRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM jobs WHERE id = $1 AND owner_kind = $2 AND owner_id = $3"
    ))
    .bind(job_id)
    .bind(owner.kind())
    .bind(owner.id())
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(JobRow::into_view))
}

/// The owner's job with its timeline and ledger entries.
pub async fn detail(db: &Db, owner: &Owner, job_id: &str) -> Result<JobDetail, AppError> {
    let job = get(db, owner, job_id).await?.ok_or(AppError::NotFound)?;
    let events: Vec<(String, Option<String>, i64)> = sqlx::query_as(
        "SELECT status, message, created_at FROM job_events WHERE job_id = $1 \
         ORDER BY created_at, id",
    )
    .bind(job_id)
    .fetch_all(&db.pool)
    .await?;
    type EntryRow = (String, i64, String, String, String, Option<String>, i64);
    let entries: Vec<EntryRow> =
        sqlx::query_as(
            "SELECT id, amount, kind, description, actor, key_id, created_at FROM ledger_entries \
             WHERE wallet_id = $1 AND reference = $2 \
             ORDER BY created_at, CASE kind WHEN 'hold' THEN 0 WHEN 'release' THEN 1 ELSE 2 END, id",
        )
        .bind(wallet_id(owner))
        .bind(job_id)
        .fetch_all(&db.pool)
        .await?;
    Ok(JobDetail {
        job,
        timeline: events
            .into_iter()
            .map(|(status, message, created_at)| JobEvent {
                status: JobStatus::parse(&status).unwrap_or(JobStatus::Expired),
                message,
                created_at,
            })
            .collect(),
        entries: entries
            .into_iter()
            .map(
                |(id, amount, kind, description, actor, key_id, created_at)| LedgerEntry {
                    id,
                    amount,
                    kind: EntryKind::parse(&kind).unwrap_or(EntryKind::Adjustment),
                    reference: Some(job_id.to_string()),
                    description,
                    actor,
                    key_id,
                    created_at,
                },
            )
            .collect(),
    })
}

/// The WHERE clause and its values for an owner's jobs under a filter; `$1`, `$2` are
/// the owner, the rest follow.
fn filtered(owner: &Owner, filter: &JobFilter) -> (String, Vec<FilterValue>) {
    let mut sql = String::from("owner_kind = $1 AND owner_id = $2");
    let mut values = vec![
        FilterValue::Text(owner.kind().to_string()),
        FilterValue::Text(owner.id().to_string()),
    ];
    let mut push = |clause: &str, value: FilterValue| {
        values.push(value);
        sql.push_str(&format!(" AND {clause} ${}", values.len()));
    };
    if let Some(status) = filter.status {
        push("status =", FilterValue::Text(status.as_str().to_string()));
    }
    if let Some(device) = &filter.device {
        push("device =", FilterValue::Text(device.clone()));
    }
    if let Some(key) = &filter.key_id {
        push("key_id =", FilterValue::Text(key.clone()));
    }
    if let Some(from) = filter.from {
        push("submitted_at >=", FilterValue::Int(from));
    }
    if let Some(until) = filter.until {
        push("submitted_at <", FilterValue::Int(until));
    }
    (sql, values)
}

enum FilterValue {
    Text(String),
    Int(i64),
}

fn bind_all<'q, O>(
    mut query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    values: Vec<FilterValue>,
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
    for value in values {
        query = match value {
            FilterValue::Text(text) => query.bind(text),
            FilterValue::Int(n) => query.bind(n),
        };
    }
    query
}

/// A page of the owner's jobs, newest first; `before` is the last id of the previous
/// page (another owner's id gives an empty page).
pub async fn list(
    db: &Db,
    owner: &Owner,
    filter: &JobFilter,
    before: Option<&str>,
    limit: usize,
) -> Result<JobPage, AppError> {
    let limit = limit.clamp(1, PAGE_SIZE);
    let (mut clause, mut values) = filtered(owner, filter);
    if let Some(before) = before {
        values.push(FilterValue::Text(before.to_string()));
        let n = values.len();
        clause.push_str(&format!(
            " AND (submitted_at, id) < (SELECT submitted_at, id FROM jobs WHERE id = ${n} \
             AND owner_kind = $1 AND owner_id = $2)"
        ));
    }
    values.push(FilterValue::Int(limit as i64 + 1));
    let sql = format!(
        "SELECT {COLUMNS} FROM jobs WHERE {clause} ORDER BY submitted_at DESC, id DESC LIMIT ${}",
        values.len()
    );
    let mut rows: Vec<JobRow> = bind_all(sqlx::query_as(&sql), values)
        .fetch_all(&db.pool)
        .await?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let jobs: Vec<JobView> = rows.into_iter().map(JobRow::into_view).collect();
    let next_before = if more {
        jobs.last().map(|j| j.id.clone())
    } else {
        None
    };
    Ok(JobPage { jobs, next_before })
}

/// Every job under the filter, newest first, at most `limit` (for a CSV export).
pub async fn all(
    db: &Db,
    owner: &Owner,
    filter: &JobFilter,
    limit: i64,
) -> Result<Vec<JobView>, AppError> {
    let (clause, mut values) = filtered(owner, filter);
    values.push(FilterValue::Int(limit));
    let sql = format!(
        "SELECT {COLUMNS} FROM jobs WHERE {clause} ORDER BY submitted_at DESC, id DESC LIMIT ${}",
        values.len()
    );
    let rows: Vec<JobRow> = bind_all(sqlx::query_as(&sql), values)
        .fetch_all(&db.pool)
        .await?;
    Ok(rows.into_iter().map(JobRow::into_view).collect())
}

/// The devices and keys the owner's jobs name, for the filters.
pub async fn choices(db: &Db, owner: &Owner) -> Result<JobChoices, AppError> {
    let devices: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT device FROM jobs WHERE owner_kind = $1 AND owner_id = $2 ORDER BY device LIMIT 200",
    )
    .bind(owner.kind())
    .bind(owner.id())
    .fetch_all(&db.pool)
    .await?;
    let keys: Vec<(String, String)> = sqlx::query_as(
        "SELECT key_id, MAX(key_name) FROM jobs WHERE owner_kind = $1 AND owner_id = $2 \
         GROUP BY key_id ORDER BY MAX(key_name) LIMIT 200",
    )
    .bind(owner.kind())
    .bind(owner.id())
    .fetch_all(&db.pool)
    .await?;
    Ok(JobChoices {
        devices: devices.into_iter().map(|(d,)| d).collect(),
        keys,
    })
}

/// Running and queued jobs, credits on hold and owed.
pub async fn glance(db: &Db, owner: &Owner) -> Result<JobsAtAGlance, AppError> {
    let (running, queued, owed): (i64, i64, i64) = sqlx::query_as(
        "SELECT \
           CAST(COALESCE(SUM(CASE WHEN status IN ('running', 'cancel_requested') THEN 1 ELSE 0 END), 0) AS BIGINT), \
           CAST(COALESCE(SUM(CASE WHEN status = 'queued' THEN 1 ELSE 0 END), 0) AS BIGINT), \
           CAST(COALESCE(SUM(owed), 0) AS BIGINT) \
         FROM jobs WHERE owner_kind = $1 AND owner_id = $2 AND (held > 0 OR owed > 0)",
    )
    .bind(owner.kind())
    .bind(owner.id())
    .fetch_one(&db.pool)
    .await?;
    let held: Option<(i64,)> = sqlx::query_as("SELECT held FROM wallets WHERE id = $1")
        .bind(wallet_id(owner))
        .fetch_optional(&db.pool)
        .await?;
    Ok(JobsAtAGlance {
        running,
        queued,
        on_hold: held.map_or(0, |(h,)| h),
        owed,
    })
}

/// Wallets whose `held` is not what their jobs hold (`keyward ledger verify`):
/// (wallet, held, jobs' holds). None, if every hold and release moved both.
pub async fn hold_mismatches(db: &Db) -> Result<Vec<(String, i64, i64)>, AppError> {
    Ok(sqlx::query_as(
        "SELECT w.id, w.held, CAST(COALESCE(SUM(j.held), 0) AS BIGINT) FROM wallets w \
         LEFT JOIN jobs j ON j.owner_kind = w.owner_kind AND j.owner_id = w.owner_id \
         GROUP BY w.id, w.held HAVING w.held <> CAST(COALESCE(SUM(j.held), 0) AS BIGINT)",
    )
    .fetch_all(&db.pool)
    .await?)
}

/// Of the steps a service was answered for (`held JOB_ID`, `settled JOB_ID FINAL_COST`,
/// one per line), those the database does not hold as answered: a hold whose job is
/// missing, a settlement whose job is not completed at that cost.
pub async fn unacknowledged(db: &Db, steps: &str) -> Result<Vec<String>, AppError> {
    let mut expected: std::collections::HashMap<String, Option<i64>> = Default::default();
    for line in steps.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        match parts.as_slice() {
            ["held", id] => {
                expected.entry((*id).to_string()).or_insert(None);
            }
            ["settled", id, cost] => {
                expected.insert((*id).to_string(), cost.parse().ok());
            }
            _ => {}
        }
    }
    let ids: Vec<&String> = expected.keys().collect();
    let mut found: std::collections::HashMap<String, (String, Option<i64>)> = Default::default();
    for chunk in ids.chunks(500) {
        let list = (1..=chunk.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("SELECT id, status, final_cost FROM jobs WHERE id IN ({list})");
        let mut query = sqlx::query_as::<_, (String, String, Option<i64>)>(&sql);
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for (id, status, cost) in query.fetch_all(&db.pool).await? {
            found.insert(id, (status, cost));
        }
    }
    let mut problems = Vec::new();
    for (id, settled) in &expected {
        match (found.get(id), settled) {
            (None, _) => problems.push(format!("{id}: answered but not in the database")),
            (Some((status, cost)), Some(expected_cost))
                if status != "completed" || *cost != Some(*expected_cost) =>
            {
                problems.push(format!(
                    "{id}: answered completed at {expected_cost} but is {status} at {cost:?}"
                ))
            }
            _ => {}
        }
    }
    problems.sort();
    Ok(problems)
}
