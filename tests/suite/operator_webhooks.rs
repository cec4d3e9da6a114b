//! Webhooks to the operator: deliveries written with their event, signed like
//! Stripe's, retried with backoff against a real local HTTP receiver that fails the
//! first attempts, taken up again after a restart, given up after 24 hours; operators
//! only. On SQLite and Postgres.

use crate::common::{self, with_service_token, TestApp};
use crate::jobs::{funded, submitted, update};
use axum::http::StatusCode;
use keyward::infra::webhook_signature::check_signature;
use keyward::operator_webhooks::{endpoints, sender};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

on_both_databases_with!(with_service_token;
    deliveries_are_signed_and_retried_until_the_endpoint_answers,
    deliveries_survive_a_restart_and_a_crash_mid_attempt,
    keys_revoked_and_low_balances_are_announced,
    only_operators_see_and_change_endpoints,
);

/// What the receiver was sent: (signature header, event id header, body).
type Received = Arc<Mutex<Vec<(String, String, String)>>>;

/// A real HTTP server on loopback that answers 500 to its first `failures` requests,
/// then 200; answers its URL and what it received.
async fn receiver(failures: usize) -> (String, Received) {
    let received: Received = Arc::default();
    let seen = received.clone();
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string()
                };
                let mut seen = seen.lock().unwrap();
                seen.push((
                    header("keyward-signature"),
                    header("keyward-event-id"),
                    body,
                ));
                if seen.len() <= failures {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

async fn add(app: &TestApp, url: &str, events: &[&str]) -> String {
    let events: Vec<String> = events.iter().map(|e| e.to_string()).collect();
    endpoints::create(&app.state.db, url, &events, app.state.now_ms())
        .await
        .expect("endpoint")
        .secret
}

async fn deliver(app: &TestApp, at: i64) -> usize {
    let http = sender::client().unwrap();
    sender::deliver_due(&app.state.db, &http, at).await.unwrap()
}

async fn delivery(app: &TestApp) -> (String, i64, i64) {
    sqlx::query_as("SELECT status, attempts, next_attempt_at FROM webhook_deliveries ORDER BY created_at DESC LIMIT 1")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

async fn deliveries_are_signed_and_retried_until_the_endpoint_answers(app: TestApp) {
    let (url, received) = receiver(2).await;
    let secret = add(&app, &url, &["job.cancel_requested", "job.failed"]).await;
    let (completed_url, completed_seen) = receiver(0).await;
    add(&app, &completed_url, &["job.completed"]).await;
    let (_, cookie, key) = funded(&app, 100).await;
    let job = submitted(&app, &key, 10, "hooked").await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let cancel = app
        .call("/api/cancel_job", &[("id", job.as_str())], Some(&cookie))
        .await;
    assert_eq!(cancel.status, StatusCode::OK, "{}", cancel.body);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM webhook_deliveries").await,
        1,
        "one endpoint wants it"
    );

    let start = app.state.now_ms();
    assert_eq!(deliver(&app, start).await, 1);
    let (status, attempts, next) = delivery(&app).await;
    assert_eq!((status.as_str(), attempts), ("pending", 1));
    assert_eq!(next, start + 10_000, "the first retry after 10 s");
    assert_eq!(deliver(&app, start + 9_000).await, 0, "not due yet");
    assert_eq!(deliver(&app, start + 10_000).await, 1);
    assert_eq!(delivery(&app).await.2, start + 30_000, "then 20 s later");
    assert_eq!(deliver(&app, start + 30_000).await, 1);
    let (status, attempts, _) = delivery(&app).await;
    assert_eq!((status.as_str(), attempts), ("delivered", 3));
    assert_eq!(deliver(&app, start + 100_000).await, 0, "delivered once");

    let seen = received.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    let event_ids: Vec<&str> = seen.iter().map(|(_, id, _)| id.as_str()).collect();
    assert!(
        event_ids.iter().all(|id| *id == event_ids[0]),
        "one event id for every attempt"
    );
    for (signature, _, body) in &seen {
        let t: i64 = signature
            .split(',')
            .next()
            .unwrap()
            .trim_start_matches("t=")
            .parse()
            .unwrap();
        check_signature(body.as_bytes(), signature, &secret, t)
            .expect("signed with the endpoint's secret");
        assert!(check_signature(body.as_bytes(), signature, "whsec_wrong", t).is_err());
    }
    let event: Value = serde_json::from_str(&seen[0].2).unwrap();
    assert_eq!(event["type"], "job.cancel_requested");
    assert_eq!(event["id"], event_ids[0]);
    assert_eq!(event["data"]["object"]["id"], job.as_str());
    assert_eq!(event["data"]["object"]["status"], "cancel_requested");
    assert!(completed_seen.lock().unwrap().is_empty(), "not subscribed");

    // A job that completes reaches the other endpoint only.
    let done = submitted(&app, &key, 10, "completes").await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    update(&app, &done, json!({"status": "running"})).await;
    update(&app, &done, json!({"status": "completed", "final_cost": 4})).await;
    assert_eq!(deliver(&app, app.state.now_ms()).await, 1);
    let completed = completed_seen.lock().unwrap().clone();
    assert_eq!(completed.len(), 1);
    let event: Value = serde_json::from_str(&completed[0].2).unwrap();
    assert_eq!(event["type"], "job.completed");
    assert_eq!(event["data"]["object"]["charged"], 4);

    // An endpoint that never answers 2xx is given up after 24 hours.
    let (failing, _) = receiver(usize::MAX).await;
    add(&app, &failing, &["job.failed"]).await;
    let doomed = submitted(&app, &key, 10, "fails").await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    update(&app, &doomed, json!({"status": "failed"})).await;
    let now = app.state.now_ms();
    deliver(&app, now).await; // the first endpoint takes it at once
    let mut at = now;
    loop {
        let (status, _, next): (String, i64, i64) = sqlx::query_as(
            "SELECT d.status, d.attempts, d.next_attempt_at FROM webhook_deliveries d \
             JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE e.url = $1",
        )
        .bind(&failing)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
        if status != "pending" {
            assert_eq!(status, "failed");
            break;
        }
        assert!(at < now + 25 * 3_600_000, "still retried after 25 hours");
        at = next;
        deliver(&app, at).await;
    }
    assert!(at > now + 20 * 3_600_000, "retried for about a day");
}

async fn deliveries_survive_a_restart_and_a_crash_mid_attempt(app: TestApp) {
    let (url, received) = receiver(0).await;
    add(&app, &url, &["job.cancel_requested"]).await;
    let (_, cookie, key) = funded(&app, 100).await;
    let job = submitted(&app, &key, 10, "restart").await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.call("/api/cancel_job", &[("id", job.as_str())], Some(&cookie))
        .await;
    // A process claimed it and died before its answer was written.
    let now = app.state.now_ms();
    sqlx::query("UPDATE webhook_deliveries SET claimed_until = $1")
        .bind(now + 60_000)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let restarted = app.another_process().await;
    assert_eq!(
        deliver(&restarted, now).await,
        0,
        "claimed by the process that died"
    );
    assert_eq!(
        deliver(&restarted, now + 60_000).await,
        1,
        "taken again when the claim lapses"
    );
    assert_eq!(delivery(&restarted).await.0, "delivered");
    assert_eq!(received.lock().unwrap().len(), 1);
}

async fn keys_revoked_and_low_balances_are_announced(app: TestApp) {
    let (url, received) = receiver(0).await;
    add(&app, &url, &["key.revoked", "credits.low_balance"]).await;
    let (user_id, cookie, key) = funded(&app, 100).await;
    let (doomed_id, _) = common::new_key(&app, &cookie, "doomed", &["jobs:read"]).await;
    let deleted = app
        .call(
            "/api/delete_key",
            &[("id", doomed_id.as_str())],
            Some(&cookie),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    let set = app
        .call(
            "/api/set_low_balance_alert",
            &[("threshold", "50")],
            Some(&cookie),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    // A hold takes the balance below the threshold.
    submitted(&app, &key, 60, "low").await;
    let now = app.state.now_ms();
    assert_eq!(
        keyward::wallet::low_balance::queue_webhooks(&app.state.db, now)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        keyward::wallet::low_balance::queue_webhooks(&app.state.db, now)
            .await
            .unwrap(),
        0
    );
    assert_eq!(deliver(&app, now).await, 2);
    let seen = received.lock().unwrap().clone();
    let events: Vec<Value> = seen
        .iter()
        .map(|(_, _, b)| serde_json::from_str(b).unwrap())
        .collect();
    let revoked = events
        .iter()
        .find(|e| e["type"] == "key.revoked")
        .expect("key.revoked");
    assert_eq!(revoked["data"]["object"]["key_id"], doomed_id.as_str());
    assert_eq!(revoked["data"]["object"]["reason"], "deleted");
    let low = events
        .iter()
        .find(|e| e["type"] == "credits.low_balance")
        .expect("low balance");
    assert_eq!(low["data"]["object"]["owner_id"], user_id.as_str());
    assert_eq!(low["data"]["object"]["balance"], 40);
    assert_eq!(low["data"]["object"]["threshold"], 50);
}

async fn only_operators_see_and_change_endpoints(app: TestApp) {
    let (admin_email, admin) = app.sign_up().await;
    keyward::auth::admin::set_admin(&app.state.db, &admin_email, true)
        .await
        .unwrap();
    let (_, person) = app.sign_up().await;
    let body = json!({"url": "http://127.0.0.1:9/hooks", "events": ["job.failed"]});
    let refused = app
        .call_json("/api/add_webhook_endpoint", body.clone(), &person)
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.body);
    assert_eq!(
        app.call("/api/list_webhooks", &[], Some(&person))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let added = app
        .call_json("/api/add_webhook_endpoint", body, &admin)
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let secret = added.json()["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    let listed = app.call("/api/list_webhooks", &[], Some(&admin)).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(!listed.body.contains(&secret), "the secret is shown once");
    for (url, events, field) in [
        ("ftp://example.com/x", json!(["job.failed"]), "url"),
        ("http://user:pw@example.com/x", json!(["job.failed"]), "url"),
        ("http://example.com/x", json!([]), "events"),
        ("http://example.com/x", json!(["job.exploded"]), "events"),
    ] {
        let bad = app
            .call_json(
                "/api/add_webhook_endpoint",
                json!({"url": url, "events": events}),
                &admin,
            )
            .await;
        assert_eq!(
            bad.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{url}: {}",
            bad.body
        );
        assert!(bad.body.contains(field), "{field}: {}", bad.body);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_endpoints").await, 1);
    // Resending a delivery makes a new one for the same event.
    let id = listed.json()["endpoints"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, _, key) = funded(&app, 10).await;
    let job = submitted(&app, &key, 5, "resend").await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    update(&app, &job, json!({"status": "failed"})).await;
    let overview = app
        .call("/api/list_webhooks", &[], Some(&admin))
        .await
        .json();
    let delivery = overview["deliveries"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.call(
            "/api/resend_webhook",
            &[("id", delivery.as_str())],
            Some(&person)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let resent = app
        .call(
            "/api/resend_webhook",
            &[("id", delivery.as_str())],
            Some(&admin),
        )
        .await;
    assert_eq!(resent.status, StatusCode::OK, "{}", resent.body);
    let overview = app
        .call("/api/list_webhooks", &[], Some(&admin))
        .await
        .json();
    assert_eq!(overview["deliveries"].as_array().unwrap().len(), 2);
    assert_eq!(
        overview["deliveries"][0]["event_id"],
        overview["deliveries"][1]["event_id"]
    );
    let removed = app
        .call(
            "/api/remove_webhook_endpoint",
            &[("id", id.as_str())],
            Some(&admin),
        )
        .await;
    assert_eq!(removed.status, StatusCode::OK);
}
