//! Subscriptions on Stripe Billing, against localstripe (a real Stripe-compatible
//! server `make test` starts, `TEST_LOCALSTRIPE_URL`), on SQLite and Postgres: the
//! first invoice paid by card grants the plan's included credits and decides the Lab's
//! plan; renewals, failed renewals and the end arrive as signed webhooks exactly as
//! Stripe sends them (localstripe has no clock), once each whatever the redelivery.

use crate::common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::orgs::{self, Person};
use common::TestApp;
use keyward::billing::store;
use keyward::infra::{
    config::Config,
    stripe::{signature_header, StripeConfig},
};
use keyward::wallet::{included, ledger};
use keyward::workspace::Owner;
use serde_json::{json, Value};

const WEBHOOK_SECRET: &str = "whsec_subscription_tests_0123";
const DAY_SECS: i64 = 86_400;

on_both_databases_with!(stripe_config;
    a_subscription_paid_by_card_grants_its_credits_and_its_plan_once,
    renewals_failures_and_the_end_arrive_as_webhooks_each_applied_once,
    a_declined_card_leaves_no_subscription,
    only_owners_and_admins_subscribe_for_an_organization,
);

mod without_stripe {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn subscribing_says_subscriptions_are_not_set_up() {
        let app = super::TestApp::sqlite().await;
        let person = super::orgs::person(&app).await;
        let reply = super::subscribe(&app, &person, None, "standard", "tok_x").await;
        assert_eq!(
            reply.status,
            super::StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            reply.body
        );
        assert!(reply
            .body
            .contains("Subscriptions are not set up on this server"));
        let page = super::orgs::call(&app, &person, "subscription_overview", &[]).await;
        assert_eq!(page.json()["available"], false);
        assert_eq!(page.json()["current"]["plan"], "free");
    }
}

fn localstripe() -> String {
    std::env::var("TEST_LOCALSTRIPE_URL").unwrap_or_else(|_| {
        panic!("TEST_LOCALSTRIPE_URL must name a running localstripe (make test starts one)")
    })
}

pub(crate) fn stripe_config() -> Config {
    let mut config = common::test_config();
    let base = localstripe();
    config.stripe = Some(StripeConfig {
        secret_key: "sk_test_rust".into(),
        publishable_key: "pk_test_rust".into(),
        webhook_secret: WEBHOOK_SECRET.into(),
        js_url: format!("{base}/js.stripe.com/v3/"),
        api_base: base,
    });
    config
}

/// A token for `number` (what the card form answers to keep a card).
pub(crate) async fn card_token(number: &str) -> String {
    let token = common::localstripe_token(number).await;
    token["id"].as_str().expect("a token id").to_string()
}

pub(crate) async fn subscribe(
    app: &TestApp,
    who: &Person,
    org: Option<&str>,
    plan: &str,
    token: &str,
) -> common::Reply {
    let mut form = vec![("plan", plan), ("interval", "month"), ("card_token", token)];
    if let Some(org) = org {
        form.push(("org", org));
    }
    orgs::call(app, who, "subscribe", &form).await
}

pub(crate) async fn deliver(
    app: &TestApp,
    event_id: &str,
    kind: &str,
    object: Value,
) -> common::Reply {
    let now = app.state.now_ms() / 1000;
    let body = serde_json::to_vec(&json!({
        "id": event_id, "object": "event", "type": kind, "created": now,
        "data": { "object": object },
    }))
    .unwrap();
    let signature = signature_header(&body, now, WEBHOOK_SECRET);
    let request = Request::post("/webhooks/stripe")
        .header(header::HOST, common::HOST)
        .header(header::CONTENT_TYPE, "application/json")
        .header("stripe-signature", signature)
        .body(Body::from(body))
        .unwrap();
    app.send(request).await
}

/// An invoice of `subscription` for the period [start, end), as Stripe sends it.
pub(crate) fn invoice(
    id: &str,
    row: &store::SubscriptionRow,
    start: i64,
    end: i64,
    status: &str,
) -> Value {
    json!({
        "id": id, "object": "invoice", "customer": row.customer_id,
        "subscription": row.id, "status": status, "total": 2000, "currency": "usd",
        "number": format!("KW-{id}"), "created": start, "period_start": start,
        "period_end": start,
        "lines": { "data": [{ "description": "Standard", "amount": 2000,
            "period": { "start": start, "end": end } }] },
    })
}

fn subscription_object(row: &store::SubscriptionRow, status: &str) -> Value {
    json!({
        "id": row.id, "object": "subscription", "customer": row.customer_id,
        "status": status, "cancel_at_period_end": false,
        "current_period_start": row.current_period_start / 1000,
        "current_period_end": row.current_period_end / 1000,
        "items": { "data": [{ "id": "si_x", "plan": { "id": "keyward-standard-month-2000-usd" } }] },
    })
}

pub(crate) async fn live(app: &TestApp, who: &Person) -> store::SubscriptionRow {
    store::live(&app.state.db.pool, &Owner::User(who.id.clone()))
        .await
        .unwrap()
        .expect("a live subscription")
}

pub(crate) async fn plan_of(app: &TestApp, owner: &Owner) -> String {
    store::plan_of(
        &app.state.db,
        &app.state.config.plans,
        owner,
        app.state.now_ms(),
    )
    .await
    .unwrap()
    .0
}

pub(crate) async fn balance(app: &TestApp, owner: &Owner) -> (i64, i64) {
    let balance = ledger::balance(&app.state.db, owner).await.unwrap();
    (
        balance,
        included::left(&app.state.db, owner).await.unwrap().credits,
    )
}

async fn a_subscription_paid_by_card_grants_its_credits_and_its_plan_once(app: TestApp) {
    let person = orgs::person(&app).await;
    let owner = Owner::User(person.id.clone());
    assert_eq!(plan_of(&app, &owner).await, "free");
    let token = card_token("4242424242424242").await;
    let reply = subscribe(&app, &person, None, "standard", &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    let row = live(&app, &person).await;
    assert_eq!(
        (row.plan.as_str(), row.interval.as_str()),
        ("standard", "month")
    );
    assert_eq!(row.status, "active");
    assert!(row.current_period_end > app.state.now_ms() + 27 * DAY_SECS * 1000);
    assert_eq!(plan_of(&app, &owner).await, "standard");
    assert_eq!(balance(&app, &owner).await, (2000, 2000));

    let page = orgs::call(&app, &person, "subscription_overview", &[]).await;
    let page = page.json();
    assert_eq!(page["available"], true);
    assert_eq!(page["current"]["plan"], "standard");
    assert_eq!(page["current"]["source"], "subscription");
    assert_eq!(page["current"]["price"], "$20.00");
    assert_eq!(page["card"]["last4"], "4242");
    assert_eq!(
        page["next_invoice"][1], "$20.00",
        "the provider's upcoming invoice: {page}"
    );
    let invoices = page["invoices"].as_array().unwrap();
    assert_eq!(invoices.len(), 1, "{page}");
    assert_eq!(invoices[0]["status"], "paid");
    assert_eq!(invoices[0]["total"], "$20.00");
    assert_eq!(invoices[0]["credits_granted"], 2000);
    // localstripe's own notification of that invoice changes nothing.
    let first_invoice = invoices[0]["id"].as_str().unwrap().to_string();
    let start = row.current_period_start / 1000;
    let end = row.current_period_end / 1000;
    let paid = invoice(&first_invoice, &row, start, end, "paid");
    let reply = deliver(&app, "evt_first_paid", "invoice.payment_succeeded", paid).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(balance(&app, &owner).await, (2000, 2000));

    // The receipt: printable, the person's only; another person's answer is a missing one's.
    let path = format!("/account/subscription/receipts/{first_invoice}");
    let receipt = app.get(&path, Some(&person.cookie)).await;
    assert_eq!(receipt.status, StatusCode::OK, "{}", receipt.body);
    for expected in [
        "<h1>Receipt</h1>",
        "Keyward",
        "Standard plan",
        "$20.00",
        &person.email,
    ] {
        assert!(
            receipt.body.contains(expected),
            "{expected} in {}",
            receipt.body
        );
    }
    let stranger = orgs::person(&app).await;
    let theirs = app.get(&path, Some(&stranger.cookie)).await;
    let missing = app
        .get(
            "/account/subscription/receipts/in_nothing",
            Some(&stranger.cookie),
        )
        .await;
    assert_eq!(
        (theirs.status, &theirs.body),
        (missing.status, &missing.body)
    );
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let policy = receipt
        .header("content-security-policy")
        .unwrap_or_default();
    assert!(
        policy.starts_with("default-src 'none'; style-src 'nonce-"),
        "{policy}"
    );
    assert!(!policy.contains("script-src"), "{policy}");

    // A second subscription while this one lives is refused, before the card is used.
    let again = subscribe(
        &app,
        &person,
        None,
        "pro",
        &card_token("4242424242424242").await,
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(
        again.body.contains("subscription already"),
        "{}",
        again.body
    );

    // Cancel at the period's end, then resume: the provider keeps the same flag.
    let cancelled = orgs::call(
        &app,
        &person,
        "cancel_subscription",
        &[("reason", "not_using")],
    )
    .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    assert!(live(&app, &person).await.cancel_at_period_end);
    let at_provider: Value = reqwest::Client::new()
        .get(format!("{}/v1/subscriptions/{}", localstripe(), row.id))
        .bearer_auth("sk_test_rust")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(at_provider["cancel_at_period_end"], true);
    assert_eq!(
        plan_of(&app, &owner).await,
        "standard",
        "the plan lasts the period"
    );
    let bad_reason = orgs::call(
        &app,
        &person,
        "cancel_subscription",
        &[("reason", "x\u{0}")],
    )
    .await;
    assert_eq!(
        bad_reason.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad_reason.body
    );
    let resumed = orgs::call(&app, &person, "resume_subscription", &[]).await;
    assert_eq!(resumed.status, StatusCode::OK, "{}", resumed.body);
    assert!(!live(&app, &person).await.cancel_at_period_end);
    assert!(ledger::verify(&app.state.db).await.unwrap().1.is_empty());
}

async fn renewals_failures_and_the_end_arrive_as_webhooks_each_applied_once(app: TestApp) {
    let person = orgs::person(&app).await;
    let owner = Owner::User(person.id.clone());
    let token = card_token("4242424242424242").await;
    let reply = subscribe(&app, &person, None, "standard", &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let row = live(&app, &person).await;
    let end = row.current_period_end / 1000;
    let suffix = &row.id[4..];

    // The renewal: the next period's invoice is paid; its credits expire at its end.
    let renewal = invoice(
        &format!("in_renew_{suffix}"),
        &row,
        end,
        end + 30 * DAY_SECS,
        "paid",
    );
    let event = format!("evt_renew_{suffix}");
    for _ in 0..2 {
        let reply = deliver(&app, &event, "invoice.paid", renewal.clone()).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    // The same invoice under another event id (invoice.payment_succeeded) grants nothing more.
    let reply = deliver(
        &app,
        &format!("{event}_b"),
        "invoice.payment_succeeded",
        renewal,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(balance(&app, &owner).await, (4000, 4000));
    let left = included::left(&app.state.db, &owner).await.unwrap();
    assert_eq!(
        left.first_expiry,
        Some(row.current_period_end),
        "the first grant expires first"
    );

    // An invoice of a subscription the provider does not know (yet): not recorded, and
    // answered with an error so the provider delivers it again.
    let stray = invoice(
        &format!("in_stray_{suffix}"),
        &row,
        end,
        end + 30 * DAY_SECS,
        "paid",
    );
    let mut stray_object = stray.clone();
    stray_object["subscription"] = json!(format!("sub_unknown_{suffix}"));
    let event = format!("evt_stray_{suffix}");
    let reply = deliver(&app, &event, "invoice.paid", stray_object).await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    let recorded = app
        .count("SELECT COUNT(*) FROM webhook_events WHERE id LIKE 'evt_stray_%'")
        .await;
    assert_eq!(recorded, 0, "a failed event is not marked handled");

    // A failed renewal: past due, the plan stays while the provider retries.
    let failed = invoice(
        &format!("in_fail_{suffix}"),
        &row,
        end + 30 * DAY_SECS,
        end + 60 * DAY_SECS,
        "open",
    );
    let reply = deliver(
        &app,
        &format!("evt_fail_{suffix}"),
        "invoice.payment_failed",
        failed,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(live(&app, &person).await.status, "past_due");
    assert_eq!(plan_of(&app, &owner).await, "standard");
    assert_eq!(balance(&app, &owner).await, (4000, 4000));
    // The person is told: an email with a link to update the card, and the dashboard.
    let mail = common::newest_mail(&app, "the past-due email", |m| {
        m.to == person.email && m.subject == "Your Keyward Standard payment failed"
    })
    .await;
    assert!(mail.text.contains("/account/subscription"), "{}", mail.text);
    let dashboard = orgs::call(&app, &person, "account_overview", &[]).await;
    assert_eq!(dashboard.json()["past_due_plan"], "Standard");
    let subscription_page = orgs::call(&app, &person, "subscription_overview", &[]).await;
    assert_eq!(subscription_page.json()["current"]["status"], "past_due");
    // A new card for the retries; nothing is charged for it.
    let new_card = card_token("5555555555554444").await;
    let updated = orgs::call(&app, &person, "update_card", &[("card_token", &new_card)]).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    let page = orgs::call(&app, &person, "subscription_overview", &[]).await;
    assert_eq!(page.json()["card"]["last4"], "4444");
    assert_eq!(balance(&app, &owner).await, (4000, 4000));

    // The provider gives up: the subscription ends, the plan is Free at once. (Keyward
    // asks the provider for a subscription's state on each of its events, so it is
    // ended there first, as Stripe would have.)
    let ended_at_provider = reqwest::Client::new()
        .delete(format!("{}/v1/subscriptions/{}", localstripe(), row.id))
        .bearer_auth("sk_test_rust")
        .send()
        .await
        .unwrap();
    assert!(ended_at_provider.status().is_success());
    let ended = subscription_object(&row, "canceled");
    let reply = deliver(
        &app,
        &format!("evt_end_{suffix}"),
        "customer.subscription.deleted",
        ended.clone(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(plan_of(&app, &owner).await, "free");
    assert!(store::live(&app.state.db.pool, &owner)
        .await
        .unwrap()
        .is_none());
    // A late "updated" saying it is active does not bring it back: the provider says
    // it ended.
    let late = subscription_object(&row, "active");
    let reply = deliver(
        &app,
        &format!("evt_late_{suffix}"),
        "customer.subscription.updated",
        late,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(plan_of(&app, &owner).await, "free");
    assert!(ledger::verify(&app.state.db).await.unwrap().1.is_empty());
}

async fn a_declined_card_leaves_no_subscription(app: TestApp) {
    let person = orgs::person(&app).await;
    let owner = Owner::User(person.id.clone());
    let token = card_token("4000000000000341").await;
    let reply = subscribe(&app, &person, None, "standard", &token).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(
        reply.body.contains("\"card\""),
        "the message is beside the card: {}",
        reply.body
    );
    assert!(store::live(&app.state.db.pool, &owner)
        .await
        .unwrap()
        .is_none());
    assert_eq!(plan_of(&app, &owner).await, "free");
    assert_eq!(balance(&app, &owner).await, (0, 0));
    for (plan, field) in [("free", "plan"), ("nope", "plan")] {
        let reply = subscribe(&app, &person, None, plan, &token).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.body
        );
        assert!(
            reply.body.contains(&format!("\"{field}\"")),
            "{}",
            reply.body
        );
    }
    let reply = subscribe(&app, &person, None, "standard", "tok bad").await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
}

async fn only_owners_and_admins_subscribe_for_an_organization(app: TestApp) {
    let owner = orgs::person(&app).await;
    let member = orgs::person(&app).await;
    let stranger = orgs::person(&app).await;
    let slug = orgs::create_org(&app, &owner).await;
    orgs::join(&app, &owner, &slug, &member, "member").await;
    let token = card_token("4242424242424242").await;
    for who in [&member, &stranger] {
        let reply = subscribe(&app, who, Some(&slug), "standard", &token).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    }
    let reply = subscribe(&app, &owner, Some(&slug), "standard", &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let org_id: (String,) = sqlx::query_as("SELECT id FROM organizations WHERE slug = $1")
        .bind(&slug)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let org = Owner::Org(org_id.0);
    assert_eq!(plan_of(&app, &org).await, "standard");
    // Operators see it in Admin > Subscriptions; nobody else may ask.
    let refused = orgs::call(&app, &owner, "admin_subscriptions", &[]).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.body);
    let operator = orgs::person(&app).await;
    keyward::auth::admin::set_admin(&app.state.db, &operator.email, true)
        .await
        .unwrap();
    let report = orgs::call(&app, &operator, "admin_subscriptions", &[]).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    let report = report.json();
    let listed = report["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["who"] == "Acme Research" && row["organization"] == true)
        .cloned()
        .unwrap_or_else(|| panic!("the organization's subscription is listed: {report}"));
    assert_eq!(listed["plan_name"], "Standard");
    assert_eq!(listed["monthly_value"], "$20.00");
    assert!(report["active"].as_i64().unwrap() >= 1);
    assert_eq!(
        balance(&app, &org).await,
        (2000, 2000),
        "the organization's wallet"
    );
    assert_eq!(plan_of(&app, &Owner::User(owner.id.clone())).await, "free");
    // A member sees it and cannot cancel it; a stranger sees nothing.
    let seen = orgs::call(&app, &member, "subscription_overview", &[("org", &slug)]).await;
    assert_eq!(seen.json()["current"]["plan"], "standard");
    assert_eq!(seen.json()["can_manage"], false);
    let cancel = orgs::call(
        &app,
        &member,
        "cancel_subscription",
        &[("org", &slug), ("reason", "")],
    )
    .await;
    assert_eq!(cancel.status, StatusCode::NOT_FOUND, "{}", cancel.body);
    for function in ["preview_plan_change", "change_plan"] {
        let form = [
            ("org", slug.as_str()),
            ("plan", "pro"),
            ("interval", "month"),
            ("quoted_at", "1"),
            ("charge_minor", "0"),
        ];
        let refused = orgs::call(&app, &member, function, &form).await;
        assert_eq!(
            refused.status,
            StatusCode::NOT_FOUND,
            "{function}: {}",
            refused.body
        );
    }
    let theirs = orgs::call(&app, &stranger, "subscription_overview", &[("org", &slug)]).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{}", theirs.body);
    // An organization that is billed is not deleted (its subscription would bill on).
    let deleted = orgs::call(
        &app,
        &owner,
        "delete_organization",
        &[("slug", &slug), ("confirm", &slug)],
    )
    .await;
    assert_eq!(
        deleted.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        deleted.body
    );
    assert!(
        deleted.body.contains("has a subscription"),
        "{}",
        deleted.body
    );
}
