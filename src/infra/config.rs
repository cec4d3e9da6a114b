//! Operator configuration, read once from the environment (see `.env.example`).

use super::extra_scopes::parse_scopes;
pub use super::extra_scopes::ExtraScope;
use secrecy::SecretString;
use std::net::SocketAddr;

/// The shortest service token accepted: 32 characters.
pub const MIN_SERVICE_TOKEN_CHARS: usize = 32;

#[derive(Clone)]
pub struct Config {
    /// `sqlite://keyward.db` (default) or `postgres://...`.
    pub database_url: String,
    /// Where the server listens.
    pub addr: SocketAddr,
    /// The origin people use to reach the app, e.g. `https://keys.example.com`.
    /// Cross-site checks accept it; cookies get `Secure` when it is https.
    pub public_url: Option<String>,
    /// Behind a reverse proxy: take the client address from `X-Forwarded-For`.
    pub trust_proxy: bool,
    /// Prefix of every API key, so secret scanners can recognise a leaked one.
    pub key_prefix: String,
    /// Scopes beyond the built-in ones, from `KEYWARD_EXTRA_SCOPES`.
    pub extra_scopes: Vec<ExtraScope>,
    /// Bearer token the operator's services present to `POST /api/v1/verify`.
    pub service_token: Option<SecretString>,
    pub session_ttl_secs: i64,
    /// A session unused this long ends, whatever its lifetime.
    pub session_idle_secs: i64,
    pub sign_in_max_failures: u32,
    pub sign_in_window_secs: i64,
    /// Accounts one client address may create per hour.
    pub sign_ups_per_hour: u32,
    pub request_log_days: i64,
    /// Request-log rows kept per key per second; counts stay exact beyond it.
    pub request_log_per_key_per_sec: usize,
    pub rate_limit_per_sec: u32,
    pub rate_limit_burst: u32,
    pub auth_failures_per_min: u32,
    /// Keys one account may hold.
    pub max_keys_per_account: i64,
    /// `smtp://host:port` (or `smtps://user:pass@host`); unset sends no mail (each one is
    /// logged as not sent, without its text).
    pub smtp_url: Option<String>,
    /// `KEYWARD_MAIL_LOG_BODIES=1`, for development: every email is also written to the log
    /// in full, links included, and the last few are kept in memory (`Mailer::recent`).
    pub mail_log_bodies: bool,
    /// The sender of every email.
    pub mail_from: String,
    /// The price of one credit in the currency's minor unit (cents).
    pub credit_price_cents: i64,
    /// ISO 4217 code, lower case (`usd`).
    pub currency: String,
    /// Preset amounts of credits on the Wallet page (`KEYWARD_CREDIT_PACKS`).
    pub credit_packs: Vec<i64>,
    /// Bounds of a custom purchase, in credits.
    pub min_credit_purchase: i64,
    pub max_credit_purchase: i64,
    /// Card payments through Stripe; None turns them off.
    pub stripe: Option<super::stripe::StripeConfig>,
    /// The JupyterHub's OAuth client (Lab single sign-on); None turns it off.
    pub hub_oauth: Option<super::hub_config::OAuthClient>,
    /// The JupyterHub's REST API and service token (Lab servers); None turns Lab off.
    pub hub: Option<super::hub_config::HubConnection>,
    /// Lab metering and limits (used when `hub` is set).
    pub lab: super::lab_config::LabSettings,
    /// Job holds, shutdown and logs (`KEYWARD_JOB_HOLD_HOURS`, …).
    pub operations: super::operations_config::Operations,
    /// The plans (`KEYWARD_PLANS_FILE`, else the built-in Free, Standard and Pro).
    pub plans: super::plans::PlanCatalog,
    /// Who the receipts name as the seller (`KEYWARD_SELLER_NAME`, `KEYWARD_SELLER_ADDRESS`
    /// with lines separated by `;`).
    pub seller: super::seller::Seller,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://keyward.db".into(),
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            public_url: None,
            trust_proxy: false,
            key_prefix: "kw_".into(),
            extra_scopes: Vec::new(),
            service_token: None,
            credit_price_cents: 1,
            currency: "usd".into(),
            credit_packs: vec![1_000, 5_000, 10_000, 50_000],
            min_credit_purchase: 100,
            max_credit_purchase: 1_000_000,
            stripe: None,
            hub_oauth: None,
            hub: None,
            lab: Default::default(),
            operations: Default::default(),
            plans: Default::default(),
            seller: super::seller::Seller::default(),
            session_ttl_secs: 14 * 24 * 3600,
            session_idle_secs: 7 * 24 * 3600,
            sign_in_max_failures: 5,
            sign_in_window_secs: 15 * 60,
            sign_ups_per_hour: 20,
            request_log_days: 30,
            request_log_per_key_per_sec: 1_000,
            rate_limit_per_sec: 50,
            rate_limit_burst: 100,
            auth_failures_per_min: 30,
            max_keys_per_account: 200,
            smtp_url: None,
            mail_log_bodies: false,
            mail_from: "Keyward <no-reply@keyward.localhost>".into(),
        }
    }
}

/// Secrets never reach a log line through `{:?}`.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("addr", &self.addr)
            .field("public_url", &self.public_url)
            .field("trust_proxy", &self.trust_proxy)
            .field("key_prefix", &self.key_prefix)
            .field("extra_scopes", &self.extra_scopes)
            .field("service_token", &self.service_token)
            .field("session_ttl_secs", &self.session_ttl_secs)
            .field("session_idle_secs", &self.session_idle_secs)
            .field("sign_in_max_failures", &self.sign_in_max_failures)
            .field("sign_in_window_secs", &self.sign_in_window_secs)
            .field("sign_ups_per_hour", &self.sign_ups_per_hour)
            .field("request_log_days", &self.request_log_days)
            .field("operations", &self.operations)
            .field(
                "request_log_per_key_per_sec",
                &self.request_log_per_key_per_sec,
            )
            .field("rate_limit_per_sec", &self.rate_limit_per_sec)
            .field("rate_limit_burst", &self.rate_limit_burst)
            .field("auth_failures_per_min", &self.auth_failures_per_min)
            .field("max_keys_per_account", &self.max_keys_per_account)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("mail_log_bodies", &self.mail_log_bodies)
            .field("mail_from", &self.mail_from)
            .field("credit_price_cents", &self.credit_price_cents)
            .field("currency", &self.currency)
            .field("credit_packs", &self.credit_packs)
            .field("min_credit_purchase", &self.min_credit_purchase)
            .field("max_credit_purchase", &self.max_credit_purchase)
            .field("stripe", &self.stripe)
            .field("plans", &self.plans.all().len())
            .field("hub_oauth", &self.hub_oauth)
            .field("hub", &self.hub)
            .field("lab", &self.lab)
            .finish()
    }
}

/// A URL without its password, for logs and error messages.
/// `KEYWARD_CREDIT_PACKS`: "1000, 5000, 10000".
fn parse_packs(list: &str) -> Result<Vec<i64>, String> {
    let packs: Result<Vec<i64>, _> = list.split(',').map(|p| p.trim().parse::<i64>()).collect();
    match packs {
        Ok(packs) if !packs.is_empty() && packs.len() <= 8 && packs.iter().all(|p| (1..=1_000_000_000).contains(p)) => Ok(packs),
        _ => Err("KEYWARD_CREDIT_PACKS is up to 8 whole numbers of credits separated by commas, e.g. 1000,5000,10000".into()),
    }
}

pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***{}", &url[..scheme], &url[at..])
        }
        _ => url.to_string(),
    }
}

impl Config {
    /// Reads `KEYWARD_*` and `DATABASE_URL`; a malformed value is an error naming the variable.
    pub fn from_env() -> Result<Self, String> {
        let defaults = Config::default();
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        fn parse<T: std::str::FromStr>(
            name: &str,
            value: Option<String>,
            default: T,
        ) -> Result<T, String> {
            match value {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse()
                    .map_err(|_| format!("{name}={v:?} is not a valid value")),
            }
        }
        let key_prefix = var("KEYWARD_KEY_PREFIX").unwrap_or(defaults.key_prefix);
        if key_prefix.is_empty()
            || key_prefix.len() > 16
            || !key_prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(
                "KEYWARD_KEY_PREFIX must be 1-16 characters of letters, digits, '_' or '-'".into(),
            );
        }
        let mut config = Self {
            database_url: var("DATABASE_URL").unwrap_or(defaults.database_url),
            addr: parse("KEYWARD_ADDR", var("KEYWARD_ADDR"), defaults.addr)?,
            public_url: var("KEYWARD_PUBLIC_URL").map(|u| u.trim_end_matches('/').to_string()),
            trust_proxy: matches!(
                var("KEYWARD_TRUST_PROXY").as_deref(),
                Some("1" | "true" | "yes")
            ),
            key_prefix,
            service_token: match var("KEYWARD_SERVICE_TOKEN") {
                Some(token) if token.trim().chars().count() < MIN_SERVICE_TOKEN_CHARS => {
                    return Err(format!(
                        "KEYWARD_SERVICE_TOKEN must be at least {MIN_SERVICE_TOKEN_CHARS} characters (try `openssl rand -hex 32`)"
                    ))
                }
                token => token.map(|t| SecretString::from(t.trim())),
            },
            extra_scopes: parse_scopes(var("KEYWARD_EXTRA_SCOPES").as_deref().unwrap_or(""))?,
            credit_price_cents: match parse(
                "KEYWARD_CREDIT_PRICE_CENTS",
                var("KEYWARD_CREDIT_PRICE_CENTS"),
                defaults.credit_price_cents,
            )? {
                price @ 1..=1_000_000 => price,
                _ => return Err("KEYWARD_CREDIT_PRICE_CENTS must be a whole number of cents from 1 to 1000000".into()),
            },
            credit_packs: match var("KEYWARD_CREDIT_PACKS") {
                None => defaults.credit_packs,
                Some(list) => parse_packs(&list)?,
            },
            min_credit_purchase: parse(
                "KEYWARD_CREDIT_PURCHASE_MIN",
                var("KEYWARD_CREDIT_PURCHASE_MIN"),
                defaults.min_credit_purchase,
            )?
            .max(1),
            max_credit_purchase: parse(
                "KEYWARD_CREDIT_PURCHASE_MAX",
                var("KEYWARD_CREDIT_PURCHASE_MAX"),
                defaults.max_credit_purchase,
            )?
            .clamp(1, 1_000_000_000),
            currency: match var("KEYWARD_CURRENCY") {
                None => defaults.currency,
                Some(code) if code.trim().len() == 3 && code.trim().chars().all(|c| c.is_ascii_alphabetic()) => {
                    code.trim().to_ascii_lowercase()
                }
                Some(code) => return Err(format!("KEYWARD_CURRENCY={code:?} is not a three-letter currency code such as usd")),
            },
            session_ttl_secs: parse(
                "KEYWARD_SESSION_TTL_SECS",
                var("KEYWARD_SESSION_TTL_SECS"),
                defaults.session_ttl_secs,
            )?,
            session_idle_secs: parse(
                "KEYWARD_SESSION_IDLE_SECS",
                var("KEYWARD_SESSION_IDLE_SECS"),
                defaults.session_idle_secs,
            )?
            .max(60),
            sign_in_max_failures: parse(
                "KEYWARD_SIGN_IN_MAX_FAILURES",
                var("KEYWARD_SIGN_IN_MAX_FAILURES"),
                defaults.sign_in_max_failures,
            )?,
            sign_in_window_secs: defaults.sign_in_window_secs,
            sign_ups_per_hour: parse(
                "KEYWARD_SIGN_UPS_PER_HOUR",
                var("KEYWARD_SIGN_UPS_PER_HOUR"),
                defaults.sign_ups_per_hour,
            )?
            .max(1),
            request_log_days: parse(
                "KEYWARD_REQUEST_LOG_DAYS",
                var("KEYWARD_REQUEST_LOG_DAYS"),
                defaults.request_log_days,
            )?,
            operations: super::operations_config::Operations::from_env()?,
            request_log_per_key_per_sec: parse(
                "KEYWARD_REQUEST_LOG_PER_KEY_PER_SEC",
                var("KEYWARD_REQUEST_LOG_PER_KEY_PER_SEC"),
                defaults.request_log_per_key_per_sec,
            )?
            .max(1),
            rate_limit_per_sec: parse(
                "KEYWARD_RATE_LIMIT_PER_SEC",
                var("KEYWARD_RATE_LIMIT_PER_SEC"),
                defaults.rate_limit_per_sec,
            )?
            .max(1),
            rate_limit_burst: parse(
                "KEYWARD_RATE_LIMIT_BURST",
                var("KEYWARD_RATE_LIMIT_BURST"),
                defaults.rate_limit_burst,
            )?
            .max(1),
            auth_failures_per_min: parse(
                "KEYWARD_AUTH_FAILURES_PER_MIN",
                var("KEYWARD_AUTH_FAILURES_PER_MIN"),
                defaults.auth_failures_per_min,
            )?
            .max(1),
            max_keys_per_account: parse(
                "KEYWARD_MAX_KEYS_PER_ACCOUNT",
                var("KEYWARD_MAX_KEYS_PER_ACCOUNT"),
                defaults.max_keys_per_account,
            )?
            .max(1),
            smtp_url: var("KEYWARD_SMTP_URL"),
            mail_log_bodies: matches!(
                var("KEYWARD_MAIL_LOG_BODIES").as_deref(),
                Some("1" | "true" | "yes")
            ),
            mail_from: var("KEYWARD_MAIL_FROM").unwrap_or(defaults.mail_from),
            stripe: super::stripe::StripeConfig::from_vars(var)?,
            hub_oauth: super::hub_config::OAuthClient::from_vars(var)?,
            hub: super::hub_config::HubConnection::from_vars(var)?,
            lab: super::lab_config::LabSettings::from_vars(var)?,
            plans: Default::default(),
            seller: super::seller::Seller::from_vars(var)?,
        };
        config.plans = super::plans::PlanCatalog::from_vars(var, &config.currency)?;
        super::mail::check_settings(config.smtp_url.as_deref(), &config.mail_from)?;
        Ok(config)
    }

    /// Where links in emails point: the public URL, else the listen address.
    pub fn base_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.clone(),
            None => format!("http://{}", self.addr),
        }
    }

    /// Whether cookies must carry `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_output_hides_secrets() {
        let config = super::Config {
            database_url: "postgres://keyward:hunter2hunter2@db/keyward".into(),
            service_token: Some("s3cret-service-token-of-32-chars!".into()),
            smtp_url: Some("smtp://mailer:m4ilpass@mail.example.com:587".into()),
            stripe: Some(super::super::stripe::StripeConfig {
                secret_key: "sk_live_s3cret".into(),
                publishable_key: "pk_live_public".into(),
                webhook_secret: "whsec_s3cret".into(),
                api_base: "https://api.stripe.com".into(),
                js_url: "https://js.stripe.com/v3/".into(),
            }),
            hub_oauth: Some(super::super::hub_config::OAuthClient {
                id: "jupyterhub".into(),
                secret: "oauth-s3cret-0123456789".into(),
                redirect_uri: "http://127.0.0.1:8000/hub/oauth_callback".into(),
            }),
            hub: Some(super::super::hub_config::HubConnection {
                url: "http://127.0.0.1:8000".into(),
                api_token: "hub-s3cret-token".into(),
            }),
            ..super::Config::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(!shown.contains("m4ilpass"), "{shown}");
        assert!(
            shown.contains("pk_live_public"),
            "what is not secret still shows: {shown}"
        );
        assert!(shown.contains("postgres://***@db/keyward"), "{shown}");
    }

    #[test]
    fn scopes_parse() {
        let scopes =
            super::parse_scopes("jobs:submit=Submit jobs; devices:read = List devices").unwrap();
        assert_eq!(scopes.len(), 2);
        assert_eq!(scopes[1].name, "devices:read");
        assert_eq!(scopes[1].description, "List devices");
        assert!(super::parse_scopes("bad scope=x").is_err());
        assert!(super::parse_scopes("noequals").is_err());
    }
}
