//! An owner's customer at the billing provider: made once, the card it keeps for
//! renewals (what the page shows; the card itself stays with the provider), and the
//! claim that lets one subscribe call at a time reach the provider.

use super::CardView;
use crate::error::AppError;
use crate::infra::billing::CardOnFile;
use crate::infra::db::Db;
use crate::workspace::Owner;

/// The owner's provider customer, if one was made.
pub async fn customer_of(db: &Db, owner: &Owner) -> Result<Option<String>, AppError> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT customer_id FROM billing_customers WHERE owner_kind = $1 AND owner_id = $2",
    )
    .bind(owner.kind())
    .bind(owner.id())
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(|(id,)| id))
}

pub async fn owner_of_customer<'e, E>(
    executor: E,
    customer: &str,
) -> Result<Option<Owner>, AppError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT owner_kind, owner_id FROM billing_customers WHERE customer_id = $1")
            .bind(customer)
            .fetch_optional(executor)
            .await?;
    Ok(row.and_then(|(kind, id)| Owner::from_parts(&kind, id)))
}

/// Keeps the customer made for `owner`; the first one kept wins (two processes that
/// made one each both use it, and the other is left unused at the provider).
pub async fn keep_customer(
    db: &Db,
    owner: &Owner,
    customer_id: &str,
    now: i64,
) -> Result<String, AppError> {
    sqlx::query(
        "INSERT INTO billing_customers (owner_kind, owner_id, customer_id, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (owner_kind, owner_id) DO NOTHING",
    )
    .bind(owner.kind())
    .bind(owner.id())
    .bind(customer_id)
    .bind(now)
    .execute(&db.pool)
    .await?;
    customer_of(db, owner)
        .await?
        .ok_or_else(|| AppError::internal("billing customer", "missing right after it was kept"))
}

pub async fn keep_card(db: &Db, owner: &Owner, card: &CardOnFile) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE billing_customers SET card_brand = $1, card_last4 = $2, card_exp_month = $3, \
         card_exp_year = $4 WHERE owner_kind = $5 AND owner_id = $6",
    )
    .bind(card.brand.chars().take(40).collect::<String>())
    .bind(card.last4.chars().take(4).collect::<String>())
    .bind(card.exp_month)
    .bind(card.exp_year)
    .bind(owner.kind())
    .bind(owner.id())
    .execute(&db.pool)
    .await?;
    Ok(())
}

pub async fn card_of(db: &Db, owner: &Owner) -> Result<Option<CardView>, AppError> {
    type CardRow = (Option<String>, Option<String>, Option<i64>, Option<i64>);
    let row: Option<CardRow> = sqlx::query_as(
        "SELECT card_brand, card_last4, card_exp_month, card_exp_year FROM billing_customers \
         WHERE owner_kind = $1 AND owner_id = $2",
    )
    .bind(owner.kind())
    .bind(owner.id())
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.and_then(|(brand, last4, month, year)| {
        Some(CardView {
            brand: brand.unwrap_or_default(),
            last4: last4?,
            exp_month: month.unwrap_or(0),
            exp_year: year.unwrap_or(0),
        })
    }))
}

/// How long a subscribe call may hold the claim: longer than its provider calls can
/// take (seven at a 20 s timeout each).
const CLAIM_MS: i64 = 5 * 60_000;

/// Claims the owner's customer for one subscribe call to the provider: false while
/// another (younger than `CLAIM_MS`) is under way.
pub async fn claim(db: &Db, owner: &Owner, now: i64) -> Result<bool, AppError> {
    let claimed = sqlx::query(
        "UPDATE billing_customers SET claimed_at = $1 WHERE owner_kind = $2 AND owner_id = $3 \
         AND (claimed_at IS NULL OR claimed_at < $4)",
    )
    .bind(now)
    .bind(owner.kind())
    .bind(owner.id())
    .bind(now - CLAIM_MS)
    .execute(&db.pool)
    .await?
    .rows_affected();
    Ok(claimed > 0)
}

pub async fn release(db: &Db, owner: &Owner) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE billing_customers SET claimed_at = NULL WHERE owner_kind = $1 AND owner_id = $2",
    )
    .bind(owner.kind())
    .bind(owner.id())
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Whether a subscribe call or a change for the owner is under way (a claim younger
/// than its lifetime).
pub async fn claimed(db: &Db, owner: &Owner, now: i64) -> Result<bool, AppError> {
    let (claimed,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM billing_customers WHERE owner_kind = $1 AND owner_id = $2 \
         AND claimed_at IS NOT NULL AND claimed_at >= $3",
    )
    .bind(owner.kind())
    .bind(owner.id())
    .bind(now - CLAIM_MS)
    .fetch_one(&db.pool)
    .await?;
    Ok(claimed > 0)
}
