//! Included credits that expire, on SQLite and on Postgres: spends take them first (the
//! grant that expires first, first), bought credits never expire, the expiry entry
//! removes exactly what is left, a second sweep (or a second process) expires nothing
//! more, and the balance stays the sum of the entries throughout.

use crate::common;

use axum::http::StatusCode;
use common::orgs::{create_org, person};
use common::{api, new_key, verify_and_charge, with_service_token, TestApp};
use keyward::wallet::included::{self, IncludedGrant};
use keyward::wallet::{ledger, EntryKind};
use keyward::workspace::Owner;
use serde_json::json;

on_both_databases_with!(with_service_token;
    spends_take_included_credits_first_and_what_is_left_expires,
    the_grant_that_expires_first_is_spent_first,
    a_grant_is_written_once_and_expires_once,
    the_rest_api_and_the_wallet_show_the_split,
    a_grant_into_a_debt_pays_it_first_and_grants_keep_their_order,
    allocations_give_bought_credits_only,
    the_subscription_endpoint_answers_the_plan_and_what_it_included,
);

const DAY_MS: i64 = 86_400_000;

fn included_grant(owner: &Owner, credits: i64, expires_at: i64, key: &str) -> IncludedGrant {
    IncludedGrant {
        owner: owner.clone(),
        credits,
        expires_at,
        description: "Standard plan: included credits".into(),
        actor: "subscription".into(),
        reference: None,
        idempotency_key: format!("included:{key}"),
    }
}

async fn balance(app: &TestApp, owner: &Owner) -> i64 {
    ledger::balance(&app.state.db, owner).await.unwrap()
}

async fn left(app: &TestApp, owner: &Owner) -> i64 {
    included::left(&app.state.db, owner).await.unwrap().credits
}

async fn assert_ledger_balanced(app: &TestApp) {
    let (_, mismatches) = ledger::verify(&app.state.db).await.expect("verify");
    assert!(mismatches.is_empty(), "{mismatches:?}");
    let out = included::out_of_bounds(&app.state.db)
        .await
        .expect("bounds");
    assert!(out.is_empty(), "{out:?}");
}

async fn charge(app: &TestApp, key: &str, cost: i64) {
    let reply = verify_and_charge(app, json!({"key": key, "cost": cost})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["valid"], true, "{}", reply.body);
}

async fn spends_take_included_credits_first_and_what_is_left_expires(app: TestApp) {
    let (email, cookie) = app.sign_up().await;
    let owner = Owner::User(app.user_id(&email).await);
    let now = app.state.now_ms();
    included::grant(
        &app.state.db,
        &included_grant(&owner, 100, now + DAY_MS, "a"),
        now,
    )
    .await
    .unwrap();
    common::grant_credits(&app, owner.clone(), 50, "bought-a").await;
    assert_eq!(
        (balance(&app, &owner).await, left(&app, &owner).await),
        (150, 100)
    );

    let (_, key) = new_key(&app, &cookie, "worker", &["account:read"]).await;
    charge(&app, &key, 30).await;
    assert_eq!(
        (balance(&app, &owner).await, left(&app, &owner).await),
        (120, 70)
    );
    // Before its time nothing expires.
    assert_eq!(
        included::expire_due(&app.state.db, now + DAY_MS - 1, 100)
            .await
            .unwrap(),
        0
    );

    // At the end of the period what is left of the grant (70) goes; bought credits stay.
    assert_eq!(
        included::expire_due(&app.state.db, now + DAY_MS, 100)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        (balance(&app, &owner).await, left(&app, &owner).await),
        (50, 0)
    );
    let expired = ledger::entries(&app.state.db, &owner, Some(EntryKind::Expiry), None, 10)
        .await
        .unwrap();
    assert_eq!(expired.entries.len(), 1);
    assert_eq!(expired.entries[0].amount, -70);
    assert_ledger_balanced(&app).await;

    // Past the included credits, spends take bought ones.
    charge(&app, &key, 20).await;
    assert_eq!(
        (balance(&app, &owner).await, left(&app, &owner).await),
        (30, 0)
    );
}

async fn the_grant_that_expires_first_is_spent_first(app: TestApp) {
    let (email, cookie) = app.sign_up().await;
    let owner = Owner::User(app.user_id(&email).await);
    let now = app.state.now_ms();
    // Two periods' grants: this one ends tomorrow, the next one in a month.
    included::grant(
        &app.state.db,
        &included_grant(&owner, 100, now + DAY_MS, "p1"),
        now,
    )
    .await
    .unwrap();
    included::grant(
        &app.state.db,
        &included_grant(&owner, 100, now + 30 * DAY_MS, "p2"),
        now,
    )
    .await
    .unwrap();
    let (_, key) = new_key(&app, &cookie, "worker", &["account:read"]).await;
    charge(&app, &key, 150).await;
    assert_eq!(
        (balance(&app, &owner).await, left(&app, &owner).await),
        (50, 50)
    );
    // The first grant was spent whole: its expiry removes nothing.
    assert_eq!(
        included::expire_due(&app.state.db, now + DAY_MS, 100)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        (balance(&app, &owner).await, left(&app, &owner).await),
        (50, 50)
    );
    // The second's 50 go at its end.
    assert_eq!(
        included::expire_due(&app.state.db, now + 30 * DAY_MS, 100)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        (balance(&app, &owner).await, left(&app, &owner).await),
        (0, 0)
    );
    assert_ledger_balanced(&app).await;
}

async fn a_grant_is_written_once_and_expires_once(app: TestApp) {
    let (email, _) = app.sign_up().await;
    let owner = Owner::User(app.user_id(&email).await);
    let now = app.state.now_ms();
    let grant = included_grant(&owner, 40, now + DAY_MS, "once");
    for _ in 0..2 {
        included::grant(&app.state.db, &grant, now).await.unwrap();
    }
    assert_eq!(
        (balance(&app, &owner).await, left(&app, &owner).await),
        (40, 40)
    );
    // An operator's deduction also takes included credits first.
    let deduction = ledger::Posting {
        owner: owner.clone(),
        amount: -10,
        kind: EntryKind::Adjustment,
        reference: None,
        description: "correction".into(),
        actor: "operator".into(),
        key_id: None,
        metadata: None,
        idempotency_key: "deduct-once".into(),
        may_overdraw: false,
    };
    ledger::post(&app.state.db, &deduction, now).await.unwrap();
    assert_eq!(
        (balance(&app, &owner).await, left(&app, &owner).await),
        (30, 30)
    );
    // Two processes sweeping at once expire it once.
    let other = app.another_process().await;
    let (a, b) = tokio::join!(
        included::expire_due(&app.state.db, now + DAY_MS, 100),
        included::expire_due(&other.state.db, now + DAY_MS, 100),
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    assert_eq!(
        included::expire_due(&app.state.db, now + 2 * DAY_MS, 100)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        (balance(&app, &owner).await, left(&app, &owner).await),
        (0, 0)
    );
    // Bad grants write nothing.
    for bad in [
        included_grant(&owner, 0, now + DAY_MS, "zero"),
        included_grant(&owner, 5, now, "past"),
    ] {
        assert!(included::grant(&app.state.db, &bad, now).await.is_err());
    }
    assert_eq!(balance(&app, &owner).await, 0);
    assert_ledger_balanced(&app).await;
}

async fn the_rest_api_and_the_wallet_show_the_split(app: TestApp) {
    let (email, cookie) = app.sign_up().await;
    let owner = Owner::User(app.user_id(&email).await);
    let now = app.state.now_ms();
    let expires = now + 7 * DAY_MS;
    included::grant(
        &app.state.db,
        &included_grant(&owner, 1_240, expires, "split"),
        now,
    )
    .await
    .unwrap();
    common::grant_credits(&app, owner.clone(), 5_000, "bought-split").await;
    let (_, key) = new_key(&app, &cookie, "reader", &["credits:read"]).await;
    let reply = api(&app, "GET", "/api/v1/credits", Some(&key), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["balance"], 6_240, "{body}");
    assert_eq!(body["included"], 1_240, "{body}");
    assert_eq!(body["bought"], 5_000, "{body}");
    assert_eq!(body["included_expires_at"], expires, "{body}");
    let page = app.call("/api/wallet_overview", &[], Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.json()["included"], 1_240, "{}", page.body);
    assert_eq!(page.json()["included_expires_at"], expires, "{}", page.body);
}

async fn a_grant_into_a_debt_pays_it_first_and_grants_keep_their_order(app: TestApp) {
    let (email, _) = app.sign_up().await;
    let owner = Owner::User(app.user_id(&email).await);
    let now = app.state.now_ms();
    // An operator's correction took the wallet to -30.
    common::grant_credits(&app, owner.clone(), -30, "debt").await;
    included::grant(
        &app.state.db,
        &included_grant(&owner, 100, now + 30 * DAY_MS, "d1"),
        now,
    )
    .await
    .unwrap();
    // 30 paid the debt: 70 are included, and only those expire.
    assert_eq!(
        (balance(&app, &owner).await, left(&app, &owner).await),
        (70, 70)
    );
    assert_ledger_balanced(&app).await;
    // A grant that would expire before the one already there is refused, writing nothing.
    let early = included_grant(&owner, 50, now + DAY_MS, "early");
    let refused = included::grant(&app.state.db, &early, now)
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("must not expire before"),
        "{refused}"
    );
    assert_eq!(
        (balance(&app, &owner).await, left(&app, &owner).await),
        (70, 70)
    );
    assert_eq!(
        included::expire_due(&app.state.db, now + 30 * DAY_MS, 100)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        (balance(&app, &owner).await, left(&app, &owner).await),
        (0, 0)
    );
    assert_ledger_balanced(&app).await;
}

async fn allocations_give_bought_credits_only(app: TestApp) {
    let owner = person(&app).await;
    let slug = create_org(&app, &owner).await;
    let (org_id,): (String,) = sqlx::query_as("SELECT id FROM organizations WHERE slug = $1")
        .bind(&slug)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let org = Owner::Org(org_id);
    let now = app.state.now_ms();
    included::grant(
        &app.state.db,
        &included_grant(&org, 1_000, now + DAY_MS, "org"),
        now,
    )
    .await
    .unwrap();
    common::grant_credits(&app, org.clone(), 200, "org-bought").await;
    let allocate = |credits: &str, request_id: &str| {
        app.call_json(
            "/api/allocate_credits",
            json!({"slug": slug, "members": [owner.id], "credits": credits, "request_id": request_id}),
            &owner.cookie,
        )
    };
    // 1,200 in the wallet, but only the 200 bought may be given (to oneself, too): the
    // included ones would otherwise never expire.
    let refused = allocate("500", "request-0000000001").await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("200 credits to give"),
        "{}",
        refused.body
    );
    let given = allocate("200", "request-0000000002").await;
    assert_eq!(given.status, StatusCode::OK, "{}", given.body);
    assert_eq!(
        (balance(&app, &org).await, left(&app, &org).await),
        (1_000, 1_000)
    );
    let person = Owner::User(owner.id.clone());
    assert_eq!(
        (balance(&app, &person).await, left(&app, &person).await),
        (200, 0)
    );
    assert_ledger_balanced(&app).await;
}

async fn the_subscription_endpoint_answers_the_plan_and_what_it_included(app: TestApp) {
    let (email, cookie) = app.sign_up().await;
    let owner = Owner::User(app.user_id(&email).await);
    let (_, key) = new_key(&app, &cookie, "billing", &["billing:read"]).await;
    let read = || api(&app, "GET", "/api/v1/subscription", Some(&key), None);
    let free = read().await;
    assert_eq!(free.status, StatusCode::OK, "{}", free.body);
    let body = free.json();
    assert_eq!(body["plan"], "free", "{body}");
    assert_eq!(body["source"], "free", "{body}");
    assert_eq!(body["included_credits_left"], 0, "{body}");
    assert!(body["included_credits_expire_at"].is_null(), "{body}");

    // An operator's complimentary Pro, with credits included until next week.
    assert!(
        keyward::lab::store::set_plan(&app.state.db, &email, "pro", app.state.now_ms())
            .await
            .unwrap()
    );
    let now = app.state.now_ms();
    included::grant(
        &app.state.db,
        &included_grant(&owner, 10_000, now + 7 * DAY_MS, "pro"),
        now,
    )
    .await
    .unwrap();
    let body = read().await.json();
    assert_eq!(body["plan"], "pro", "{body}");
    assert_eq!(body["plan_name"], "Pro", "{body}");
    assert_eq!(body["source"], "complimentary", "{body}");
    assert_eq!(body["included_credits_left"], 10_000, "{body}");
    assert_eq!(
        body["included_credits_expire_at"],
        now + 7 * DAY_MS,
        "{body}"
    );

    // The scope is needed.
    let (_, other) = new_key(&app, &cookie, "no-billing", &["account:read"]).await;
    let refused = api(&app, "GET", "/api/v1/subscription", Some(&other), None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(refused.json()["error"]["required_scope"], "billing:read");
}
