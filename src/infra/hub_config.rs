//! Configuration of the JupyterHub that runs Lab servers: where its REST API is, the
//! service token Keyward calls it with, and the OAuth client it signs people in as.
//! Secrets are `SecretString`s: `Debug` prints `[REDACTED]`.

use super::stripe::origin_of;
use secrecy::SecretString;

/// The hub's OAuth client registration (Keyward is the authorization server).
#[derive(Clone, Debug)]
pub struct OAuthClient {
    pub id: String,
    pub secret: SecretString,
    /// The hub's callback, e.g. `http://127.0.0.1:8000/hub/oauth_callback`; matched exactly.
    pub redirect_uri: String,
}

impl OAuthClient {
    /// `KEYWARD_OAUTH_CLIENT_ID`, `_SECRET` and `_REDIRECT_URI`: all three or none.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, String> {
        let names = [
            "KEYWARD_OAUTH_CLIENT_ID",
            "KEYWARD_OAUTH_CLIENT_SECRET",
            "KEYWARD_OAUTH_REDIRECT_URI",
        ];
        let values: Vec<Option<String>> = names.iter().map(|n| var(n)).collect();
        if values.iter().all(Option::is_none) {
            return Ok(None);
        }
        if let Some((name, _)) = names.iter().zip(&values).find(|(_, v)| v.is_none()) {
            return Err(format!(
                "single sign-on for the hub needs {}; {name} is not set",
                names.join(", ")
            ));
        }
        let mut values = values.into_iter().map(Option::unwrap_or_default);
        let mut next = || values.next().unwrap_or_default();
        let (id, secret, redirect_uri) = (next(), next(), next());
        if secret.len() < 16 {
            return Err("KEYWARD_OAUTH_CLIENT_SECRET must be at least 16 characters".into());
        }
        if origin_of(&redirect_uri).is_none() {
            return Err(format!(
                "KEYWARD_OAUTH_REDIRECT_URI={redirect_uri:?} is not an http(s) URL"
            ));
        }
        Ok(Some(Self {
            id,
            secret: secret.into(),
            redirect_uri,
        }))
    }
}

/// Where the hub is (`KEYWARD_JUPYTERHUB_URL`, its public URL; the REST API is under
/// `/hub/api`) and the service token Keyward calls it with
/// (`KEYWARD_JUPYTERHUB_API_TOKEN`). The token never reaches a browser.
#[derive(Clone, Debug)]
pub struct HubConnection {
    pub url: String,
    pub api_token: SecretString,
}

impl HubConnection {
    /// Both variables or neither.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, String> {
        match (
            var("KEYWARD_JUPYTERHUB_URL"),
            var("KEYWARD_JUPYTERHUB_API_TOKEN"),
        ) {
            (None, None) => Ok(None),
            (Some(url), Some(api_token)) => {
                if origin_of(&url).is_none() {
                    return Err(format!(
                        "KEYWARD_JUPYTERHUB_URL={url:?} is not an http(s) URL"
                    ));
                }
                if api_token.len() < 8 {
                    return Err("KEYWARD_JUPYTERHUB_API_TOKEN must be at least 8 characters".into());
                }
                Ok(Some(Self {
                    url,
                    api_token: api_token.into(),
                }))
            }
            (Some(_), None) => {
                Err("KEYWARD_JUPYTERHUB_URL is set but KEYWARD_JUPYTERHUB_API_TOKEN is not".into())
            }
            (None, Some(_)) => {
                Err("KEYWARD_JUPYTERHUB_API_TOKEN is set but KEYWARD_JUPYTERHUB_URL is not".into())
            }
        }
    }
}
