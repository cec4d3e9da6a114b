//! Members' requests for credits: asked with a note, answered once by an Admin
//! (approving allocates, in the same transaction), and told by email and on the
//! member's dashboard.

use super::credits::{check_credits, move_in};
use super::{emails, AnsweredRequest, CreditRequest, RequestOutcome};
use crate::error::{AppError, FieldError};
use crate::infra::{db::Db, mail::Mailer, random};
use crate::workspace::access::Membership;

pub const MAX_NOTE_CHARS: usize = 500;
/// Pending requests one member may have in one organization.
pub const MAX_PENDING_REQUESTS: i64 = 5;

/// A member asks the organization for credits.
pub async fn request(
    db: &Db,
    acting: &Membership,
    user_id: &str,
    credits: i64,
    note: &str,
    now: i64,
) -> Result<CreditRequest, AppError> {
    let note = note.trim();
    let mut errors: Vec<FieldError> = check_credits(credits).err().into_iter().collect();
    if note.chars().count() > MAX_NOTE_CHARS || note.chars().any(|c| c.is_control() && c != '\n') {
        errors.push(FieldError::new(
            "note",
            format!("Keep the note to {MAX_NOTE_CHARS} characters of text."),
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let id = random::id("creq")?;
    let mut tx = db.begin_write().await?;
    // Counted with the person's row locked, so the limit holds however many arrive at once.
    sqlx::query("UPDATE users SET id = id WHERE id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let (pending,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM org_credit_requests WHERE org_id = $1 AND user_id = $2 AND outcome IS NULL",
    )
    .bind(&acting.org_id)
    .bind(user_id)
    .fetch_one(&mut *tx)
    .await?;
    if pending >= MAX_PENDING_REQUESTS {
        return Err(AppError::LimitReached(format!(
            "You have {pending} requests waiting for an answer. Wait for one before asking again."
        )));
    }
    sqlx::query(
        "INSERT INTO org_credit_requests (id, org_id, user_id, credits, note, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(&acting.org_id)
    .bind(user_id)
    .bind(credits)
    .bind(note)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut mine = requests(db, &acting.org_id, Some(user_id)).await?;
    mine.retain(|r| r.id == id);
    mine.pop().ok_or(AppError::NotFound)
}

/// The organization's requests, newest first: every member's, or one member's.
pub async fn requests(
    db: &Db,
    org_id: &str,
    only: Option<&str>,
) -> Result<Vec<CreditRequest>, AppError> {
    let rows: Vec<RequestRow> = sqlx::query_as(
        "SELECT r.id, r.user_id, u.email, r.credits, r.note, r.created_at, r.outcome, r.decided_at \
         FROM org_credit_requests r JOIN users u ON u.id = r.user_id \
         WHERE r.org_id = $1 AND ($2 = '' OR r.user_id = $2) \
         ORDER BY r.created_at DESC, r.id LIMIT 100",
    )
    .bind(org_id)
    .bind(only.unwrap_or(""))
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| CreditRequest {
            outcome: row.outcome.as_deref().and_then(RequestOutcome::parse),
            id: row.id,
            user_id: row.user_id,
            email: row.email,
            credits: row.credits,
            note: row.note,
            created_at: row.created_at,
            decided_at: row.decided_at,
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct RequestRow {
    id: String,
    user_id: String,
    email: String,
    credits: i64,
    note: String,
    created_at: i64,
    outcome: Option<String>,
    decided_at: Option<i64>,
}

/// An Admin approves (allocating the credits, in the same transaction) or declines a
/// pending request, once; the member is emailed.
#[allow(clippy::too_many_arguments)]
pub async fn decide(
    db: &Db,
    mailer: &Mailer,
    base_url: &str,
    acting: &Membership,
    actor_email: &str,
    request_id: &str,
    approve: bool,
    now: i64,
) -> Result<(), AppError> {
    acting.require_manager()?;
    let outcome = if approve {
        RequestOutcome::Approved
    } else {
        RequestOutcome::Declined
    };
    let mut tx = db.begin_write().await?;
    super::access::lock_org(&mut tx, &acting.org_id).await?;
    let row: Option<(String, i64)> = sqlx::query_as(
        "UPDATE org_credit_requests SET outcome = $1, decided_by = $2, decided_at = $3 \
         WHERE id = $4 AND org_id = $5 AND outcome IS NULL RETURNING user_id, credits",
    )
    .bind(outcome.as_str())
    .bind(actor_email)
    .bind(now)
    .bind(request_id)
    .bind(&acting.org_id)
    .fetch_optional(&mut *tx)
    .await?;
    let (user_id, credits) = row.ok_or(AppError::NotFound)?;
    if approve {
        let key = format!("request:{request_id}");
        let description = format!("Your request, approved by {}", acting.name);
        move_in(
            &mut tx,
            acting,
            &user_id,
            credits,
            &key,
            &description,
            actor_email,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    let email: Option<(String,)> = sqlx::query_as("SELECT email FROM users WHERE id = $1")
        .bind(&user_id)
        .fetch_optional(&db.pool)
        .await?;
    if let Some((email,)) = email {
        let link = format!("{base_url}/org/{}", acting.slug);
        mailer.send(emails::credit_request_answered(
            &email,
            &acting.name,
            credits,
            approve,
            &link,
        ));
    }
    Ok(())
}

/// Answers to the person's requests they have not dismissed, for their dashboard.
pub async fn unseen_answers(db: &Db, user_id: &str) -> Result<Vec<AnsweredRequest>, AppError> {
    let rows: Vec<(String, String, String, i64, String)> = sqlx::query_as(
        "SELECT r.id, o.name, o.slug, r.credits, r.outcome FROM org_credit_requests r \
         JOIN organizations o ON o.id = r.org_id \
         WHERE r.user_id = $1 AND r.outcome IS NOT NULL AND r.seen = 0 \
         ORDER BY r.decided_at DESC LIMIT 20",
    )
    .bind(user_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, org_name, org_slug, credits, outcome)| {
            Some(AnsweredRequest {
                id,
                org_name,
                org_slug,
                credits,
                outcome: RequestOutcome::parse(&outcome)?,
            })
        })
        .collect())
}

/// The person dismisses an answer from their dashboard.
pub async fn dismiss_answer(db: &Db, user_id: &str, request_id: &str) -> Result<(), AppError> {
    sqlx::query("UPDATE org_credit_requests SET seen = 1 WHERE id = $1 AND user_id = $2")
        .bind(request_id)
        .bind(user_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}
