//! Credits: grants, charges through `POST /api/v1/verify`, refunds, the credits API,
//! and the ledger invariant (balance = sum of entries) under concurrency.

use crate::common;

use axum::http::StatusCode;
use common::with_service_token;
use common::{api, new_key, TestApp};
use keyward::wallet::ledger;
use keyward::wallet::EntryKind;
use keyward::workspace::Owner;
use serde_json::json;

on_both_databases_with!(with_service_token;
    a_charge_spends_once_and_a_refund_gives_back_once,
    concurrent_charges_never_overdraw,
    bad_charges_are_refused_and_write_nothing,
    the_credits_api_reads_balance_and_transactions,
    transactions_page_newest_first_and_stay_in_their_wallet,
    ledger_verify_finds_a_tampered_balance,
);

/// A person with a key; answers (user id, key value).
async fn person_with_key(app: &TestApp, scopes: &[&str]) -> (String, String) {
    let (_, cookie) = app.sign_up().await;
    let (_, secret) = new_key(app, &cookie, "worker", scopes).await;
    let me = api(
        app,
        "POST",
        "/api/v1/verify",
        Some(common::SERVICE_TOKEN),
        Some(json!({"key": secret})),
    )
    .await;
    let user_id = me.json()["owner_id"]
        .as_str()
        .expect("owner id")
        .to_string();
    (user_id, secret)
}

async fn grant(app: &TestApp, user_id: &str, credits: i64, key: &str) -> i64 {
    common::grant_credits(app, Owner::User(user_id.to_string()), credits, key).await
}

use common::verify_and_charge as charge;

async fn assert_ledger_balanced(app: &TestApp) {
    let (_, mismatches) = ledger::verify(&app.state.db).await.expect("verify");
    assert!(mismatches.is_empty(), "{mismatches:?}");
}

async fn a_charge_spends_once_and_a_refund_gives_back_once(app: TestApp) {
    let (user, secret) = person_with_key(&app, &["account:read"]).await;
    assert_eq!(grant(&app, &user, 100, "first").await, 100);
    // The same grant, retried, is made once.
    assert_eq!(grant(&app, &user, 100, "first").await, 100);

    let body = json!({"key": secret, "cost": 30, "idempotency_key": "job-1", "description": "Job 1",
        "metadata": {"job": 1}});
    let first = charge(&app, body.clone()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let v = first.json();
    assert_eq!(v["valid"], true);
    assert_eq!(v["balance"], 70);
    let charge_id = v["charge_id"].as_str().expect("charge id").to_string();

    // Retried with the same idempotency key: the same charge, not a second one.
    let again = charge(&app, body).await.json();
    assert_eq!(again["charge_id"], charge_id.as_str());
    assert_eq!(again["balance"], 70);
    // The same key for a different charge is a mistake the service must hear about.
    let reused = charge(
        &app,
        json!({"key": secret, "cost": 31, "idempotency_key": "job-1"}),
    )
    .await;
    assert_eq!(reused.status, StatusCode::CONFLICT);
    assert_eq!(reused.json()["error"]["code"], "idempotency_key_reused");

    // More than the balance: refused, with the balance, and nothing spent.
    let short = charge(&app, json!({"key": secret, "cost": 71}))
        .await
        .json();
    assert_eq!(short["valid"], false);
    assert_eq!(short["reason"], "insufficient_credits");
    assert_eq!(short["balance"], 70);
    assert!(short.get("charge_id").is_none());
    // Exactly the balance is fine.
    let all = charge(&app, json!({"key": secret, "cost": 70}))
        .await
        .json();
    assert_eq!(all["balance"], 0);

    // A refund gives the credits back once.
    let path = format!("/api/v1/charges/{charge_id}/refund");
    let no_token = api(&app, "POST", &path, None, None).await;
    assert_eq!(no_token.status, StatusCode::UNAUTHORIZED);
    let refund = api(&app, "POST", &path, Some(common::SERVICE_TOKEN), None).await;
    assert_eq!(refund.status, StatusCode::OK, "{}", refund.body);
    assert_eq!(refund.json()["credits"], 30);
    assert_eq!(refund.json()["balance"], 30);
    let twice = api(&app, "POST", &path, Some(common::SERVICE_TOKEN), None).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert_eq!(twice.json()["error"]["code"], "charge_already_refunded");
    assert_eq!(
        ledger::balance(&app.state.db, &Owner::User(user.clone()))
            .await
            .unwrap(),
        30
    );

    // Only charges can be refunded; anything else answers like a missing charge.
    let entries = ledger::entries(
        &app.state.db,
        &Owner::User(user),
        Some(EntryKind::OperatorGrant),
        None,
        50,
    )
    .await
    .unwrap();
    let grant_id = &entries.entries[0].id;
    for id in [grant_id.as_str(), "led_doesnotexist", "%2E%2E"] {
        let reply = api(
            &app,
            "POST",
            &format!("/api/v1/charges/{id}/refund"),
            Some(common::SERVICE_TOKEN),
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{id}: {}", reply.body);
        assert_eq!(reply.json()["error"]["code"], "not_found");
    }
    assert_ledger_balanced(&app).await;
}

async fn concurrent_charges_never_overdraw(app: TestApp) {
    let (user, secret) = person_with_key(&app, &["account:read"]).await;
    grant(&app, &user, 500, "pool").await;
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let app = app.clone();
        let secret = secret.clone();
        tasks.push(tokio::spawn(async move {
            let mut charged = 0;
            for _ in 0..25 {
                let v = charge(&app, json!({"key": secret, "cost": 1})).await.json();
                if v["valid"] == true {
                    charged += 1;
                } else {
                    assert_eq!(v["reason"], "insufficient_credits", "{v}");
                }
            }
            charged
        }));
    }
    let mut charged = 0;
    for task in tasks {
        charged += task.await.expect("task");
    }
    // 800 attempts on 500 credits: exactly 500 succeed.
    assert_eq!(charged, 500);
    assert_eq!(
        ledger::balance(&app.state.db, &Owner::User(user))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM ledger_entries WHERE kind = 'charge'")
            .await,
        500
    );
    assert_ledger_balanced(&app).await;
}

async fn bad_charges_are_refused_and_write_nothing(app: TestApp) {
    let (user, secret) = person_with_key(&app, &["account:read"]).await;
    grant(&app, &user, 100, "bad").await;
    let before = app.count("SELECT COUNT(*) FROM ledger_entries").await;
    for (body, field) in [
        (json!({"key": secret, "cost": 0}), "cost"),
        (json!({"key": secret, "cost": -5}), "cost"),
        (json!({"key": secret, "cost": 1_000_000_000_001i64}), "cost"),
        (
            json!({"key": secret, "cost": 1, "idempotency_key": ""}),
            "idempotency_key",
        ),
        (
            json!({"key": secret, "cost": 1, "idempotency_key": "x".repeat(256)}),
            "idempotency_key",
        ),
        (
            json!({"key": secret, "cost": 1, "description": "d".repeat(201)}),
            "description",
        ),
        (
            json!({"key": secret, "cost": 1, "metadata": {"blob": "m".repeat(5000)}}),
            "metadata",
        ),
    ] {
        let reply = charge(&app, body).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            reply.body
        );
        assert!(
            reply.json()["error"]["fields"][field].is_string(),
            "{field}: {}",
            reply.body
        );
        assert!(!reply.body.contains(&secret));
    }
    for body in [
        json!({"key": secret, "cost": "ten"}),
        json!({"key": secret, "cost": 1.5}),
    ] {
        let reply = charge(&app, body).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.body
        );
    }
    // A key that is not valid is never charged.
    let unknown = charge(&app, json!({"key": "kw_not-a-key", "cost": 1}))
        .await
        .json();
    assert_eq!(unknown["valid"], false);
    assert!(unknown.get("balance").is_none());
    // Nor is one without the scope the service asked for.
    let scoped = charge(
        &app,
        json!({"key": secret, "cost": 1, "scope": "keys:write"}),
    )
    .await
    .json();
    assert_eq!(scoped["reason"], "insufficient_scope");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM ledger_entries").await,
        before
    );
    assert_eq!(
        ledger::balance(&app.state.db, &Owner::User(user))
            .await
            .unwrap(),
        100
    );
}

async fn the_credits_api_reads_balance_and_transactions(app: TestApp) {
    let (user, secret) = person_with_key(&app, &["credits:read"]).await;
    let (_, no_scope) = person_with_key(&app, &["account:read"]).await;
    let empty = api(&app, "GET", "/api/v1/credits", Some(&secret), None).await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
    assert_eq!(empty.json()["balance"], 0);
    assert!(empty.json()["runway_days"].is_null());

    grant(&app, &user, 1_000, "api").await;
    for i in 0..3 {
        charge(
            &app,
            json!({"key": secret, "cost": 100, "description": format!("Job {i}")}),
        )
        .await;
    }
    let credits = api(&app, "GET", "/api/v1/credits", Some(&secret), None)
        .await
        .json();
    assert_eq!(credits["balance"], 700);
    assert_eq!(credits["value_minor"], 700);
    assert_eq!(credits["currency"], "usd");
    assert_eq!(credits["burn_rate_per_day"], 10.0);
    assert_eq!(credits["runway_days"], 70);

    let page = api(
        &app,
        "GET",
        "/api/v1/credits/transactions",
        Some(&secret),
        None,
    )
    .await
    .json();
    let kinds: Vec<&str> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 4);
    assert_eq!(kinds.iter().filter(|k| **k == "charge").count(), 3);
    let charges = api(
        &app,
        "GET",
        "/api/v1/credits/transactions?kind=charge",
        Some(&secret),
        None,
    )
    .await
    .json();
    assert_eq!(charges["entries"].as_array().unwrap().len(), 3);
    assert!(charges["entries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["amount"] == -100));
    let bad_kind = api(
        &app,
        "GET",
        "/api/v1/credits/transactions?kind=gift",
        Some(&secret),
        None,
    )
    .await;
    assert_eq!(bad_kind.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad_limit = api(
        &app,
        "GET",
        "/api/v1/credits/transactions?limit=-1",
        Some(&secret),
        None,
    )
    .await;
    assert_eq!(bad_limit.status, StatusCode::UNPROCESSABLE_ENTITY);

    for path in ["/api/v1/credits", "/api/v1/credits/transactions"] {
        let refused = api(&app, "GET", path, Some(&no_scope), None).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(refused.json()["error"]["required_scope"], "credits:read");
    }
}

async fn transactions_page_newest_first_and_stay_in_their_wallet(app: TestApp) {
    let (user, secret) = person_with_key(&app, &["credits:read"]).await;
    let (other, other_secret) = person_with_key(&app, &["credits:read"]).await;
    for i in 0..120 {
        grant(&app, &user, 1, &format!("page-{i}")).await;
    }
    grant(&app, &other, 5, "other").await;
    let mut seen = Vec::new();
    let mut before: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &before {
            Some(id) => format!("/api/v1/credits/transactions?before={id}"),
            None => "/api/v1/credits/transactions".to_string(),
        };
        let page = api(&app, "GET", &path, Some(&secret), None).await.json();
        pages += 1;
        for entry in page["entries"].as_array().unwrap() {
            seen.push((
                entry["created_at"].as_i64().unwrap(),
                entry["id"].as_str().unwrap().to_string(),
            ));
        }
        match page["next_before"].as_str() {
            Some(id) => before = Some(id.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 120);
    // Newest first (ties in the same millisecond are ordered by id, in the database's
    // collation), with no entry repeated or skipped across pages.
    assert!(seen.windows(2).all(|w| w[0].0 >= w[1].0), "newest first");
    let ids: std::collections::BTreeSet<&String> = seen.iter().map(|(_, id)| id).collect();
    assert_eq!(ids.len(), 120);

    // Another wallet's entry as a cursor gives nothing, not that wallet's entries.
    let theirs = api(
        &app,
        "GET",
        "/api/v1/credits/transactions",
        Some(&other_secret),
        None,
    )
    .await
    .json();
    let their_id = theirs["entries"][0]["id"].as_str().unwrap().to_string();
    let probe = api(
        &app,
        "GET",
        &format!("/api/v1/credits/transactions?before={their_id}"),
        Some(&secret),
        None,
    )
    .await
    .json();
    assert_eq!(probe["entries"], json!([]));
}

async fn ledger_verify_finds_a_tampered_balance(app: TestApp) {
    let (user, _) = person_with_key(&app, &["account:read"]).await;
    grant(&app, &user, 10, "tamper").await;
    assert_ledger_balanced(&app).await;
    sqlx::query("UPDATE wallets SET balance = balance + 1")
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let (wallets, mismatches) = ledger::verify(&app.state.db).await.unwrap();
    assert_eq!(wallets, 1);
    assert_eq!(mismatches.len(), 1);
    assert_eq!(mismatches[0].balance, 11);
    assert_eq!(mismatches[0].entries_sum, 10);
}
