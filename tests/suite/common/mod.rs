//! A real router over a fresh, migrated database: SQLite in a temp dir, or a new
//! Postgres database when `TEST_POSTGRES_URL` is set.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{header, Request, Response, StatusCode};
use http_body_util::BodyExt;
use keyward::infra::{config::Config, db::Db};
use keyward::web::state::AppState;
use serde_json::{json, Value};
use tower::ServiceExt;

pub mod orgs;

pub const ORIGIN: &str = "http://127.0.0.1:3000";
pub const HOST: &str = "127.0.0.1:3000";
pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub state: AppState,
    pub router: axum::Router,
    /// The SQLite file (None on Postgres).
    pub sqlite_path: Option<std::path::PathBuf>,
    _dir: Option<tempfile::TempDir>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
    /// `name=value` of the session cookie this reply set.
    pub fn session_cookie(&self) -> Option<String> {
        self.cookie("keyward_session")
    }

    /// `name=value` of the trusted-device cookie this reply set.
    pub fn device_cookie(&self) -> Option<String> {
        self.cookie("keyward_device")
    }

    /// `name=value` of the cookie `name` (or `__Host-name`) this reply set.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let prefixed = format!("__Host-{name}=");
        let plain = format!("{name}=");
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&plain) || v.starts_with(&prefixed))
            .map(|v| v.split(';').next().unwrap_or_default().to_string())
    }
}

/// The token the operator's services send to `/api/v1/verify` in these tests.
pub const SERVICE_TOKEN: &str = "service-token-for-the-integration-tests";

/// `test_config()` with `/api/v1/verify` on (`SERVICE_TOKEN`).
pub fn with_service_token() -> Config {
    Config {
        service_token: Some(SERVICE_TOKEN.into()),
        ..test_config()
    }
}

/// The defaults, with every email kept in memory for the tests to read (`Mailer::recent`).
pub fn test_config() -> Config {
    Config {
        mail_log_bodies: true,
        ..Config::default()
    }
}

impl TestApp {
    pub async fn sqlite() -> Self {
        Self::sqlite_with(test_config()).await
    }

    pub async fn sqlite_with(mut config: Config) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("keyward-test.db");
        config.database_url = format!("sqlite://{}", path.display());
        let mut app = Self::build(config).await;
        app.sqlite_path = Some(path);
        app._dir = Some(dir);
        app
    }

    /// On SQLite, serving static files from `site_root` (its `pkg/` is `/pkg/`).
    pub async fn sqlite_with_site(site_root: &std::path::Path) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = test_config();
        config.database_url = format!("sqlite://{}", dir.path().join("keyward-test.db").display());
        let mut options = keyward::web::leptos_options(&config);
        options.site_root = site_root.display().to_string().into();
        let mut app = Self::build_with(config, options).await;
        app._dir = Some(dir);
        app
    }

    /// A fresh Postgres database on `TEST_POSTGRES_URL`. Postgres tests are marked
    /// `#[ignore]` so that without a server they show as ignored, never as passed;
    /// `make test` runs them with `--include-ignored` when the variable is set.
    pub async fn postgres() -> Self {
        Self::postgres_with(test_config()).await
    }

    pub async fn postgres_with(mut config: Config) -> Self {
        config.database_url = fresh_postgres_url().await;
        Self::build(config).await
    }

    /// A server on the database `url` names (a restored backup, say), with the tests' settings.
    pub async fn on_database(url: &str, mut config: Config) -> Self {
        config.database_url = url.to_string();
        Self::build(config).await
    }

    /// A second server process on the same database (its own cache, its own state).
    pub async fn another_process(&self) -> Self {
        Self::build((*self.state.config).clone()).await
    }

    async fn build(config: Config) -> Self {
        let options = keyward::web::leptos_options(&config);
        Self::build_with(config, options).await
    }

    async fn build_with(config: Config, options: leptos::config::LeptosOptions) -> Self {
        let db = Db::connect(&config.database_url)
            .await
            .expect("connect and migrate");
        let state = AppState::new(options, db, config).expect("mail settings");
        let router = keyward::web::router(state.clone());
        Self {
            state,
            router,
            sqlite_path: None,
            _dir: None,
        }
    }

    /// Sends a request through the router and reads the whole response. A response
    /// that has not ended after 60 s fails the test naming the request, rather than
    /// leaving the test binary hanging.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let what = format!("{} {}", request.method(), request.uri());
        let exchange = async {
            let response: Response<Body> = self
                .router
                .clone()
                .oneshot(request)
                .await
                .expect("router answers");
            let status = response.status();
            let headers = response.headers().clone();
            let bytes = response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes();
            Reply {
                status,
                headers,
                body: String::from_utf8_lossy(&bytes).into_owned(),
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(60), exchange)
            .await
            .unwrap_or_else(|_| panic!("no complete response to {what} within 60 s"))
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Reply {
        let mut builder = Request::get(path).header(header::HOST, HOST);
        if let Some(cookie) = cookie {
            builder = builder.header(header::COOKIE, cookie);
        }
        self.send(builder.body(Body::empty()).unwrap()).await
    }

    /// A server function call as the browser's WebAssembly makes it: same-origin, url-encoded.
    pub async fn call(&self, path: &str, form: &[(&str, &str)], cookie: Option<&str>) -> Reply {
        self.call_from(path, form, cookie, Some(ORIGIN)).await
    }

    pub async fn call_from(
        &self,
        path: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
        origin: Option<&str>,
    ) -> Reply {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut builder = Request::post(path)
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json");
        if let Some(origin) = origin {
            builder = builder.header(header::ORIGIN, origin);
        }
        if let Some(cookie) = cookie {
            builder = builder.header(header::COOKIE, cookie);
        }
        self.send(builder.body(Body::from(body)).unwrap()).await
    }

    /// A JSON-encoded server function call (create_key takes JSON), same-origin.
    pub async fn call_json(&self, path: &str, body: serde_json::Value, cookie: &str) -> Reply {
        let request = Request::post(path)
            .header(header::HOST, HOST)
            .header(header::ORIGIN, ORIGIN)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json")
            .header(header::COOKIE, cookie)
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(request).await
    }

    /// Signs up a fresh random user; answers (email, session cookie).
    pub async fn sign_up(&self) -> (String, String) {
        let email = format!(
            "user-{}@example.com",
            keyward::infra::random::base62(10).unwrap().to_lowercase()
        );
        let reply = self
            .call(
                "/api/sign_up",
                &[("email", &email), ("password", PASSWORD)],
                None,
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "sign up failed: {}",
            reply.body
        );
        let cookie = reply.session_cookie().expect("session cookie");
        (email, cookie)
    }

    /// The id of the account with this email.
    pub async fn user_id(&self, email: &str) -> String {
        let (id,): (String,) = sqlx::query_as("SELECT id FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(&self.state.db.pool)
            .await
            .expect("an account with this email");
        id
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        use sqlx::Row;
        sqlx::query(sql)
            .fetch_one(&self.state.db.pool)
            .await
            .expect("count")
            .get::<i64, _>(0)
    }
}

/// A key created through the page's server function; answers (id, secret).
pub async fn new_key(app: &TestApp, cookie: &str, name: &str, scopes: &[&str]) -> (String, String) {
    let reply = app
        .call_json(
            "/api/create_key",
            json!({"name": name, "scopes": scopes, "expiry": {"days": 90}}),
            cookie,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let v = reply.json();
    (
        v["key"]["id"].as_str().unwrap().to_string(),
        v["secret"].as_str().unwrap().to_string(),
    )
}

/// The status `GET /api/v1/me` answers with `key`.
pub async fn me_status(app: &TestApp, key: &str) -> StatusCode {
    api(app, "GET", "/api/v1/me", Some(key), None).await.status
}

pub async fn api(
    app: &TestApp,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, HOST)
        .header(header::USER_AGENT, "keyward-tests/1.0");
    if let Some(key) = key {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    let body = match body {
        Some(v) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    app.send(builder.body(body).unwrap()).await
}

/// A form value, percent-encoded: everything but the unreserved characters.
/// `POST /api/v1/verify` as the operator's service: checks `body["key"]` and charges
/// `body["cost"]` credits (with `body["idempotency_key"]` if given).
pub async fn verify_and_charge(app: &TestApp, body: serde_json::Value) -> Reply {
    api(
        app,
        "POST",
        "/api/v1/verify",
        Some(SERVICE_TOKEN),
        Some(body),
    )
    .await
}

pub fn encode(value: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const FORM_VALUE: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    utf8_percent_encode(value, FORM_VALUE).to_string()
}

/// Runs each scenario on SQLite and on Postgres.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::common::TestApp::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs TEST_POSTGRES_URL; make test runs it"]
                async fn $name() {
                    super::$name(super::common::TestApp::postgres().await).await;
                }
            )*
        }
    };
}

/// Runs each scenario on SQLite and on Postgres, each app built from `$config()`.
#[macro_export]
macro_rules! on_both_databases_with {
    ($config:ident; $($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::common::TestApp::sqlite_with(super::$config()).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs TEST_POSTGRES_URL; make test runs it"]
                async fn $name() {
                    super::$name(super::common::TestApp::postgres_with(super::$config()).await).await;
                }
            )*
        }
    };
}

/// An operator's grant of `credits` to `owner`, posted once per `idempotency_key`;
/// answers the balance after it.
pub async fn grant_credits(
    app: &TestApp,
    owner: keyward::workspace::Owner,
    credits: i64,
    idempotency_key: &str,
) -> i64 {
    use keyward::wallet::ledger::{self, Posted, Posting};
    let posting = Posting {
        owner,
        amount: credits,
        kind: keyward::wallet::EntryKind::OperatorGrant,
        reference: None,
        description: "test grant".into(),
        actor: "operator (tests)".into(),
        key_id: None,
        metadata: None,
        idempotency_key: format!("grant:{idempotency_key}"),
        may_overdraw: true,
    };
    match ledger::post(&app.state.db, &posting, app.state.now_ms())
        .await
        .expect("grant")
    {
        Posted::New { balance, .. } | Posted::Duplicate { balance, .. } => balance,
        Posted::Insufficient { .. } => panic!("a grant is never short"),
    }
}

/// Waits for a message to `to` whose subject contains `subject` (mail is sent in the
/// background).
pub async fn mail(app: &TestApp, to: &str, subject: &str) -> keyward::infra::mail::Email {
    newest_mail(app, &format!("to {to} about {subject:?}"), |m| {
        m.to == to && m.subject.contains(subject)
    })
    .await
}

/// The newest message `wanted` accepts: after every mail handed to the mailer is
/// delivered (`flush`), and, for one a background task hands over later, up to 2 s more.
pub async fn newest_mail(
    app: &TestApp,
    what: &str,
    wanted: impl Fn(&keyward::infra::mail::Email) -> bool,
) -> keyward::infra::mail::Email {
    for _ in 0..100 {
        app.state.mailer.flush().await;
        if let Some(found) = app
            .state
            .mailer
            .recent()
            .into_iter()
            .rev()
            .find(|m| wanted(m))
        {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no email {what}");
}

pub fn token_in(email: &keyward::infra::mail::Email, path: &str) -> String {
    let start = email.text.find(&format!("{path}?token=")).expect("a link");
    email.text[start + path.len() + 7..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

/// A card token from the localstripe that `make test` runs (`TEST_LOCALSTRIPE_URL`),
/// made the way the browser's card form makes it (with the publishable key).
pub async fn localstripe_token(number: &str) -> serde_json::Value {
    let base = std::env::var("TEST_LOCALSTRIPE_URL").unwrap_or_else(|_| {
        panic!("TEST_LOCALSTRIPE_URL must name a running localstripe (make test starts one)")
    });
    reqwest::Client::new()
        .post(format!("{base}/v1/tokens"))
        .form(&[
            ("key", "pk_test_rust"),
            ("card[number]", number),
            ("card[exp_month]", "12"),
            ("card[exp_year]", "2030"),
            ("card[cvc]", "123"),
        ])
        .send()
        .await
        .expect("localstripe answers")
        .json()
        .await
        .expect("a token as JSON")
}

/// A new, empty database on the Postgres server `TEST_POSTGRES_URL` names; its URL.
pub async fn fresh_postgres_url() -> String {
    let base = std::env::var("TEST_POSTGRES_URL")
        .expect("TEST_POSTGRES_URL must name a Postgres server to run the Postgres tests");
    use sqlx::Connection;
    let name = format!(
        "kw_test_{}",
        keyward::infra::random::base62(12).unwrap().to_lowercase()
    );
    let mut admin = sqlx::PgConnection::connect(&base)
        .await
        .expect("connect to TEST_POSTGRES_URL");
    sqlx::Executor::execute(&mut admin, format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create test database");
    let (prefix, query) = match base.split_once('?') {
        Some((p, q)) => (p.to_string(), format!("?{q}")),
        None => (base.clone(), String::new()),
    };
    let server = match prefix.rfind('/') {
        Some(i) if i > prefix.find("://").map(|s| s + 2).unwrap_or(0) => prefix[..i].to_string(),
        _ => prefix.clone(),
    };
    format!("{server}/{name}{query}")
}
