//! What the operator's configuration and failures do: the public URL, a trusted proxy,
//! an unreachable database, usage flushes that fail, and key lifecycle edge cases.

use crate::common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{api, me_status, new_key, TestApp, HOST, PASSWORD};
use keyward::infra::config::Config;
use serde_json::json;

on_both_databases!(
    an_unreachable_database_answers_503_not_401,
    a_failed_usage_flush_is_retried_without_losing_counts,
    usage_of_a_key_deleted_before_the_flush_is_dropped,
    immediately_also_ends_values_still_in_their_grace_period,
    regenerating_a_fixed_date_key_keeps_its_date,
);

async fn an_unreachable_database_answers_503_not_401(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    // Created but never used, so not in the verified-key cache.
    let (_, secret) = new_key(&app, &cookie, "uncached", &["account:read"]).await;
    app.state.db.pool.close().await;

    let health = api(&app, "GET", "/api/v1/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE);
    let health = health.json();
    assert_eq!(
        (&health["status"], &health["database"]),
        (&json!("degraded"), &json!("unreachable"))
    );
    // Like every 5xx, it names its request.
    assert!(health["request_id"].as_str().unwrap().starts_with("req_"));
    let refused = api(&app, "GET", "/api/v1/me", Some(&secret), None).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.json()["error"]["code"], "unavailable");
    assert!(!refused.body.contains(&secret));
    // The answer names its request, in the header and (a 5xx) in the body, for the
    // person to quote and the operator to find in the log.
    let id = refused.headers["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(id.starts_with("req_") && id.len() > 10, "{id}");
    assert_eq!(refused.json()["request_id"], id.as_str());
    let again = api(&app, "GET", "/api/v1/me", Some(&secret), None).await;
    assert_ne!(
        again.headers["x-request-id"],
        refused.headers["x-request-id"]
    );
}

async fn a_failed_usage_flush_is_retried_without_losing_counts(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let (id, secret) = new_key(&app, &cookie, "flaky-flush", &["account:read"]).await;
    for _ in 0..3 {
        assert_eq!(me_status(&app, &secret).await, StatusCode::OK);
    }
    // The daily counters' table disappears: the flush fails as a whole.
    let db = &app.state.db.pool;
    sqlx::query("ALTER TABLE key_usage_daily RENAME TO key_usage_daily_away")
        .execute(db)
        .await
        .unwrap();
    assert!(app.state.usage.flush(&app.state.db).await.is_err());
    assert_eq!(
        app.count("SELECT COUNT(*) FROM key_requests").await,
        0,
        "a failed flush writes nothing"
    );
    for _ in 0..2 {
        assert_eq!(me_status(&app, &secret).await, StatusCode::OK);
    }
    sqlx::query("ALTER TABLE key_usage_daily_away RENAME TO key_usage_daily")
        .execute(db)
        .await
        .unwrap();
    app.state.usage.flush(&app.state.db).await.unwrap();

    let details = app
        .call("/api/key_details", &[("id", &id)], Some(&cookie))
        .await
        .json();
    assert_eq!(details["usage"]["total"], 5, "{details}");
    assert_eq!(details["usage"]["last_24h"], 5);
    assert_eq!(details["recent"].as_array().unwrap().len(), 5);
    // A second flush has nothing left to add.
    app.state.usage.flush(&app.state.db).await.unwrap();
    assert_eq!(
        app.count("SELECT CAST(SUM(requests) AS BIGINT) FROM key_usage_daily")
            .await,
        5
    );
}

async fn usage_of_a_key_deleted_before_the_flush_is_dropped(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let (gone_id, gone) = new_key(&app, &cookie, "short-lived", &["account:read"]).await;
    let (_, kept) = new_key(&app, &cookie, "kept", &["account:read"]).await;
    for key in [&gone, &gone, &kept] {
        assert_eq!(me_status(&app, key).await, StatusCode::OK);
    }
    let deleted = app
        .call("/api/delete_key", &[("id", &gone_id)], Some(&cookie))
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    app.state.usage.flush(&app.state.db).await.unwrap();
    for table in ["key_usage_daily", "key_usage_hourly", "key_requests"] {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE key_id = $1");
        use sqlx::Row;
        let rows: i64 = sqlx::query(&sql)
            .bind(&gone_id)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap()
            .get(0);
        assert_eq!(rows, 0, "{table} kept usage of a deleted key");
    }
    // The other key's use in the same batch was written.
    assert_eq!(app.count("SELECT COUNT(*) FROM key_requests").await, 1);
}

async fn immediately_also_ends_values_still_in_their_grace_period(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let (id, first) = new_key(&app, &cookie, "rotated-twice", &["account:read"]).await;
    let regenerate = |grace: &'static str| {
        let (id, cookie) = (id.clone(), cookie.clone());
        let app = &app;
        async move {
            let reply = app
                .call(
                    "/api/regenerate_key",
                    &[("id", &id), ("grace_secs", grace)],
                    Some(&cookie),
                )
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            reply.json()["secret"].as_str().unwrap().to_string()
        }
    };
    let second = regenerate("86400").await;
    assert_eq!(me_status(&app, &first).await, StatusCode::OK, "in grace");
    let third = regenerate("0").await;
    for old in [&first, &second] {
        let reply = api(&app, "GET", "/api/v1/me", Some(old), None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.json()["error"]["code"], "unknown_key");
    }
    assert_eq!(me_status(&app, &third).await, StatusCode::OK);
    assert_eq!(app.count("SELECT COUNT(*) FROM key_secrets").await, 1);
}

async fn regenerating_a_fixed_date_key_keeps_its_date(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let created = app
        .call_json(
            "/api/create_key",
            json!({"name": "dated", "scopes": ["account:read"], "expiry": {"date": "2099-01-31"}}),
            &cookie,
        )
        .await;
    // 2099 is beyond the five-year limit; pick a date one month ahead instead.
    assert_eq!(created.status, StatusCode::UNPROCESSABLE_ENTITY);
    let date = keyward::time_fmt::iso_date(app.state.now_ms() + 30 * 86_400_000);
    let created = app
        .call_json(
            "/api/create_key",
            json!({"name": "dated", "scopes": ["account:read"], "expiry": {"date": date}}),
            &cookie,
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let key = &created.json()["key"];
    let expires_at = key["expires_at"].as_i64().unwrap();
    assert_eq!(
        keyward::time_fmt::iso_date(expires_at - 1),
        date,
        "works through the end of the chosen day"
    );
    app.state.clock.advance_secs(6 * 86_400);
    let regenerated = app
        .call(
            "/api/regenerate_key",
            &[("id", key["id"].as_str().unwrap()), ("grace_secs", "0")],
            Some(&cookie),
        )
        .await;
    assert_eq!(regenerated.status, StatusCode::OK, "{}", regenerated.body);
    assert_eq!(
        regenerated.json()["key"]["expires_at"].as_i64(),
        Some(expires_at),
        "a fixed date is not renewed by regenerating"
    );
}

#[tokio::test]
async fn an_https_public_url_makes_cookies_secure_and_is_the_accepted_origin() {
    let app = TestApp::sqlite_with(Config {
        public_url: Some("https://keys.example.com".into()),
        ..Config::default()
    })
    .await;
    let sign_up = |origin: &'static str| {
        let app = &app;
        async move {
            let email = format!(
                "proxy-{}@example.com",
                keyward::infra::random::base62(8).unwrap().to_lowercase()
            );
            let request = Request::post("/api/sign_up")
                .header(header::HOST, "keys.example.com")
                .header(header::ORIGIN, origin)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!(
                    "email={}&password={}",
                    common::encode(&email),
                    common::encode(PASSWORD)
                )))
                .unwrap();
            app.send(request).await
        }
    };
    let accepted = sign_up("https://keys.example.com").await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    let cookie = accepted.header("set-cookie").unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    // Plain http on the public host is another origin.
    let refused = sign_up("http://keys.example.com").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused = sign_up("https://evil.example").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
}

#[tokio::test]
async fn plain_http_deployments_get_no_secure_cookie() {
    let app = TestApp::sqlite().await;
    let reply = app
        .call(
            "/api/sign_up",
            &[("email", "plain@example.com"), ("password", PASSWORD)],
            None,
        )
        .await;
    let cookie = reply.header("set-cookie").unwrap();
    assert!(!cookie.contains("Secure"), "{cookie}");
}

/// A request as it reaches Keyward through a reverse proxy that appended the client.
async fn through_proxy(app: &TestApp, key: &str, forwarded_for: &str) -> common::Reply {
    let request = Request::get("/api/v1/me")
        .header(header::HOST, HOST)
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header("x-forwarded-for", forwarded_for)
        .body(Body::empty())
        .unwrap();
    app.send(request).await
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_is_counted_and_logged_by_its_address() {
    let app = TestApp::sqlite_with(Config {
        trust_proxy: true,
        auth_failures_per_min: 2,
        ..Config::default()
    })
    .await;
    let (_, cookie) = app.sign_up().await;
    let (id, secret) = new_key(&app, &cookie, "proxied", &["account:read"]).await;
    let unknown = "kw_000000000000000000000000000000000000";
    // The client made up the first entry; the proxy appended the real one.
    for _ in 0..2 {
        let reply = through_proxy(&app, unknown, "10.9.9.9, 203.0.113.5").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let blocked = through_proxy(&app, unknown, "10.9.9.10, 203.0.113.5").await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    let other_client = through_proxy(&app, unknown, "10.9.9.9, 203.0.113.6").await;
    assert_eq!(other_client.status, StatusCode::UNAUTHORIZED);

    let ok = through_proxy(&app, &secret, "198.51.100.7").await;
    assert_eq!(ok.status, StatusCode::OK);
    app.state.usage.flush(&app.state.db).await.unwrap();
    let details = app
        .call("/api/key_details", &[("id", &id)], Some(&cookie))
        .await
        .json();
    assert_eq!(details["recent"][0]["client_addr"], "198.51.100.7");
}

#[tokio::test]
async fn without_trust_proxy_forwarded_addresses_are_ignored() {
    let app = TestApp::sqlite_with(Config {
        auth_failures_per_min: 2,
        ..Config::default()
    })
    .await;
    let unknown = "kw_000000000000000000000000000000000000";
    // Every request comes from the same connection; a made-up header changes nothing.
    through_proxy(&app, unknown, "203.0.113.1").await;
    through_proxy(&app, unknown, "203.0.113.2").await;
    let blocked = through_proxy(&app, unknown, "203.0.113.3").await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
}

/// Whether `marker` is in the database file itself (not only in its WAL).
fn in_database_file(path: &std::path::Path, marker: &str) -> bool {
    let bytes = std::fs::read(path).unwrap_or_default();
    bytes
        .windows(marker.len())
        .any(|window| window == marker.as_bytes())
}

/// Writes `marker` in a hot writer's turn (as charge groups and usage flushes do).
async fn write_in_turn(db: &keyward::infra::db::Db, marker: &str) {
    let _turn = db.sqlite_write_turn().await;
    let mut tx = db.begin_write().await.unwrap();
    sqlx::query("INSERT INTO checkpoint_probe (note) VALUES ($1)")
        .bind(marker)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn the_background_checkpointer_copies_hot_writes_into_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("checkpoints.db");
    let db = keyward::infra::db::Db::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query("CREATE TABLE checkpoint_probe (note TEXT NOT NULL)")
        .execute(&db.pool)
        .await
        .unwrap();

    // Without it, a small write stays in the WAL: SQLite checkpoints at 1,000 pages.
    // Nothing but a checkpoint moves a committed write from the WAL into the file, and
    // nothing here runs one: no waiting is needed to see that it is not there.
    write_in_turn(&db, "probe-before-checkpointer").await;
    assert!(!in_database_file(&path, "probe-before-checkpointer"));

    db.start_background_checkpoints();
    write_in_turn(&db, "probe-after-checkpointer").await;
    let started = std::time::Instant::now();
    while !in_database_file(&path, "probe-after-checkpointer") {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the write never reached the database file"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(in_database_file(&path, "probe-before-checkpointer"));
}
