//! A subscription's invoices as Keyward keeps them: the list the page shows, and one
//! invoice as its receipt shows it. Written by `events`.

use super::InvoiceRow;
use crate::error::AppError;
use crate::infra::db::Db;
use crate::workspace::Owner;

/// The owner's invoices, newest first.
pub async fn invoices(db: &Db, owner: &Owner, limit: i64) -> Result<Vec<InvoiceRow>, AppError> {
    type InvoiceSql = (String, String, String, i64, String, i64, i64, i64, i64);
    let rows: Vec<InvoiceSql> = sqlx::query_as(
        "SELECT id, number, status, total_minor, currency, period_start, period_end, \
         created_at, credits_granted FROM subscription_invoices \
         WHERE owner_kind = $1 AND owner_id = $2 ORDER BY created_at DESC, updated_at DESC, id DESC LIMIT $3",
    )
    .bind(owner.kind())
    .bind(owner.id())
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, number, status, total_minor, currency, start, end, created_at, credits)| {
                InvoiceRow {
                    total: crate::infra::money::format_money(total_minor, &currency),
                    id,
                    number,
                    status,
                    period_start: start,
                    period_end: end,
                    created_at,
                    credits_granted: credits,
                }
            },
        )
        .collect())
}

/// An invoice as its receipt shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub id: String,
    pub number: String,
    pub status: String,
    pub total_minor: i64,
    pub currency: String,
    pub period_start: i64,
    pub period_end: i64,
    pub created_at: i64,
    /// (description, amount in minor units)
    pub lines: Vec<(String, i64)>,
    pub credits_granted: i64,
    pub plan: String,
}

/// The owner's invoice `id`; None for a missing one and for another owner's alike.
pub async fn receipt(db: &Db, owner: &Owner, id: &str) -> Result<Option<Receipt>, AppError> {
    type ReceiptRow = (
        String,
        String,
        String,
        i64,
        String,
        i64,
        i64,
        i64,
        String,
        i64,
        String,
    );
    let row: Option<ReceiptRow> = sqlx::query_as(
        "SELECT i.id, i.number, i.status, i.total_minor, i.currency, i.period_start, \
         i.period_end, i.created_at, i.lines, i.credits_granted, s.plan \
         FROM subscription_invoices i JOIN subscriptions s ON s.id = i.subscription_id \
         WHERE i.id = $1 AND i.owner_kind = $2 AND i.owner_id = $3",
    )
    .bind(id)
    .bind(owner.kind())
    .bind(owner.id())
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(
        |(
            id,
            number,
            status,
            total_minor,
            currency,
            start,
            end,
            created_at,
            lines,
            credits,
            plan,
        )| {
            Receipt {
                id,
                number,
                status,
                total_minor,
                currency,
                period_start: start,
                period_end: end,
                created_at,
                lines: serde_json::from_str(&lines).unwrap_or_default(),
                credits_granted: credits,
                plan,
            }
        },
    ))
}
