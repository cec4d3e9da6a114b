//! `keyward seed-bench`: fills a fresh database with users and real keys for the
//! benchmark, through the same key format and digest code the server uses.

use super::{config::Config, db::Db, random};
use crate::keys::secret::{self, KeyDigest};
use std::io::Write;

pub async fn seed_bench(
    config: &Config,
    users: usize,
    keys: usize,
    out: &str,
) -> Result<(), String> {
    let db = Db::connect(&config.database_url)
        .await
        .map_err(|e| format!("database: {e}"))?;
    let per_user = keys.div_ceil(users.max(1));
    let now = crate::time_fmt::now_ms();
    // Seeded users cannot sign in: the hash is of no password anyone knows.
    let password_hash = format!(
        "$argon2id$v=19$m=19456,t=2,p=1$seed${}",
        random::base62(43).map_err(|e| e.to_string())?
    );
    let mut file =
        std::io::BufWriter::new(std::fs::File::create(out).map_err(|e| format!("{out}: {e}"))?);
    let mut written = 0;
    for batch_start in (0..users).step_by(500) {
        let batch_end = (batch_start + 500).min(users);
        let mut tx = db.pool.begin().await.map_err(|e| e.to_string())?;
        for u in batch_start..batch_end {
            let user_id = random::id("usr").map_err(|e| e.to_string())?;
            sqlx::query(
                "INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(&user_id)
            .bind(format!("bench-{u}@example.com"))
            .bind(&password_hash)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| e.to_string())?;
            for k in 0..per_user {
                if written == keys {
                    break;
                }
                let value = secret::generate(&config.key_prefix).map_err(|e| e.to_string())?;
                let key_id = random::id("kid").map_err(|e| e.to_string())?;
                sqlx::query(
                    "INSERT INTO api_keys (id, user_id, name, preview, scopes, active, created_at, expires_at, ttl_days) \
                     VALUES ($1, $2, $3, $4, 'account:read keys:read keys:write', 1, $5, NULL, NULL)",
                )
                .bind(&key_id)
                .bind(&user_id)
                .bind(format!("bench-{k}"))
                .bind(secret::preview(&config.key_prefix, &value))
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| e.to_string())?;
                sqlx::query("INSERT INTO key_secrets (digest, key_id, created_at, retires_at) VALUES ($1, $2, $3, NULL)")
                    .bind(KeyDigest::of(&value).to_hex())
                    .bind(&key_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| e.to_string())?;
                writeln!(file, "{value}").map_err(|e| e.to_string())?;
                written += 1;
            }
        }
        tx.commit().await.map_err(|e| e.to_string())?;
    }
    file.flush().map_err(|e| e.to_string())?;
    db.pool.close().await;
    println!("seeded {users} users and {written} keys; key values in {out}");
    Ok(())
}
