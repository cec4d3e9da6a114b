//! One group of charges, written with a fixed number of statements whatever its size:
//! read the group's wallets (locked) and the idempotency keys it names, decide every
//! charge in memory in arrival order, then one multi-row INSERT of the entries and one
//! UPDATE of the balances. Everything is in one transaction: each charge is answered
//! only after it commits.

use super::ledger::wallet_id;
use super::{ChargeOutcome, ChargeRequest, EntryKind};
use crate::error::AppError;
use crate::infra::db::{placeholders, Backend, Db};
use crate::infra::random;
use std::collections::HashMap;

/// A planned entry for a charge that the balance covers.
struct Planned {
    job: usize,
    id: String,
    wallet: String,
    key: String,
}

/// What an idempotency key already stands for: (entry id, wallet, amount, kind).
type Prior = (String, String, i64, String);

/// Lists in a group's statements are padded to a power of two (repeating their last
/// value, which changes no result), so a group's statements come in a handful of shapes
/// that stay in each connection's prepared-statement cache, instead of one shape per
/// group size, each prepared afresh.
fn padded(len: usize) -> usize {
    len.next_power_of_two()
}

/// `values` bound in order, then its last value again up to `padded(values.len())`.
fn padded_values<'v, T: ?Sized>(values: &[&'v T]) -> Vec<&'v T> {
    let last = values.last().copied();
    values
        .iter()
        .copied()
        .chain(std::iter::repeat_n(last, padded(values.len()) - values.len()).flatten())
        .collect()
}

fn param(backend: Backend, n: usize) -> String {
    match backend {
        Backend::Sqlite => "?".to_string(),
        Backend::Postgres => format!("${n}"),
    }
}

/// Writes `requests` (in arrival order) and answers each.
pub(super) async fn write(
    db: &Db,
    requests: &[&ChargeRequest],
    now: i64,
) -> Result<Vec<ChargeOutcome>, AppError> {
    let backend = db.backend;
    let _turn = db.sqlite_write_turn().await;
    let mut tx = db.begin_write().await?;
    // Idempotency keys: the caller's, or a fresh one that cannot collide.
    let mut keys = Vec::with_capacity(requests.len());
    for request in requests {
        keys.push(match &request.idempotency_key {
            Some(key) => format!("charge:{key}"),
            None => format!("charge:{}", random::ordered_id("auto", now)?),
        });
    }
    let given: Vec<&String> = requests
        .iter()
        .zip(&keys)
        .filter(|(r, _)| r.idempotency_key.is_some())
        .map(|(_, k)| k)
        .collect();
    let mut prior: HashMap<String, Prior> = HashMap::new();
    if !given.is_empty() {
        let sql = format!(
            "SELECT idempotency_key, id, wallet_id, amount, kind FROM ledger_entries WHERE idempotency_key IN {}",
            placeholders(backend, 1, padded(given.len()))
        );
        let mut query = sqlx::query_as::<_, (String, String, String, i64, String)>(&sql);
        for key in padded_values(&given) {
            query = query.bind(key);
        }
        for (key, id, wallet, amount, kind) in query.fetch_all(&mut *tx).await? {
            prior.insert(key, (id, wallet, amount, kind));
        }
    }
    // The group's wallets, in one order for every group (Postgres locks them).
    let mut wallets: Vec<String> = requests.iter().map(|r| wallet_id(&r.owner)).collect();
    wallets.sort();
    wallets.dedup();
    let lock = if backend == Backend::Postgres {
        " ORDER BY id FOR UPDATE"
    } else {
        ""
    };
    let sql = format!(
        "SELECT id, balance FROM wallets WHERE id IN {}{lock}",
        placeholders(backend, 1, padded(wallets.len()))
    );
    let mut query = sqlx::query_as::<_, (String, i64)>(&sql);
    let wallet_refs: Vec<&String> = wallets.iter().collect();
    for wallet in padded_values(&wallet_refs) {
        query = query.bind(wallet);
    }
    let mut balances: HashMap<String, i64> = query.fetch_all(&mut *tx).await?.into_iter().collect();
    let month = crate::time_fmt::month_of(now).0;
    let mut key_spent = key_spending(&mut tx, backend, requests, month).await?;

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

    // The entries, in INSERTs of a power of two rows each (largest first), so their
    // shapes stay prepared. A key another process committed since the SELECT above is
    // skipped by ON CONFLICT and does not spend.
    const COLUMNS: usize = 10;
    let mut inserted: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut rest: &[Planned] = &planned;
    while !rest.is_empty() {
        let size = 1usize << (usize::BITS - 1 - rest.len().leading_zeros());
        let (chunk, later) = rest.split_at(size);
        rest = later;
        let sql = format!(
            "INSERT INTO ledger_entries (id, wallet_id, amount, kind, description, actor, key_id, metadata, idempotency_key, created_at) \
             VALUES {} ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
            placeholders(backend, chunk.len(), COLUMNS)
        );
        let mut query = sqlx::query_as::<_, (String,)>(&sql);
        for p in chunk {
            let request = requests[p.job];
            query = query
                .bind(&p.id)
                .bind(&p.wallet)
                .bind(-request.cost)
                .bind(EntryKind::Charge.as_str())
                .bind(&request.description)
                .bind(format!("API key {}", request.key_id))
                .bind(&request.key_id)
                .bind(request.metadata.as_deref())
                .bind(&p.key)
                .bind(now);
        }
        inserted.extend(query.fetch_all(&mut *tx).await?.into_iter().map(|(id,)| id));
    }
    let mut spent: HashMap<&str, i64> = HashMap::new();
    let mut by_limited_key: HashMap<&str, i64> = HashMap::new();
    for p in &planned {
        if inserted.contains(&p.id) {
            let request = requests[p.job];
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
            *balance += requests[p.job].cost;
            outcomes[p.job] = ChargeOutcome::Replayed {
                charge_id: id,
                balance: *balance,
            };
        }
    }

    // One UPDATE for every wallet that spent (padded: a repeated WHEN never matches
    // twice, and a repeated id in the IN list is the same row).
    let spenders: Vec<&str> = spent.keys().copied().collect();
    if !spenders.is_empty() {
        let size = padded(spenders.len());
        let mut sql = String::from("UPDATE wallets SET balance = balance - CASE id");
        let mut n = 0;
        for _ in 0..size {
            sql.push_str(&format!(
                " WHEN {} THEN {}",
                param(backend, n + 1),
                param(backend, n + 2)
            ));
            n += 2;
        }
        sql.push_str(" ELSE 0 END WHERE id IN (");
        for i in 0..size {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&param(backend, n + 1));
            n += 1;
        }
        sql.push(')');
        let mut query = sqlx::query(&sql);
        for wallet in padded_values(&spenders) {
            query = query.bind(wallet).bind(spent[wallet]);
        }
        for wallet in padded_values(&spenders) {
            query = query.bind(wallet);
        }
        query.execute(&mut *tx).await?;
    }
    // Charges only lower balances: nothing to re-arm, only crossings to record.
    super::low_balance::track_in(&mut tx, backend, &spenders, false, now).await?;
    if !by_limited_key.is_empty() {
        // One UPDATE for every limited key that charged (its row exists: see key_spending).
        let mut sql = String::from("UPDATE key_spending SET spent = spent + CASE key_id");
        let mut n = 0;
        for _ in &by_limited_key {
            sql.push_str(&format!(
                " WHEN {} THEN {}",
                param(backend, n + 1),
                param(backend, n + 2)
            ));
            n += 2;
        }
        sql.push_str(&format!(
            " ELSE 0 END WHERE month = {} AND key_id IN (",
            param(backend, n + 1)
        ));
        n += 1;
        for i in 0..by_limited_key.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&param(backend, n + 1));
            n += 1;
        }
        sql.push(')');
        let mut query = sqlx::query(&sql);
        for (key, amount) in &by_limited_key {
            query = query.bind(*key).bind(*amount);
        }
        query = query.bind(month);
        for key in by_limited_key.keys() {
            query = query.bind(*key);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(outcomes)
}

/// What each limited key in the group has charged this month, its row locked (created
/// first if the month is new, so two processes cannot both miss it).
async fn key_spending(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    requests: &[&ChargeRequest],
    month: i64,
) -> Result<HashMap<String, i64>, AppError> {
    let mut keys: Vec<&str> = requests
        .iter()
        .filter(|r| r.key_spend_limit.is_some())
        .map(|r| r.key_id.as_str())
        .collect();
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    keys.sort_unstable();
    keys.dedup();
    let sql = format!(
        "INSERT INTO key_spending (key_id, month) VALUES {} ON CONFLICT (key_id, month) DO NOTHING",
        placeholders(backend, keys.len(), 2)
    );
    let mut query = sqlx::query(&sql);
    for key in &keys {
        query = query.bind(*key).bind(month);
    }
    query.execute(&mut **tx).await?;
    let lock = if backend == Backend::Postgres {
        " ORDER BY key_id FOR UPDATE"
    } else {
        ""
    };
    let sql = format!(
        "SELECT key_id, spent FROM key_spending WHERE key_id IN {} AND month = {}{lock}",
        placeholders(backend, 1, keys.len()),
        param(backend, keys.len() + 1)
    );
    let mut query = sqlx::query_as::<_, (String, i64)>(&sql);
    for key in &keys {
        query = query.bind(*key);
    }
    let query = query.bind(month);
    Ok(query.fetch_all(&mut **tx).await?.into_iter().collect())
}
