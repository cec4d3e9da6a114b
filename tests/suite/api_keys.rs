//! The API Keys server functions: lifecycle, storage, ownership, races and validation.

use crate::common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{Reply, TestApp, HOST, ORIGIN};
use serde_json::{json, Value};

on_both_databases!(
    create_reveals_the_secret_once_and_stores_only_its_digest,
    secrets_never_reach_the_database_files,
    regenerate_replaces_the_value_and_keeps_the_policy,
    other_users_keys_answer_exactly_like_missing_ones,
    concurrent_regenerations_leave_one_current_value,
    bad_input_is_explained_and_writes_nothing,
    deactivate_activate_and_delete_are_audited,
    signed_out_calls_are_refused,
);

async fn create(app: &TestApp, cookie: &str, name: &str) -> Value {
    let reply = app
        .call_json(
            "/api/create_key",
            json!({"name": name, "scopes": ["account:read", "keys:read"], "expiry": {"days": 90}}),
            cookie,
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "create failed: {}",
        reply.body
    );
    reply.json()
}

async fn list(app: &TestApp, cookie: &str) -> Reply {
    app.call("/api/list_keys", &[], Some(cookie)).await
}

async fn create_reveals_the_secret_once_and_stores_only_its_digest(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let created = create(&app, &cookie, "  ci-runner ").await;
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("kw_") && secret.len() == 39, "{secret}");
    assert_eq!(created["key"]["name"], "ci-runner");
    assert_eq!(created["key"]["status"], "Active");
    assert_eq!(
        created["key"]["scopes"],
        json!(["account:read", "keys:read"])
    );
    let preview = created["key"]["preview"].as_str().unwrap();
    assert_eq!(
        preview,
        format!("kw_{}…{}", &secret[3..7], &secret[secret.len() - 4..])
    );

    // Lists and pages never carry it.
    let listed = list(&app, &cookie).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(!listed.body.contains(&secret));
    assert!(listed.body.contains("ci-runner"));
    let page = app.get("/account/api-keys", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("ci-runner"),
        "server-rendered list shows the key"
    );
    assert!(
        !page.body.contains(&secret),
        "secret in server-rendered HTML"
    );
    let id = created["key"]["id"].as_str().unwrap();
    let details = app
        .call("/api/key_details", &[("id", id)], Some(&cookie))
        .await;
    assert!(!details.body.contains(&secret));

    // The database holds the SHA-256, not the value.
    use sha2::{Digest, Sha256};
    let digest = hex::encode(Sha256::digest(secret.as_bytes()));
    use sqlx::Row;
    let stored: String = sqlx::query("SELECT digest FROM key_secrets WHERE key_id = $1")
        .bind(id)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, digest);
}

async fn secrets_never_reach_the_database_files(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let created = create(&app, &cookie, "scanner-bait").await;
    let first = created["secret"].as_str().unwrap().to_string();
    let id = created["key"]["id"].as_str().unwrap().to_string();
    let regenerated = app
        .call(
            "/api/regenerate_key",
            &[("id", &id), ("grace_secs", "3600")],
            Some(&cookie),
        )
        .await;
    assert_eq!(regenerated.status, StatusCode::OK, "{}", regenerated.body);
    let second = regenerated.json()["secret"].as_str().unwrap().to_string();
    // The value, and even its random body without the prefix.
    let needles: Vec<&str> = [&first, &second]
        .into_iter()
        .flat_map(|s| [s.as_str(), &s[3..33]])
        .collect();

    match app.sqlite_path.clone() {
        Some(path) => {
            let mut scanned = 0;
            for suffix in ["", "-wal", "-shm"] {
                let mut file = path.clone().into_os_string();
                file.push(suffix);
                if let Ok(bytes) = std::fs::read(&file) {
                    scanned += bytes.len();
                    for needle in &needles {
                        assert!(
                            !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                            "{file:?} contains a key value"
                        );
                    }
                }
            }
            assert!(scanned > 0, "no database file was scanned");
        }
        None => {
            // Postgres: every text column of every table.
            use sqlx::Row;
            let columns = sqlx::query(
                "SELECT table_name::text, column_name::text FROM information_schema.columns \
                 WHERE table_schema = 'public' AND data_type IN ('text', 'character varying')",
            )
            .fetch_all(&app.state.db.pool)
            .await
            .unwrap();
            assert!(columns.len() >= 10, "only {} text columns", columns.len());
            for column in &columns {
                let (table, name): (String, String) = (column.get(0), column.get(1));
                for needle in &needles {
                    let sql = format!(
                        "SELECT COUNT(*) FROM \"{table}\" WHERE strpos(\"{name}\", $1) > 0"
                    );
                    let hits: i64 = sqlx::query(&sql)
                        .bind(*needle)
                        .fetch_one(&app.state.db.pool)
                        .await
                        .unwrap()
                        .get(0);
                    assert_eq!(hits, 0, "{table}.{name} contains a key value");
                }
            }
        }
    }
}

async fn regenerate_replaces_the_value_and_keeps_the_policy(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let created = create(&app, &cookie, "deploy").await;
    let id = created["key"]["id"].as_str().unwrap().to_string();
    app.state.clock.advance_secs(3600);
    let reply = app
        .call(
            "/api/regenerate_key",
            &[("id", &id), ("grace_secs", "0")],
            Some(&cookie),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let regenerated = reply.json();
    assert_ne!(regenerated["secret"], created["secret"]);
    assert_eq!(regenerated["key"]["name"], "deploy");
    assert_eq!(regenerated["key"]["scopes"], created["key"]["scopes"]);
    assert_ne!(regenerated["key"]["preview"], created["key"]["preview"]);
    // 90-day policy: the new value's expiry moved with it.
    let expires = regenerated["key"]["expires_at"].as_i64().unwrap();
    let regenerated_at = regenerated["key"]["regenerated_at"].as_i64().unwrap();
    assert_eq!(expires - regenerated_at, 90 * 86_400_000);
    // "Immediately": only the new value exists.
    assert_eq!(app.count("SELECT COUNT(*) FROM key_secrets").await, 1);

    let with_grace = app
        .call(
            "/api/regenerate_key",
            &[("id", &id), ("grace_secs", "86400")],
            Some(&cookie),
        )
        .await;
    assert_eq!(with_grace.status, StatusCode::OK);
    assert_eq!(app.count("SELECT COUNT(*) FROM key_secrets").await, 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM key_secrets WHERE retires_at IS NULL")
            .await,
        1
    );

    let bad = app
        .call(
            "/api/regenerate_key",
            &[("id", &id), ("grace_secs", "12345")],
            Some(&cookie),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn other_users_keys_answer_exactly_like_missing_ones(app: TestApp) {
    let (_, owner) = app.sign_up().await;
    let (_, intruder) = app.sign_up().await;
    let created = create(&app, &owner, "private").await;
    let id = created["key"]["id"].as_str().unwrap().to_string();

    let calls: [(&str, Vec<(&str, &str)>); 4] = [
        ("/api/key_details", vec![]),
        ("/api/regenerate_key", vec![("grace_secs", "0")]),
        ("/api/set_key_active", vec![("active", "false")]),
        ("/api/delete_key", vec![]),
    ];
    for (path, extra) in calls {
        let mut theirs = vec![("id", id.as_str())];
        theirs.extend(extra.iter().copied());
        let mut missing = vec![("id", "kid_doesnotexist000000")];
        missing.extend(extra.iter().copied());
        let a = app.call(path, &theirs, Some(&intruder)).await;
        let b = app.call(path, &missing, Some(&intruder)).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}: {}", a.body);
        assert_eq!(
            (a.status, &a.body),
            (b.status, &b.body),
            "{path} tells the two apart"
        );
    }
    // Nothing changed for the owner.
    let listed = list(&app, &owner).await.json();
    assert_eq!(listed["keys"][0]["active"], true);
    assert_eq!(listed["keys"][0]["regenerated_at"], Value::Null);
    assert_eq!(app.count("SELECT COUNT(*) FROM key_events").await, 1);
    let intruders = list(&app, &intruder).await.json();
    assert_eq!(intruders["keys"], json!([]));
}

async fn concurrent_regenerations_leave_one_current_value(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let created = create(&app, &cookie, "racy").await;
    let id = created["key"]["id"].as_str().unwrap().to_string();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let router = app.router.clone();
        let (id, cookie) = (id.clone(), cookie.clone());
        tasks.push(tokio::spawn(async move {
            use tower::ServiceExt;
            let request = Request::post("/api/regenerate_key")
                .header(header::HOST, HOST)
                .header(header::ORIGIN, ORIGIN)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, cookie)
                .body(Body::from(format!("id={id}&grace_secs=0")))
                .unwrap();
            router.oneshot(request).await.unwrap().status()
        }));
    }
    for task in tasks {
        let status = task.await.unwrap();
        assert_eq!(status, StatusCode::OK, "a racing regeneration failed");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM key_events WHERE event = 'regenerated'")
            .await,
        8,
        "every regeneration happened, one after another"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM key_secrets").await,
        1,
        "exactly one value remains"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM key_secrets WHERE retires_at IS NULL")
            .await,
        1
    );
}

async fn bad_input_is_explained_and_writes_nothing(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let cases = [
        (
            json!({"name": "   ", "scopes": ["account:read"], "expiry": {"days": 30}}),
            "name",
        ),
        (
            json!({"name": "x".repeat(65), "scopes": ["account:read"], "expiry": {"days": 30}}),
            "name",
        ),
        (
            json!({"name": "ok", "scopes": [], "expiry": {"days": 30}}),
            "scopes",
        ),
        (
            json!({"name": "ok", "scopes": ["root:everything"], "expiry": {"days": 30}}),
            "scopes",
        ),
        (
            json!({"name": "ok", "scopes": ["account:read"], "expiry": {"days": 0}}),
            "expiry",
        ),
        (
            json!({"name": "ok", "scopes": ["account:read"], "expiry": {"date": "2001-01-01"}}),
            "expiry",
        ),
        (
            json!({"name": "ok", "scopes": ["account:read"], "expiry": {"date": "soon"}}),
            "expiry",
        ),
    ];
    for (body, field) in cases {
        let reply = app
            .call_json("/api/create_key", body.clone(), &cookie)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            reply.body
        );
        assert_eq!(
            reply.json()["Validation"][0]["field"],
            field,
            "{body}: {}",
            reply.body
        );
    }
    let garbage = app
        .call_json("/api/create_key", json!({"name": 5}), &cookie)
        .await;
    assert_eq!(
        garbage.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        garbage.body
    );
    assert_eq!(garbage.json()["Validation"][0]["field"], "form");
    assert!(
        !garbage.body.to_lowercase().contains("serde"),
        "leaks internals: {}",
        garbage.body
    );

    create(&app, &cookie, "taken").await;
    let duplicate = app
        .call_json(
            "/api/create_key",
            json!({"name": "taken", "scopes": ["account:read"], "expiry": "never"}),
            &cookie,
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(duplicate.body.contains("already have a key with this name"));
    assert_eq!(app.count("SELECT COUNT(*) FROM api_keys").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM key_secrets").await, 1);
}

async fn deactivate_activate_and_delete_are_audited(app: TestApp) {
    let (email, cookie) = app.sign_up().await;
    let created = create(&app, &cookie, "audited").await;
    let id = created["key"]["id"].as_str().unwrap().to_string();
    // One second between changes, so the audit trail's order is by time alone.
    app.state.clock.advance_secs(1);
    let off = app
        .call(
            "/api/set_key_active",
            &[("id", &id), ("active", "false")],
            Some(&cookie),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(off.json()["status"], "Inactive");
    app.state.clock.advance_secs(1);
    let on = app
        .call(
            "/api/set_key_active",
            &[("id", &id), ("active", "true")],
            Some(&cookie),
        )
        .await;
    assert_eq!(on.json()["status"], "Active");

    let details = app
        .call("/api/key_details", &[("id", &id)], Some(&cookie))
        .await
        .json();
    let events: Vec<&str> = details["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["activated", "deactivated", "created"]);
    assert_eq!(details["events"][0]["actor"], email.as_str());
    assert_eq!(
        details["usage"],
        json!({"last_24h": 0, "last_7d": 0, "last_30d": 0, "total": 0})
    );
    assert_eq!(details["daily"].as_array().unwrap().len(), 30);

    let deleted = app
        .call("/api/delete_key", &[("id", &id)], Some(&cookie))
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM api_keys").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM key_secrets").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM key_events WHERE event = 'deleted'")
            .await,
        1
    );
    let again = app
        .call("/api/delete_key", &[("id", &id)], Some(&cookie))
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

async fn signed_out_calls_are_refused(app: TestApp) {
    let reply = app.call("/api/list_keys", &[], None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let create = app
        .call_from(
            "/api/delete_key",
            &[("id", "kid_x")],
            Some("keyward_session=nope"),
            Some(ORIGIN),
        )
        .await;
    assert_eq!(create.status, StatusCode::UNAUTHORIZED);
}
