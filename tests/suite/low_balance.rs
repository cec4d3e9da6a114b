//! Low-balance alerts: one email each time the balance crosses the threshold
//! downward (charges and grants alike), none for setting a threshold already above the
//! balance, the dashboard's banner while below. On SQLite and on Postgres.

use crate::common;

use axum::http::StatusCode;
use common::with_service_token;
use common::{api, new_key, TestApp};
use keyward::wallet::ledger::{self, Posting};
use keyward::wallet::{low_balance, EntryKind};
use keyward::workspace::Owner;
use serde_json::json;

on_both_databases_with!(with_service_token;
    one_email_each_time_the_balance_crosses_the_threshold_downward,
    bad_thresholds_are_refused_beside_the_field,
);

async fn post(app: &TestApp, user_id: &str, credits: i64, key: &str) {
    let posting = Posting {
        owner: Owner::User(user_id.to_string()),
        amount: credits,
        kind: if credits > 0 {
            EntryKind::OperatorGrant
        } else {
            EntryKind::Adjustment
        },
        reference: None,
        description: "test".into(),
        actor: "operator (tests)".into(),
        key_id: None,
        metadata: None,
        idempotency_key: format!("test:{key}"),
        may_overdraw: true,
    };
    ledger::post(&app.state.db, &posting, app.state.now_ms())
        .await
        .unwrap();
}

async fn charge(app: &TestApp, key: &str, cost: i64) {
    let reply = common::verify_and_charge(app, json!({"key": key, "cost": cost})).await;
    assert_eq!(reply.json()["valid"], true, "{}", reply.body);
}

/// Sends what is pending and waits for the low-balance emails to `email` to number
/// `expected` (mail goes out on a background task), then checks no more follow.
async fn alerts_to(
    app: &TestApp,
    email: &str,
    expected: usize,
) -> Vec<keyward::infra::mail::Email> {
    let sent = || {
        app.state
            .mailer
            .recent()
            .into_iter()
            .filter(|m| m.to == email && m.subject == "Your Keyward balance is low")
            .collect::<Vec<_>>()
    };
    for _ in 0..50 {
        low_balance::send_pending(
            &app.state.db,
            &app.state.mailer,
            "http://keyward.test",
            app.state.now_ms(),
        )
        .await
        .unwrap();
        if sent().len() >= expected {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // No more than that: whatever else the outbox holds is sent, and every mail handed
    // over is delivered, before counting.
    low_balance::send_pending(
        &app.state.db,
        &app.state.mailer,
        "http://keyward.test",
        app.state.now_ms(),
    )
    .await
    .unwrap();
    app.state.mailer.flush().await;
    let emails = sent();
    assert_eq!(emails.len(), expected, "low-balance emails to {email}");
    emails
}

async fn dashboard_banner(app: &TestApp, cookie: &str) -> bool {
    let page = app.get("/account", Some(cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    let overview = app
        .call("/api/account_overview", &[], Some(cookie))
        .await
        .json();
    let threshold = overview["low_balance_threshold"].as_i64();
    threshold.is_some_and(|t| overview["balance"].as_i64().unwrap() < t)
}

async fn one_email_each_time_the_balance_crosses_the_threshold_downward(app: TestApp) {
    let (email, cookie) = app.sign_up().await;
    let (_, key) = new_key(&app, &cookie, "jobs", &["account:read"]).await;
    let probe = api(
        &app,
        "POST",
        "/api/v1/verify",
        Some(common::SERVICE_TOKEN),
        Some(json!({"key": key})),
    )
    .await;
    let user = probe.json()["owner_id"].as_str().unwrap().to_string();

    // A threshold above an empty wallet: the banner, but nothing crossed, so no email.
    let set = app
        .call(
            "/api/set_low_balance_alert",
            &[("threshold", "500")],
            Some(&cookie),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(set.json(), json!(500));
    assert!(dashboard_banner(&app, &cookie).await);
    alerts_to(&app, &email, 0).await;

    post(&app, &user, 1_000, "fund").await;
    assert!(!dashboard_banner(&app, &cookie).await);
    charge(&app, &key, 300).await; // 700: still above
    alerts_to(&app, &email, 0).await;
    charge(&app, &key, 300).await; // 400: crossed
    charge(&app, &key, 100).await; // 300: still below, no second email
    let sent = alerts_to(&app, &email, 1).await;
    assert!(
        sent[0].text.contains("400 credits, below the 500 credits"),
        "{}",
        sent[0].text
    );
    assert!(sent[0].text.contains("http://keyward.test/account/wallet"));
    assert!(dashboard_banner(&app, &cookie).await);
    // Sending again sends nothing more.
    alerts_to(&app, &email, 1).await;

    // Back above re-arms; an operator deduction crossing again emails again.
    post(&app, &user, 1_000, "refill").await; // 1,300
    assert!(!dashboard_banner(&app, &cookie).await);
    post(&app, &user, -900, "deduct").await; // 400
    alerts_to(&app, &email, 2).await;

    // Turned off: no banner, and crossings are not recorded.
    let off = app
        .call(
            "/api/set_low_balance_alert",
            &[("threshold", "")],
            Some(&cookie),
        )
        .await;
    assert_eq!(off.json(), json!(null));
    post(&app, &user, 1_000, "again").await;
    charge(&app, &key, 1_200).await;
    assert!(!dashboard_banner(&app, &cookie).await);
    alerts_to(&app, &email, 2).await;
    let (outbox,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM low_balance_alerts")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(outbox, 2);
    let (_, mismatches) = ledger::verify(&app.state.db).await.unwrap();
    assert!(mismatches.is_empty());
}

async fn bad_thresholds_are_refused_beside_the_field(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    for bad in ["0", "-1", "lots", "2.5", "99999999999999999999"] {
        let reply = app
            .call(
                "/api/set_low_balance_alert",
                &[("threshold", bad)],
                Some(&cookie),
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(
            reply.json()["Validation"][0]["field"],
            "threshold",
            "{}",
            reply.body
        );
    }
    let (wallets,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM wallets")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(wallets, 0);
    let signed_out = app
        .call("/api/set_low_balance_alert", &[("threshold", "10")], None)
        .await;
    assert_eq!(signed_out.status, StatusCode::UNAUTHORIZED);
}
