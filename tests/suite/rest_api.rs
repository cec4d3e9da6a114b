//! The REST API under /api/v1: authentication, scopes, refusals, usage and limits.

use crate::common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{api, me_status, new_key, TestApp};
use keyward::infra::config::Config;
use serde_json::{json, Value};

on_both_databases!(
    every_header_form_is_accepted,
    every_refusal_is_401_with_a_reason_and_no_echo,
    scopes_are_enforced_on_every_endpoint,
    a_regenerated_value_stops_or_keeps_working_as_chosen,
    deleted_and_inactive_keys_fail_even_when_cached,
    usage_is_counted_exactly_and_never_logs_the_key,
    keys_can_manage_keys_through_the_api,
    verify_needs_the_service_token,
    errors_are_json,
);

fn all_scopes() -> [&'static str; 3] {
    ["account:read", "keys:read", "keys:write"]
}

async fn every_header_form_is_accepted(app: TestApp) {
    let (email, cookie) = app.sign_up().await;
    let (_, secret) = new_key(&app, &cookie, "headers", &["account:read"]).await;
    for (name, value) in [
        ("authorization", format!("Bearer {secret}")),
        ("x-api-key", secret.clone()),
        ("api-key", secret.clone()),
    ] {
        let request = Request::get("/api/v1/me")
            .header(name, value)
            .body(Body::empty())
            .unwrap();
        let reply = app.send(request).await;
        assert_eq!(reply.status, StatusCode::OK, "{name}: {}", reply.body);
        assert_eq!(reply.json()["email"], email.as_str());
    }
}

async fn every_refusal_is_401_with_a_reason_and_no_echo(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let (id, secret) = new_key(&app, &cookie, "refusals", &["account:read"]).await;

    let missing = api(&app, "GET", "/api/v1/me", None, None).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.json()["error"]["code"], "missing_key");
    assert!(missing
        .header("www-authenticate")
        .unwrap()
        .starts_with("Bearer"));

    let mut tampered = secret.clone().into_bytes();
    tampered[10] = if tampered[10] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    // A well-formed key that was never issued: valid checksum, unknown digest.
    let forged = {
        let head = format!("kw_{}", "Z".repeat(30));
        let crc = crc32fast::hash(head.as_bytes()) as u64;
        let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut n = crc;
        let mut tail = [b'0'; 6];
        for slot in tail.iter_mut().rev() {
            *slot = alphabet[(n % 62) as usize];
            n /= 62;
        }
        format!("{head}{}", String::from_utf8(tail.to_vec()).unwrap())
    };
    for (presented, code) in [
        ("not-a-key".to_string(), "malformed_key"),
        (tampered.clone(), "malformed_key"),
        (forged.clone(), "unknown_key"),
    ] {
        let reply = api(&app, "GET", "/api/v1/me", Some(&presented), None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{presented}");
        assert_eq!(reply.json()["error"]["code"], code, "{presented}");
        assert!(reply
            .header("www-authenticate")
            .unwrap()
            .contains("invalid_token"));
        assert!(!reply.body.contains(&presented), "body echoes the key");
    }

    let off = app
        .call(
            "/api/set_key_active",
            &[("id", &id), ("active", "false")],
            Some(&cookie),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK);
    let inactive = api(&app, "GET", "/api/v1/me", Some(&secret), None).await;
    assert_eq!(
        (inactive.status, inactive.json()["error"]["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("inactive_key"))
    );
    app.call(
        "/api/set_key_active",
        &[("id", &id), ("active", "true")],
        Some(&cookie),
    )
    .await;
    assert_eq!(me_status(&app, &secret).await, StatusCode::OK);

    app.state.clock.advance_secs(91 * 86_400);
    let expired = api(&app, "GET", "/api/v1/me", Some(&secret), None).await;
    assert_eq!(
        (expired.status, expired.json()["error"]["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("expired_key"))
    );
    assert!(!expired.body.contains(&secret));
}

async fn scopes_are_enforced_on_every_endpoint(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let (read_id, account_only) = new_key(&app, &cookie, "account-only", &["account:read"]).await;
    let (_, keys_only) = new_key(&app, &cookie, "keys-only", &["keys:read", "keys:write"]).await;
    let item = format!("/api/v1/keys/{read_id}");
    let regenerate = format!("{item}/regenerate");
    let usage = format!("{item}/usage");
    let cases: Vec<(&str, &str, &str, Option<Value>)> = vec![
        ("GET", "/api/v1/keys", "keys:read", None),
        (
            "POST",
            "/api/v1/keys",
            "keys:write",
            Some(json!({"name": "x", "scopes": ["account:read"]})),
        ),
        ("GET", &item, "keys:read", None),
        ("POST", &regenerate, "keys:write", None),
        ("DELETE", &item, "keys:write", None),
        ("GET", &usage, "keys:read", None),
    ];
    for (method, path, scope, body) in cases {
        let reply = api(&app, method, path, Some(&account_only), body).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{method} {path}: {}",
            reply.body
        );
        assert_eq!(reply.json()["error"]["code"], "insufficient_scope");
        assert_eq!(reply.json()["error"]["required_scope"], scope);
        assert!(reply
            .header("www-authenticate")
            .unwrap()
            .contains("insufficient_scope"));
    }
    let me = api(&app, "GET", "/api/v1/me", Some(&keys_only), None).await;
    assert_eq!(me.status, StatusCode::FORBIDDEN);
    assert_eq!(me.json()["error"]["required_scope"], "account:read");

    // A key cannot mint or reveal a key more powerful than itself.
    let escalate = api(
        &app,
        "POST",
        "/api/v1/keys",
        Some(&keys_only),
        Some(json!({"name": "wider", "scopes": ["account:read"]})),
    )
    .await;
    assert_eq!(escalate.status, StatusCode::FORBIDDEN, "{}", escalate.body);
    assert_eq!(escalate.json()["error"]["code"], "scope_escalation");
    let reveal = api(&app, "POST", &regenerate, Some(&keys_only), None).await;
    assert_eq!(reveal.status, StatusCode::FORBIDDEN, "{}", reveal.body);
    assert_eq!(reveal.json()["error"]["code"], "scope_escalation");
    // Nothing was created, regenerated or deleted by the refused calls.
    assert_eq!(app.count("SELECT COUNT(*) FROM api_keys").await, 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM key_events WHERE event <> 'created'")
            .await,
        0
    );
}

async fn a_regenerated_value_stops_or_keeps_working_as_chosen(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let (id, first) = new_key(&app, &cookie, "rotating", &["account:read"]).await;
    assert_eq!(me_status(&app, &first).await, StatusCode::OK);

    // Immediately: the old value fails from the moment regeneration answers.
    let reply = app
        .call(
            "/api/regenerate_key",
            &[("id", &id), ("grace_secs", "0")],
            Some(&cookie),
        )
        .await;
    let second = reply.json()["secret"].as_str().unwrap().to_string();
    let old = api(&app, "GET", "/api/v1/me", Some(&first), None).await;
    assert_eq!(
        (old.status, old.json()["error"]["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("unknown_key"))
    );
    assert_eq!(me_status(&app, &second).await, StatusCode::OK);

    // One hour of grace: both work, then only the new one.
    let reply = app
        .call(
            "/api/regenerate_key",
            &[("id", &id), ("grace_secs", "3600")],
            Some(&cookie),
        )
        .await;
    let third = reply.json()["secret"].as_str().unwrap().to_string();
    assert_eq!(me_status(&app, &second).await, StatusCode::OK);
    assert_eq!(me_status(&app, &third).await, StatusCode::OK);
    app.state.clock.advance_secs(3_599);
    assert_eq!(me_status(&app, &second).await, StatusCode::OK);
    app.state.clock.advance_secs(2);
    let late = api(&app, "GET", "/api/v1/me", Some(&second), None).await;
    assert_eq!(
        (late.status, late.json()["error"]["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("replaced_key"))
    );
    assert_eq!(me_status(&app, &third).await, StatusCode::OK);
}

async fn deleted_and_inactive_keys_fail_even_when_cached(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let (a_id, a) = new_key(&app, &cookie, "to-deactivate", &["account:read"]).await;
    let (b_id, b) = new_key(&app, &cookie, "to-delete", &["account:read"]).await;
    for key in [&a, &b] {
        assert_eq!(
            api(&app, "GET", "/api/v1/me", Some(key), None).await.status,
            StatusCode::OK
        );
    }
    assert!(
        app.state.key_cache.len() >= 2,
        "the uses above warmed the cache"
    );
    app.call(
        "/api/set_key_active",
        &[("id", &a_id), ("active", "false")],
        Some(&cookie),
    )
    .await;
    app.call("/api/delete_key", &[("id", &b_id)], Some(&cookie))
        .await;
    assert_eq!(me_status(&app, &a).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me_status(&app, &b).await, StatusCode::UNAUTHORIZED);
}

async fn usage_is_counted_exactly_and_never_logs_the_key(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let (id, secret) = new_key(&app, &cookie, "counted", &["account:read"]).await;
    let before = app.state.now_ms();
    for _ in 0..7 {
        assert_eq!(me_status(&app, &secret).await, StatusCode::OK);
    }
    // Refused for scope still counts as a use.
    assert_eq!(
        api(&app, "GET", "/api/v1/keys", Some(&secret), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // Nothing is written on the request path...
    assert_eq!(app.count("SELECT COUNT(*) FROM key_requests").await, 0);
    // ...until the flush.
    app.state.usage.flush(&app.state.db).await.unwrap();
    let details = app
        .call("/api/key_details", &[("id", &id)], Some(&cookie))
        .await
        .json();
    assert_eq!(
        details["usage"],
        json!({"last_24h": 8, "last_7d": 8, "last_30d": 8, "total": 8})
    );
    assert_eq!(details["daily"][29]["requests"], 8);
    let recent = details["recent"].as_array().unwrap();
    assert_eq!(recent.len(), 8);
    assert_eq!(recent[0]["path"], "/api/v1/keys");
    assert_eq!(recent[0]["status"], 403);
    assert_eq!(recent[1]["method"], "GET");
    assert_eq!(recent[1]["user_agent"], "keyward-tests/1.0");
    assert!(details["key"]["last_used_at"].as_i64().unwrap() >= before);

    app.state.usage.flush(&app.state.db).await.unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM key_requests").await,
        8,
        "a second flush adds nothing"
    );

    use sqlx::Row;
    let rows = sqlx::query("SELECT method, path, client_addr, user_agent FROM key_requests")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    for row in rows {
        for column in 0..4 {
            let value: String = row.get(column);
            assert!(!value.contains(&secret[3..33]), "request log holds the key");
        }
    }

    // Old rows are pruned.
    app.state.clock.advance_secs(31 * 86_400);
    let pruned =
        keyward::usage::recorder::UsageRecorder::prune(&app.state.db, app.state.now_ms(), 30)
            .await
            .unwrap();
    assert_eq!(pruned, 8);
    assert_eq!(app.count("SELECT COUNT(*) FROM key_requests").await, 0);
    assert_eq!(
        app.count("SELECT CAST(SUM(requests) AS BIGINT) FROM key_usage_daily")
            .await,
        8,
        "daily totals outlive the log"
    );
}

async fn keys_can_manage_keys_through_the_api(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let (admin_id, admin) = new_key(&app, &cookie, "admin", &all_scopes()).await;

    let created = api(
        &app,
        "POST",
        "/api/v1/keys",
        Some(&admin),
        Some(json!({"name": "from-api", "scopes": ["account:read"], "expiry": {"days": 30}})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let new_secret = created.json()["secret"].as_str().unwrap().to_string();
    let new_id = created.json()["key"]["id"].as_str().unwrap().to_string();
    assert_eq!(me_status(&app, &new_secret).await, StatusCode::OK);

    let listed = api(&app, "GET", "/api/v1/keys", Some(&admin), None).await;
    assert_eq!(listed.json().as_array().unwrap().len(), 2);
    assert!(!listed.body.contains(&new_secret) && !listed.body.contains(&admin));

    let one = api(
        &app,
        "GET",
        &format!("/api/v1/keys/{new_id}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.json()["key"]["name"], "from-api");
    assert!(one.json()["usage"]["total"].is_i64());

    let bad = api(
        &app,
        "POST",
        "/api/v1/keys",
        Some(&admin),
        Some(json!({"name": "", "scopes": ["nope"]})),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.json()["error"]["fields"]["name"].is_string());
    assert!(bad.json()["error"]["fields"]["scopes"].is_string());

    // A key may regenerate itself; its old value then fails.
    let rotated = api(
        &app,
        "POST",
        &format!("/api/v1/keys/{admin_id}/regenerate"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let admin2 = rotated.json()["secret"].as_str().unwrap().to_string();
    assert_eq!(
        api(&app, "GET", "/api/v1/keys", Some(&admin), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    let usage = api(
        &app,
        "GET",
        &format!("/api/v1/keys/{new_id}/usage"),
        Some(&admin2),
        None,
    )
    .await;
    assert_eq!(usage.status, StatusCode::OK);
    assert_eq!(usage.json()["daily"].as_array().unwrap().len(), 30);

    let deleted = api(
        &app,
        "DELETE",
        &format!("/api/v1/keys/{new_id}"),
        Some(&admin2),
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(me_status(&app, &new_secret).await, StatusCode::UNAUTHORIZED);
    let events: Vec<String> = {
        use sqlx::Row;
        sqlx::query("SELECT actor FROM key_events WHERE event = 'deleted'")
            .fetch_all(&app.state.db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect()
    };
    assert_eq!(events, [format!("API key {admin_id}")]);

    // Another user's key id is simply not found.
    let (_, other_cookie) = app.sign_up().await;
    let (other_id, _) = new_key(&app, &other_cookie, "theirs", &["account:read"]).await;
    let theirs = api(
        &app,
        "DELETE",
        &format!("/api/v1/keys/{other_id}"),
        Some(&admin2),
        None,
    )
    .await;
    let missing = api(
        &app,
        "DELETE",
        "/api/v1/keys/kid_missing",
        Some(&admin2),
        None,
    )
    .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert_eq!(theirs.body, missing.body);
}

async fn verify_needs_the_service_token(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let (_, secret) = new_key(&app, &cookie, "for-verify", &["account:read"]).await;
    let body = json!({"key": secret});
    let off = api(&app, "POST", "/api/v1/verify", None, Some(body.clone())).await;
    assert_eq!(off.status, StatusCode::FORBIDDEN);
    assert_eq!(off.json()["error"]["code"], "verify_disabled");

    let mut config = common::test_config();
    config.service_token = Some("service-token-for-tests".into());
    let with_token = match app.sqlite_path {
        Some(_) => TestApp::sqlite_with(config).await,
        None => TestApp::postgres_with(config).await,
    };
    let (owner_email, cookie) = with_token.sign_up().await;
    let (key_id, secret) = new_key(&with_token, &cookie, "for-verify", &["account:read"]).await;
    let body = json!({"key": secret});
    let wrong = api(
        &with_token,
        "POST",
        "/api/v1/verify",
        Some("not-the-token"),
        Some(body.clone()),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let ok = api(
        &with_token,
        "POST",
        "/api/v1/verify",
        Some("service-token-for-tests"),
        Some(body),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let v = ok.json();
    assert_eq!(v["valid"], true);
    assert_eq!(v["key_id"], key_id.as_str());
    assert_eq!(v["scopes"], json!(["account:read"]));
    assert!(v["owner_id"].as_str().unwrap().starts_with("usr_"));
    assert!(!ok.body.contains(&owner_email));

    let scoped = api(
        &with_token,
        "POST",
        "/api/v1/verify",
        Some("service-token-for-tests"),
        Some(json!({"key": secret, "scope": "keys:write"})),
    )
    .await;
    assert_eq!(
        (
            scoped.json()["valid"].clone(),
            scoped.json()["reason"].clone()
        ),
        (json!(false), json!("insufficient_scope"))
    );
    let unknown = api(
        &with_token,
        "POST",
        "/api/v1/verify",
        Some("service-token-for-tests"),
        Some(json!({"key": "kw_nope"})),
    )
    .await;
    assert_eq!(
        (
            unknown.json()["valid"].clone(),
            unknown.json()["reason"].clone()
        ),
        (json!(false), json!("malformed_key"))
    );
}

async fn errors_are_json(app: TestApp) {
    let unknown = api(&app, "GET", "/api/v1/nope", None, None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json()["error"]["code"], "not_found");

    let health = api(&app, "GET", "/api/v1/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json(), json!({"status": "ok", "database": "ok"}));

    let doc = api(&app, "GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(doc.status, StatusCode::OK);
    let doc = doc.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/me",
        "/api/v1/keys",
        "/api/v1/keys/{id}",
        "/api/v1/keys/{id}/regenerate",
        "/api/v1/keys/{id}/usage",
        "/api/v1/verify",
        "/api/v1/healthz",
        "/api/v1/credits",
        "/api/v1/lab",
        "/api/v1/lab/stop",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from OpenAPI"
        );
    }

    let (_, cookie) = app.sign_up().await;
    let (_, admin) = new_key(&app, &cookie, "json-errors", &all_scopes()).await;
    let malformed = app
        .send(
            Request::post("/api/v1/keys")
                .header(header::AUTHORIZATION, format!("Bearer {admin}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{not json"))
                .unwrap(),
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.json()["error"]["code"], "malformed_json");
    let wrong_type = api(
        &app,
        "POST",
        "/api/v1/keys",
        Some(&admin),
        Some(json!({"name": 5, "scopes": []})),
    )
    .await;
    assert_eq!(wrong_type.status, StatusCode::UNPROCESSABLE_ENTITY);
    let huge_path = format!("/api/v1/keys/{}", "x".repeat(5000));
    assert_eq!(
        api(&app, "GET", &huge_path, Some(&admin), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let config = Config {
        rate_limit_per_sec: 1,
        rate_limit_burst: 2,
        ..Config::default()
    };
    let app = TestApp::sqlite_with(config).await;
    let (_, cookie) = app.sign_up().await;
    let (_, secret) = new_key(&app, &cookie, "limited", &["account:read"]).await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let reply = api(&app, "GET", "/api/v1/me", Some(&secret), None).await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(reply.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
            assert_eq!(reply.json()["error"]["code"], "rate_limited");
        }
        statuses.push(reply.status.as_u16());
    }
    assert_eq!(&statuses[..2], [200, 200]);
    assert!(statuses[2..].contains(&429), "{statuses:?}");
}

#[tokio::test]
async fn failed_authentications_are_throttled_per_client() {
    let config = Config {
        auth_failures_per_min: 3,
        ..Config::default()
    };
    let app = TestApp::sqlite_with(config).await;
    let (_, cookie) = app.sign_up().await;
    let (_, secret) = new_key(&app, &cookie, "victim", &["account:read"]).await;
    for _ in 0..3 {
        assert_eq!(
            api(&app, "GET", "/api/v1/me", Some("kw_guess"), None)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    let blocked = api(&app, "GET", "/api/v1/me", Some("kw_guess"), None).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(blocked.header("retry-after").is_some());
    // Only failures are held back: the owner's valid key still works (tests/attacks.rs).
    assert_eq!(me_status(&app, &secret).await, StatusCode::OK);
    app.state.clock.advance_secs(61);
    assert_eq!(
        api(&app, "GET", "/api/v1/me", Some("kw_guess"), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn shutdown_flushes_buffered_usage() {
    let app = TestApp::sqlite().await;
    let (_, cookie) = app.sign_up().await;
    let (id, secret) = new_key(&app, &cookie, "flushed-at-exit", &["account:read"]).await;
    for _ in 0..5 {
        assert_eq!(me_status(&app, &secret).await, StatusCode::OK);
    }
    let url = app.state.config.database_url.clone();
    app.state.shutdown().await;

    // A new process opening the same file sees every request.
    let db = keyward::infra::db::Db::connect(&url).await.unwrap();
    use sqlx::Row;
    let count: i64 = sqlx::query("SELECT COUNT(*) FROM key_requests WHERE key_id = $1")
        .bind(&id)
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 5);
    let last_used: Option<i64> = sqlx::query("SELECT last_used_at FROM api_keys WHERE id = $1")
        .bind(&id)
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .get(0);
    assert!(last_used.is_some());
}

/// Two processes on one Postgres: a key deactivated through one is refused by the other
/// long before the cache's 30 s safety net, because NOTIFY tells it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs TEST_POSTGRES_URL; make test runs it"]
async fn postgres_other_processes_hear_of_key_changes() {
    let first = TestApp::postgres().await;
    let second = first.another_process().await;
    first.state.start_background_tasks();
    second.state.start_background_tasks();
    // Both listen before anything is cached (subscribing forgets the cache).
    first.state.key_cache.listening().await;
    second.state.key_cache.listening().await;
    let (_, cookie) = first.sign_up().await;
    let (id, secret) = new_key(&first, &cookie, "shared", &["account:read"]).await;
    assert_eq!(
        api(&second, "GET", "/api/v1/me", Some(&secret), None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        second.state.key_cache.len(),
        1,
        "the second process cached the key"
    );

    let off = first
        .call(
            "/api/set_key_active",
            &[("id", &id), ("active", "false")],
            Some(&cookie),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK);
    let started = std::time::Instant::now();
    loop {
        let status = api(&second, "GET", "/api/v1/me", Some(&secret), None)
            .await
            .status;
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "the second process kept serving a deactivated key"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A key busier than the log cap keeps exact counts; the log keeps the batch's first entries.
#[tokio::test]
async fn busy_keys_keep_exact_counts_beyond_the_log_cap() {
    let config = Config {
        request_log_per_key_per_sec: 3,
        ..Config::default()
    };
    let app = TestApp::sqlite_with(config).await;
    let (_, cookie) = app.sign_up().await;
    let (id, secret) = new_key(&app, &cookie, "busy", &["account:read"]).await;
    for _ in 0..4 {
        assert_eq!(me_status(&app, &secret).await, StatusCode::OK);
    }
    assert_eq!(
        api(&app, "GET", "/api/v1/keys", Some(&secret), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    app.state.usage.flush(&app.state.db).await.unwrap();
    let details = app
        .call("/api/key_details", &[("id", &id)], Some(&cookie))
        .await
        .json();
    assert_eq!(details["usage"]["total"], 5);
    assert_eq!(details["usage"]["last_24h"], 5);
    assert_eq!(details["daily"][29]["requests"], 5);
    let recent = details["recent"].as_array().unwrap();
    assert_eq!(recent.len(), 3);
    assert!(
        recent.iter().all(|r| r["path"] == "/api/v1/me"),
        "the first three requests are logged, the fifth (/api/v1/keys) is only counted: {recent:?}"
    );
}

/// Two processes on one Postgres: a key deleted through the first is refused by the
/// second within a second (NOTIFY, not the 30 s cache lifetime). The measured delay is
/// written to target/test-logs/notify-delay.txt, which `make test` prints.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs TEST_POSTGRES_URL; make test runs it"]
async fn postgres_a_key_deleted_in_one_process_is_refused_by_another_within_a_second() {
    let first = TestApp::postgres().await;
    let second = first.another_process().await;
    first.state.start_background_tasks();
    second.state.start_background_tasks();
    first.state.key_cache.listening().await;
    second.state.key_cache.listening().await;
    let (_, cookie) = first.sign_up().await;
    let (id, secret) = new_key(&first, &cookie, "deleted", &["account:read"]).await;
    assert_eq!(me_status(&second, &secret).await, StatusCode::OK);
    assert_eq!(
        second.state.key_cache.len(),
        1,
        "cached by the second process"
    );

    let deleted = first
        .call("/api/delete_key", &[("id", &id)], Some(&cookie))
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    let answered = std::time::Instant::now();
    while me_status(&second, &secret).await == StatusCode::OK {
        assert!(
            answered.elapsed() < std::time::Duration::from_secs(1),
            "the second process still accepted the deleted key after a second"
        );
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let delay = answered.elapsed();
    let line = format!(
        "a key deleted in one process was refused by another {:.1} ms after the delete was answered\n",
        delay.as_secs_f64() * 1000.0
    );
    eprint!("{line}");
    let logs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-logs");
    let _ = std::fs::create_dir_all(&logs);
    let _ = std::fs::write(logs.join("notify-delay.txt"), line);
}
