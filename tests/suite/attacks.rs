//! Attacks on accounts and keys, written as an attacker would try them. Each one
//! succeeded against the code before issue 9; each must fail now.

use crate::common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{api, me_status, new_key, TestApp, HOST, ORIGIN, PASSWORD};
use keyward::infra::config::Config;
use serde_json::json;

on_both_databases!(
    a_leaked_grace_value_cannot_manage_keys,
    a_weak_key_cannot_delete_a_stronger_one,
    keys_made_by_keys_expire_no_later_than_their_maker,
    regenerating_an_expired_key_never_revives_its_old_value,
    a_noisy_neighbour_cannot_block_valid_keys,
    probing_for_taken_emails_is_as_slow_as_signing_up,
    every_response_carries_security_headers,
);

const ALL: [&str; 3] = ["account:read", "keys:read", "keys:write"];

async fn regenerate(app: &TestApp, cookie: &str, id: &str, grace: &str) -> String {
    let reply = app
        .call(
            "/api/regenerate_key",
            &[("id", id), ("grace_secs", grace)],
            Some(cookie),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()["secret"].as_str().unwrap().to_string()
}

async fn a_leaked_grace_value_cannot_manage_keys(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let (id, leaked) = new_key(&app, &cookie, "deploy", &ALL).await;
    let current = regenerate(&app, &cookie, &id, "86400").await;

    // The old value still works for ordinary calls during its grace period...
    assert_eq!(me_status(&app, &leaked).await, StatusCode::OK);
    // ...but cannot create, regenerate or delete keys.
    let attempts = [
        (
            "POST",
            "/api/v1/keys".to_string(),
            Some(json!({"name": "backdoor", "scopes": ALL, "expiry": "never"})),
        ),
        ("POST", format!("/api/v1/keys/{id}/regenerate"), None),
        ("DELETE", format!("/api/v1/keys/{id}"), None),
    ];
    for (method, path, body) in attempts {
        let reply = api(&app, method, &path, Some(&leaked), body).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(reply.json()["error"]["code"], "replaced_key_read_only");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM api_keys").await, 1);
    // The owner's new value is untouched and can do all of it.
    assert_eq!(me_status(&app, &current).await, StatusCode::OK);
    let created = api(
        &app,
        "POST",
        "/api/v1/keys",
        Some(&current),
        Some(json!({"name": "child", "scopes": ["account:read"]})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
}

async fn a_weak_key_cannot_delete_a_stronger_one(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let (strong_id, strong) = new_key(&app, &cookie, "strong", &ALL).await;
    let (_, weak) = new_key(&app, &cookie, "weak", &["keys:read", "keys:write"]).await;
    let path = format!("/api/v1/keys/{strong_id}");
    let reply = api(&app, "DELETE", &path, Some(&weak), None).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert_eq!(reply.json()["error"]["code"], "scope_escalation");
    assert_eq!(reply.json()["error"]["required_scope"], "account:read");
    assert_eq!(me_status(&app, &strong).await, StatusCode::OK);
}

async fn keys_made_by_keys_expire_no_later_than_their_maker(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    // A 90-day key (the page's default) asks for a key that never expires.
    let (maker_id, maker) = new_key(&app, &cookie, "maker", &ALL).await;
    let reply = api(
        &app,
        "POST",
        "/api/v1/keys",
        Some(&maker),
        Some(json!({"name": "forever", "scopes": ["account:read"], "expiry": "never"})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let maker_expiry = api(
        &app,
        "GET",
        &format!("/api/v1/keys/{maker_id}"),
        Some(&maker),
        None,
    )
    .await
    .json()["key"]["expires_at"]
        .as_i64()
        .unwrap();
    assert_eq!(
        reply.json()["key"]["expires_at"].as_i64(),
        Some(maker_expiry)
    );
    // Shorter than the maker is kept as asked.
    let short = api(
        &app,
        "POST",
        "/api/v1/keys",
        Some(&maker),
        Some(json!({"name": "week", "scopes": ["account:read"], "expiry": {"days": 7}})),
    )
    .await
    .json();
    let created_at = short["key"]["created_at"].as_i64().unwrap();
    assert_eq!(
        short["key"]["expires_at"].as_i64(),
        Some(created_at + 7 * 86_400_000)
    );
}

async fn regenerating_an_expired_key_never_revives_its_old_value(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let created = app
        .call_json(
            "/api/create_key",
            json!({"name": "lapsed", "scopes": ["account:read"], "expiry": {"days": 1}}),
            &cookie,
        )
        .await
        .json();
    let (id, old) = (
        created["key"]["id"].as_str().unwrap().to_string(),
        created["secret"].as_str().unwrap().to_string(),
    );
    app.state.clock.advance_secs(2 * 86_400);
    let expired = api(&app, "GET", "/api/v1/me", Some(&old), None).await;
    assert_eq!(expired.json()["error"]["code"], "expired_key");
    // Renewed for another day, with a week of grace asked for the old value.
    let new = regenerate(&app, &cookie, &id, "604800").await;
    assert_eq!(me_status(&app, &new).await, StatusCode::OK);
    let old_again = api(&app, "GET", "/api/v1/me", Some(&old), None).await;
    assert_eq!(old_again.status, StatusCode::UNAUTHORIZED);
    assert_eq!(old_again.json()["error"]["code"], "unknown_key");
}

async fn a_noisy_neighbour_cannot_block_valid_keys(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let (_, used) = new_key(&app, &cookie, "used", &["account:read"]).await;
    let (_, fresh) = new_key(&app, &cookie, "fresh", &["account:read"]).await;
    assert_eq!(me_status(&app, &used).await, StatusCode::OK, "now cached");
    // Someone at the same address (an office NAT, a CI pool) fails over and over.
    let limit = app.state.config.auth_failures_per_min;
    for _ in 0..limit {
        assert_eq!(
            me_status(&app, "kw_guessing").await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        me_status(&app, "kw_guessing").await,
        StatusCode::TOO_MANY_REQUESTS,
        "failures are held back"
    );
    let unknown = keyward::keys::secret::generate("kw_").unwrap();
    assert_eq!(
        me_status(&app, &unknown).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Valid keys from the same address: cached, and looked up for the first time.
    assert_eq!(me_status(&app, &used).await, StatusCode::OK);
    assert_eq!(me_status(&app, &fresh).await, StatusCode::OK);
}

async fn probing_for_taken_emails_is_as_slow_as_signing_up(app: TestApp) {
    let (victim, _) = app.sign_up().await;
    let limit = app.state.config.sign_ups_per_hour;
    let mut answers = Vec::new();
    for _ in 0..limit {
        let reply = app
            .call(
                "/api/sign_up",
                &[("email", &victim), ("password", PASSWORD)],
                None,
            )
            .await;
        answers.push(reply.status);
    }
    // One attempt went to the victim's own sign-up; the rest probed.
    assert!(answers[..(limit - 1) as usize]
        .iter()
        .all(|s| *s == StatusCode::UNPROCESSABLE_ENTITY));
    assert_eq!(answers.last(), Some(&StatusCode::TOO_MANY_REQUESTS));
    let probe = app
        .call(
            "/api/sign_up",
            &[
                ("email", "someone-else@example.com"),
                ("password", PASSWORD),
            ],
            None,
        )
        .await;
    assert_eq!(probe.status, StatusCode::TOO_MANY_REQUESTS);
}

fn assert_security_headers(reply: &common::Reply, what: &str) {
    for (name, expected) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "strict-origin-when-cross-origin"),
    ] {
        assert_eq!(
            reply.header(name).as_deref(),
            Some(expected),
            "{what}: {name}"
        );
    }
    let csp = reply.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    let permissions = reply.header("permissions-policy").unwrap_or_default();
    assert!(permissions.contains("camera=()"), "{what}: {permissions}");
    assert!(
        reply.header("strict-transport-security").is_none(),
        "{what}: HSTS on plain http"
    );
}

async fn every_response_carries_security_headers(app: TestApp) {
    let page = app.get("/sign-in", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_security_headers(&page, "page");
    // The page's policy allows its own inline scripts by their nonce, and nothing else.
    let csp = page.header("content-security-policy").unwrap();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("nonce in the policy");
    assert!(nonce.len() >= 16, "{csp}");
    assert!(
        page.body.contains(&format!("nonce=\"{nonce}\"")),
        "scripts carry the nonce"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let again = app.get("/sign-in", None).await;
    assert!(
        !again
            .header("content-security-policy")
            .unwrap()
            .contains(nonce),
        "a nonce is used once"
    );

    let server_fn = app.call("/api/current_user", &[], None).await;
    assert_eq!(server_fn.status, StatusCode::OK);
    assert_security_headers(&server_fn, "server function");
    let rest = api(&app, "GET", "/api/v1/healthz", None, None).await;
    assert_security_headers(&rest, "REST");
    let refused = api(&app, "GET", "/api/v1/me", None, None).await;
    assert_security_headers(&refused, "REST refusal");
    let file = app.get("/favicon.svg", None).await;
    assert_security_headers(&file, "static file");
}

#[tokio::test]
async fn https_deployments_send_hsts() {
    let app = TestApp::sqlite_with(Config {
        public_url: Some("https://keys.example.com".into()),
        ..Config::default()
    })
    .await;
    let reply = app.get("/api/v1/healthz", None).await;
    assert_eq!(
        reply.header("strict-transport-security").as_deref(),
        Some("max-age=63072000; includeSubDomains")
    );
}

/// DNS rebinding: a page on an attacker's name that resolves to Keyward posts to it.
#[tokio::test]
async fn a_rebound_host_name_cannot_post() {
    let app = TestApp::sqlite().await;
    let request = Request::post("/api/sign_up")
        .header(header::HOST, "attacker.example:3000")
        .header(header::ORIGIN, "http://attacker.example:3000")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "email=rebind%40example.com&password={}",
            common::encode(PASSWORD)
        )))
        .unwrap();
    assert_eq!(app.send(request).await.status, StatusCode::FORBIDDEN);
    // The same request to the server's own name goes through.
    let request = Request::post("/api/sign_up")
        .header(header::HOST, HOST)
        .header(header::ORIGIN, ORIGIN)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "email=rebind%40example.com&password={}",
            common::encode(PASSWORD)
        )))
        .unwrap();
    assert_eq!(app.send(request).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_service_token_is_checked_before_the_address_limit() {
    let token = "a-service-token-of-at-least-32-chars";
    let app = TestApp::sqlite_with(Config {
        service_token: Some(token.into()),
        auth_failures_per_min: 2,
        ..Config::default()
    })
    .await;
    let (_, cookie) = app.sign_up().await;
    let (_, key) = new_key(&app, &cookie, "checked", &["account:read"]).await;
    for _ in 0..3 {
        me_status(&app, "kw_guessing").await;
    }
    let verify = |bearer: &'static str| {
        let app = &app;
        let key = key.clone();
        async move {
            let request = Request::post("/api/v1/verify")
                .header(header::HOST, HOST)
                .header(header::AUTHORIZATION, format!("Bearer {bearer}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json!({ "key": key }).to_string()))
                .unwrap();
            app.send(request).await
        }
    };
    let ok = verify(token).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.json()["valid"], true);
    let wrong = verify("not-the-token").await;
    assert_eq!(wrong.status, StatusCode::TOO_MANY_REQUESTS);
}

#[test]
fn short_service_tokens_are_refused_at_start_up() {
    // The real binary reads its environment; the tests' own process is left alone.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("token.db").display());
    let run = |token: String| {
        std::process::Command::new(env!("CARGO_BIN_EXE_keyward"))
            .args(["ledger", "verify"])
            .env("DATABASE_URL", &url)
            .env("KEYWARD_SERVICE_TOKEN", token)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run keyward")
    };
    let refused = run("too-short".into());
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("at least 32"));
    let accepted = run("x".repeat(32));
    assert!(
        accepted.status.success(),
        "{}",
        String::from_utf8_lossy(&accepted.stderr)
    );
}
