//! The ledger: every balance change is one entry written with its balance, in one
//! transaction, under a unique idempotency key.

use super::{EntryKind, LedgerEntry, LedgerPage, Owner, LEDGER_PAGE_SIZE};
use crate::error::AppError;
use crate::infra::db::{Backend, Db, Script};
use crate::infra::random;

type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

pub use super::wallet_id;

/// One change to post.
#[derive(Clone, Debug)]
pub struct Posting {
    pub owner: Owner,
    /// Signed credits: positive adds, negative spends.
    pub amount: i64,
    pub kind: EntryKind,
    pub reference: Option<String>,
    pub description: String,
    pub actor: String,
    pub key_id: Option<String>,
    pub metadata: Option<String>,
    /// Unique across the ledger: the same key posts once, however often it is sent.
    pub idempotency_key: String,
    /// Whether a negative amount may take the balance below zero (refunds and operator
    /// adjustments may; a charge never does).
    pub may_overdraw: bool,
}

/// What posting did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Posted {
    /// Written; the balance after it.
    New { entry_id: String, balance: i64 },
    /// This idempotency key was posted before: that entry, and the balance now.
    Duplicate { entry: ExistingEntry, balance: i64 },
    /// A spend the balance cannot cover; nothing was written.
    Insufficient { balance: i64 },
}

/// The first entry written under an idempotency key.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ExistingEntry {
    pub id: String,
    pub wallet_id: String,
    pub amount: i64,
    pub kind: String,
}

/// Posts one change in its own transaction.
pub async fn post(db: &Db, posting: &Posting, now: i64) -> Result<Posted, AppError> {
    let mut tx = db.begin_write().await?;
    let posted = post_in(&mut tx, posting, now).await?;
    tx.commit().await?;
    Ok(posted)
}

/// Posts one change inside the caller's transaction (which may hold other work that
/// must agree with it, such as an order turning paid).
pub async fn post_in(tx: &mut Tx<'_>, posting: &Posting, now: i64) -> Result<Posted, AppError> {
    let wallet = wallet_id(&posting.owner);
    sqlx::query(
        "INSERT INTO wallets (id, owner_kind, owner_id, balance, created_at) \
         VALUES ($1, $2, $3, 0, $4) ON CONFLICT (owner_kind, owner_id) DO NOTHING",
    )
    .bind(&wallet)
    .bind(posting.owner.kind())
    .bind(posting.owner.id())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let entry_id = random::id("led")?;
    let inserted: Option<(String,)> = sqlx::query_as(
        "INSERT INTO ledger_entries \
         (id, wallet_id, amount, kind, reference, description, actor, key_id, metadata, idempotency_key, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
    )
    .bind(&entry_id)
    .bind(&wallet)
    .bind(posting.amount)
    .bind(posting.kind.as_str())
    .bind(posting.reference.as_deref())
    .bind(&posting.description)
    .bind(&posting.actor)
    .bind(posting.key_id.as_deref())
    .bind(posting.metadata.as_deref())
    .bind(&posting.idempotency_key)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    if inserted.is_none() {
        let entry: ExistingEntry = sqlx::query_as(
            "SELECT id, wallet_id, amount, kind FROM ledger_entries WHERE idempotency_key = $1",
        )
        .bind(&posting.idempotency_key)
        .fetch_one(&mut **tx)
        .await?;
        let balance = balance_of_wallet(&mut **tx, &entry.wallet_id).await?;
        return Ok(Posted::Duplicate { entry, balance });
    }
    // One conditional UPDATE: two spends racing for the last credits cannot both pass.
    let guarded = posting.amount < 0 && !posting.may_overdraw;
    // A spend takes included credits first (`included`): they expire, bought ones do not.
    // Allocations move bought credits only: included ones stay with the wallet whose plan
    // brought them, and expire there.
    let bought_only = posting.kind == EntryKind::Allocation && posting.amount < 0;
    let sql = match (guarded, posting.amount < 0) {
        _ if bought_only => {
            "UPDATE wallets SET balance = balance + $1 \
             WHERE id = $2 AND balance - included + $1 >= 0 RETURNING balance"
        }
        (true, _) => {
            "UPDATE wallets SET balance = balance + $1, \
             included = CASE WHEN included + $1 > 0 THEN included + $1 ELSE 0 END \
             WHERE id = $2 AND balance + $1 >= 0 RETURNING balance"
        }
        (false, true) => {
            "UPDATE wallets SET balance = balance + $1, \
             included = CASE WHEN included + $1 > 0 THEN included + $1 ELSE 0 END \
             WHERE id = $2 RETURNING balance"
        }
        (false, false) => {
            "UPDATE wallets SET balance = balance + $1 WHERE id = $2 RETURNING balance"
        }
    };
    let updated: Option<(i64,)> = sqlx::query_as(sql)
        .bind(posting.amount)
        .bind(&wallet)
        .fetch_optional(&mut **tx)
        .await?;
    match updated {
        Some((balance,)) => {
            // One wallet: numbered placeholders, which SQLite takes as well as Postgres.
            let mut script = Script::new(Backend::Postgres);
            super::low_balance::track_in(&mut script, &[&wallet], posting.amount > 0, now)?;
            script.run(tx).await?;
            Ok(Posted::New { entry_id, balance })
        }
        None => {
            sqlx::query("DELETE FROM ledger_entries WHERE id = $1")
                .bind(&entry_id)
                .execute(&mut **tx)
                .await?;
            let balance = balance_of_wallet(&mut **tx, &wallet).await?;
            Ok(Posted::Insufficient { balance })
        }
    }
}

async fn balance_of_wallet<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    wallet: &str,
) -> Result<i64, AppError> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT balance FROM wallets WHERE id = $1")
        .bind(wallet)
        .fetch_optional(executor)
        .await?;
    Ok(row.map_or(0, |(balance,)| balance))
}

/// A wallet's balance inside the caller's transaction.
pub async fn balance_in(tx: &mut Tx<'_>, wallet: &str) -> Result<i64, AppError> {
    balance_of_wallet(&mut **tx, wallet).await
}

/// The owner's balance (0 before their first entry).
pub async fn balance(db: &Db, owner: &Owner) -> Result<i64, AppError> {
    balance_of_wallet(&db.pool, &wallet_id(owner)).await
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: String,
    amount: i64,
    kind: String,
    reference: Option<String>,
    description: String,
    actor: String,
    key_id: Option<String>,
    created_at: i64,
}

impl EntryRow {
    fn into_entry(self) -> LedgerEntry {
        LedgerEntry {
            id: self.id,
            amount: self.amount,
            kind: EntryKind::parse(&self.kind).unwrap_or(EntryKind::Adjustment),
            reference: self.reference,
            description: self.description,
            actor: self.actor,
            key_id: self.key_id,
            created_at: self.created_at,
        }
    }
}

/// The owner's entries, newest first, `LEDGER_PAGE_SIZE` at a time, optionally of one
/// kind; `before` is the last entry id of the previous page. An unknown `before` (or
/// another wallet's entry) gives an empty page.
pub async fn entries(
    db: &Db,
    owner: &Owner,
    kind: Option<EntryKind>,
    before: Option<&str>,
    limit: usize,
) -> Result<LedgerPage, AppError> {
    let limit = limit.clamp(1, LEDGER_PAGE_SIZE);
    let wallet = wallet_id(owner);
    let mut sql = String::from(
        "SELECT id, amount, kind, reference, description, actor, key_id, created_at \
         FROM ledger_entries WHERE wallet_id = $1",
    );
    let mut next = 2;
    if kind.is_some() {
        sql.push_str(&format!(" AND kind = ${next}"));
        next += 1;
    }
    if before.is_some() {
        sql.push_str(&format!(
            " AND (created_at, id) < (SELECT created_at, id FROM ledger_entries \
             WHERE id = ${next} AND wallet_id = $1)"
        ));
        next += 1;
    }
    sql.push_str(&format!(" ORDER BY created_at DESC, id DESC LIMIT ${next}"));
    let mut query = sqlx::query_as::<_, EntryRow>(&sql).bind(&wallet);
    if let Some(kind) = kind {
        query = query.bind(kind.as_str());
    }
    if let Some(before) = before {
        query = query.bind(before);
    }
    // One more than a page says whether there is a next one.
    let mut rows = query.bind(limit as i64 + 1).fetch_all(&db.pool).await?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let entries: Vec<LedgerEntry> = rows.into_iter().map(EntryRow::into_entry).collect();
    let next_before = if more {
        entries.last().map(|e| e.id.clone())
    } else {
        None
    };
    Ok(LedgerPage {
        entries,
        next_before,
    })
}

/// Every entry of the owner's (optionally of one kind), newest first, for an export;
/// at most `limit`.
pub async fn all_entries(
    db: &Db,
    owner: &Owner,
    kind: Option<EntryKind>,
    limit: i64,
) -> Result<Vec<LedgerEntry>, AppError> {
    let sql = if kind.is_some() {
        "SELECT id, amount, kind, reference, description, actor, key_id, created_at \
         FROM ledger_entries WHERE wallet_id = $1 AND kind = $2 \
         ORDER BY created_at DESC, id DESC LIMIT $3"
    } else {
        "SELECT id, amount, kind, reference, description, actor, key_id, created_at \
         FROM ledger_entries WHERE wallet_id = $1 AND $2 = '' \
         ORDER BY created_at DESC, id DESC LIMIT $3"
    };
    let rows: Vec<EntryRow> = sqlx::query_as(sql)
        .bind(wallet_id(owner))
        .bind(kind.map_or("", EntryKind::as_str))
        .bind(limit)
        .fetch_all(&db.pool)
        .await?;
    Ok(rows.into_iter().map(EntryRow::into_entry).collect())
}

/// Credits spent per day over the last `days` days (charges less refunds), oldest first.
pub async fn spent_per_day(
    db: &Db,
    owner: &Owner,
    days: i64,
    now: i64,
) -> Result<Vec<i64>, AppError> {
    const DAY_MS: i64 = 86_400_000;
    let today = now.div_euclid(DAY_MS);
    let since = (today - days + 1) * DAY_MS;
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT created_at / 86400000 AS day, CAST(SUM(-amount) AS BIGINT) AS spent FROM ledger_entries \
         WHERE wallet_id = $1 AND created_at >= $2 AND kind IN ('charge', 'refund') \
         GROUP BY created_at / 86400000",
    )
    .bind(wallet_id(owner))
    .bind(since)
    .fetch_all(&db.pool)
    .await?;
    let mut per_day = vec![0; days.max(0) as usize];
    for (day, spent) in rows {
        let index = day - (today - days + 1);
        if let Some(slot) = usize::try_from(index).ok().and_then(|i| per_day.get_mut(i)) {
            *slot = spent;
        }
    }
    Ok(per_day)
}

/// Which of these entry ids are not in the ledger.
pub async fn missing_entries(db: &Db, ids: &[String]) -> Result<Vec<String>, AppError> {
    let mut missing = Vec::new();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT id FROM ledger_entries WHERE id IN ({})",
            (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut query = sqlx::query_as::<_, (String,)>(&sql);
        for id in chunk {
            query = query.bind(id);
        }
        let found: std::collections::HashSet<String> = query
            .fetch_all(&db.pool)
            .await?
            .into_iter()
            .map(|(id,)| id)
            .collect();
        missing.extend(chunk.iter().filter(|id| !found.contains(*id)).cloned());
    }
    Ok(missing)
}

/// A wallet whose balance is not the sum of its entries.
#[derive(Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Mismatch {
    pub wallet_id: String,
    pub balance: i64,
    pub entries_sum: i64,
}

/// Every wallet whose balance differs from the sum of its entries (none, always).
pub async fn verify(db: &Db) -> Result<(i64, Vec<Mismatch>), AppError> {
    let (wallets,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM wallets")
        .fetch_one(&db.pool)
        .await?;
    let mismatches = sqlx::query_as(
        "SELECT w.id AS wallet_id, w.balance AS balance, \
                CAST(COALESCE(SUM(e.amount), 0) AS BIGINT) AS entries_sum \
         FROM wallets w LEFT JOIN ledger_entries e ON e.wallet_id = w.id \
         GROUP BY w.id, w.balance \
         HAVING w.balance <> CAST(COALESCE(SUM(e.amount), 0) AS BIGINT)",
    )
    .fetch_all(&db.pool)
    .await?;
    Ok((wallets, mismatches))
}
