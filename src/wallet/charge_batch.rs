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
    let mut tx = db.begin_write().await?;
    // Idempotency keys: the caller's, or a fresh one that cannot collide.
    let mut keys = Vec::with_capacity(requests.len());
    for request in requests {
        keys.push(match &request.idempotency_key {
            Some(key) => format!("charge:{key}"),
            None => format!("charge:{}", random::base62(24)?),
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
            placeholders(backend, 1, given.len())
        );
        let mut query = sqlx::query_as::<_, (String, String, String, i64, String)>(&sql);
        for key in &given {
            query = query.bind(*key);
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
        placeholders(backend, 1, wallets.len())
    );
    let mut query = sqlx::query_as::<_, (String, i64)>(&sql);
    for wallet in &wallets {
        query = query.bind(wallet);
    }
    let mut balances: HashMap<String, i64> = query.fetch_all(&mut *tx).await?.into_iter().collect();

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
        if balance < request.cost {
            outcomes.push(ChargeOutcome::Insufficient { balance });
            continue;
        }
        let id = random::id("led")?;
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

    // One INSERT for every entry. A key another process committed since the SELECT
    // above is skipped by ON CONFLICT and does not spend.
    const COLUMNS: usize = 10;
    let sql = format!(
        "INSERT INTO ledger_entries (id, wallet_id, amount, kind, description, actor, key_id, metadata, idempotency_key, created_at) \
         VALUES {} ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
        placeholders(backend, planned.len(), COLUMNS)
    );
    let mut query = sqlx::query_as::<_, (String,)>(&sql);
    for p in &planned {
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
    let inserted: std::collections::HashSet<String> = query
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|(id,)| id)
        .collect();
    let mut spent: HashMap<&str, i64> = HashMap::new();
    for p in &planned {
        if inserted.contains(&p.id) {
            *spent.entry(p.wallet.as_str()).or_default() += requests[p.job].cost;
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

    // One UPDATE for every wallet that spent.
    let mut sql = String::from("UPDATE wallets SET balance = balance - CASE id");
    let mut n = 0;
    for _ in &spent {
        sql.push_str(&format!(
            " WHEN {} THEN {}",
            param(backend, n + 1),
            param(backend, n + 2)
        ));
        n += 2;
    }
    sql.push_str(" ELSE 0 END WHERE id IN (");
    for i in 0..spent.len() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&param(backend, n + 1));
        n += 1;
    }
    sql.push(')');
    let mut query = sqlx::query(&sql);
    for (wallet, amount) in &spent {
        query = query.bind(*wallet).bind(*amount);
    }
    for wallet in spent.keys() {
        query = query.bind(*wallet);
    }
    query.execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(outcomes)
}
