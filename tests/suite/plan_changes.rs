//! Changing plan on Stripe Billing, against localstripe, on SQLite and Postgres: an
//! upgrade is charged at once, the amount shown before confirming; a downgrade waits
//! for the end of the period paid for, and choosing the old plan again before then
//! keeps it.

use crate::common;
use crate::subscriptions::{balance, card_token, live, plan_of, stripe_config, subscribe};

use axum::http::StatusCode;
use common::orgs::{self, Person};
use common::TestApp;
use keyward::workspace::Owner;
use serde_json::Value;

on_both_databases_with!(stripe_config;
    an_upgrade_is_charged_as_shown_and_a_downgrade_waits_for_the_period_end,
);

mod with_lab {
    use super::*;
    on_both_databases_with!(stripe_and_lab_config;
        the_labs_hours_follow_the_plan_paid_for,
    );
}

/// Stripe, and a Lab whose hub is not listening: the page's compute line is read all
/// the same (the server's state is "unavailable").
fn stripe_and_lab_config() -> keyward::infra::config::Config {
    let mut config = stripe_config();
    config.hub = Some(keyward::infra::hub_config::HubConnection {
        url: "http://127.0.0.1:9".into(),
        api_token: "not-a-hub".to_string().into(),
    });
    config
}

async fn compute(app: &TestApp, who: &Person) -> Value {
    orgs::call(app, who, "lab_summary", &[]).await.json()["compute"].clone()
}

async fn the_labs_hours_follow_the_plan_paid_for(app: TestApp) {
    let person = orgs::person(&app).await;
    assert_eq!(compute(&app, &person).await["limit_hours"], 25);
    let token = card_token("4242424242424242").await;
    let reply = subscribe(&app, &person, None, "standard", &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let now = compute(&app, &person).await;
    assert_eq!(
        (now["plan"].as_str(), now["limit_hours"].as_i64()),
        (Some("standard"), Some(400)),
        "{now}"
    );
}

async fn preview(app: &TestApp, who: &Person, plan: &str, interval: &str) -> common::Reply {
    let form = [("plan", plan), ("interval", interval)];
    orgs::call(app, who, "preview_plan_change", &form).await
}

async fn confirm(app: &TestApp, who: &Person, quote: &Value, charge_minor: i64) -> common::Reply {
    let quoted_at = quote["quoted_at"].as_i64().unwrap().to_string();
    let charge = charge_minor.to_string();
    let form = [
        ("plan", quote["plan"].as_str().unwrap()),
        ("interval", quote["interval"].as_str().unwrap()),
        ("quoted_at", quoted_at.as_str()),
        ("charge_minor", charge.as_str()),
    ];
    orgs::call(app, who, "change_plan", &form).await
}

async fn page(app: &TestApp, who: &Person) -> Value {
    let row = live(app, who).await;
    app.state.upcoming_invoices.forget(&row.id);
    orgs::call(app, who, "subscription_overview", &[])
        .await
        .json()
}

async fn an_upgrade_is_charged_as_shown_and_a_downgrade_waits_for_the_period_end(app: TestApp) {
    let person = orgs::person(&app).await;
    let owner = Owner::User(person.id.clone());
    // Nothing to change without a subscription.
    let none = preview(&app, &person, "pro", "month").await;
    assert_eq!(
        none.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        none.body
    );
    assert!(
        none.body.contains("no subscription to change"),
        "{}",
        none.body
    );

    let token = card_token("4242424242424242").await;
    let reply = subscribe(&app, &person, None, "standard", &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let period_end = live(&app, &person).await.current_period_end;
    for (plan, interval, expected) in [
        ("standard", "month", "This is the plan you are on"),
        ("free", "month", "cancel the subscription"),
        ("nope", "month", "Choose one of the plans shown"),
        ("pro", "week", "Choose monthly or yearly"),
    ] {
        let refused = preview(&app, &person, plan, interval).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert!(
            refused.body.contains(expected),
            "{plan}/{interval}: {}",
            refused.body
        );
    }

    // Upgrade: the rest of this month at Pro less the unused Standard, shown first.
    let quote = preview(&app, &person, "pro", "month").await;
    assert_eq!(quote.status, StatusCode::OK, "{}", quote.body);
    let quote = quote.json();
    assert_eq!(quote["kind"], "upgrade");
    assert_eq!(quote["charge_now"], "$60.00", "{quote}");
    assert_eq!(quote["credits_now"], 8000);
    assert_eq!(quote["new_price"], "$80.00 per month");
    // A different amount, or one shown long ago, changes nothing.
    let altered = confirm(&app, &person, &quote, 1).await;
    assert_eq!(
        altered.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        altered.body
    );
    assert!(
        altered.body.contains("amount has changed"),
        "{}",
        altered.body
    );
    let mut stale = quote.clone();
    stale["quoted_at"] = (quote["quoted_at"].as_i64().unwrap() - 3600).into();
    let stale = confirm(&app, &person, &stale, 6000).await;
    assert_eq!(
        stale.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        stale.body
    );
    assert_eq!(plan_of(&app, &owner).await, "standard");

    let upgraded = confirm(&app, &person, &quote, 6000).await;
    assert_eq!(upgraded.status, StatusCode::OK, "{}", upgraded.body);
    assert_eq!(plan_of(&app, &owner).await, "pro");
    let row = live(&app, &person).await;
    assert_eq!((row.plan.as_str(), row.price_minor), ("pro", 8000));
    assert_eq!(row.current_period_end, period_end, "the period goes on");
    assert_eq!(balance(&app, &owner).await, (10_000, 10_000));
    let shown = page(&app, &person).await;
    let invoices = shown["invoices"].as_array().unwrap();
    assert_eq!(invoices.len(), 2, "{shown}");
    assert_eq!(invoices[0]["total"], "$60.00", "{shown}");
    assert_eq!(invoices[0]["status"], "paid");
    assert_eq!(invoices[0]["credits_granted"], 8000);
    assert_eq!(shown["next_invoice"][1], "$80.00", "{shown}");

    // Downgrade: Pro is kept until the period ends; the renewal bills Standard.
    let quote = preview(&app, &person, "standard", "month").await.json();
    assert_eq!(quote["kind"], "downgrade", "{quote}");
    assert_eq!(quote["charge_now_minor"], 0);
    assert_eq!(quote["effective_at"], period_end);
    let reply = confirm(&app, &person, &quote, 0).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(plan_of(&app, &owner).await, "pro");
    let shown = page(&app, &person).await;
    assert_eq!(shown["current"]["plan"], "pro");
    assert_eq!(shown["current"]["changes_to"][0], "Standard", "{shown}");
    assert_eq!(shown["current"]["changes_to"][1], period_end);
    assert_eq!(
        shown["next_invoice"][1], "$20.00",
        "no proration is billed: {shown}"
    );
    assert_eq!(
        balance(&app, &owner).await,
        (10_000, 10_000),
        "nothing is taken back"
    );
    // While it waits, the one change offered is keeping Pro.
    let other = preview(&app, &person, "standard", "year").await;
    assert_eq!(
        other.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        other.body
    );
    assert!(
        other.body.contains("Keep your current plan first"),
        "{}",
        other.body
    );
    let keep = preview(&app, &person, "pro", "month").await.json();
    assert_eq!(keep["kind"], "keep", "{keep}");
    let kept = confirm(&app, &person, &keep, 0).await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.body);
    let row = live(&app, &person).await;
    assert_eq!(
        (row.plan.as_str(), row.prior_price.as_deref()),
        ("pro", None)
    );
    assert_eq!(page(&app, &person).await["next_invoice"][1], "$80.00");

    // Downgraded again, the change takes effect when the period ends.
    let quote = preview(&app, &person, "standard", "month").await.json();
    assert_eq!(
        confirm(&app, &person, &quote, 0).await.status,
        StatusCode::OK
    );
    assert_eq!(plan_of(&app, &owner).await, "pro");
    // Once a downgrade is in effect (here: its end moved to a minute ago), it is not
    // undone for nothing: Pro is an upgrade again.
    sqlx::query("UPDATE subscriptions SET prior_until = $1 WHERE id = $2")
        .bind(app.state.now_ms() - 60_000)
        .bind(&live(&app, &person).await.id)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(plan_of(&app, &owner).await, "standard");
    let again = preview(&app, &person, "pro", "month").await.json();
    assert_eq!(again["kind"], "upgrade", "{again}");
    sqlx::query("UPDATE subscriptions SET prior_until = $1 WHERE id = $2")
        .bind(period_end)
        .bind(&live(&app, &person).await.id)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(plan_of(&app, &owner).await, "pro");
    app.state
        .clock
        .advance_secs((period_end - app.state.now_ms()) / 1000 + 60);
    assert_eq!(plan_of(&app, &owner).await, "standard");
    assert_eq!(
        page(&app, &person).await["current"]["changes_to"],
        Value::Null
    );
}
