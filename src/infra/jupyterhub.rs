//! A client of JupyterHub's REST API (`/hub/api`), as a hub service with a token:
//! create users, read their default server's state, start and stop it. Every call has
//! a timeout; a hub that is down, slow or answering errors is `HubError::Unavailable`,
//! which the pages show as "Lab is unavailable right now". The token goes in the
//! `Authorization` header and nowhere else (never in a URL, a log or an error).
//!
//! Starting and stopping are asynchronous in the hub (`202`, then `pending`): callers
//! read the state again (`user`) until it settles.

use super::hub_config::HubConnection;
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

/// How long one call to the hub may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A user's default server, as the hub reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerState {
    Stopped,
    /// Spawning: not reachable yet.
    Starting {
        started_at_ms: Option<i64>,
    },
    Running {
        started_at_ms: Option<i64>,
        last_activity_ms: Option<i64>,
    },
    Stopping,
}

/// One hub user and their default server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubUser {
    pub name: String,
    pub server: ServerState,
    /// The server's path on the hub's public URL, e.g. `/user/kw-…/`.
    pub server_url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HubError {
    /// Down, unreachable, too slow, or answering with a server error.
    Unavailable,
    /// The hub refused the call (a 4xx other than the expected ones): its message.
    Refused { status: u16, message: String },
}

impl std::fmt::Display for HubError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HubError::Unavailable => write!(f, "the hub is unavailable"),
            HubError::Refused { status, message } => {
                write!(f, "the hub refused the call ({status}): {message}")
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct Hub {
    http: reqwest::Client,
    /// `…/hub/api`, no trailing slash.
    api: String,
    token: SecretString,
}

fn parse_time(value: &serde_json::Value) -> Option<i64> {
    let text = value.as_str()?;
    let at =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

/// The default server (`servers[""]`) of a hub user model.
fn server_of(user: &serde_json::Value) -> (ServerState, Option<String>) {
    let Some(server) = user.get("servers").and_then(|s| s.get("")) else {
        return (ServerState::Stopped, None);
    };
    let url = server
        .get("url")
        .and_then(|u| u.as_str())
        .map(str::to_string);
    let started_at_ms = parse_time(&server["started"]);
    let state = match server["pending"].as_str() {
        Some("stop") => ServerState::Stopping,
        Some(_) => ServerState::Starting { started_at_ms },
        None if server["ready"].as_bool() == Some(true) => ServerState::Running {
            started_at_ms,
            last_activity_ms: parse_time(&server["last_activity"]),
        },
        None if server["stopped"].as_bool() == Some(true) => ServerState::Stopped,
        None => ServerState::Starting { started_at_ms },
    };
    (state, url)
}

fn user_of(user: &serde_json::Value) -> Option<HubUser> {
    let name = user.get("name")?.as_str()?.to_string();
    let (server, server_url) = server_of(user);
    Some(HubUser {
        name,
        server,
        server_url,
    })
}

impl Hub {
    pub fn new(connection: &HubConnection) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(CALL_TIMEOUT)
            .build()
            .map_err(|error| format!("the hub's HTTP client: {error}"))?;
        Ok(Self {
            http,
            api: format!("{}/hub/api", connection.url.trim_end_matches('/')),
            token: connection.api_token.clone(),
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
    ) -> Result<(u16, serde_json::Value), HubError> {
        let response = self
            .http
            .request(method, format!("{}{path}", self.api))
            .header(
                "Authorization",
                format!("token {}", self.token.expose_secret()),
            )
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|error| {
                // reqwest's errors name the URL, never the token.
                tracing::warn!(%error, "JupyterHub call failed");
                HubError::Unavailable
            })?;
        let status = response.status().as_u16();
        if status >= 500 {
            tracing::warn!(status, path, "JupyterHub answered with a server error");
            return Err(HubError::Unavailable);
        }
        let body = response.bytes().await.map_err(|_| HubError::Unavailable)?;
        let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
        Ok((status, json))
    }

    fn refused(status: u16, body: &serde_json::Value) -> HubError {
        HubError::Refused {
            status,
            message: body["message"].as_str().unwrap_or("").to_string(),
        }
    }

    /// The hub's version: a cheap call that proves the hub answers.
    pub async fn version(&self) -> Result<String, HubError> {
        let (status, body) = self.call(reqwest::Method::GET, "/").await?;
        match (status, body["version"].as_str()) {
            (200, Some(version)) => Ok(version.to_string()),
            _ => Err(Self::refused(status, &body)),
        }
    }

    /// Creates `name` on the hub unless it exists.
    pub async fn ensure_user(&self, name: &str) -> Result<(), HubError> {
        let (status, body) = self
            .call(reqwest::Method::POST, &format!("/users/{name}"))
            .await?;
        match status {
            201 | 409 => Ok(()),
            _ => Err(Self::refused(status, &body)),
        }
    }

    /// One user; `None` when the hub has no such user.
    pub async fn user(&self, name: &str) -> Result<Option<HubUser>, HubError> {
        let (status, body) = self
            .call(reqwest::Method::GET, &format!("/users/{name}"))
            .await?;
        match status {
            200 => Ok(user_of(&body)),
            404 => Ok(None),
            _ => Err(Self::refused(status, &body)),
        }
    }

    /// Every user whose server is running, starting or stopping.
    pub async fn active_users(&self) -> Result<Vec<HubUser>, HubError> {
        let (status, body) = self
            .call(reqwest::Method::GET, "/users?state=active")
            .await?;
        match (status, body.as_array()) {
            (200, Some(users)) => Ok(users.iter().filter_map(user_of).collect()),
            _ => Err(Self::refused(status, &body)),
        }
    }

    /// Asks the hub to start `name`'s default server (it may still be starting after).
    pub async fn start(&self, name: &str) -> Result<(), HubError> {
        let (status, body) = self
            .call(reqwest::Method::POST, &format!("/users/{name}/server"))
            .await?;
        match status {
            201 | 202 => Ok(()),
            // "… is already running" (or pending): the server is on its way either way.
            400 if body["message"]
                .as_str()
                .is_some_and(|m| m.contains("already running")) =>
            {
                Ok(())
            }
            _ => Err(Self::refused(status, &body)),
        }
    }

    /// Asks the hub to stop `name`'s default server (it may still be stopping after).
    pub async fn stop(&self, name: &str) -> Result<(), HubError> {
        let (status, body) = self
            .call(reqwest::Method::DELETE, &format!("/users/{name}/server"))
            .await?;
        match status {
            202 | 204 | 404 => Ok(()),
            _ => Err(Self::refused(status, &body)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_default_servers_state_from_a_user_model() {
        let stopped = json!({"name": "a", "servers": {}});
        assert_eq!(user_of(&stopped).unwrap().server, ServerState::Stopped);
        let running = json!({"name": "a", "servers": {"": {
            "ready": true, "pending": null, "stopped": false, "url": "/user/a/",
            "started": "2026-12-02T06:19:14.787791Z", "last_activity": "2026-12-02T06:19:19.948Z"}}});
        let user = user_of(&running).unwrap();
        assert_eq!(
            user.server,
            ServerState::Running {
                started_at_ms: Some(1_796_192_354_787),
                last_activity_ms: Some(1_796_192_359_948),
            }
        );
        assert_eq!(user.server_url.as_deref(), Some("/user/a/"));
        let starting = json!({"name": "a", "servers": {"": {"ready": false, "pending": "spawn", "started": null}}});
        assert_eq!(
            user_of(&starting).unwrap().server,
            ServerState::Starting {
                started_at_ms: None
            }
        );
        let stopping = json!({"name": "a", "servers": {"": {"ready": false, "pending": "stop"}}});
        assert_eq!(user_of(&stopping).unwrap().server, ServerState::Stopping);
        assert_eq!(user_of(&json!({"servers": {}})), None);
    }
}
