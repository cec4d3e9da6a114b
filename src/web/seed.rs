//! `keyward seed-bench`: fills a fresh database with users and real keys for the
//! benchmark, through the same store code the server uses to create them.

use super::{leptos_options, state::AppState};
use crate::auth::{store::insert_user, User};
use crate::infra::{config::Config, db::Db, random};
use crate::keys::{rules::ValidKey, BUILTIN_SCOPES};
use crate::wallet::ledger::{self, Posting};
use crate::wallet::EntryKind;
use crate::workspace::Owner;
use std::io::Write;

/// Credits for the charge benchmark: the first `users` accounts get `credits` each, and
/// the first key of each is written to `out`.
pub struct Funding {
    pub users: usize,
    pub credits: i64,
    pub out: String,
}

pub async fn seed_bench(
    config: &Config,
    users: usize,
    keys: usize,
    out: &str,
    funding: Option<Funding>,
) -> Result<(), String> {
    let db = Db::connect(&config.database_url)
        .await
        .map_err(|e| format!("database: {e}"))?;
    let state = AppState::new(leptos_options(config), db.clone(), config.clone())?;
    let per_user = keys.div_ceil(users.max(1));
    let now = state.now_ms();
    // Seeded users cannot sign in: the hash is of no password anyone knows.
    let password_hash = format!(
        "$argon2id$v=19$m=19456,t=2,p=1$seed${}",
        random::base62(43).map_err(|e| e.to_string())?
    );
    let all_scopes = BUILTIN_SCOPES.map(|(name, _)| name).join(" ");
    let mut file =
        std::io::BufWriter::new(std::fs::File::create(out).map_err(|e| format!("{out}: {e}"))?);
    let mut funded_file = match &funding {
        Some(f) => Some(std::io::BufWriter::new(
            std::fs::File::create(&f.out).map_err(|e| format!("{}: {e}", f.out))?,
        )),
        None => None,
    };
    let mut written = 0;
    for batch_start in (0..users).step_by(500) {
        let batch_end = (batch_start + 500).min(users);
        let mut tx = db.pool.begin().await.map_err(|e| e.to_string())?;
        for u in batch_start..batch_end {
            let user = User {
                id: random::id("usr").map_err(|e| e.to_string())?,
                email: format!("bench-{u}@example.com"),
                created_at: now,
                email_verified_at: None,
            };
            insert_user(&mut *tx, &user, &password_hash)
                .await
                .map_err(|e| e.to_string())?;
            for k in 0..per_user {
                if written == keys {
                    break;
                }
                let key = ValidKey {
                    name: format!("bench-{k}"),
                    scopes: all_scopes.clone(),
                    expires_at: None,
                    ttl_days: None,
                };
                let (_, value) = state
                    .keys
                    .insert(&mut tx, &user.id, &key, now)
                    .await
                    .map_err(|e| e.to_string())?;
                writeln!(file, "{value}").map_err(|e| e.to_string())?;
                written += 1;
                if let (Some(f), Some(funded)) = (&funding, funded_file.as_mut()) {
                    if k == 0 && u < f.users {
                        writeln!(funded, "{value}").map_err(|e| e.to_string())?;
                        let posting = Posting {
                            owner: Owner::User(user.id.clone()),
                            amount: f.credits,
                            kind: EntryKind::OperatorGrant,
                            reference: None,
                            description: "Benchmark credits".into(),
                            actor: "seed-bench".into(),
                            key_id: None,
                            metadata: None,
                            idempotency_key: format!("seed:{}", user.id),
                            may_overdraw: false,
                        };
                        ledger::post_in(&mut tx, &posting, now)
                            .await
                            .map_err(|e| e.to_string())?;
                    }
                }
            }
        }
        tx.commit().await.map_err(|e| e.to_string())?;
    }
    file.flush().map_err(|e| e.to_string())?;
    if let Some(funded) = funded_file.as_mut() {
        funded.flush().map_err(|e| e.to_string())?;
    }
    db.pool.close().await;
    println!("seeded {users} users and {written} keys; key values in {out}");
    Ok(())
}
