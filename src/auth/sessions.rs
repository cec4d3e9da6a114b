//! Browser sessions: a new random token at every sign-in, only its SHA-256 stored,
//! ended by sign-out, by the absolute lifetime, or by a week without use.

use super::{tokens, SessionInfo, User};
use crate::error::AppError;
use crate::infra::{clock::Clock, config::Config, db::Db};

/// A session token as the browser holds it. Only its SHA-256 is stored.
pub struct SessionToken(pub String);

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

/// Where a session was started from, for the person's list of sessions.
pub struct Origin<'a> {
    pub user_agent: &'a str,
    pub client_addr: &'a str,
}

/// Last-seen times are written at most this often per session.
const TOUCH_EVERY_MS: i64 = 60_000;

#[derive(Clone)]
pub struct Sessions {
    db: Db,
    clock: Clock,
    ttl_secs: i64,
    idle_secs: i64,
}

#[derive(sqlx::FromRow)]
struct SessionUser {
    #[sqlx(flatten)]
    user: User,
    last_seen_at: i64,
}

impl Sessions {
    pub fn new(db: Db, clock: Clock, config: &Config) -> Self {
        Self {
            db,
            clock,
            ttl_secs: config.session_ttl_secs,
            idle_secs: config.session_idle_secs,
        }
    }

    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// Starts a session for `user_id`, ending the ones the browser presented (a
    /// sign-in never keeps a token someone else may have planted).
    pub async fn start(
        &self,
        user_id: &str,
        origin: Origin<'_>,
        replacing: &[&str],
    ) -> Result<SessionToken, AppError> {
        for old in replacing {
            self.end(old).await?;
        }
        let token = tokens::new_token()?;
        let now = self.clock.now_ms();
        sqlx::query(
            "INSERT INTO sessions (token_digest, user_id, created_at, expires_at, last_seen_at, \
             user_agent, client_addr) VALUES ($1, $2, $3, $4, $3, $5, $6)",
        )
        .bind(tokens::digest(&token))
        .bind(user_id)
        .bind(now)
        .bind(now + self.ttl_secs * 1000)
        .bind(origin.user_agent.chars().take(256).collect::<String>())
        .bind(origin.client_addr)
        .execute(&self.db.pool)
        .await?;
        // Expired sessions are swept whenever someone signs in.
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
            .bind(now)
            .bind(now - self.idle_secs * 1000)
            .execute(&self.db.pool)
            .await?;
        Ok(SessionToken(token))
    }

    /// A person's live sessions, most recently used first; `current` marks this one.
    pub async fn list(
        &self,
        user_id: &str,
        current_token: Option<&str>,
    ) -> Result<Vec<SessionInfo>, AppError> {
        let now = self.clock.now_ms();
        let mut sessions: Vec<SessionInfo> = sqlx::query_as(
            "SELECT substr(token_digest, 1, 16) AS id, user_agent, client_addr, created_at, \
             last_seen_at FROM sessions WHERE user_id = $1 AND expires_at > $2 AND last_seen_at > $3 \
             ORDER BY last_seen_at DESC, created_at DESC",
        )
        .bind(user_id)
        .bind(now)
        .bind(now - self.idle_secs * 1000)
        .fetch_all(&self.db.pool)
        .await?;
        let current_id = current_token.map(|t| tokens::digest(t)[..16].to_string());
        for session in &mut sessions {
            session.current = current_id.as_deref() == Some(session.id.as_str());
        }
        Ok(sessions)
    }

    /// Ends one of a person's sessions by its public id; another person's id is "not found".
    pub async fn end_by_id(&self, user_id: &str, id: &str) -> Result<(), AppError> {
        if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AppError::NotFound);
        }
        let ended = sqlx::query(
            "DELETE FROM sessions WHERE user_id = $1 AND substr(token_digest, 1, 16) = $2",
        )
        .bind(user_id)
        .bind(id)
        .execute(&self.db.pool)
        .await?;
        if ended.rows_affected() == 0 {
            return Err(AppError::NotFound);
        }
        Ok(())
    }

    /// Ends every session of `user_id` but `keep`; answers how many ended.
    pub async fn end_others(&self, user_id: &str, keep: Option<&str>) -> Result<u64, AppError> {
        end_all_for_user(&self.db, user_id, keep).await
    }

    pub async fn end(&self, token: &str) -> Result<(), AppError> {
        sqlx::query("DELETE FROM sessions WHERE token_digest = $1")
            .bind(tokens::digest(token))
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }

    /// The user whose live session this token is; marks the session as used.
    pub async fn user(&self, token: &str) -> Result<Option<User>, AppError> {
        if !tokens::is_well_formed(token) {
            return Ok(None);
        }
        let now = self.clock.now_ms();
        let digest = tokens::digest(token);
        let found: Option<SessionUser> = sqlx::query_as(
            "SELECT u.id, u.email, u.created_at, u.email_verified_at, s.last_seen_at FROM sessions s \
             JOIN users u ON u.id = s.user_id \
             WHERE s.token_digest = $1 AND s.expires_at > $2 AND s.last_seen_at > $3",
        )
        .bind(&digest)
        .bind(now)
        .bind(now - self.idle_secs * 1000)
        .fetch_optional(&self.db.pool)
        .await?;
        let Some(found) = found else { return Ok(None) };
        // Written only when stale, so reads stay reads.
        if now - found.last_seen_at >= TOUCH_EVERY_MS {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_digest = $2")
                .bind(now)
                .bind(&digest)
                .execute(&self.db.pool)
                .await?;
        }
        Ok(Some(found.user))
    }
}

/// Ends every session of `user_id` but the one whose token is `keep` (password
/// changes and resets call this).
pub async fn end_all_for_user(db: &Db, user_id: &str, keep: Option<&str>) -> Result<u64, AppError> {
    let keep = keep.map(tokens::digest).unwrap_or_default();
    let result = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_digest <> $2")
        .bind(user_id)
        .bind(keep)
        .execute(&db.pool)
        .await?;
    Ok(result.rows_affected())
}
