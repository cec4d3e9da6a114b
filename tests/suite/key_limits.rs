//! Per-key monthly spending limits: a charge beyond the limit answers
//! `key_spending_limit` even when the wallet could pay; the limit counts this month's
//! earlier charges; only the key's owner sets it. On SQLite and on Postgres.

use crate::common;

use axum::http::StatusCode;
use common::with_service_token;
use common::{new_key, TestApp};
use keyward::wallet::ledger;
use keyward::workspace::Owner;
use serde_json::{json, Value};

on_both_databases_with!(with_service_token;
    a_key_never_charges_past_its_monthly_limit,
    only_the_owner_sets_a_limit_and_bad_limits_write_nothing,
    the_limit_is_per_calendar_month_in_utc,
);

/// 2026-11-30T23:59:59Z, the last second of November.
const LAST_SECOND_OF_NOVEMBER_MS: i64 = 1_796_083_199_000;

async fn charge(app: &TestApp, key: &str, cost: i64, idempotency_key: &str) -> Value {
    let body = json!({"key": key, "cost": cost, "idempotency_key": idempotency_key});
    let reply = common::verify_and_charge(app, body).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "charge {cost} ({idempotency_key}): {}",
        reply.body
    );
    reply.json()
}

async fn set_limit(app: &TestApp, cookie: &str, key_id: &str, limit: &str) -> common::Reply {
    app.call(
        "/api/set_key_spend_limit",
        &[("id", key_id), ("limit", limit)],
        Some(cookie),
    )
    .await
}

async fn fund(app: &TestApp, user_id: &str, credits: i64) {
    common::grant_credits(app, Owner::User(user_id.to_string()), credits, user_id).await;
}

async fn spent_this_month(app: &TestApp, cookie: &str, key_id: &str) -> i64 {
    let reply = app
        .call("/api/key_details", &[("id", key_id)], Some(cookie))
        .await;
    reply.json()["spent_this_month"].as_i64().expect("spent")
}

async fn a_key_never_charges_past_its_monthly_limit(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let (key_id, key) = new_key(&app, &cookie, "jobs", &["account:read"]).await;
    let (_, other) = new_key(&app, &cookie, "other", &["account:read"]).await;
    let first = charge(&app, &key, 1, "probe").await;
    assert_eq!(first["reason"], "insufficient_credits");
    let user_id = first["owner_id"].as_str().unwrap().to_string();
    fund(&app, &user_id, 1_000).await;

    // 30 charged before the limit is set count against it.
    assert_eq!(charge(&app, &key, 30, "before").await["valid"], true);
    let set = set_limit(&app, &cookie, &key_id, "100").await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(set.json()["monthly_spend_limit"], 100);
    assert_eq!(charge(&app, &key, 60, "a").await["balance"], 910);
    let refused = charge(&app, &key, 20, "b").await;
    assert_eq!(refused["valid"], false);
    assert_eq!(refused["reason"], "key_spending_limit");
    assert_eq!(refused["balance"], 910, "the wallet could have paid");
    // Exactly up to the limit is fine; a replay of an earlier charge is not a new one.
    assert_eq!(charge(&app, &key, 10, "c").await["valid"], true);
    assert_eq!(charge(&app, &key, 60, "a").await["valid"], true);
    assert_eq!(
        charge(&app, &key, 1, "d").await["reason"],
        "key_spending_limit"
    );
    // Another key of the same wallet has its own allowance (none).
    assert_eq!(charge(&app, &other, 500, "e").await["balance"], 400);
    assert_eq!(spent_this_month(&app, &cookie, &key_id).await, 100);

    // Many charges racing in one group never pass the limit together.
    assert_eq!(
        set_limit(&app, &cookie, &key_id, "150").await.status,
        StatusCode::OK
    );
    let app = std::sync::Arc::new(app);
    let racers: Vec<_> = (0..40)
        .map(|i| {
            let (app, key) = (app.clone(), key.clone());
            tokio::spawn(async move { charge(&app, &key, 5, &format!("race-{i}")).await })
        })
        .collect();
    let mut charged = 0;
    for racer in racers {
        let answer = racer.await.unwrap();
        if answer["valid"] == true {
            charged += 1;
        } else {
            assert_eq!(answer["reason"], "key_spending_limit", "{answer}");
        }
    }
    assert_eq!(charged, 10, "50 credits of allowance, 5 each");
    assert_eq!(spent_this_month(&app, &cookie, &key_id).await, 150);

    // Removing the limit lets the key spend what the wallet holds.
    assert_eq!(
        set_limit(&app, &cookie, &key_id, "").await.json()["monthly_spend_limit"],
        Value::Null
    );
    assert_eq!(charge(&app, &key, 300, "f").await["balance"], 50);
    let (_, mismatches) = ledger::verify(&app.state.db).await.unwrap();
    assert!(mismatches.is_empty());
}

async fn only_the_owner_sets_a_limit_and_bad_limits_write_nothing(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let (_, stranger) = app.sign_up().await;
    let (key_id, _) = new_key(&app, &cookie, "jobs", &["account:read"]).await;
    let theirs = set_limit(&app, &stranger, &key_id, "10").await;
    let missing = set_limit(&app, &stranger, "kid_doesnotexist", "10").await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert_eq!((theirs.status, theirs.body), (missing.status, missing.body));
    for bad in ["0", "-5", "ten", "1.5", "99999999999999999999"] {
        let reply = set_limit(&app, &cookie, &key_id, bad).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            reply.body
        );
        assert!(
            reply.body.contains("whole number of credits"),
            "{bad}: {}",
            reply.body
        );
    }
    let (limits,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM api_keys WHERE monthly_spend_limit IS NOT NULL")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(limits, 0);
    assert_eq!(
        set_limit(&app, &cookie, &key_id, "1,000").await.json()["monthly_spend_limit"],
        1000
    );
    let events = app
        .call("/api/key_details", &[("id", &key_id)], Some(&cookie))
        .await
        .json();
    assert_eq!(
        events["events"][0]["event"],
        "monthly spending limit set to 1,000"
    );
}

/// A charge in the last second of a month counts against that month; one a second
/// later, against the next, whose allowance is whole again.
async fn the_limit_is_per_calendar_month_in_utc(app: TestApp) {
    app.state.clock.pin_at(LAST_SECOND_OF_NOVEMBER_MS);
    let (_, cookie) = app.sign_up().await;
    let (key_id, key) = new_key(&app, &cookie, "month-end", &["account:read"]).await;
    let probe = charge(&app, &key, 1, "probe").await;
    let user_id = probe["owner_id"].as_str().unwrap().to_string();
    fund(&app, &user_id, 1_000).await;
    let set = set_limit(&app, &cookie, &key_id, "50").await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);

    assert_eq!(charge(&app, &key, 50, "november").await["valid"], true);
    let over = charge(&app, &key, 1, "november-over").await;
    assert_eq!(over["reason"], "key_spending_limit", "{over}");
    assert_eq!(spent_this_month(&app, &cookie, &key_id).await, 50);

    app.state.clock.advance_secs(1);
    assert_eq!(spent_this_month(&app, &cookie, &key_id).await, 0);
    assert_eq!(charge(&app, &key, 50, "december").await["valid"], true);
    let over = charge(&app, &key, 1, "december-over").await;
    assert_eq!(over["reason"], "key_spending_limit", "{over}");
    assert_eq!(over["balance"], 900, "the wallet paid 50 in each month");
}
