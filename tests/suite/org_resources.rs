//! What an organization holds, through the real router on SQLite and Postgres: its
//! keys (authenticating as the organization, charging its wallet), its wallet and
//! checkout, allocations to members and their return on removal, requests for
//! credits, the REST `/orgs` endpoints, and the role matrix over all of them.

use crate::common;

use axum::http::StatusCode;
use common::orgs::{call, create_org, join, person, Person};
use common::with_service_token;
use common::{api, TestApp};
use keyward::wallet::ledger;
use keyward::wallet::{promos, NewPromo};
use keyward::workspace::Owner;
use serde_json::{json, Value};

on_both_databases_with!(with_service_token;
    organization_keys_act_as_the_organization_and_spend_its_credits,
    members_see_the_keys_and_only_managers_change_them,
    allocations_move_credits_and_removal_returns_only_what_is_unspent,
    requests_for_credits_are_answered_once_and_the_member_is_told,
    the_organization_buys_credits_through_the_same_checkout,
    rest_lists_organizations_and_members_to_those_who_may_see_them,
    a_key_name_is_refused_for_the_rule_it_breaks,
);

/// An organization with an Owner, an Admin and a Member.
struct Team {
    slug: String,
    org_id: String,
    owner: Person,
    admin: Person,
    member: Person,
}

async fn team(app: &TestApp) -> Team {
    let owner = person(app).await;
    let admin = person(app).await;
    let member = person(app).await;
    let slug = create_org(app, &owner).await;
    join(app, &owner, &slug, &admin, "admin").await;
    join(app, &owner, &slug, &member, "member").await;
    let (org_id,): (String,) = sqlx::query_as("SELECT id FROM organizations WHERE slug = $1")
        .bind(&slug)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    Team {
        slug,
        org_id,
        owner,
        admin,
        member,
    }
}

async fn grant(app: &TestApp, owner: Owner, credits: i64) -> i64 {
    let key = keyward::infra::random::base62(12).unwrap();
    common::grant_credits(app, owner, credits, &key).await
}

async fn balance(app: &TestApp, owner: Owner) -> i64 {
    ledger::balance(&app.state.db, &owner).await.unwrap()
}

async fn org_key(
    app: &TestApp,
    who: &Person,
    slug: &str,
    name: &str,
    scopes: &[&str],
) -> common::Reply {
    app.call_json(
        "/api/create_key",
        json!({"org": slug, "name": name, "scopes": scopes, "expiry": {"days": 90}}),
        &who.cookie,
    )
    .await
}

async fn new_org_key(app: &TestApp, who: &Person, slug: &str, scopes: &[&str]) -> (String, String) {
    new_org_key_named(app, who, slug, "team-ci", scopes).await
}

async fn verify(app: &TestApp, body: Value) -> Value {
    let reply = api(
        app,
        "POST",
        "/api/v1/verify",
        Some(common::SERVICE_TOKEN),
        Some(body),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()
}

async fn ledger_holds(app: &TestApp) {
    let (_, mismatches) = ledger::verify(&app.state.db).await.unwrap();
    assert!(
        mismatches.is_empty(),
        "balance = sum of entries: {mismatches:?}"
    );
}

async fn organization_keys_act_as_the_organization_and_spend_its_credits(app: TestApp) {
    let t = team(&app).await;
    let (key_id, secret) = new_org_key(
        &app,
        &t.admin,
        &t.slug,
        &["account:read", "keys:read", "credits:read"],
    )
    .await;

    // It authenticates as the organization, not as the Admin who made it.
    let me = api(&app, "GET", "/api/v1/me", Some(&secret), None).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    let me = me.json();
    assert_eq!(me["type"], "org");
    assert_eq!(me["id"], t.org_id.as_str());
    assert_eq!(me["name"], "Acme Research");
    assert!(
        me.get("email").is_none(),
        "no person's email for an organization key"
    );
    let verified = verify(&app, json!({"key": secret})).await;
    assert_eq!(verified["owner_type"], "org");
    assert_eq!(verified["owner_id"], t.org_id.as_str());

    // A personal key still answers its person.
    let (_, personal) = common::new_key(&app, &t.admin.cookie, "mine", &["account:read"]).await;
    let mine = api(&app, "GET", "/api/v1/me", Some(&personal), None)
        .await
        .json();
    assert_eq!(mine["type"], "user");
    assert_eq!(mine["email"], t.admin.email.as_str());
    assert_eq!(
        verify(&app, json!({"key": personal})).await["owner_type"],
        "user"
    );

    // Charges come out of the organization's wallet, never the Admin's.
    grant(&app, Owner::Org(t.org_id.clone()), 1_000).await;
    grant(&app, Owner::User(t.admin.id.clone()), 50).await;
    let charged = verify(
        &app,
        json!({"key": secret, "cost": 300, "idempotency_key": "job-1"}),
    )
    .await;
    assert_eq!(charged["valid"], true, "{charged}");
    assert_eq!(charged["balance"], 700);
    let again = verify(
        &app,
        json!({"key": secret, "cost": 300, "idempotency_key": "job-1"}),
    )
    .await;
    assert_eq!(
        again["balance"], 700,
        "the same idempotency key charges once"
    );
    let too_much = verify(&app, json!({"key": secret, "cost": 701})).await;
    assert_eq!(too_much["reason"], "insufficient_credits");
    assert_eq!(balance(&app, Owner::Org(t.org_id.clone())).await, 700);
    assert_eq!(balance(&app, Owner::User(t.admin.id.clone())).await, 50);

    // /credits and /keys answer the organization's.
    let credits = api(&app, "GET", "/api/v1/credits", Some(&secret), None)
        .await
        .json();
    assert_eq!(credits["balance"], 700);
    let keys = api(&app, "GET", "/api/v1/keys", Some(&secret), None)
        .await
        .json();
    let names: Vec<&str> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["team-ci"],
        "the organization's keys, not the Admin's own"
    );

    // The Admin's own list stays personal, and the organization's names its creator.
    let own = call(&app, &t.admin, "list_keys", &[]).await.json();
    assert!(own["keys"]
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["id"] != key_id.as_str()));
    let details = call(
        &app,
        &t.member,
        "key_details",
        &[("org", &t.slug), ("id", &key_id)],
    )
    .await;
    assert_eq!(details.status, StatusCode::OK, "{}", details.body);
    assert_eq!(details.json()["events"][0]["actor"], t.admin.email.as_str());

    // Removing its creator, the Owner may choose to keep the key working: it is the
    // organization's. (By default it is revoked: tests/org_attacks.rs.)
    let form = [
        ("slug", t.slug.as_str()),
        ("user_id", t.admin.id.as_str()),
        ("keep_keys", "true"),
    ];
    assert_eq!(
        call(&app, &t.owner, "remove_member", &form).await.status,
        StatusCode::OK
    );
    assert_eq!(verify(&app, json!({"key": secret})).await["valid"], true);
    let details = call(
        &app,
        &t.owner,
        "key_details",
        &[("org", &t.slug), ("id", &key_id)],
    )
    .await;
    assert!(
        details.body.contains("kept after its maker left"),
        "{}",
        details.body
    );
    // Organizations with keys or credits are not deleted with them.
    let form = [("slug", t.slug.as_str()), ("confirm", t.slug.as_str())];
    let refused = call(&app, &t.owner, "delete_organization", &form).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.body.contains("API keys"), "{}", refused.body);
    ledger_holds(&app).await;
}

async fn members_see_the_keys_and_only_managers_change_them(app: TestApp) {
    let t = team(&app).await;
    let removed = person(&app).await;
    join(&app, &t.owner, &t.slug, &removed, "member").await;
    let form = [("slug", t.slug.as_str()), ("user_id", removed.id.as_str())];
    assert_eq!(
        call(&app, &t.owner, "remove_member", &form).await.status,
        StatusCode::OK
    );
    let outsider = person(&app).await;
    let (key_id, _) = new_org_key(&app, &t.owner, &t.slug, &["keys:read"]).await;
    const OK: StatusCode = StatusCode::OK;
    const NO: StatusCode = StatusCode::NOT_FOUND;
    let cells = [
        ("owner", &t.owner, OK, OK),
        ("admin", &t.admin, OK, OK),
        ("member", &t.member, OK, NO),
        ("removed member", &removed, NO, NO),
        ("outsider", &outsider, NO, NO),
    ];
    let slug = t.slug.as_str();
    for (name, who, read, manage) in cells {
        let list = call(&app, who, "list_keys", &[("org", slug)]).await;
        assert_eq!(list.status, read, "{name} lists keys: {}", list.body);
        if read == OK {
            let page = list.json();
            let ids: Vec<&str> = page["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["id"].as_str().unwrap())
                .collect();
            assert!(ids.contains(&key_id.as_str()), "{name} sees the key");
            assert_eq!(page["can_manage"], manage == OK, "{name}'s controls");
            assert!(!list.body.contains("\"secret\""), "no value in the list");
        }
        let details = call(&app, who, "key_details", &[("org", slug), ("id", &key_id)]).await;
        assert_eq!(details.status, read, "{name} reads details");
        for (function, form) in [
            (
                "set_key_active",
                vec![("org", slug), ("id", key_id.as_str()), ("active", "true")],
            ),
            (
                "set_key_spend_limit",
                vec![("org", slug), ("id", key_id.as_str()), ("limit", "")],
            ),
            (
                "regenerate_key",
                vec![("org", slug), ("id", "kid_missing"), ("grace_secs", "0")],
            ),
            ("delete_key", vec![("org", slug), ("id", "kid_missing")]),
        ] {
            let reply = call(&app, who, function, &form).await;
            let expected = match (manage, function) {
                (OK, "regenerate_key" | "delete_key") => NO, // a missing key, for anyone
                (cell, _) => cell,
            };
            assert_eq!(reply.status, expected, "{name} {function}: {}", reply.body);
        }
        let created = org_key(
            &app,
            who,
            slug,
            &format!("by-{}", name.replace(' ', "-")),
            &["keys:read"],
        )
        .await;
        assert_eq!(
            created.status, manage,
            "{name} creates a key: {}",
            created.body
        );
        let overview = call(&app, who, "organization_overview", &[("slug", slug)]).await;
        assert_eq!(overview.status, read, "{name} reads the dashboard");
        let wallet = call(&app, who, "wallet_overview", &[("org", slug)]).await;
        assert_eq!(wallet.status, read, "{name} reads the wallet");
        if read == OK {
            assert_eq!(wallet.json()["can_buy"], manage == OK);
        }
        let ledger = call(
            &app,
            who,
            "wallet_transactions",
            &[("org", slug), ("kind", "")],
        )
        .await;
        assert_eq!(ledger.status, read, "{name} reads transactions");
        let order = call(
            &app,
            who,
            "create_order",
            &[("org", slug), ("credits", "1000")],
        )
        .await;
        assert_eq!(order.status, manage, "{name} buys for it: {}", order.body);
        let csv = app
            .get(
                &format!("/account/wallet/transactions.csv?org={slug}"),
                Some(&who.cookie),
            )
            .await;
        assert_eq!(csv.status, read, "{name} exports transactions");
    }
    // A key of the organization is not reachable as someone's personal key, nor the
    // other way round.
    let personal = call(&app, &t.owner, "key_details", &[("id", &key_id)]).await;
    assert_eq!(personal.status, NO);
    // A regenerated value is shown to the Admin who asked, and the event names them.
    let regen = call(
        &app,
        &t.admin,
        "regenerate_key",
        &[("org", slug), ("id", &key_id), ("grace_secs", "0")],
    )
    .await;
    assert_eq!(regen.status, OK, "{}", regen.body);
    assert!(regen.json()["secret"].as_str().unwrap().starts_with("kw_"));
    let details = call(
        &app,
        &t.member,
        "key_details",
        &[("org", slug), ("id", &key_id)],
    )
    .await
    .json();
    assert_eq!(details["events"][0]["event"], "regenerated");
    assert_eq!(details["events"][0]["actor"], t.admin.email.as_str());
}

async fn allocate(
    app: &TestApp,
    who: &Person,
    slug: &str,
    to: &[&str],
    credits: &str,
    request_id: &str,
) -> common::Reply {
    app.call_json(
        "/api/allocate_credits",
        json!({"slug": slug, "members": to, "credits": credits, "request_id": request_id}),
        &who.cookie,
    )
    .await
}

async fn allocations_move_credits_and_removal_returns_only_what_is_unspent(app: TestApp) {
    let t = team(&app).await;
    let second = person(&app).await;
    join(&app, &t.owner, &t.slug, &second, "member").await;
    let org = || Owner::Org(t.org_id.clone());
    let member = || Owner::User(t.member.id.clone());
    grant(&app, org(), 1_000).await;

    let both = [t.member.id.as_str(), second.id.as_str()];
    let reply = allocate(&app, &t.admin, &t.slug, &both, "300", "request-0000000001").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json(), 400);
    // The same submission again changes nothing.
    let again = allocate(&app, &t.admin, &t.slug, &both, "300", "request-0000000001").await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(balance(&app, org()).await, 400);
    assert_eq!(balance(&app, member()).await, 300);
    assert_eq!(balance(&app, Owner::User(second.id.clone())).await, 300);

    // More than the organization has: refused beside the field, nothing written.
    let short = allocate(&app, &t.admin, &t.slug, &both, "201", "request-0000000002").await;
    assert_eq!(
        short.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        short.body
    );
    assert!(short.body.contains("400 credits"), "{}", short.body);
    assert_eq!(balance(&app, org()).await, 400);
    assert_eq!(balance(&app, member()).await, 300);
    // Members do not allocate; non-members cannot receive; bad amounts are refused.
    let by_member = allocate(
        &app,
        &t.member,
        &t.slug,
        &[&second.id],
        "1",
        "request-0000000003",
    )
    .await;
    assert_eq!(by_member.status, StatusCode::NOT_FOUND);
    let outsider = person(&app).await;
    let to_outsider = allocate(
        &app,
        &t.admin,
        &t.slug,
        &[&outsider.id],
        "1",
        "request-0000000004",
    )
    .await;
    assert_eq!(to_outsider.status, StatusCode::UNPROCESSABLE_ENTITY);
    for bad in ["0", "-5", "ten", ""] {
        let reply = allocate(
            &app,
            &t.admin,
            &t.slug,
            &[&second.id],
            bad,
            "request-0000000005",
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    assert_eq!(balance(&app, org()).await, 400);

    // The member spends 100 with a personal key, and buys 500 of their own.
    let (_, key) = common::new_key(&app, &t.member.cookie, "jobs", &["account:read"]).await;
    let spent = verify(&app, json!({"key": key, "cost": 100})).await;
    assert_eq!(spent["balance"], 200, "{spent}");
    grant(&app, member(), 500).await;
    let overview = call(
        &app,
        &t.member,
        "organization_overview",
        &[("slug", &t.slug)],
    )
    .await
    .json();
    assert_eq!(overview["my_allocation"], 200);

    // Removal returns the 200 unspent, not the 500 bought.
    let form = [("slug", t.slug.as_str()), ("user_id", t.member.id.as_str())];
    assert_eq!(
        call(&app, &t.admin, "remove_member", &form).await.status,
        StatusCode::OK
    );
    assert_eq!(balance(&app, member()).await, 500);
    assert_eq!(balance(&app, org()).await, 600);
    // Leaving returns it too; a member who spent everything gives back nothing.
    let (_, key) = common::new_key(&app, &second.cookie, "jobs", &["account:read"]).await;
    verify(&app, json!({"key": key, "cost": 300})).await;
    let left = call(&app, &second, "leave_organization", &[("slug", &t.slug)]).await;
    assert_eq!(left.status, StatusCode::OK);
    assert_eq!(balance(&app, Owner::User(second.id.clone())).await, 0);
    assert_eq!(balance(&app, org()).await, 600);
    ledger_holds(&app).await;
}

async fn requests_for_credits_are_answered_once_and_the_member_is_told(app: TestApp) {
    let t = team(&app).await;
    grant(&app, Owner::Org(t.org_id.clone()), 1_000).await;
    let slug = t.slug.as_str();
    let asked = call(
        &app,
        &t.member,
        "request_credits",
        &[("slug", slug), ("credits", "250"), ("note", "GPU runs")],
    )
    .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    let first = asked.json()["id"].as_str().unwrap().to_string();
    let second = call(
        &app,
        &t.member,
        "request_credits",
        &[("slug", slug), ("credits", "5000"), ("note", "")],
    )
    .await;
    let second = second.json()["id"].as_str().unwrap().to_string();
    let bad = call(
        &app,
        &t.member,
        "request_credits",
        &[("slug", slug), ("credits", "lots"), ("note", "")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let outsider = person(&app).await;
    let theirs = call(
        &app,
        &outsider,
        "request_credits",
        &[("slug", slug), ("credits", "1"), ("note", "")],
    )
    .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);

    // Admins see every request; the member sees their own.
    let admin_view = call(&app, &t.admin, "organization_overview", &[("slug", slug)])
        .await
        .json();
    assert_eq!(admin_view["requests"].as_array().unwrap().len(), 2);
    assert_eq!(admin_view["members"].as_array().unwrap().len(), 3);
    let member_view = call(&app, &t.member, "organization_overview", &[("slug", slug)])
        .await
        .json();
    assert_eq!(member_view["requests"].as_array().unwrap().len(), 2);
    assert_eq!(
        member_view["members"].as_array().unwrap().len(),
        0,
        "members see no one else's"
    );

    // A member cannot answer; an Admin approves once, which allocates.
    let answer = |id: &str, approve: &str| {
        [
            ("slug", slug.to_string()),
            ("request_id", id.to_string()),
            ("approve", approve.to_string()),
        ]
    };
    let form = answer(&first, "true");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        call(&app, &t.member, "answer_credit_request", &form)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&app, &t.admin, "answer_credit_request", &form)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, &t.owner, "answer_credit_request", &form)
            .await
            .status,
        StatusCode::NOT_FOUND,
        "once"
    );
    assert_eq!(balance(&app, Owner::User(t.member.id.clone())).await, 250);
    assert_eq!(balance(&app, Owner::Org(t.org_id.clone())).await, 750);
    // More than the organization has cannot be approved; declining writes no credits.
    let form = answer(&second, "true");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        call(&app, &t.admin, "answer_credit_request", &form)
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let form = answer(&second, "false");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        call(&app, &t.admin, "answer_credit_request", &form)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(balance(&app, Owner::Org(t.org_id.clone())).await, 750);

    // The member is told by email and on their dashboard, until they dismiss it.
    let subjects: Vec<String> = app
        .state
        .mailer
        .recent()
        .iter()
        .filter(|m| m.to == t.member.email)
        .map(|m| m.subject.clone())
        .collect();
    assert!(
        subjects
            .iter()
            .any(|s| s == "Acme Research approved your request for credits"),
        "{subjects:?}"
    );
    assert!(
        subjects
            .iter()
            .any(|s| s == "Acme Research declined your request for credits"),
        "{subjects:?}"
    );
    let answers = call(&app, &t.member, "credit_request_answers", &[])
        .await
        .json();
    assert_eq!(answers.as_array().unwrap().len(), 2);
    let dismissed = call(
        &app,
        &t.member,
        "dismiss_credit_answer",
        &[("request_id", &first)],
    )
    .await;
    assert_eq!(dismissed.status, StatusCode::OK);
    let answers = call(&app, &t.member, "credit_request_answers", &[])
        .await
        .json();
    assert_eq!(answers.as_array().unwrap().len(), 1);
    assert_eq!(answers[0]["outcome"], "Declined");
    // Nobody else's answers are theirs to see or dismiss.
    assert_eq!(
        call(&app, &t.admin, "credit_request_answers", &[])
            .await
            .json(),
        json!([])
    );
    ledger_holds(&app).await;
}

async fn the_organization_buys_credits_through_the_same_checkout(app: TestApp) {
    let t = team(&app).await;
    let promo = NewPromo {
        code: "TEAMFREE".into(),
        percent_off: Some(100),
        once_per_user: true,
        ..NewPromo::default()
    };
    promos::create(&app.state.db, &promo, "tests", "usd", app.state.now_ms())
        .await
        .unwrap();
    let order = call(
        &app,
        &t.admin,
        "create_order",
        &[("org", &t.slug), ("credits", "2000")],
    )
    .await;
    assert_eq!(order.status, StatusCode::OK, "{}", order.body);
    let order_id = order.json().as_str().unwrap().to_string();
    let details = call(&app, &t.admin, "order_details", &[("order_id", &order_id)])
        .await
        .json();
    assert_eq!(
        details["org"][2], "Acme Research",
        "the checkout names the organization"
    );
    // Another manager's order is theirs alone.
    assert_eq!(
        call(&app, &t.owner, "order_details", &[("order_id", &order_id)])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let applied = call(
        &app,
        &t.admin,
        "apply_promo_code",
        &[("order_id", &order_id), ("code", "teamfree")],
    )
    .await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.body);
    let done = call(&app, &t.admin, "complete_order", &[("order_id", &order_id)]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(balance(&app, Owner::Org(t.org_id.clone())).await, 2_000);
    assert_eq!(balance(&app, Owner::User(t.admin.id.clone())).await, 0);
    let page = call(
        &app,
        &t.member,
        "wallet_transactions",
        &[("org", &t.slug), ("kind", "")],
    )
    .await
    .json();
    assert_eq!(page["entries"][0]["amount"], 2_000);
    assert_eq!(page["entries"][0]["kind"], "promo_grant");
    // With credits left the organization is not deleted.
    let form = [("slug", t.slug.as_str()), ("confirm", t.slug.as_str())];
    let refused = call(&app, &t.owner, "delete_organization", &form).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("2,000 credits"), "{}", refused.body);
    ledger_holds(&app).await;
}

async fn rest_lists_organizations_and_members_to_those_who_may_see_them(app: TestApp) {
    let t = team(&app).await;
    let other = team(&app).await;
    let (_, member_key) = common::new_key(&app, &t.member.cookie, "reader", &["org:read"]).await;
    let (_, no_scope) = common::new_key(&app, &t.member.cookie, "plain", &["account:read"]).await;
    let (_, team_key) = new_org_key(&app, &t.admin, &t.slug, &["org:read"]).await;
    let (_, outsider_key) =
        common::new_key(&app, &other.owner.cookie, "reader", &["org:read"]).await;

    let listed = api(&app, "GET", "/api/v1/orgs", Some(&member_key), None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let listed = listed.json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], t.org_id.as_str());
    assert_eq!(listed[0]["role"], "member");
    assert_eq!(
        api(&app, "GET", "/api/v1/orgs", Some(&no_scope), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let own = api(&app, "GET", "/api/v1/orgs", Some(&team_key), None)
        .await
        .json();
    assert_eq!(own.as_array().unwrap().len(), 1);
    assert!(own[0].get("role").is_none());

    let path = format!("/api/v1/orgs/{}/members", t.org_id);
    for key in [&member_key, &team_key] {
        let members = api(&app, "GET", &path, Some(key), None).await;
        assert_eq!(members.status, StatusCode::OK, "{}", members.body);
        let members = members.json();
        let emails: Vec<&str> = members
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["email"].as_str().unwrap())
            .collect();
        assert!(emails.contains(&t.owner.email.as_str()));
        assert_eq!(emails.len(), 3);
    }
    // Someone else's organization answers exactly like a missing one.
    let theirs = api(&app, "GET", &path, Some(&outsider_key), None).await;
    let missing = api(
        &app,
        "GET",
        "/api/v1/orgs/org_missing/members",
        Some(&outsider_key),
        None,
    )
    .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert_eq!(theirs.body, missing.body);
    let other_path = format!("/api/v1/orgs/{}/members", other.org_id);
    assert_eq!(
        api(&app, "GET", &other_path, Some(&team_key), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // After removal the member's key sees the organization no more.
    let form = [("slug", t.slug.as_str()), ("user_id", t.member.id.as_str())];
    assert_eq!(
        call(&app, &t.owner, "remove_member", &form).await.status,
        StatusCode::OK
    );
    assert_eq!(
        api(&app, "GET", &path, Some(&member_key), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api(&app, "GET", "/api/v1/orgs", Some(&member_key), None)
            .await
            .json(),
        json!([])
    );
    // Organization keys have no Lab server.
    let (_, lab_key) = new_org_key_named(&app, &t.admin, &t.slug, "lab", &["lab:read"]).await;
    let lab = api(&app, "GET", "/api/v1/lab", Some(&lab_key), None).await;
    assert_eq!(lab.status, StatusCode::FORBIDDEN, "{}", lab.body);
    // The OpenAPI document lists the endpoints.
    let doc = api(&app, "GET", "/api/v1/openapi.json", None, None)
        .await
        .json();
    assert!(doc["paths"]["/api/v1/orgs"].is_object());
    assert!(doc["paths"]["/api/v1/orgs/{id}/members"].is_object());
}

async fn new_org_key_named(
    app: &TestApp,
    who: &Person,
    slug: &str,
    name: &str,
    scopes: &[&str],
) -> (String, String) {
    let reply = org_key(app, who, slug, name, scopes).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let v = reply.json();
    (
        v["key"]["id"].as_str().unwrap().to_string(),
        v["secret"].as_str().unwrap().to_string(),
    )
}

/// A name is unique among an organization's keys, and among every key one person
/// created: the answer says which, beside the name field.
async fn a_key_name_is_refused_for_the_rule_it_breaks(app: TestApp) {
    let team = team(&app).await;
    let personal = app
        .call_json(
            "/api/create_key",
            json!({"org": null, "name": "nightly-export", "scopes": ["keys:read"], "expiry": {"days": 90}}),
            &team.admin.cookie,
        )
        .await;
    assert_eq!(personal.status, StatusCode::OK, "{}", personal.body);

    // The database's rule over one person's keys refuses it in the organization.
    let elsewhere = org_key(
        &app,
        &team.admin,
        &team.slug,
        "nightly-export",
        &["keys:read"],
    )
    .await;
    assert_eq!(
        elsewhere.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        elsewhere.body
    );
    assert!(
        elsewhere.body.contains("name") && elsewhere.body.contains("in another workspace"),
        "{}",
        elsewhere.body
    );

    // Someone else's personal key of that name does not matter in the organization;
    // the organization's own key of that name does, for every member.
    new_org_key_named(
        &app,
        &team.owner,
        &team.slug,
        "nightly-export",
        &["keys:read"],
    )
    .await;
    let taken = org_key(
        &app,
        &team.admin,
        &team.slug,
        "nightly-export",
        &["keys:read"],
    )
    .await;
    assert_eq!(
        taken.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        taken.body
    );
    assert!(
        taken.body.contains("already have a key with this name"),
        "{}",
        taken.body
    );
}
