//! One group of charges, written in a fixed number of round trips whatever its size:
//! read the group's wallets (locked) and the idempotency keys it names, decide every
//! charge in memory in arrival order, then write the entries, the balances, the
//! monthly key spending and the low-balance crossings. Everything is in one
//! transaction: each charge is answered only after it commits.
//!
//! The reads and the writes are each one `Script`: on SQLite one hand-off to the
//! connection's thread for each, which on a busy machine is most of a group's time.

use super::batch_sql::case_of;
use super::ledger::wallet_id;
use super::{ChargeOutcome, ChargeRequest, EntryKind};
use crate::error::AppError;
use crate::infra::db::{
    padded_len, padded_list, placeholders, placeholders_from, Backend, Db, Script, Value,
};
use crate::infra::random;
use sqlx::Row as _;
use std::collections::{HashMap, HashSet};

/// A planned entry for a charge that the balance covers.
struct Planned {
    job: usize,
    id: String,
    wallet: String,
    key: String,
}

/// What an idempotency key already stands for: (entry id, wallet, amount, kind).
type Prior = (String, String, i64, String);

/// Writes `requests` (in arrival order) on `conn` and answers each.
pub(super) async fn write(
    db: &Db,
    conn: &mut sqlx::AnyConnection,
    requests: &[&ChargeRequest],
    now: i64,
) -> Result<Vec<ChargeOutcome>, AppError> {
    let backend = db.backend;
    let _turn = db.sqlite_write_turn().await;
    let mut tx = db.begin_write_on(conn).await?;
    // Idempotency keys: the caller's, or a fresh one that cannot collide.
    let mut keys = Vec::with_capacity(requests.len());
    for request in requests {
        keys.push(match &request.idempotency_key {
            Some(key) => format!("charge:{key}"),
            None => format!("charge:{}", random::ordered_id("auto", now)?),
        });
    }
    let given: Vec<&str> = requests
        .iter()
        .zip(&keys)
        .filter(|(r, _)| r.idempotency_key.is_some())
        .map(|(_, k)| k.as_str())
        .collect();
    // The group's wallets, in one order for every group (Postgres locks them).
    let mut wallets: Vec<String> = requests.iter().map(|r| wallet_id(&r.owner)).collect();
    wallets.sort();
    wallets.dedup();
    let month = crate::time_fmt::month_of(now).0;
    let mut limited: Vec<&str> = requests
        .iter()
        .filter(|r| r.key_spend_limit.is_some())
        .map(|r| r.key_id.as_str())
        .collect();
    limited.sort_unstable();
    limited.dedup();

    let mut reads = Script::new(backend);
    let lock = |order: &str| match backend {
        Backend::Postgres => format!(" ORDER BY {order} FOR UPDATE"),
        Backend::Sqlite => String::new(),
    };
    let wallet_values = padded_list(wallets.iter().map(Value::from).collect());
    reads.push(
        format!(
            "SELECT id, balance, included FROM wallets WHERE id IN {}{}",
            placeholders(backend, 1, wallet_values.len()),
            lock("id")
        ),
        wallet_values,
    );
    if !given.is_empty() {
        let values = padded_list(given.iter().map(|k| Value::from(*k)).collect());
        reads.push(
            format!(
                "SELECT idempotency_key, id, wallet_id, amount, kind FROM ledger_entries WHERE idempotency_key IN {}",
                placeholders(backend, 1, values.len())
            ),
            values,
        );
    }
    super::key_spending::lock_rows(&mut reads, backend, &limited, month);
    let mut read = reads.run(&mut tx).await?.into_iter();
    let mut balances: HashMap<String, i64> = HashMap::new();
    let mut included: HashMap<String, i64> = HashMap::new();
    for row in read.next().map(|o| o.rows).unwrap_or_default() {
        let wallet: String = row.try_get(0)?;
        included.insert(wallet.clone(), row.try_get(2)?);
        balances.insert(wallet, row.try_get(1)?);
    }
    let mut prior: HashMap<String, Prior> = HashMap::new();
    if !given.is_empty() {
        for row in read.next().map(|o| o.rows).unwrap_or_default() {
            prior.insert(
                row.try_get(0)?,
                (
                    row.try_get(1)?,
                    row.try_get(2)?,
                    row.try_get(3)?,
                    row.try_get(4)?,
                ),
            );
        }
    }
    let mut key_spent = if limited.is_empty() {
        HashMap::new()
    } else {
        super::key_spending::spent_of(read.next(), read.next())?
    };

    // Decide each charge in arrival order.
    let mut outcomes = Vec::with_capacity(requests.len());
    let mut planned: Vec<Planned> = Vec::new();
    for (job, (request, key)) in requests.iter().zip(&keys).enumerate() {
        let wallet = wallet_id(&request.owner);
        let balance = balances.get(&wallet).copied().unwrap_or(0);
        if let Some((id, prior_wallet, amount, kind)) = prior.get(key) {
            let same = kind == EntryKind::Charge.as_str()
                && *amount == -request.cost
                && *prior_wallet == wallet;
            outcomes.push(if same {
                ChargeOutcome::Replayed {
                    charge_id: id.clone(),
                    balance,
                }
            } else {
                ChargeOutcome::KeyReused
            });
            continue;
        }
        if let Some(limit) = request.key_spend_limit {
            let spent = key_spent.get(&request.key_id).copied().unwrap_or(0);
            if spent.saturating_add(request.cost) > limit {
                outcomes.push(ChargeOutcome::KeyLimitReached {
                    spent,
                    limit,
                    balance,
                });
                continue;
            }
        }
        if balance < request.cost {
            outcomes.push(ChargeOutcome::Insufficient { balance });
            continue;
        }
        if request.key_spend_limit.is_some() {
            *key_spent.entry(request.key_id.clone()).or_default() += request.cost;
        }
        let id = random::ordered_id("led", now)?;
        balances.insert(wallet.clone(), balance - request.cost);
        // A later charge in this group with the same key finds this one.
        prior.insert(
            key.clone(),
            (
                id.clone(),
                wallet.clone(),
                -request.cost,
                EntryKind::Charge.as_str().into(),
            ),
        );
        outcomes.push(ChargeOutcome::Charged {
            charge_id: id.clone(),
            balance: balance - request.cost,
        });
        planned.push(Planned {
            job,
            id,
            wallet,
            key: key.clone(),
        });
    }
    if planned.is_empty() {
        tx.commit().await?;
        return Ok(outcomes);
    }

    // The entries, in one INSERT; no rows come back. On Postgres another process may
    // have committed one of the keys since the read: ON CONFLICT skips it, and the
    // INSERT runs alone so the skipped charges are known before any balance moves. On
    // SQLite the read and this write are in one write transaction, so no key can
    // appear in between: the INSERT and every following write go in one round trip,
    // and a conflict (none can happen) would fail the group rather than spend twice.
    const COLUMNS: usize = 10;
    let mut values = Vec::with_capacity(planned.len() * COLUMNS);
    for p in &planned {
        let request = requests[p.job];
        values.extend([
            Value::from(&p.id),
            Value::from(&p.wallet),
            Value::Int(-request.cost),
            Value::from(EntryKind::Charge.as_str()),
            Value::from(&request.description),
            Value::Text(format!("API key {}", request.key_id)),
            Value::from(&request.key_id),
            Value::from(request.metadata.as_deref()),
            Value::from(&p.key),
            Value::Int(now),
        ]);
    }
    let columns = "id, wallet_id, amount, kind, description, actor, key_id, metadata, idempotency_key, created_at";
    let insert = match backend {
        Backend::Postgres => format!(
            "INSERT INTO ledger_entries ({columns}) VALUES {} ON CONFLICT (idempotency_key) DO NOTHING",
            placeholders(backend, planned.len(), COLUMNS)
        ),
        // Padded with rows of NULLs, which the WHERE leaves out.
        Backend::Sqlite => {
            let rows = padded_len(planned.len());
            values.resize(rows * COLUMNS, Value::Null);
            format!(
                "INSERT INTO ledger_entries ({columns}) SELECT * FROM (VALUES {}) WHERE column1 IS NOT NULL",
                placeholders(backend, rows, COLUMNS)
            )
        }
    };
    let mut writes = Script::new(backend);
    writes.push(insert, values);
    let mut skipped: HashSet<String> = HashSet::new();
    if backend == Backend::Postgres {
        let inserted = std::mem::replace(&mut writes, Script::new(backend))
            .run(&mut tx)
            .await?;
        if inserted.first().map_or(0, |o| o.rows_affected) < planned.len() as u64 {
            skipped = skipped_entries(&mut tx, backend, &planned).await?;
        }
    }
    let mut spent: HashMap<&str, i64> = HashMap::new();
    let mut by_limited_key: HashMap<&str, i64> = HashMap::new();
    for p in &planned {
        let request = requests[p.job];
        if !skipped.contains(&p.id) {
            *spent.entry(p.wallet.as_str()).or_default() += request.cost;
            if request.key_spend_limit.is_some() {
                *by_limited_key.entry(request.key_id.as_str()).or_default() += request.cost;
            }
        } else {
            // Another process charged under this key first: that charge stands, this
            // one gives its credits back.
            let (id,): (String,) =
                sqlx::query_as("SELECT id FROM ledger_entries WHERE idempotency_key = $1")
                    .bind(&p.key)
                    .fetch_one(&mut *tx)
                    .await?;
            let balance = balances.entry(p.wallet.clone()).or_default();
            *balance += request.cost;
            outcomes[p.job] = ChargeOutcome::Replayed {
                charge_id: id,
                balance: *balance,
            };
        }
    }

    let mut spenders: Vec<(&str, i64)> = spent.into_iter().collect();
    spenders.sort_unstable();
    let spender_ids: Vec<&str> = spenders.iter().map(|(w, _)| *w).collect();
    // Padded by repeating the last: a repeated WHEN never matches twice, and a repeated
    // id in the IN list is the same row.
    if let Some(&last) = spenders.last() {
        spenders.resize(padded_len(spenders.len()), last);
    }
    if !spenders.is_empty() {
        // Included credits go first: what is left of them after this group's spends.
        let included_left: Vec<(&str, i64)> = spenders
            .iter()
            .map(|(w, spent)| (*w, (included.get(*w).copied().unwrap_or(0) - spent).max(0)))
            .collect();
        let n = spenders.len();
        let (case, mut values) = case_of(backend, "id", &spenders, 1);
        let (included_case, included_values) = case_of(backend, "id", &included_left, 2 * n + 1);
        values.extend(included_values);
        values.extend(spenders.iter().map(|(w, _)| Value::from(*w)));
        writes.push(
            format!(
                "UPDATE wallets SET balance = balance - {case}, included = {included_case} WHERE id IN {}",
                placeholders_from(backend, 1, n, 4 * n + 1)
            ),
            values,
        );
    }
    super::key_spending::add_spent(&mut writes, backend, by_limited_key, month);
    // Charges only lower balances: nothing to re-arm, only crossings to record.
    super::low_balance::track_in(&mut writes, &spender_ids, false, now)?;
    let written = writes.run(&mut tx).await?;
    if backend == Backend::Sqlite
        && written.first().map_or(0, |o| o.rows_affected) != planned.len() as u64
    {
        return Err(AppError::internal(
            "charging",
            "a charge's idempotency key was taken inside the write lock",
        ));
    }
    // A commit that fails may still have happened: the group must not be written again.
    if let Err(error) = tx.commit().await {
        tracing::error!(%error, "a group of charges failed to commit; its outcome is unknown");
        return Err(AppError::Unavailable(COMMIT_OUTCOME_UNKNOWN.into()));
    }
    Ok(outcomes)
}

/// The answer to charges whose group's commit failed: they may or may not have been
/// written, so they are neither retried nor reported as refused.
pub(super) const COMMIT_OUTCOME_UNKNOWN: &str =
    "The charge may or may not have been recorded. Send it again with the same idempotency key to find out; without one, look for it in the transactions before charging again.";

/// The planned entries the INSERT skipped (their idempotency key was taken).
async fn skipped_entries(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    planned: &[Planned],
) -> Result<HashSet<String>, AppError> {
    let sql = format!(
        "SELECT id FROM ledger_entries WHERE id IN {}",
        placeholders(backend, 1, planned.len())
    );
    let mut query = sqlx::query_as::<_, (String,)>(&sql);
    for p in planned {
        query = query.bind(&p.id);
    }
    let found: HashSet<String> = query
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .map(|(id,)| id)
        .collect();
    Ok(planned
        .iter()
        .filter(|p| !found.contains(&p.id))
        .map(|p| p.id.clone())
        .collect())
}
