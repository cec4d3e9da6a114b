//! Charges: services spending a key owner's credits for work, the hot path of billing.
//!
//! Charges that arrive together are written in one transaction (group commit) by one
//! task, and each is answered only after that transaction commits: no answered charge
//! can be lost, and a thousand charges cost one commit instead of a thousand.

use super::ledger::{self, Posted, Posting};
use super::{ChargeOutcome, ChargeRequest, EntryKind, Owner};
use crate::error::{AppError, FieldError};
use crate::infra::{clock::Clock, db::Db};
use tokio::sync::{mpsc, oneshot};

/// Most charges written in one transaction.
const MAX_BATCH: usize = 512;
/// The largest cost one charge may have.
pub const MAX_COST: i64 = 1_000_000_000_000;
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;
pub const MAX_DESCRIPTION_CHARS: usize = 200;
pub const MAX_METADATA_BYTES: usize = 4_096;

/// Checks what a service sent with a charge; every problem is named by its field.
pub fn validate(
    cost: i64,
    idempotency_key: Option<&str>,
    description: Option<&str>,
    metadata: Option<&str>,
) -> Result<(), AppError> {
    let mut errors = Vec::new();
    if !(1..=MAX_COST).contains(&cost) {
        errors.push(FieldError::new(
            "cost",
            format!("The cost is a whole number of credits from 1 to {MAX_COST}."),
        ));
    }
    if let Some(key) = idempotency_key {
        if key.is_empty()
            || key.chars().count() > MAX_IDEMPOTENCY_KEY_CHARS
            || key.chars().any(char::is_control)
        {
            errors.push(FieldError::new(
                "idempotency_key",
                format!(
                    "An idempotency key is 1 to {MAX_IDEMPOTENCY_KEY_CHARS} printable characters."
                ),
            ));
        }
    }
    if description.is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS || d.contains('\0')) {
        errors.push(FieldError::new(
            "description",
            format!("A description is at most {MAX_DESCRIPTION_CHARS} characters, without NUL."),
        ));
    }
    if metadata.is_some_and(|m| m.len() > MAX_METADATA_BYTES) {
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

struct Job {
    request: ChargeRequest,
    reply: oneshot::Sender<Result<ChargeOutcome, AppError>>,
}

/// The handle services charge through; cheap to clone.
#[derive(Clone)]
pub struct Charger {
    jobs: mpsc::Sender<Job>,
}

impl Charger {
    /// Starts the task that writes charges. It ends when every handle is dropped,
    /// after writing and answering what it was given.
    pub fn start(db: Db, clock: Clock) -> Self {
        let (jobs, receiver) = mpsc::channel(8 * MAX_BATCH);
        tokio::spawn(write_charges(db, clock, receiver));
        Self { jobs }
    }

    /// Whether the task that writes charges still runs.
    pub fn is_running(&self) -> bool {
        !self.jobs.is_closed()
    }

    /// Charges and waits until the charge is committed (or refused).
    pub async fn charge(&self, request: ChargeRequest) -> Result<ChargeOutcome, AppError> {
        // Checked before the charge joins a group, so no one's text reaches another's.
        admissible(&request)?;
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { request, reply })
            .await
            .map_err(|_| AppError::internal("charging", "the charge writer has stopped"))?;
        answer
            .await
            .map_err(|_| AppError::internal("charging", "the charge writer dropped a charge"))?
    }
}

async fn write_charges(db: Db, clock: Clock, mut receiver: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    // The writer keeps a connection for itself (opened again after an error):
    // acquiring and returning one per group cost more than a small group's statements.
    let mut conn: Option<sqlx::AnyConnection> = None;
    while let Some(first) = receiver.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let now = clock.now_ms();
        let written = match &mut conn {
            Some(held) => write_batch(&db, held, &batch, now).await,
            None => match db.connect_one().await {
                Ok(held) => write_batch(&db, conn.insert(held), &batch, now).await,
                Err(error) => Err(error.into()),
            },
        };
        if written.is_err() {
            conn = None;
        }
        match written {
            Ok(outcomes) => {
                for (job, outcome) in batch.drain(..).zip(outcomes) {
                    let _ = job.reply.send(Ok(outcome));
                }
            }
            // A group that may have committed, or a single charge, is answered as it is.
            Err(error) if batch.len() == 1 || is_commit_outcome_unknown(&error) => {
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(error.clone()));
                }
            }
            // One charge may have failed the group before it committed: each is written
            // again on its own, so only a charge that fails alone is answered with an
            // error. If the database cannot be reached, the rest are answered at once.
            Err(_) => {
                let mut unreachable: Option<AppError> = None;
                for job in batch.drain(..) {
                    if let Some(error) = &unreachable {
                        let _ = job.reply.send(Err(error.clone()));
                        continue;
                    }
                    let now = clock.now_ms();
                    let alone = std::slice::from_ref(&job);
                    let written = match &mut conn {
                        Some(held) => write_batch(&db, held, alone, now).await,
                        None => match db.connect_one().await {
                            Ok(held) => write_batch(&db, conn.insert(held), alone, now).await,
                            Err(error) => {
                                let error = AppError::from(error);
                                unreachable = Some(error.clone());
                                Err(error)
                            }
                        },
                    };
                    if written.is_err() {
                        conn = None;
                    }
                    let answer = written.and_then(|mut outcomes| {
                        outcomes.pop().ok_or_else(|| {
                            AppError::internal("charging", "no outcome for a charge")
                        })
                    });
                    let _ = job.reply.send(answer);
                }
            }
        }
    }
}

fn is_commit_outcome_unknown(error: &AppError) -> bool {
    matches!(error, AppError::Unavailable(message) if message == super::charge_batch::COMMIT_OUTCOME_UNKNOWN)
}

/// What a charge carries that reaches the database: no NUL, bounded.
fn admissible(request: &ChargeRequest) -> Result<(), AppError> {
    let texts = [
        (
            "description",
            Some(request.description.as_str()),
            4 * MAX_DESCRIPTION_CHARS,
        ),
        (
            "idempotency_key",
            request.idempotency_key.as_deref(),
            4 * MAX_IDEMPOTENCY_KEY_CHARS,
        ),
        ("metadata", request.metadata.as_deref(), MAX_METADATA_BYTES),
    ];
    let errors: Vec<FieldError> = texts
        .into_iter()
        .filter_map(|(field, text, max_bytes)| {
            let text = text?;
            (text.contains('\0') || text.len() > max_bytes)
                .then(|| FieldError::new(field, format!("The {field} holds NUL or is too long.")))
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

async fn write_batch(
    db: &Db,
    conn: &mut sqlx::AnyConnection,
    batch: &[Job],
    now: i64,
) -> Result<Vec<ChargeOutcome>, AppError> {
    let requests: Vec<&ChargeRequest> = batch.iter().map(|job| &job.request).collect();
    super::charge_batch::write(db, conn, &requests, now).await
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefundOutcome {
    Refunded {
        refund_id: String,
        credits: i64,
        balance: i64,
    },
    /// Given back before; the refund that did it.
    AlreadyRefunded { refund_id: String },
    /// No charge has this id.
    NotFound,
}

/// Gives a charge's credits back, once. The balance may go below zero if the credits
/// were spent since; a refund is owed regardless.
pub async fn refund(
    db: &Db,
    charge_id: &str,
    actor: &str,
    now: i64,
) -> Result<RefundOutcome, AppError> {
    let charge: Option<(i64, String, String)> = sqlx::query_as(
        "SELECT e.amount, w.owner_kind, w.owner_id FROM ledger_entries e \
         JOIN wallets w ON w.id = e.wallet_id WHERE e.id = $1 AND e.kind = 'charge'",
    )
    .bind(charge_id)
    .fetch_optional(&db.pool)
    .await?;
    let Some((amount, owner_kind, owner_id)) = charge else {
        return Ok(RefundOutcome::NotFound);
    };
    let Some(owner) = Owner::from_parts(&owner_kind, owner_id) else {
        return Ok(RefundOutcome::NotFound);
    };
    let posting = Posting {
        owner,
        amount: -amount,
        kind: EntryKind::Refund,
        reference: Some(charge_id.to_string()),
        description: format!("Refund of {charge_id}"),
        actor: actor.to_string(),
        key_id: None,
        metadata: None,
        idempotency_key: format!("refund:{charge_id}"),
        may_overdraw: true,
    };
    Ok(match ledger::post(db, &posting, now).await? {
        Posted::New { entry_id, balance } => RefundOutcome::Refunded {
            refund_id: entry_id,
            credits: -amount,
            balance,
        },
        Posted::Duplicate { entry, .. } => RefundOutcome::AlreadyRefunded {
            refund_id: entry.id,
        },
        // A refund adds credits; it cannot be short of them.
        Posted::Insufficient { .. } => RefundOutcome::NotFound,
    })
}
