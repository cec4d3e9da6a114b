//! Promotion codes on subscriptions, against localstripe, on SQLite and Postgres: what a
//! code applies to and for how long; each discounted invoice gets minus the discount,
//! waiting at the provider for it; renewals (posted as Stripe's signed webhooks) use up
//! a repeating code's months, after which the next invoice is the full price.

use crate::common;
use crate::subscriptions::{balance, card_token, deliver, invoice, live, stripe_config};

use axum::http::StatusCode;
use common::orgs::{self, Person};
use common::TestApp;
use keyward::wallet::{promos, NewPromo};
use keyward::workspace::Owner;
use serde_json::Value;

on_both_databases_with!(stripe_config;
    a_three_month_half_price_code_discounts_three_invoices_then_stops,
    a_code_says_why_it_does_not_apply_to_a_subscription,
    a_code_that_pays_every_invoice_needs_no_card,
    a_code_for_one_plan_ends_when_the_plan_changes,
);

async fn create_code(app: &TestApp, promo: NewPromo) {
    promos::check_plans(&promo, &app.state.config.plans).expect("known plans");
    promos::create(&app.state.db, &promo, "tests", "usd", app.state.now_ms())
        .await
        .expect("create promo code");
}

fn half(name: &str, months: i64) -> NewPromo {
    NewPromo {
        code: name.into(),
        percent_off: Some(50),
        once_per_user: true,
        applies_to: "subscriptions".into(),
        duration: "repeating".into(),
        duration_months: Some(months),
        plans: "standard".into(),
        ..NewPromo::default()
    }
}

async fn quote(app: &TestApp, who: &Person, plan: &str, code: &str) -> common::Reply {
    let form = [("plan", plan), ("interval", "month"), ("code", code)];
    orgs::call(app, who, "quote_subscription_code", &form).await
}

async fn subscribe_with(app: &TestApp, who: &Person, plan: &str, code: &str) -> common::Reply {
    let token = card_token("4242424242424242").await;
    let form = [
        ("plan", plan),
        ("interval", "month"),
        ("card_token", token.as_str()),
        ("promo_code", code),
    ];
    orgs::call(app, who, "subscribe", &form).await
}

async fn next_invoice(app: &TestApp, who: &Person) -> Value {
    let row = live(app, who).await;
    app.state.upcoming_invoices.forget(&row.id);
    let page = orgs::call(app, who, "subscription_overview", &[])
        .await
        .json();
    page["next_invoice"][1].clone()
}

async fn a_three_month_half_price_code_discounts_three_invoices_then_stops(app: TestApp) {
    create_code(&app, half("HALF3", 3)).await;
    let person = orgs::person(&app).await;
    let owner = Owner::User(person.id.clone());

    let quoted = quote(&app, &person, "standard", "half3").await;
    assert_eq!(quoted.status, StatusCode::OK, "{}", quoted.body);
    let quoted = quoted.json();
    assert_eq!(quoted["code"], "HALF3");
    assert_eq!(quoted["label"], "50% off for 3 months");
    assert_eq!(quoted["discount"], "$10.00");
    assert_eq!(quoted["first_invoice"], "$10.00");

    let reply = subscribe_with(&app, &person, "standard", "HALF3").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let page = orgs::call(&app, &person, "subscription_overview", &[])
        .await
        .json();
    let invoices = page["invoices"].as_array().unwrap();
    assert_eq!(invoices.len(), 1, "{page}");
    assert_eq!(
        invoices[0]["total"], "$10.00",
        "the first invoice is discounted: {page}"
    );
    assert_eq!(
        balance(&app, &owner).await,
        (2000, 2000),
        "the plan's credits in full"
    );
    assert_eq!(
        next_invoice(&app, &person).await,
        "$10.00",
        "the second is too"
    );

    // Renewals, as Stripe reports them: the second keeps a discount for the third; the
    // third uses the last month, and the fourth is the full price.
    let row = live(&app, &person).await;
    let (start, end) = (
        row.current_period_start / 1000,
        row.current_period_end / 1000,
    );
    for (n, expected) in [(2, "$10.00"), (3, "$20.00")] {
        let id = format!("in_renewal_{n}_{}", &row.id[4..]);
        let paid = invoice(&id, &row, start, end, "paid");
        let reply = deliver(&app, &format!("evt_{id}"), "invoice.paid", paid.clone()).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(
            next_invoice(&app, &person).await,
            expected,
            "after renewal {n}"
        );
        // The same event again changes nothing.
        deliver(&app, &format!("evt_{id}"), "invoice.paid", paid).await;
        assert_eq!(
            next_invoice(&app, &person).await,
            expected,
            "after renewal {n} again"
        );
    }
    // Once per person: not for the person's organization either.
    let slug = orgs::create_org(&app, &person).await;
    let form = [
        ("org", slug.as_str()),
        ("plan", "standard"),
        ("interval", "month"),
        ("code", "HALF3"),
    ];
    let again = orgs::call(&app, &person, "quote_subscription_code", &form).await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.body
    );
    assert!(again.body.contains("already used"), "{}", again.body);
}

async fn a_code_says_why_it_does_not_apply_to_a_subscription(app: TestApp) {
    create_code(&app, half("STDONLY", 2)).await;
    create_code(
        &app,
        NewPromo {
            code: "PACKS".into(),
            percent_off: Some(10),
            applies_to: "credits".into(),
            ..NewPromo::default()
        },
    )
    .await;
    create_code(
        &app,
        NewPromo {
            code: "SOLO".into(),
            amount_off_minor: Some(500),
            max_redemptions: Some(1),
            duration: "forever".into(),
            ..NewPromo::default()
        },
    )
    .await;
    let person = orgs::person(&app).await;
    for (plan, code, expected) in [
        ("pro", "STDONLY", "for the standard plan only"),
        ("standard", "PACKS", "for credits only"),
        ("standard", "NOPE", "no promotion code with that name"),
        ("standard", "", "Enter a promotion code"),
    ] {
        let refused = quote(&app, &person, plan, code).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert!(refused.body.contains(expected), "{code}: {}", refused.body);
    }
    // A subscribe call with a code that does not apply makes nothing.
    let refused = subscribe_with(&app, &person, "pro", "STDONLY").await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    let none = keyward::billing::store::live(&app.state.db.pool, &Owner::User(person.id.clone()))
        .await
        .unwrap();
    assert_eq!(none, None);

    // The last redemption goes to one subscriber; the next is told it is used up. A
    // fixed amount forever takes $5.00 off every invoice.
    let reply = subscribe_with(&app, &person, "pro", "solo").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let page = orgs::call(&app, &person, "subscription_overview", &[])
        .await
        .json();
    assert_eq!(page["invoices"][0]["total"], "$75.00", "{page}");
    assert_eq!(next_invoice(&app, &person).await, "$75.00");
    let other = orgs::person(&app).await;
    let used_up = quote(&app, &other, "pro", "SOLO").await;
    assert!(used_up.body.contains("used up"), "{}", used_up.body);
    // A code for subscriptions only is refused on a credits order.
    let order = app
        .call(
            "/api/create_order",
            &[("credits", "1000")],
            Some(&other.cookie),
        )
        .await;
    let order = order.json().as_str().unwrap().to_string();
    let applied = app
        .call(
            "/api/apply_promo_code",
            &[("order_id", order.as_str()), ("code", "STDONLY")],
            Some(&other.cookie),
        )
        .await;
    assert!(
        applied.body.contains("for subscriptions only"),
        "{}",
        applied.body
    );
}

async fn a_code_that_pays_every_invoice_needs_no_card(app: TestApp) {
    create_code(
        &app,
        NewPromo {
            code: "ONTHEHOUSE".into(),
            percent_off: Some(100),
            applies_to: "subscriptions".into(),
            duration: "forever".into(),
            ..NewPromo::default()
        },
    )
    .await;
    create_code(&app, half("HALFNOCARD", 1)).await;
    let person = orgs::person(&app).await;
    let owner = Owner::User(person.id.clone());
    let no_card = |code: &'static str| {
        [
            ("plan", "standard"),
            ("interval", "month"),
            ("card_token", ""),
            ("promo_code", code),
        ]
    };
    // Without a card, a code must pay for everything.
    for code in ["", "HALFNOCARD"] {
        let refused = orgs::call(&app, &person, "subscribe", &no_card(code)).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert!(
            refused.body.contains("Enter your card details"),
            "{}",
            refused.body
        );
    }
    let quoted = quote(&app, &person, "standard", "ONTHEHOUSE").await.json();
    assert_eq!(quoted["pays_every_invoice"], true, "{quoted}");
    assert_eq!(quoted["first_invoice"], "$0.00");
    let reply = orgs::call(&app, &person, "subscribe", &no_card("ONTHEHOUSE")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let page = orgs::call(&app, &person, "subscription_overview", &[])
        .await
        .json();
    assert_eq!(page["current"]["plan"], "standard", "{page}");
    assert_eq!(page["invoices"][0]["total"], "$0.00", "{page}");
    assert_eq!(page["card"], Value::Null, "no card was kept");
    assert_eq!(
        balance(&app, &owner).await,
        (2000, 2000),
        "the plan's credits in full"
    );
    assert_eq!(next_invoice(&app, &person).await, "$0.00");
    // The half-price code (once per person) was given back when the subscribe call that
    // named it was refused: the person may still use it.
    let again = quote(&app, &person, "standard", "HALFNOCARD").await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
}

async fn a_code_for_one_plan_ends_when_the_plan_changes(app: TestApp) {
    create_code(&app, half("STDHALF", 3)).await;
    let person = orgs::person(&app).await;
    let reply = subscribe_with(&app, &person, "standard", "STDHALF").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(next_invoice(&app, &person).await, "$10.00");
    let quote = orgs::call(
        &app,
        &person,
        "preview_plan_change",
        &[("plan", "pro"), ("interval", "month")],
    )
    .await
    .json();
    assert_eq!(quote["kind"], "upgrade", "{quote}");
    let quoted_at = quote["quoted_at"].as_i64().unwrap().to_string();
    let charge = quote["charge_now_minor"].as_i64().unwrap().to_string();
    let form = [
        ("plan", "pro"),
        ("interval", "month"),
        ("quoted_at", quoted_at.as_str()),
        ("charge_minor", charge.as_str()),
    ];
    let changed = orgs::call(&app, &person, "change_plan", &form).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    // A code for Standard does not follow the subscription to Pro.
    assert_eq!(next_invoice(&app, &person).await, "$80.00");
    let ended: (String,) =
        sqlx::query_as("SELECT status FROM subscription_discounts WHERE user_id = $1")
            .bind(&person.id)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(ended.0, "ended");
}
