//! Keyward as an OAuth 2.0 authorization server for one registered client: the
//! JupyterHub that runs Lab servers signs people in with their Keyward account
//! (oauthenticator's `GenericOAuthenticator`).
//!
//! Authorization code flow with PKCE (S256 only, RFC 7636). Codes live a minute and
//! are consumed by one conditional UPDATE, so a code works once; presenting a used
//! code again also revokes the token it bought (RFC 6749 §4.1.2). Access tokens live
//! ten minutes (the hub only reads the userinfo once per sign-in). Codes and tokens
//! are stored as SHA-256 digests, like every other secret here.
//!
//! Written by hand rather than with an OAuth server crate: the server side is three
//! small steps over our own sessions and tables, and the crates that exist
//! (`oxide-auth`) bring a generic framework and its own storage traits for them.

use super::tokens;
use crate::error::AppError;
use crate::infra::db::Db;
use base64::Engine as _;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How long an authorization code may be exchanged.
pub const CODE_TTL_MS: i64 = 60_000;
/// How long an access token answers the userinfo endpoint.
pub const TOKEN_TTL_MS: i64 = 10 * 60_000;
/// What the hub asks for; the userinfo answers the same whatever it asks.
pub const SCOPES: &str = "openid profile";

/// The one registered client, from configuration.
pub use crate::infra::hub_config::OAuthClient as Client;

/// An authorization request as the browser brought it.
#[derive(Debug, Default)]
pub struct AuthorizeRequest {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// Why an authorization request is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthorizeRefusal {
    /// Shown to the person, never sent to the redirect URI (which cannot be trusted).
    UnknownClient,
    WrongRedirectUri,
    /// Sent back to the client's redirect URI as `error=…`.
    Redirect {
        error: &'static str,
        description: &'static str,
    },
}

/// Checks an authorization request against the registered client. The client and
/// its redirect URI are checked first: until both match, nothing goes back to the URI.
pub fn check_authorize(
    client: &Client,
    request: &AuthorizeRequest,
) -> Result<(), AuthorizeRefusal> {
    if request.client_id.as_deref() != Some(client.id.as_str()) {
        return Err(AuthorizeRefusal::UnknownClient);
    }
    // Exact match, as RFC 6749 §3.1.2.3 asks of a registered URI.
    if request
        .redirect_uri
        .as_deref()
        .is_some_and(|uri| uri != client.redirect_uri)
    {
        return Err(AuthorizeRefusal::WrongRedirectUri);
    }
    if request.response_type.as_deref() != Some("code") {
        return Err(AuthorizeRefusal::Redirect {
            error: "unsupported_response_type",
            description: "Only the authorization code flow is supported.",
        });
    }
    if request.code_challenge_method.as_deref() != Some("S256") {
        return Err(AuthorizeRefusal::Redirect {
            error: "invalid_request",
            description: "PKCE with code_challenge_method=S256 is required.",
        });
    }
    let challenge_ok = request
        .code_challenge
        .as_deref()
        .is_some_and(|c| c.len() == 43 && c.bytes().all(is_base64url));
    if !challenge_ok {
        return Err(AuthorizeRefusal::Redirect {
            error: "invalid_request",
            description: "code_challenge must be the base64url SHA-256 of the verifier.",
        });
    }
    Ok(())
}

fn is_base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// The verifier RFC 7636 §4.1 allows: 43 to 128 unreserved characters.
fn is_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// `BASE64URL(SHA256(verifier))`, unpadded.
pub fn challenge_of(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Issues a code for `user_id` after a checked request; answers the code.
pub async fn issue_code(
    db: &Db,
    client: &Client,
    user_id: &str,
    code_challenge: &str,
    now: i64,
) -> Result<String, AppError> {
    let code = tokens::new_token()?;
    sqlx::query(
        "INSERT INTO oauth_codes (digest, user_id, client_id, redirect_uri, code_challenge, scope, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(tokens::digest(&code))
    .bind(user_id)
    .bind(&client.id)
    .bind(&client.redirect_uri)
    .bind(code_challenge)
    .bind(SCOPES)
    .bind(now)
    .bind(now + CODE_TTL_MS)
    .execute(&db.pool)
    .await?;
    Ok(code)
}

/// A token request's form, as the client sent it.
#[derive(Debug, Default)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    /// From the form or from HTTP Basic authentication.
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// RFC 6749 §5.2's error codes, the ones this server uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenRefusal {
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
    UnsupportedGrantType,
}

impl TokenRefusal {
    pub fn code(self) -> &'static str {
        match self {
            TokenRefusal::InvalidClient => "invalid_client",
            TokenRefusal::InvalidGrant => "invalid_grant",
            TokenRefusal::InvalidRequest => "invalid_request",
            TokenRefusal::UnsupportedGrantType => "unsupported_grant_type",
        }
    }
}

/// An access token, handed to the client once.
#[derive(Debug)]
pub struct Issued {
    pub access_token: String,
    pub expires_in_secs: i64,
}

fn same_secret(given: &str, expected: &str) -> bool {
    // Digests first, so the comparison's time says nothing about the length either.
    bool::from(Sha256::digest(given.as_bytes()).ct_eq(&Sha256::digest(expected.as_bytes())))
}

/// Whether the request carries the client's id and secret.
pub fn client_authenticated(client: &Client, request: &TokenRequest) -> bool {
    request.client_id.as_deref() == Some(client.id.as_str())
        && request
            .client_secret
            .as_deref()
            .is_some_and(|secret| same_secret(secret, client.secret.expose_secret()))
}

/// Exchanges a code for an access token: the client authenticated, the code unused,
/// unexpired, issued to this client for this redirect URI, and the verifier matching
/// its challenge. A code is spent by the attempt whatever its outcome.
pub async fn exchange_code(
    db: &Db,
    client: &Client,
    request: &TokenRequest,
    now: i64,
) -> Result<Result<Issued, TokenRefusal>, AppError> {
    if !client_authenticated(client, request) {
        return Ok(Err(TokenRefusal::InvalidClient));
    }
    if request.grant_type.as_deref() != Some("authorization_code") {
        return Ok(Err(TokenRefusal::UnsupportedGrantType));
    }
    let (Some(code), Some(verifier)) = (request.code.as_deref(), request.code_verifier.as_deref())
    else {
        return Ok(Err(TokenRefusal::InvalidRequest));
    };
    if !tokens::is_well_formed(code) || !is_verifier(verifier) {
        return Ok(Err(TokenRefusal::InvalidGrant));
    }
    let digest = tokens::digest(code);
    let claimed: Option<(String, String, String, String)> = sqlx::query_as(
        "UPDATE oauth_codes SET used_at = $1 WHERE digest = $2 AND used_at IS NULL AND expires_at > $1 \
         RETURNING user_id, client_id, redirect_uri, code_challenge",
    )
    .bind(now)
    .bind(&digest)
    .fetch_optional(&db.pool)
    .await?;
    let Some((user_id, client_id, redirect_uri, challenge)) = claimed else {
        // Used before (or expired): whatever it bought stops working.
        sqlx::query("DELETE FROM oauth_tokens WHERE code_digest = $1")
            .bind(&digest)
            .execute(&db.pool)
            .await?;
        return Ok(Err(TokenRefusal::InvalidGrant));
    };
    let redirect_ok = request
        .redirect_uri
        .as_deref()
        .is_none_or(|uri| uri == redirect_uri);
    if client_id != client.id || !redirect_ok || !same_secret(&challenge_of(verifier), &challenge) {
        return Ok(Err(TokenRefusal::InvalidGrant));
    }
    let access_token = tokens::new_token()?;
    sqlx::query(
        "INSERT INTO oauth_tokens (digest, code_digest, user_id, client_id, scope, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(tokens::digest(&access_token))
    .bind(&digest)
    .bind(&user_id)
    .bind(&client_id)
    .bind(SCOPES)
    .bind(now)
    .bind(now + TOKEN_TTL_MS)
    .execute(&db.pool)
    .await?;
    Ok(Ok(Issued {
        access_token,
        expires_in_secs: TOKEN_TTL_MS / 1000,
    }))
}

/// Who an access token speaks for, as the hub sees them.
#[derive(Debug, PartialEq, Eq)]
pub struct HubIdentity {
    pub user_id: String,
    pub hub_username: String,
}

/// The identity behind a live access token; `None` for anything else.
pub async fn identity(
    db: &Db,
    access_token: &str,
    now: i64,
) -> Result<Option<HubIdentity>, AppError> {
    if !tokens::is_well_formed(access_token) {
        return Ok(None);
    }
    let user: Option<(String,)> =
        sqlx::query_as("SELECT user_id FROM oauth_tokens WHERE digest = $1 AND expires_at > $2")
            .bind(tokens::digest(access_token))
            .bind(now)
            .fetch_optional(&db.pool)
            .await?;
    Ok(user.map(|(user_id,)| HubIdentity {
        hub_username: hub_username(&user_id),
        user_id,
    }))
}

/// The person's name on the hub: derived from their user id, so it never changes
/// (an email can), and lowercase hex, because the hub lowercases names.
pub fn hub_username(user_id: &str) -> String {
    let digest = hex::encode(Sha256::digest(
        format!("keyward-hub-user:{user_id}").as_bytes(),
    ));
    format!("kw-{}", &digest[..20])
}

/// Deletes codes and tokens past their time (codes kept a day for the reuse check).
pub async fn prune(db: &Db, now: i64) -> Result<(), AppError> {
    sqlx::query("DELETE FROM oauth_tokens WHERE expires_at < $1")
        .bind(now)
        .execute(&db.pool)
        .await?;
    sqlx::query("DELETE FROM oauth_codes WHERE expires_at < $1")
        .bind(now - 86_400_000)
        .execute(&db.pool)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_rfc_7636s_example() {
        // RFC 7636, appendix B.
        assert_eq!(
            challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn hub_usernames_are_stable_lowercase_and_distinct() {
        let a = hub_username("usr_AbC");
        assert_eq!(a, hub_username("usr_AbC"));
        assert_ne!(a, hub_username("usr_abc"));
        assert!(a.starts_with("kw-") && a.len() == 23);
        assert_eq!(a, a.to_lowercase());
    }
}
