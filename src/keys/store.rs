//! Server-only key storage. Every query is scoped by the owner's user id, so
//! another person's key answers `NotFound` exactly as a missing one does.

use super::{
    normalize_name, secret, DailyCount, Expiry, KeyDetails, KeyEvent, KeyStatus, KeySummary,
    RequestLogEntry, RevealedKey, ScopeInfo, UsageStats, BUILTIN_SCOPES, GRACE_CHOICES,
};
use crate::error::{AppError, FieldError};
use crate::server::{random, state::AppState};
use crate::time_fmt::DAY_MS;
use sqlx::{any::AnyRow, Row};

const MAX_EXPIRY_DAYS: i64 = 5 * 366;
const KEY_COLUMNS: &str =
    "id, name, preview, scopes, active, created_at, last_used_at, expires_at, regenerated_at";

/// Who performed a change, for the audit trail.
pub struct Actor {
    pub user_id: String,
    /// The person's email, or "API key kid_…" when a key acted through the REST API.
    pub label: String,
    pub client_addr: String,
}

/// Input for a new key, as the create dialog and `POST /api/v1/keys` send it.
pub struct NewKey {
    pub name: String,
    pub scopes: Vec<String>,
    pub expiry: Expiry,
}

/// The built-in scopes plus the operator's.
pub fn catalog(state: &AppState) -> Vec<ScopeInfo> {
    BUILTIN_SCOPES
        .iter()
        .map(|(name, description)| ScopeInfo {
            name: name.to_string(),
            description: description.to_string(),
        })
        .chain(state.config.extra_scopes.iter().cloned())
        .collect()
}

fn summary(row: &AnyRow, now: i64) -> Result<KeySummary, sqlx::Error> {
    let active = row.try_get::<i64, _>("active")? != 0;
    let expires_at: Option<i64> = row.try_get("expires_at")?;
    let scopes: String = row.try_get("scopes")?;
    Ok(KeySummary {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        preview: row.try_get("preview")?,
        scopes: scopes.split_whitespace().map(str::to_string).collect(),
        active,
        status: KeyStatus::of(active, expires_at, now),
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        expires_at,
        regenerated_at: row.try_get("regenerated_at")?,
    })
}

pub async fn list(state: &AppState, user_id: &str) -> Result<Vec<KeySummary>, AppError> {
    let now = state.now_ms();
    let rows = sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM api_keys WHERE user_id = $1 ORDER BY created_at DESC, id"
    ))
    .bind(user_id)
    .fetch_all(&state.db.pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| summary(r, now))
        .collect::<Result<_, _>>()?)
}

pub async fn get(state: &AppState, user_id: &str, key_id: &str) -> Result<KeySummary, AppError> {
    let row = sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1 AND user_id = $2"
    ))
    .bind(key_id)
    .bind(user_id)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(summary(&row, state.now_ms())?)
}

/// Checks a new key's fields; every problem is reported beside its field.
fn validate(
    state: &AppState,
    input: &NewKey,
    now: i64,
) -> Result<(String, String, Option<i64>, Option<i64>), AppError> {
    let mut errors = Vec::new();
    let name = normalize_name(&input.name).map_err(|e| errors.push(e)).ok();

    let catalog = catalog(state);
    let mut scopes: Vec<&str> = Vec::new();
    for scope in &input.scopes {
        match catalog.iter().find(|s| &s.name == scope) {
            Some(known) if !scopes.contains(&known.name.as_str()) => scopes.push(&known.name),
            Some(_) => {}
            None => {
                let shown: String = scope.chars().take(64).collect();
                errors.push(FieldError::new(
                    "scopes",
                    format!("\"{shown}\" is not a scope this server offers."),
                ));
            }
        }
    }
    if input.scopes.is_empty() {
        errors.push(FieldError::new("scopes", "Choose at least one scope."));
    }
    // Keep the catalog's order, whatever order they were ticked in.
    let scopes = catalog
        .iter()
        .filter(|s| scopes.contains(&s.name.as_str()))
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(" ");

    let (expires_at, ttl_days) = match &input.expiry {
        Expiry::Never => (None, None),
        Expiry::Days(days) if (1..=MAX_EXPIRY_DAYS).contains(&i64::from(*days)) => (
            Some(now + i64::from(*days) * DAY_MS),
            Some(i64::from(*days)),
        ),
        Expiry::Days(_) => {
            errors.push(FieldError::new(
                "expiry",
                format!("Choose between 1 and {MAX_EXPIRY_DAYS} days."),
            ));
            (None, None)
        }
        Expiry::Date(date) => match end_of_day(date) {
            Some(end) if end > now && end <= now + MAX_EXPIRY_DAYS * DAY_MS => (Some(end), None),
            Some(end) if end <= now => {
                errors.push(FieldError::new("expiry", "Choose a date after today."));
                (None, None)
            }
            Some(_) => {
                errors.push(FieldError::new(
                    "expiry",
                    "Choose a date within the next 5 years.",
                ));
                (None, None)
            }
            None => {
                errors.push(FieldError::new("expiry", "Enter the date as YYYY-MM-DD."));
                (None, None)
            }
        },
    };
    match name {
        Some(name) if errors.is_empty() => Ok((name, scopes, expires_at, ttl_days)),
        _ => Err(AppError::Validation(errors)),
    }
}

/// The first millisecond after the given UTC day.
fn end_of_day(date: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(date.trim(), format).ok()?;
    let next = day.next_day()?.midnight().assume_utc();
    Some((next.unix_timestamp_nanos() / 1_000_000) as i64)
}

fn name_taken() -> AppError {
    AppError::invalid(
        "name",
        "You already have a key with this name. Choose another.",
    )
}

async fn record_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    actor: &Actor,
    key_id: &str,
    key_name: &str,
    event: &str,
    at: i64,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO key_events (id, key_id, user_id, key_name, event, actor, client_addr, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(random::id("evt")?)
    .bind(key_id)
    .bind(&actor.user_id)
    .bind(key_name)
    .bind(event)
    .bind(&actor.label)
    .bind(&actor.client_addr)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Creates a key and answers its value, the only time it is ever sent.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    input: NewKey,
) -> Result<RevealedKey, AppError> {
    let now = state.now_ms();
    let (name, scopes, expires_at, ttl_days) = validate(state, &input, now)?;
    let taken = sqlx::query("SELECT 1 FROM api_keys WHERE user_id = $1 AND name = $2")
        .bind(&actor.user_id)
        .bind(&name)
        .fetch_optional(&state.db.pool)
        .await?
        .is_some();
    if taken {
        return Err(name_taken());
    }
    let prefix = &state.config.key_prefix;
    let value = secret::generate(prefix)?;
    let id = random::id("kid")?;
    let preview = secret::preview(prefix, &value);

    let mut tx = state.db.pool.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO api_keys (id, user_id, name, preview, scopes, active, created_at, expires_at, ttl_days) \
         VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8)",
    )
    .bind(&id)
    .bind(&actor.user_id)
    .bind(&name)
    .bind(&preview)
    .bind(&scopes)
    .bind(now)
    .bind(expires_at)
    .bind(ttl_days)
    .execute(&mut *tx)
    .await;
    match inserted {
        Ok(_) => {}
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Err(name_taken()),
        Err(e) => return Err(e.into()),
    }
    sqlx::query("INSERT INTO key_secrets (digest, key_id, created_at, retires_at) VALUES ($1, $2, $3, NULL)")
        .bind(secret::KeyDigest::of(&value).to_hex())
        .bind(&id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    record_event(&mut tx, actor, &id, &name, "created", now).await?;
    tx.commit().await?;
    tracing::info!(key_id = %id, user_id = %actor.user_id, "API key created");

    Ok(RevealedKey {
        key: get(state, &actor.user_id, &id).await?,
        secret: value,
    })
}

/// Replaces a key's value. With `grace_secs == 0` the old value stops working before
/// this returns; otherwise it keeps working for that long. One transaction, whose first
/// statement takes the write lock, so racing regenerations leave exactly one current value.
pub async fn regenerate(
    state: &AppState,
    actor: &Actor,
    key_id: &str,
    grace_secs: i64,
) -> Result<RevealedKey, AppError> {
    if !GRACE_CHOICES.iter().any(|(secs, _)| *secs == grace_secs) {
        return Err(AppError::invalid(
            "grace",
            "Choose when the old value stops working.",
        ));
    }
    let now = state.now_ms();
    let prefix = &state.config.key_prefix;
    let value = secret::generate(prefix)?;
    let preview = secret::preview(prefix, &value);

    let mut tx = state.db.pool.begin().await?;
    let locked = sqlx::query(
        "UPDATE api_keys SET regenerated_at = $1, preview = $2, \
         expires_at = CASE WHEN ttl_days IS NULL THEN expires_at ELSE $1 + ttl_days * 86400000 END \
         WHERE id = $3 AND user_id = $4",
    )
    .bind(now)
    .bind(&preview)
    .bind(key_id)
    .bind(&actor.user_id)
    .execute(&mut *tx)
    .await?;
    if locked.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    // Values whose grace already ran out are gone for good.
    sqlx::query(
        "DELETE FROM key_secrets WHERE key_id = $1 AND retires_at IS NOT NULL AND retires_at <= $2",
    )
    .bind(key_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if grace_secs == 0 {
        // "Immediately" means every earlier value, including ones still in a grace period.
        sqlx::query("DELETE FROM key_secrets WHERE key_id = $1")
            .bind(key_id)
            .execute(&mut *tx)
            .await?;
    } else {
        sqlx::query(
            "UPDATE key_secrets SET retires_at = $1 WHERE key_id = $2 AND retires_at IS NULL",
        )
        .bind(now + grace_secs * 1000)
        .bind(key_id)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("INSERT INTO key_secrets (digest, key_id, created_at, retires_at) VALUES ($1, $2, $3, NULL)")
        .bind(secret::KeyDigest::of(&value).to_hex())
        .bind(key_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let name: String = sqlx::query("SELECT name FROM api_keys WHERE id = $1")
        .bind(key_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("name")?;
    record_event(&mut tx, actor, key_id, &name, "regenerated", now).await?;
    let _forget_cached = state.announce_key_change(&mut tx, key_id).await?;
    tx.commit().await?;
    tracing::info!(key_id = %key_id, grace_secs, "API key regenerated");

    Ok(RevealedKey {
        key: get(state, &actor.user_id, key_id).await?,
        secret: value,
    })
}

/// Deletes a key, its values and its usage; the lifecycle event stays.
pub async fn delete(state: &AppState, actor: &Actor, key_id: &str) -> Result<(), AppError> {
    let now = state.now_ms();
    let mut tx = state.db.pool.begin().await?;
    // The write comes first: it takes the lock, and RETURNING says whether the key was there.
    let row = sqlx::query("DELETE FROM api_keys WHERE id = $1 AND user_id = $2 RETURNING name")
        .bind(key_id)
        .bind(&actor.user_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AppError::NotFound)?;
    let name: String = row.try_get("name")?;
    record_event(&mut tx, actor, key_id, &name, "deleted", now).await?;
    let _forget_cached = state.announce_key_change(&mut tx, key_id).await?;
    tx.commit().await?;
    tracing::info!(key_id = %key_id, "API key deleted");
    Ok(())
}

/// Turns a key on or off without changing its value.
pub async fn set_active(
    state: &AppState,
    actor: &Actor,
    key_id: &str,
    active: bool,
) -> Result<KeySummary, AppError> {
    let now = state.now_ms();
    let mut tx = state.db.pool.begin().await?;
    let updated = sqlx::query("UPDATE api_keys SET active = $1 WHERE id = $2 AND user_id = $3")
        .bind(i64::from(active))
        .bind(key_id)
        .bind(&actor.user_id)
        .execute(&mut *tx)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    let name: String = sqlx::query("SELECT name FROM api_keys WHERE id = $1")
        .bind(key_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("name")?;
    let event = if active { "activated" } else { "deactivated" };
    record_event(&mut tx, actor, key_id, &name, event, now).await?;
    let _forget_cached = state.announce_key_change(&mut tx, key_id).await?;
    tx.commit().await?;
    get(state, &actor.user_id, key_id).await
}

/// The expanded row: the key, its usage, its recent requests and its lifecycle.
pub async fn details(
    state: &AppState,
    user_id: &str,
    key_id: &str,
) -> Result<KeyDetails, AppError> {
    let key = get(state, user_id, key_id).await?;
    let now = state.now_ms();
    let today = now.div_euclid(DAY_MS);

    let day_rows =
        sqlx::query("SELECT day, requests FROM key_usage_daily WHERE key_id = $1 AND day > $2")
            .bind(key_id)
            .bind(today - 30)
            .fetch_all(&state.db.pool)
            .await?;
    let mut daily: Vec<DailyCount> = (0..30)
        .map(|i| DailyCount {
            day_start: (today - 29 + i) * DAY_MS,
            requests: 0,
        })
        .collect();
    for row in &day_rows {
        let day: i64 = row.try_get("day")?;
        let index = day - (today - 29);
        if let Some(slot) = usize::try_from(index).ok().and_then(|i| daily.get_mut(i)) {
            slot.requests = row.try_get("requests")?;
        }
    }
    let total: i64 = sqlx::query(
        "SELECT CAST(COALESCE(SUM(requests), 0) AS BIGINT) FROM key_usage_daily WHERE key_id = $1",
    )
    .bind(key_id)
    .fetch_one(&state.db.pool)
    .await?
    .try_get(0)?;
    // The current UTC hour and the 23 before it, from counters the log cap cannot skew.
    let last_24h: i64 = sqlx::query(
        "SELECT CAST(COALESCE(SUM(requests), 0) AS BIGINT) FROM key_usage_hourly WHERE key_id = $1 AND hour > $2",
    )
    .bind(key_id)
    .bind(now.div_euclid(crate::time_fmt::HOUR_MS) - 24)
    .fetch_one(&state.db.pool)
    .await?
    .try_get(0)?;
    let sum_days = |n: usize| daily.iter().rev().take(n).map(|d| d.requests).sum::<i64>();
    let usage = UsageStats {
        last_24h,
        last_7d: sum_days(7),
        last_30d: sum_days(30),
        total,
    };

    let recent = sqlx::query(
        "SELECT at, method, path, status, client_addr, user_agent FROM key_requests \
         WHERE key_id = $1 ORDER BY at DESC, seq DESC LIMIT 20",
    )
    .bind(key_id)
    .fetch_all(&state.db.pool)
    .await?
    .iter()
    .map(|r| {
        Ok(RequestLogEntry {
            at: r.try_get("at")?,
            method: r.try_get("method")?,
            path: r.try_get("path")?,
            status: u16::try_from(r.try_get::<i64, _>("status")?).unwrap_or(0),
            client_addr: r.try_get("client_addr")?,
            user_agent: r.try_get("user_agent")?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;

    let events = sqlx::query(
        "SELECT event, at, actor, client_addr FROM key_events WHERE key_id = $1 AND user_id = $2 \
         ORDER BY at DESC, id DESC LIMIT 50",
    )
    .bind(key_id)
    .bind(user_id)
    .fetch_all(&state.db.pool)
    .await?
    .iter()
    .map(|r| {
        Ok(KeyEvent {
            event: r.try_get("event")?,
            at: r.try_get("at")?,
            actor: r.try_get("actor")?,
            client_addr: r.try_get("client_addr")?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;

    Ok(KeyDetails {
        key,
        usage,
        daily,
        recent,
        events,
    })
}
