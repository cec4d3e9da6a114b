//! Sessions and trusted devices: who may sign in while strangers fail, how long a
//! session lives, and which cookies are believed.

use crate::common;

use axum::http::StatusCode;
use common::{TestApp, PASSWORD};
use keyward::infra::config::Config;

on_both_databases!(
    a_trusted_browser_signs_in_after_100_failures_from_a_stranger,
    a_device_trusted_by_another_account_does_not_help,
    every_sign_in_starts_a_new_session_and_ends_the_presented_one,
    idle_sessions_end_after_a_week_without_use,
    a_planted_session_cookie_does_not_shadow_the_real_one,
    device_tokens_are_stored_as_digests,
);

async fn sign_in(
    app: &TestApp,
    email: &str,
    password: &str,
    cookie: Option<&str>,
) -> common::Reply {
    app.call(
        "/api/sign_in",
        &[("email", email), ("password", password)],
        cookie,
    )
    .await
}

/// Signs up; answers (email, session cookie, device cookie).
async fn sign_up_with_device(app: &TestApp) -> (String, String, String) {
    let email = format!(
        "device-{}@example.com",
        keyward::infra::random::base62(10).unwrap().to_lowercase()
    );
    let reply = app
        .call(
            "/api/sign_up",
            &[("email", &email), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    (
        email,
        reply.session_cookie().unwrap(),
        reply.device_cookie().expect("a device cookie"),
    )
}

async fn a_trusted_browser_signs_in_after_100_failures_from_a_stranger(app: TestApp) {
    let (email, _, device) = sign_up_with_device(&app).await;
    let mut refused = 0;
    for _ in 0..100 {
        let reply = sign_in(&app, &email, "a stranger's guess", None).await;
        match reply.status {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            other => panic!("stranger got {other}"),
        }
    }
    assert!(refused >= 90, "strangers are limited: {refused} refused");
    // The stranger, even with the right password, still waits...
    let stranger = sign_in(&app, &email, PASSWORD, None).await;
    assert_eq!(stranger.status, StatusCode::TOO_MANY_REQUESTS);
    // ...but the owner's own browser is never held back by them.
    let owner = sign_in(&app, &email, PASSWORD, Some(&device)).await;
    assert_eq!(owner.status, StatusCode::OK, "{}", owner.body);
    assert!(owner.session_cookie().is_some());

    // The owner's browser is limited by its own failures only.
    let max = app.state.config.sign_in_max_failures;
    for _ in 0..max {
        let reply = sign_in(&app, &email, "owner typo!", Some(&device)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let typo_limited = sign_in(&app, &email, PASSWORD, Some(&device)).await;
    assert_eq!(typo_limited.status, StatusCode::TOO_MANY_REQUESTS);
}

async fn a_device_trusted_by_another_account_does_not_help(app: TestApp) {
    let (_, _, attacker_device) = sign_up_with_device(&app).await;
    let (victim, _, _) = sign_up_with_device(&app).await;
    let max = app.state.config.sign_in_max_failures;
    for _ in 0..max {
        let reply = sign_in(&app, &victim, "guess guess", Some(&attacker_device)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let reply = sign_in(&app, &victim, "guess again", Some(&attacker_device)).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
}

async fn every_sign_in_starts_a_new_session_and_ends_the_presented_one(app: TestApp) {
    let (email, first, device) = sign_up_with_device(&app).await;
    let both = format!("{first}; {device}");
    let reply = sign_in(&app, &email, PASSWORD, Some(&both)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let second = reply.session_cookie().unwrap();
    assert_ne!(first, second, "a new token");
    assert_eq!(
        app.get("/account", Some(&first)).await.status,
        StatusCode::SEE_OTHER,
        "the presented session ended"
    );
    assert_eq!(
        app.get("/account", Some(&second)).await.status,
        StatusCode::OK
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 1);
}

async fn idle_sessions_end_after_a_week_without_use(app: TestApp) {
    let (_, cookie, _) = sign_up_with_device(&app).await;
    let idle = app.state.config.session_idle_secs;
    assert_eq!(idle, 7 * 24 * 3600);
    // Used every six days, it lives on (within its absolute lifetime of 14 days).
    for _ in 0..2 {
        app.state.clock.advance_secs(6 * 24 * 3600);
        assert_eq!(
            app.get("/account", Some(&cookie)).await.status,
            StatusCode::OK
        );
    }
    // Then a week and a second without use: gone.
    let (_, idle_cookie, _) = sign_up_with_device(&app).await;
    app.state.clock.advance_secs(idle + 1);
    assert_eq!(
        app.get("/account", Some(&idle_cookie)).await.status,
        StatusCode::SEE_OTHER
    );
}

async fn a_planted_session_cookie_does_not_shadow_the_real_one(app: TestApp) {
    let (email, real, _) = sign_up_with_device(&app).await;
    let planted = format!("keyward_session={}", "ab".repeat(32));
    let reply = app
        .get("/account", Some(&format!("{planted}; {real}")))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.contains(&email));
}

async fn device_tokens_are_stored_as_digests(app: TestApp) {
    let (_, _, device) = sign_up_with_device(&app).await;
    let token = device.trim_start_matches("keyward_device=");
    assert_eq!(token.len(), 64);
    use sqlx::Row;
    let stored: String = sqlx::query("SELECT token_digest FROM trusted_devices")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .get(0);
    assert_ne!(stored, token);
    use sha2::{Digest, Sha256};
    assert_eq!(stored, hex::encode(Sha256::digest(token.as_bytes())));
}

#[tokio::test]
async fn https_cookies_carry_the_host_prefix_and_only_it_is_believed() {
    let app = TestApp::sqlite_with(Config {
        public_url: Some("https://keys.example.com".into()),
        ..Config::default()
    })
    .await;
    let request = axum::http::Request::post("/api/sign_up")
        .header("host", "keys.example.com")
        .header("origin", "https://keys.example.com")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(format!(
            "email=hosted%40example.com&password={}",
            common::encode(PASSWORD)
        )))
        .unwrap();
    let reply = app.send(request).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let set: Vec<String> = reply
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    for name in ["__Host-keyward_session=", "__Host-keyward_device="] {
        let cookie = set.iter().find(|c| c.starts_with(name)).expect(name);
        assert!(
            cookie.contains("; Secure") && cookie.contains("Path=/"),
            "{cookie}"
        );
        assert!(!cookie.contains("Domain"), "{cookie}");
    }
    let prefixed = reply.session_cookie().unwrap();
    let token = prefixed.split_once('=').unwrap().1;
    assert_eq!(
        app.get("/account", Some(&prefixed)).await.status,
        StatusCode::OK
    );
    let unprefixed = format!("keyward_session={token}");
    assert_eq!(
        app.get("/account", Some(&unprefixed)).await.status,
        StatusCode::SEE_OTHER
    );
}
