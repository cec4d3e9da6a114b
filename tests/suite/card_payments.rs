//! Card payments: Stripe webhooks (signatures, redelivery, order) on SQLite and
//! Postgres, and the whole flow against localstripe, a real Stripe-compatible server
//! that `make test` starts (`TEST_LOCALSTRIPE_URL`).

use crate::common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::TestApp;
use keyward::infra::{
    config::Config,
    stripe::{signature_header, StripeConfig},
};
use keyward::wallet::{ledger, promos, NewPromo};
use keyward::workspace::Owner;
use serde_json::{json, Value};
use std::time::Duration;

const WEBHOOK_SECRET: &str = "whsec_rust_tests_0123456789";

mod without_card_payments {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn webhooks_without_card_payments_are_not_found() {
        let app = super::TestApp::sqlite().await;
        let reply = super::send_webhook(&app, b"{}", Some("t=1,v1=00")).await;
        assert_eq!(reply.status, super::StatusCode::NOT_FOUND);
        let (_, cookie) = app.sign_up().await;
        let frame = app.get("/account/wallet/card-form", Some(&cookie)).await;
        assert_eq!(frame.status, super::StatusCode::NOT_FOUND);
    }
}

on_both_databases_with!(stripe_config;
    only_the_card_form_frame_may_run_the_providers_script,
    webhook_signatures_are_checked_before_anything_happens,
    redelivered_and_out_of_order_webhooks_credit_once,
    a_card_payment_through_localstripe_adds_credits_once,
);

fn localstripe() -> String {
    std::env::var("TEST_LOCALSTRIPE_URL").unwrap_or_else(|_| {
        panic!("TEST_LOCALSTRIPE_URL must name a running localstripe (make test starts one)")
    })
}

fn stripe_config() -> Config {
    let mut config = common::test_config();
    // Webhook-only scenarios never call the API; the flow scenario needs localstripe.
    let base =
        std::env::var("TEST_LOCALSTRIPE_URL").unwrap_or_else(|_| "http://127.0.0.1:9".into());
    config.stripe = Some(StripeConfig {
        secret_key: "sk_test_rust".into(),
        publishable_key: "pk_test_rust".into(),
        webhook_secret: WEBHOOK_SECRET.into(),
        js_url: format!("{base}/js.stripe.com/v3/"),
        api_base: base,
    });
    config
}

async fn send_webhook(app: &TestApp, body: &[u8], signature: Option<&str>) -> common::Reply {
    let mut request = Request::post("/webhooks/stripe")
        .header(header::HOST, common::HOST)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(signature) = signature {
        request = request.header("stripe-signature", signature);
    }
    app.send(request.body(Body::from(body.to_vec())).unwrap())
        .await
}

fn now_secs(app: &TestApp) -> i64 {
    app.state.now_ms() / 1000
}

/// A signed `payment_intent.*` event as Stripe sends it.
async fn deliver(app: &TestApp, event_id: &str, kind: &str, intent: Value) -> common::Reply {
    let body = serde_json::to_vec(&json!({
        "id": event_id,
        "object": "event",
        "type": kind,
        "created": now_secs(app),
        "data": { "object": intent },
    }))
    .unwrap();
    let signature = signature_header(&body, now_secs(app), WEBHOOK_SECRET);
    send_webhook(app, &body, Some(&signature)).await
}

fn intent(id: &str, order: &str, amount: i64, status: &str, error: Option<&str>) -> Value {
    json!({
        "id": id, "object": "payment_intent", "amount": amount, "currency": "usd",
        "status": status, "metadata": { "order_id": order },
        "last_payment_error": error.map(|message| json!({ "message": message })),
    })
}

async fn balance(app: &TestApp, user: &str) -> i64 {
    ledger::balance(&app.state.db, &Owner::User(user.to_string()))
        .await
        .unwrap()
}

async fn new_order(app: &TestApp, cookie: &str, credits: i64) -> String {
    let reply = app
        .call(
            "/api/create_order",
            &[("credits", &credits.to_string())],
            Some(cookie),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json().as_str().unwrap().to_string()
}

async fn order_state(app: &TestApp, order: &str) -> (String, Option<String>) {
    sqlx::query_as("SELECT status, failure_reason FROM orders WHERE id = $1")
        .bind(order)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

/// An order whose card payment `payment_id` is under way, as `pay_order` leaves it.
async fn processing_order(app: &TestApp, cookie: &str, payment_id: &str) -> String {
    let order = new_order(app, cookie, 1_000).await;
    sqlx::query("UPDATE orders SET status = 'processing', payment_intent_id = $1 WHERE id = $2")
        .bind(payment_id)
        .bind(&order)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO order_payments (payment_id, order_id, amount_minor, currency, created_at) \
         VALUES ($1, $2, 1000, 'usd', 0)",
    )
    .bind(payment_id)
    .bind(&order)
    .execute(&app.state.db.pool)
    .await
    .unwrap();
    order
}

async fn webhook_events(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM webhook_events").await
}

async fn only_the_card_form_frame_may_run_the_providers_script(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let stripe = app.state.config.stripe.clone().unwrap();
    let origin = keyward::infra::stripe::origin_of(&stripe.js_url).unwrap();
    let frame = app.get("/account/wallet/card-form", Some(&cookie)).await;
    assert_eq!(frame.status, StatusCode::OK);
    let policy = frame.header("content-security-policy").unwrap();
    assert!(policy.contains("script-src 'nonce-"), "{policy}");
    assert!(policy.contains(&origin), "{policy}");
    assert!(policy.contains("frame-ancestors 'self'"), "{policy}");
    assert_eq!(
        frame.header("x-frame-options").as_deref(),
        Some("SAMEORIGIN")
    );
    assert!(
        frame
            .body
            .contains(&format!("<script src=\"{}\"", stripe.js_url)),
        "{}",
        frame.body
    );
    assert!(frame.body.contains("\"pk_test_rust\""));
    assert!(!frame.body.contains("sk_test_rust") && !frame.body.contains(WEBHOOK_SECRET));
    // Signed out, it is not served.
    let signed_out = app.get("/account/wallet/card-form", None).await;
    assert_ne!(signed_out.status, StatusCode::OK);

    // The pages themselves, checkout included, allow no third-party script and no framing.
    let order = new_order(&app, &cookie, 1_000).await;
    for page in [
        format!("/account/wallet/checkout/{order}"),
        "/account/wallet".to_string(),
    ] {
        let reply = app.get(&page, Some(&cookie)).await;
        let policy = reply.header("content-security-policy").unwrap();
        assert!(!policy.contains(&origin), "{page}: {policy}");
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{page}: {policy}"
        );
        assert!(!reply.body.contains("sk_test_rust"), "{page}");
    }
}

async fn webhook_signatures_are_checked_before_anything_happens(app: TestApp) {
    let (email, cookie) = app.sign_up().await;
    let user = app.user_id(&email).await;
    let order = processing_order(&app, &cookie, "pi_sigtest").await;
    let body = serde_json::to_vec(&json!({
        "id": "evt_sig", "type": "payment_intent.succeeded", "created": now_secs(&app),
        "data": { "object": intent("pi_sigtest", &order, 1_000, "succeeded", None) },
    }))
    .unwrap();
    let now = now_secs(&app);
    let refused = [
        (None, "missing_signature"),
        (
            Some(signature_header(&body, now, "whsec_someone_else")),
            "bad_signature",
        ),
        (Some("t=abc,v1=zz".to_string()), "bad_signature"),
        // Signed correctly, but six minutes ago: a replay.
        (
            Some(signature_header(&body, now - 360, WEBHOOK_SECRET)),
            "stale_signature",
        ),
        (
            Some(signature_header(&body, now + 360, WEBHOOK_SECRET)),
            "stale_signature",
        ),
    ];
    for (signature, code) in refused {
        let reply = send_webhook(&app, &body, signature.as_deref()).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{code}: {}",
            reply.body
        );
        assert_eq!(reply.json()["error"]["code"], code);
    }
    // A body changed after signing.
    let signature = signature_header(&body, now, WEBHOOK_SECRET);
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    assert_eq!(
        send_webhook(&app, &tampered, Some(&signature)).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(webhook_events(&app).await, 0);
    assert_eq!(balance(&app, &user).await, 0);
    assert_eq!(order_state(&app, &order).await.0, "processing");

    let reply = send_webhook(&app, &body, Some(&signature)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(balance(&app, &user).await, 1_000);
    assert_eq!(order_state(&app, &order).await.0, "paid");
}

async fn redelivered_and_out_of_order_webhooks_credit_once(app: TestApp) {
    let (email, cookie) = app.sign_up().await;
    let user = app.user_id(&email).await;

    // Success, the same event again, another event for the same payment, then a late
    // failure: credited once, and the order stays paid.
    let paid = processing_order(&app, &cookie, "pi_first").await;
    let succeeded = intent("pi_first", &paid, 1_000, "succeeded", None);
    for event in ["evt_a", "evt_a", "evt_b"] {
        let reply = deliver(&app, event, "payment_intent.succeeded", succeeded.clone()).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    let failed = intent(
        "pi_first",
        &paid,
        1_000,
        "requires_payment_method",
        Some("Your card was declined."),
    );
    assert_eq!(
        deliver(&app, "evt_c", "payment_intent.payment_failed", failed)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(balance(&app, &user).await, 1_000);
    assert_eq!(order_state(&app, &paid).await, ("paid".to_string(), None));
    // Each event is recorded once, against its payment, for `keyward orders show`.
    let (_, events) = keyward::wallet::order_history::order_history(&app.state.db, &paid)
        .await
        .unwrap()
        .expect("the order");
    let seen: Vec<(&str, &str, &str)> = events
        .iter()
        .map(|e| (e.event_id.as_str(), e.kind.as_str(), e.payment_id.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("evt_a", "payment_intent.succeeded", "pi_first"),
            ("evt_b", "payment_intent.succeeded", "pi_first"),
            ("evt_c", "payment_intent.payment_failed", "pi_first"),
        ]
    );

    // A failure, then (the person paid after all) a success: failed, then paid.
    let later = processing_order(&app, &cookie, "pi_second").await;
    let failed = intent(
        "pi_second",
        &later,
        1_000,
        "requires_payment_method",
        Some("Your card has insufficient funds."),
    );
    deliver(&app, "evt_d", "payment_intent.payment_failed", failed).await;
    assert_eq!(
        order_state(&app, &later).await,
        (
            "failed".to_string(),
            Some("Your card has insufficient funds.".to_string())
        )
    );
    deliver(
        &app,
        "evt_e",
        "payment_intent.succeeded",
        intent("pi_second", &later, 1_000, "succeeded", None),
    )
    .await;
    assert_eq!(order_state(&app, &later).await.0, "paid");
    assert_eq!(balance(&app, &user).await, 2_000);

    // A payment of another amount than the order's credits nothing.
    let odd = processing_order(&app, &cookie, "pi_third").await;
    deliver(
        &app,
        "evt_f",
        "payment_intent.succeeded",
        intent("pi_third", &odd, 1, "succeeded", None),
    )
    .await;
    assert_eq!(order_state(&app, &odd).await.0, "processing");
    // Other event types are acknowledged and ignored.
    let reply = deliver(&app, "evt_g", "charge.refunded", json!({ "id": "ch_1" })).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(balance(&app, &user).await, 2_000);
    let purchases = app
        .count("SELECT COUNT(*) FROM ledger_entries WHERE kind = 'purchase'")
        .await;
    assert_eq!(purchases, 2);
    assert!(ledger::verify(&app.state.db).await.unwrap().1.is_empty());
}

/// The card id of a token for `number` (what the card form answers for a payment).
async fn card(number: &str) -> String {
    let token = common::localstripe_token(number).await;
    token["card"]["id"].as_str().expect("a card id").to_string()
}

async fn pay(app: &TestApp, cookie: &str, order: &str, payment_method: &str) -> common::Reply {
    app.call(
        "/api/pay_order",
        &[("order_id", order), ("payment_method", payment_method)],
        Some(cookie),
    )
    .await
}

/// Waits (up to 10 s) for localstripe's webhook of `kind` to have been handled.
async fn webhook_handled(app: &TestApp, kind: &str, at_least: i64) {
    for _ in 0..100 {
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM webhook_events WHERE kind = $1")
                .bind(kind)
                .fetch_one(&app.state.db.pool)
                .await
                .unwrap();
        if count >= at_least {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {kind} webhook arrived from localstripe");
}

async fn a_card_payment_through_localstripe_adds_credits_once(app: TestApp) {
    // Keyward on a real port, so localstripe's signed webhooks reach it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let router = app.router.clone();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .ok();
    });
    let hook = format!("rust-{}", keyward::infra::random::base62(8).unwrap());
    let registered = reqwest::Client::new()
        .post(format!("{}/_config/webhooks/{hook}", localstripe()))
        .form(&[
            ("url", format!("http://127.0.0.1:{port}/webhooks/stripe")),
            ("secret", WEBHOOK_SECRET.to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert!(registered.status().is_success());

    let (email, cookie) = app.sign_up().await;
    let user = app.user_id(&email).await;
    promos::create(
        &app.state.db,
        &NewPromo {
            code: "CARD20".into(),
            percent_off: Some(20),
            once_per_user: true,
            ..NewPromo::default()
        },
        "tests",
        "usd",
        app.state.now_ms(),
    )
    .await
    .unwrap();
    let order = new_order(&app, &cookie, 1_000).await;
    let applied = app
        .call(
            "/api/apply_promo_code",
            &[("order_id", &order), ("code", "card20")],
            Some(&cookie),
        )
        .await;
    assert_eq!(applied.json()["total_minor"], 800, "{}", applied.body);

    // Someone else's order answers exactly like a missing one, and charges nothing.
    let (_, stranger) = app.sign_up().await;
    let theirs = pay(&app, &stranger, &order, &card("4242424242424242").await).await;
    let missing = pay(
        &app,
        &stranger,
        "ord_nothing",
        &card("4242424242424242").await,
    )
    .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert_eq!((theirs.status, theirs.body), (missing.status, missing.body));
    let bad = pay(&app, &cookie, &order, "").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    let paid = pay(&app, &cookie, &order, &card("4242424242424242").await).await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.body);
    assert_eq!(paid.json()["order"]["status"], "paid");
    assert_eq!(balance(&app, &user).await, 1_000);
    // The PaymentIntent carries the order, the total and the currency.
    let (intent_id,): (String,) =
        sqlx::query_as("SELECT payment_intent_id FROM orders WHERE id = $1")
            .bind(&order)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    let at_stripe: Value = reqwest::Client::new()
        .get(format!("{}/v1/payment_intents/{intent_id}", localstripe()))
        .bearer_auth("sk_test_rust")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            &at_stripe["amount"],
            &at_stripe["currency"],
            &at_stripe["metadata"]["order_id"]
        ),
        (&json!(800), &json!("usd"), &json!(order))
    );
    // Its webhook comes about a second later and adds nothing more; so does paying again.
    webhook_handled(&app, "payment_intent.succeeded", 1).await;
    assert_eq!(balance(&app, &user).await, 1_000);
    let again = pay(&app, &cookie, &order, &card("4242424242424242").await).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(balance(&app, &user).await, 1_000);

    // A declined card: the reason on the order, nothing added, also after its webhook.
    let second = new_order(&app, &cookie, 5_000).await;
    let declined = pay(&app, &cookie, &second, &card("4000000000000341").await).await;
    assert_eq!(declined.status, StatusCode::OK, "{}", declined.body);
    assert_eq!(declined.json()["order"]["status"], "failed");
    assert_eq!(
        declined.json()["order"]["failure_reason"],
        "Your card was declined."
    );
    webhook_handled(&app, "payment_intent.payment_failed", 1).await;
    assert_eq!(order_state(&app, &second).await.0, "failed");
    assert_eq!(balance(&app, &user).await, 1_000);
    let refreshed = app
        .call(
            "/api/refresh_order_payment",
            &[("order_id", &second)],
            Some(&cookie),
        )
        .await;
    assert_eq!(refreshed.json()["status"], "failed");

    // Another card then pays the same order.
    let retried = pay(&app, &cookie, &second, &card("4242424242424242").await).await;
    assert_eq!(
        retried.json()["order"]["status"],
        "paid",
        "{}",
        retried.body
    );
    assert_eq!(balance(&app, &user).await, 6_000);
    webhook_handled(&app, "payment_intent.succeeded", 2).await;
    assert_eq!(balance(&app, &user).await, 6_000);
    assert!(ledger::verify(&app.state.db).await.unwrap().1.is_empty());
}
