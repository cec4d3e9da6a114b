//! Orders, promo codes and checkout through the page's server functions; the Admin
//! section's rules. On SQLite and on Postgres.

use crate::common;

use axum::http::StatusCode;
use common::TestApp;
use keyward::wallet::{ledger, orders, promos, NewPromo};
use keyward::workspace::Owner;
use serde_json::{json, Value};

on_both_databases!(
    every_promo_rule_says_why_it_does_not_apply,
    a_code_paying_everything_adds_credits_at_once_and_only_once,
    the_last_redemption_goes_to_exactly_one_person,
    an_abandoned_order_gives_its_code_back_after_30_minutes,
    card_orders_need_card_payments_and_orders_stay_private,
    admin_paths_answer_404_to_everyone_else,
    first_purchase_codes_are_checked_again_when_the_order_is_paid,
    once_per_person_holds_when_one_person_races_twelve_orders,
    a_code_deactivated_or_expired_after_it_was_applied_does_not_complete,
    taking_the_code_off_while_completing_never_completes_for_free,
);

fn code(name: &str, percent: i64) -> NewPromo {
    NewPromo {
        code: name.into(),
        percent_off: Some(percent),
        once_per_user: true,
        ..NewPromo::default()
    }
}

async fn create_code(app: &TestApp, promo: NewPromo) {
    promos::create(&app.state.db, &promo, "tests", "usd", app.state.now_ms())
        .await
        .expect("create promo code");
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
    reply.json().as_str().expect("order id").to_string()
}

async fn apply(app: &TestApp, cookie: &str, order: &str, code: &str) -> (StatusCode, Value) {
    let reply = app
        .call(
            "/api/apply_promo_code",
            &[("order_id", order), ("code", code)],
            Some(cookie),
        )
        .await;
    (reply.status, reply.json())
}

/// The message beside the code field, from a refused apply.
fn code_message(v: &Value) -> String {
    v["Validation"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn complete(app: &TestApp, cookie: &str, order: &str) -> common::Reply {
    app.call("/api/complete_order", &[("order_id", order)], Some(cookie))
        .await
}

async fn every_promo_rule_says_why_it_does_not_apply(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let now = app.state.now_ms();
    create_code(&app, code("SPRING20", 20)).await;
    create_code(
        &app,
        NewPromo {
            expires_at: Some(now + 3_600_000),
            ..code("SOON", 10)
        },
    )
    .await;
    create_code(
        &app,
        NewPromo {
            min_purchase_minor: Some(5_000),
            ..code("BIGSPENDER", 10)
        },
    )
    .await;
    create_code(
        &app,
        NewPromo {
            first_purchase_only: true,
            ..code("WELCOME", 100)
        },
    )
    .await;
    create_code(&app, code("RETIRED", 10)).await;
    promos::deactivate(&app.state.db, "retired").await.unwrap();

    let order = new_order(&app, &cookie, 1_000).await;
    let cases = [
        ("NOPE", "There is no promotion code with that name."),
        ("retired", "This promotion code is no longer active."),
        (
            "bigspender",
            "This promotion code needs a purchase of at least $50.00.",
        ),
    ];
    for (name, message) in cases {
        let (status, v) = apply(&app, &cookie, &order, name).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {v}");
        assert_eq!(code_message(&v), message, "{name}");
    }
    let (status, v) = apply(&app, &cookie, &order, "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code_message(&v), "Enter a promotion code.");

    // Case does not matter; 20% of $10.00 is $2.00.
    let (status, v) = apply(&app, &cookie, &order, " spring20 ").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["discount_minor"], 200);
    assert_eq!(v["total_minor"], 800);
    assert_eq!(v["promo"], json!(["SPRING20", "20% off"]));
    // A refused code leaves the applied one in place.
    let (_, _) = apply(&app, &cookie, &order, "NOPE").await;
    let kept = app
        .call("/api/order_details", &[("order_id", &order)], Some(&cookie))
        .await
        .json();
    assert_eq!(kept["total_minor"], 800);

    // Once per person: a second order cannot use it again.
    let second = new_order(&app, &cookie, 1_000).await;
    let (status, v) = apply(&app, &cookie, &second, "SPRING20").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        code_message(&v),
        "You have already used this promotion code."
    );

    // First purchase only: after one paid order it no longer applies.
    let (status, v) = apply(&app, &cookie, &second, "WELCOME").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        complete(&app, &cookie, &second).await.status,
        StatusCode::OK
    );
    let third = new_order(&app, &cookie, 1_000).await;
    let (_, v) = apply(&app, &cookie, &third, "WELCOME").await;
    assert_eq!(
        code_message(&v),
        "This promotion code is for a first purchase only."
    );

    // Expired: two hours later.
    app.state.clock.advance_secs(2 * 3600);
    let (_, v) = apply(&app, &cookie, &third, "SOON").await;
    assert_eq!(code_message(&v), "This promotion code has expired.");
}

async fn a_code_paying_everything_adds_credits_at_once_and_only_once(app: TestApp) {
    let (email, cookie) = app.sign_up().await;
    create_code(&app, code("FREE100", 100)).await;
    let order = new_order(&app, &cookie, 5_000).await;
    let (status, v) = apply(&app, &cookie, &order, "FREE100").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["total_minor"], 0);
    let done = complete(&app, &cookie, &order).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.json()["status"], "paid");
    let again = complete(&app, &cookie, &order).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    // Paid orders keep their code.
    let removed = app
        .call(
            "/api/remove_promo_code",
            &[("order_id", &order)],
            Some(&cookie),
        )
        .await;
    assert_eq!(removed.status, StatusCode::CONFLICT);

    let user_id = keyward::auth::admin::user_id_by_email(&app.state.db, &email)
        .await
        .unwrap()
        .unwrap();
    let owner = Owner::User(user_id);
    assert_eq!(ledger::balance(&app.state.db, &owner).await.unwrap(), 5_000);
    let page = ledger::entries(&app.state.db, &owner, None, None, 50)
        .await
        .unwrap();
    assert_eq!(page.entries.len(), 1);
    assert_eq!(page.entries[0].kind, keyward::wallet::EntryKind::PromoGrant);
    assert_eq!(page.entries[0].reference.as_deref(), Some(order.as_str()));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM promo_redemptions WHERE status = 'consumed'")
            .await,
        1
    );
    let (_, mismatches) = ledger::verify(&app.state.db).await.unwrap();
    assert!(mismatches.is_empty());
}

async fn the_last_redemption_goes_to_exactly_one_person(app: TestApp) {
    create_code(
        &app,
        NewPromo {
            max_redemptions: Some(1),
            ..code("LASTONE", 50)
        },
    )
    .await;
    let mut people = Vec::new();
    for _ in 0..12 {
        let (_, cookie) = app.sign_up().await;
        let order = new_order(&app, &cookie, 1_000).await;
        people.push((cookie, order));
    }
    let app = std::sync::Arc::new(app);
    let tasks: Vec<_> = people
        .into_iter()
        .map(|(cookie, order)| {
            let app = app.clone();
            tokio::spawn(async move { apply(&app, &cookie, &order, "LASTONE").await })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        let (status, v) = task.await.unwrap();
        if status == StatusCode::OK {
            won += 1;
        } else {
            assert_eq!(
                code_message(&v),
                "This promotion code has been used up.",
                "{v}"
            );
        }
    }
    assert_eq!(won, 1);
    assert_eq!(
        app.count("SELECT redeemed FROM promo_codes WHERE code = 'LASTONE'")
            .await,
        1
    );
}

async fn an_abandoned_order_gives_its_code_back_after_30_minutes(app: TestApp) {
    create_code(
        &app,
        NewPromo {
            max_redemptions: Some(1),
            ..code("HOLD", 10)
        },
    )
    .await;
    let (_, first) = app.sign_up().await;
    let (_, second) = app.sign_up().await;
    let abandoned = new_order(&app, &first, 1_000).await;
    assert_eq!(
        apply(&app, &first, &abandoned, "HOLD").await.0,
        StatusCode::OK
    );
    let other = new_order(&app, &second, 1_000).await;
    assert_eq!(
        code_message(&apply(&app, &second, &other, "HOLD").await.1),
        "This promotion code has been used up."
    );

    app.state.clock.advance_secs(29 * 60);
    assert_eq!(
        orders::release_stale(&app.state.db, app.state.now_ms())
            .await
            .unwrap(),
        0
    );
    app.state.clock.advance_secs(2 * 60);
    assert_eq!(
        orders::release_stale(&app.state.db, app.state.now_ms())
            .await
            .unwrap(),
        1
    );
    let (status, v) = apply(&app, &second, &other, "HOLD").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let back = app
        .call(
            "/api/order_details",
            &[("order_id", &abandoned)],
            Some(&first),
        )
        .await
        .json();
    assert_eq!(back["promo"], Value::Null);
    assert_eq!(back["total_minor"], back["subtotal_minor"]);
}

async fn card_orders_need_card_payments_and_orders_stay_private(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let (_, stranger) = app.sign_up().await;
    for credits in ["0", "99", "1000001", "-5", "ten"] {
        let reply = app
            .call("/api/create_order", &[("credits", credits)], Some(&cookie))
            .await;
        assert_ne!(reply.status, StatusCode::OK, "{credits}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 0);
    let order = new_order(&app, &cookie, 1_000).await;
    let unpaid = complete(&app, &cookie, &order).await;
    assert_eq!(unpaid.status, StatusCode::CONFLICT);
    assert!(
        unpaid
            .body
            .contains("Card payments are not set up on this server"),
        "{}",
        unpaid.body
    );

    for path in [
        "/api/order_details",
        "/api/complete_order",
        "/api/remove_promo_code",
    ] {
        let theirs = app
            .call(path, &[("order_id", &order)], Some(&stranger))
            .await;
        let missing = app
            .call(path, &[("order_id", "ord_doesnotexist")], Some(&stranger))
            .await;
        assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            (theirs.status, theirs.body.clone()),
            (missing.status, missing.body),
            "{path}"
        );
    }
    let signed_out = app
        .call("/api/order_details", &[("order_id", &order)], None)
        .await;
    assert_eq!(signed_out.status, StatusCode::UNAUTHORIZED);
}

async fn admin_paths_answer_404_to_everyone_else(app: TestApp) {
    let (email, cookie) = app.sign_up().await;
    let (admin_email, admin_cookie) = app.sign_up().await;
    keyward::auth::admin::set_admin(&app.state.db, &admin_email, true)
        .await
        .unwrap();

    assert_eq!(
        app.call("/api/admin_status", &[], Some(&cookie))
            .await
            .json(),
        json!(false)
    );
    assert_eq!(
        app.call("/api/admin_status", &[], Some(&admin_cookie))
            .await
            .json(),
        json!(true)
    );
    let grant = [
        ("email", email.as_str()),
        ("credits", "500"),
        ("reason", "Thanks"),
        ("request_id", "0123456789abcdef0123"),
    ];
    for (path, form) in [
        ("/api/list_promo_codes", &[][..]),
        ("/api/deactivate_promo_code", &[("code", "ANY")][..]),
        ("/api/grant_credits", &grant[..]),
    ] {
        let reply = app.call(path, form, Some(&cookie)).await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            reply.body
        );
    }
    let create = app
        .call_json(
            "/api/create_promo_code",
            json!({"promo": code("MINE", 10)}),
            &cookie,
        )
        .await;
    assert_eq!(create.status, StatusCode::NOT_FOUND);
    for page in ["/account/admin/promo-codes", "/account/admin/credits"] {
        let reply = app.get(page, Some(&cookie)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{page}");
        assert!(reply.body.contains("Page not found"), "{page}");
        assert!(!reply.body.contains("New promo code"), "{page}");
        let admin_page = app.get(page, Some(&admin_cookie)).await;
        assert_eq!(admin_page.status, StatusCode::OK, "{page}");
    }

    // The admin grants, once per request id however often it is sent.
    for _ in 0..2 {
        let reply = app
            .call("/api/grant_credits", &grant, Some(&admin_cookie))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.json(), json!(500));
    }
    let bad = app
        .call(
            "/api/grant_credits",
            &[
                ("email", "nobody@example.com"),
                ("credits", "0"),
                ("reason", " "),
                ("request_id", "0123456789abcdef0124"),
            ],
            Some(&admin_cookie),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = bad.json()["Validation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fields, ["reason", "credits", "email"]);
    let created = app
        .call_json(
            "/api/create_promo_code",
            json!({"promo": code("ADMINMADE", 15)}),
            &admin_cookie,
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_eq!(created.json()["discount"], "15% off");
    let duplicate = app
        .call_json(
            "/api/create_promo_code",
            json!({"promo": code("adminmade", 15)}),
            &admin_cookie,
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A revoked admin is an ordinary person at once.
    keyward::auth::admin::set_admin(&app.state.db, &admin_email, false)
        .await
        .unwrap();
    assert_eq!(
        app.call("/api/list_promo_codes", &[], Some(&admin_cookie))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

async fn balance_of(app: &TestApp, email: &str) -> i64 {
    let user_id = app.user_id(email).await;
    ledger::balance(&app.state.db, &Owner::User(user_id))
        .await
        .unwrap()
}

/// Two "first purchase only" codes, each reserved by its own open order: only the first
/// order to be paid is a first purchase; the second is refused with the rule's reason.
async fn first_purchase_codes_are_checked_again_when_the_order_is_paid(app: TestApp) {
    for name in ["FIRSTA", "FIRSTB"] {
        create_code(
            &app,
            NewPromo {
                first_purchase_only: true,
                ..code(name, 100)
            },
        )
        .await;
    }
    let (email, cookie) = app.sign_up().await;
    let first = new_order(&app, &cookie, 5_000).await;
    let second = new_order(&app, &cookie, 5_000).await;
    assert_eq!(
        apply(&app, &cookie, &first, "FIRSTA").await.0,
        StatusCode::OK
    );
    assert_eq!(
        apply(&app, &cookie, &second, "FIRSTB").await.0,
        StatusCode::OK
    );
    let done = complete(&app, &cookie, &first).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let refused = complete(&app, &cookie, &second).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(
        code_message(&refused.json()),
        "This promotion code is for a first purchase only."
    );
    assert_eq!(balance_of(&app, &email).await, 5_000);
    let order: (String,) = sqlx::query_as("SELECT status FROM orders WHERE id = $1")
        .bind(&second)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(order.0, "open");
}

/// One person applies one "once per person" code to twelve orders at once and completes
/// them all at once: one is paid by the code, never more.
async fn once_per_person_holds_when_one_person_races_twelve_orders(app: TestApp) {
    let (email, cookie) = app.sign_up().await;
    let app = std::sync::Arc::new(app);
    // Several rounds, each with its own code: the race is a matter of timing.
    const ROUNDS: i64 = 5;
    for round in 0..ROUNDS {
        let name = format!("ONCEONLY{round}");
        create_code(&app, code(&name, 100)).await;
        let mut orders = Vec::new();
        for _ in 0..12 {
            orders.push(new_order(&app, &cookie, 1_000).await);
        }
        let applied = futures::future::join_all(orders.iter().map(|order| {
            let (app, cookie, order, name) =
                (app.clone(), cookie.clone(), order.clone(), name.clone());
            tokio::spawn(async move { (apply(&app, &cookie, &order, &name).await.0, order) })
        }))
        .await;
        let holding: Vec<String> = applied
            .into_iter()
            .map(|r| r.unwrap())
            .filter(|(status, _)| *status == StatusCode::OK)
            .map(|(_, order)| order)
            .collect();
        assert!(!holding.is_empty());
        let completed = futures::future::join_all(holding.iter().map(|order| {
            let (app, cookie, order) = (app.clone(), cookie.clone(), order.clone());
            tokio::spawn(async move { complete(&app, &cookie, &order).await })
        }))
        .await;
        let mut paid = 0;
        for reply in completed {
            let reply = reply.unwrap();
            if reply.status == StatusCode::OK {
                paid += 1;
            } else {
                assert_eq!(
                    reply.status,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "{}",
                    reply.body
                );
                assert_eq!(
                    code_message(&reply.json()),
                    "You have already used this promotion code."
                );
            }
        }
        assert_eq!(paid, 1, "round {round}");
    }
    assert_eq!(balance_of(&app, &email).await, 1_000 * ROUNDS);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM promo_redemptions WHERE status = 'consumed'")
            .await,
        ROUNDS
    );
}

/// A code applied while it was good, then deactivated or expired, does not complete.
async fn a_code_deactivated_or_expired_after_it_was_applied_does_not_complete(app: TestApp) {
    let now = app.state.now_ms();
    create_code(&app, code("GOINGAWAY", 100)).await;
    create_code(
        &app,
        NewPromo {
            expires_at: Some(now + 1_000),
            ..code("BRIEF", 100)
        },
    )
    .await;
    let (email, cookie) = app.sign_up().await;
    let first = new_order(&app, &cookie, 2_000).await;
    let second = new_order(&app, &cookie, 2_000).await;
    assert_eq!(
        apply(&app, &cookie, &first, "GOINGAWAY").await.0,
        StatusCode::OK
    );
    assert_eq!(
        apply(&app, &cookie, &second, "BRIEF").await.0,
        StatusCode::OK
    );
    assert!(promos::deactivate(&app.state.db, "GOINGAWAY")
        .await
        .unwrap());
    let refused = complete(&app, &cookie, &first).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(
        code_message(&refused.json()),
        "This promotion code is no longer active."
    );
    // Expired a moment after it was applied.
    sqlx::query("UPDATE promo_codes SET expires_at = $1 WHERE code = 'BRIEF'")
        .bind(now - 1)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let refused = complete(&app, &cookie, &second).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(
        code_message(&refused.json()),
        "This promotion code has expired."
    );
    assert_eq!(balance_of(&app, &email).await, 0);
}

/// Completing an order a code pays for while the code is being taken off (or released)
/// at the same moment: the order is either paid with its code redeemed, or stays open at
/// its full price; never paid free without the code.
async fn taking_the_code_off_while_completing_never_completes_for_free(app: TestApp) {
    create_code(
        &app,
        NewPromo {
            once_per_user: false,
            ..code("RACEFREE", 100)
        },
    )
    .await;
    let (email, cookie) = app.sign_up().await;
    let app = std::sync::Arc::new(app);
    let mut paid = 0;
    for _ in 0..15 {
        let order = new_order(&app, &cookie, 1_000).await;
        assert_eq!(
            apply(&app, &cookie, &order, "RACEFREE").await.0,
            StatusCode::OK
        );
        let (a, c, o) = (app.clone(), cookie.clone(), order.clone());
        let completing = tokio::spawn(async move { complete(&a, &c, &o).await.status });
        let (a, c, o) = (app.clone(), cookie.clone(), order.clone());
        let removing = tokio::spawn(async move {
            a.call("/api/remove_promo_code", &[("order_id", &o)], Some(&c))
                .await
                .status
        });
        let (completed, _) = (completing.await.unwrap(), removing.await.unwrap());
        if completed == StatusCode::OK {
            paid += 1;
        }
        let (status, promo, consumed): (String, Option<String>, i64) = sqlx::query_as(
            "SELECT o.status, o.promo_code_id, (SELECT COUNT(*) FROM promo_redemptions r \
             WHERE r.order_id = o.id AND r.status = 'consumed') FROM orders o WHERE o.id = $1",
        )
        .bind(&order)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
        if status == "paid" {
            assert!(
                promo.is_some() && consumed == 1,
                "paid free without its code"
            );
        } else {
            assert_eq!(consumed, 0);
        }
    }
    assert_eq!(balance_of(&app, &email).await, 1_000 * paid);
}
