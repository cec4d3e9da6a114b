//! Organizations under attack, on SQLite and on Postgres: invitation mail limited and
//! for verified people only; a departing member's keys revoked unless the remover keeps
//! them; racing ownership transfers answered 409; counts that hold under concurrency.

use crate::common;

use axum::http::StatusCode;
use common::orgs::{call, create_org, invite, join, person, Person};
use common::{me_status, TestApp};
use serde_json::json;
use std::sync::Arc;

on_both_databases!(
    only_verified_people_invite_and_invitation_mail_is_limited,
    a_departing_member_s_keys_are_revoked_unless_kept,
    racing_ownership_transfers_answer_409,
    limits_hold_when_requests_race,
);

fn addresses(prefix: &str, n: usize) -> String {
    (0..n)
        .map(|i| format!("{prefix}-{i}@example.com"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn invitation_mails(app: &TestApp) -> usize {
    app.state
        .mailer
        .recent()
        .iter()
        .filter(|m| m.subject.starts_with("Join "))
        .count()
}

async fn only_verified_people_invite_and_invitation_mail_is_limited(app: TestApp) {
    // An account that never proved its address sends nothing in anyone's name.
    let (_, cookie) = app.sign_up().await;
    let slug = common::orgs::slug();
    let created = app
        .call(
            "/api/create_organization",
            &[("name", "Unverified Co"), ("slug", &slug)],
            Some(&cookie),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let refused = app
        .call(
            "/api/invite_members",
            &[
                ("slug", &slug),
                ("emails", "target@example.com"),
                ("role", "member"),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("Verify your email address"),
        "{}",
        refused.body
    );

    // One organization sends one address at most three invitations a day; a fourth is
    // refused, and it cannot use up the address for other organizations.
    let mut owners = Vec::new();
    for _ in 0..4 {
        let owner = person(&app).await;
        let slug = create_org(&app, &owner).await;
        owners.push((owner, slug));
    }
    let (first, first_slug) = &owners[0];
    for _ in 0..3 {
        let sent = invite(&app, first, first_slug, "target@example.com", "member").await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    }
    let limited = invite(&app, first, first_slug, "target@example.com", "member").await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.body
    );
    // From every organization together, ten a day.
    for (owner, slug) in &owners[1..] {
        for _ in 0..2 {
            let sent = invite(&app, owner, slug, "target@example.com", "member").await;
            assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        }
    }
    let (second, second_slug) = &owners[1];
    let tenth = invite(&app, second, second_slug, "target@example.com", "member").await;
    assert_eq!(tenth.status, StatusCode::OK, "{}", tenth.body);
    let (third, third_slug) = &owners[2];
    let eleventh = invite(&app, third, third_slug, "target@example.com", "member").await;
    assert_eq!(
        eleventh.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        eleventh.body
    );
    // Deleting an organization and making another does not reset what was sent.
    let form = [
        ("slug", third_slug.as_str()),
        ("confirm", third_slug.as_str()),
    ];
    let deleted = call(&app, third, "delete_organization", &form).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    let again_slug = create_org(&app, third).await;
    let again = invite(&app, third, &again_slug, "target@example.com", "member").await;
    assert_eq!(
        again.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        again.body
    );

    // A list longer than the organization's hour allows sends nothing.
    assert_eq!(
        invite(&app, first, first_slug, &addresses("bulk", 51), "member")
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "at most 50 at once"
    );
    // The first organization sent 3 this hour; 47 more make its 50.
    let before = invitation_mails(&app);
    let fifty = invite(&app, first, first_slug, &addresses("hour", 47), "member").await;
    assert_eq!(fifty.status, StatusCode::OK, "{}", fifty.body);
    let over = invite(&app, first, first_slug, "one-more@example.com", "member").await;
    assert_eq!(over.status, StatusCode::TOO_MANY_REQUESTS, "{}", over.body);
    assert!(
        over.json()["TooManyAttempts"]["retry_after_secs"]
            .as_u64()
            .unwrap()
            > 0
    );
    app.state.mailer.flush().await;
    assert_eq!(invitation_mails(&app) - before, 47);
    // An hour later the organization may invite again.
    app.state.clock.advance_secs(3601);
    let later = invite(&app, first, first_slug, "one-more@example.com", "member").await;
    assert_eq!(later.status, StatusCode::OK, "{}", later.body);
}

async fn org_key(app: &TestApp, who: &Person, slug: &str, name: &str) -> (String, String) {
    let reply = app
        .call_json(
            "/api/create_key",
            json!({"org": slug, "name": name, "scopes": ["account:read"], "expiry": {"days": 90}}),
            &who.cookie,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let v = reply.json();
    (
        v["key"]["id"].as_str().unwrap().to_string(),
        v["secret"].as_str().unwrap().to_string(),
    )
}

fn names(reply: &common::Reply) -> Vec<String> {
    reply
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap().to_string())
        .collect()
}

async fn a_departing_member_s_keys_are_revoked_unless_kept(app: TestApp) {
    let owner = person(&app).await;
    let slug = create_org(&app, &owner).await;
    let (admin, keeper, leaver, member) = (
        person(&app).await,
        person(&app).await,
        person(&app).await,
        person(&app).await,
    );
    for who in [&admin, &keeper, &leaver] {
        join(&app, &owner, &slug, who, "admin").await;
    }
    join(&app, &owner, &slug, &member, "member").await;
    let (_, made) = org_key(&app, &admin, &slug, "made-by-admin").await;
    let (owners_id, _) = org_key(&app, &owner, &slug, "regenerated-by-admin").await;
    let (_, untouched) = org_key(&app, &owner, &slug, "owners-own").await;
    let regenerated = call(
        &app,
        &admin,
        "regenerate_key",
        &[("org", &slug), ("id", &owners_id), ("grace_secs", "0")],
    )
    .await;
    assert_eq!(regenerated.status, StatusCode::OK, "{}", regenerated.body);
    let regenerated_secret = regenerated.json()["secret"].as_str().unwrap().to_string();
    let (_, kept) = org_key(&app, &keeper, &slug, "made-by-keeper").await;
    let (_, left) = org_key(&app, &leaver, &slug, "made-by-leaver").await;

    // The removal dialog lists what the admin made or last regenerated; a Member may not ask.
    let listed = call(
        &app,
        &owner,
        "member_keys",
        &[("slug", &slug), ("user_id", &admin.id)],
    )
    .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let mut listed = names(&listed);
    listed.sort();
    assert_eq!(listed, ["made-by-admin", "regenerated-by-admin"]);
    let nosy = call(
        &app,
        &member,
        "member_keys",
        &[("slug", &slug), ("user_id", &admin.id)],
    )
    .await;
    assert_eq!(nosy.status, StatusCode::NOT_FOUND);

    // An invitation the admin sent would let them back in: it ends with them.
    let sent = invite(&app, &admin, &slug, "friend-of-admin@example.com", "member").await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    // Removed by default: both keys stop at once, the Owner's own keeps working.
    let removed = call(
        &app,
        &owner,
        "remove_member",
        &[("slug", &slug), ("user_id", &admin.id)],
    )
    .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    assert_eq!(me_status(&app, &made).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        me_status(&app, &regenerated_secret).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(me_status(&app, &untouched).await, StatusCode::OK);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM org_invitations WHERE email = 'friend-of-admin@example.com' AND outcome = 'revoked'"
        )
        .await,
        1
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM key_events WHERE event = 'revoked with its maker''s membership'"
        )
        .await,
        2
    );

    // Kept when the remover says so, and the history says who decided.
    let form = [
        ("slug", slug.as_str()),
        ("user_id", keeper.id.as_str()),
        ("keep_keys", "true"),
    ];
    assert_eq!(
        call(&app, &owner, "remove_member", &form).await.status,
        StatusCode::OK
    );
    assert_eq!(me_status(&app, &kept).await, StatusCode::OK);
    let (actor,): (String,) =
        sqlx::query_as("SELECT actor FROM key_events WHERE event = 'kept after its maker left'")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(actor, owner.email);

    // Leaving revokes what the leaver made.
    assert_eq!(me_status(&app, &left).await, StatusCode::OK);
    let gone = call(&app, &leaver, "leave_organization", &[("slug", &slug)]).await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.body);
    assert_eq!(me_status(&app, &left).await, StatusCode::UNAUTHORIZED);
}

async fn racing_ownership_transfers_answer_409(app: TestApp) {
    let owner = person(&app).await;
    let slug = create_org(&app, &owner).await;
    let mut admins = Vec::new();
    for _ in 0..6 {
        let admin = person(&app).await;
        join(&app, &owner, &slug, &admin, "admin").await;
        admins.push(admin);
    }
    let app = Arc::new(app);
    let owner = Arc::new(owner);
    let tasks: Vec<_> = admins
        .iter()
        .map(|admin| {
            let (app, owner, slug, to) =
                (app.clone(), owner.clone(), slug.clone(), admin.id.clone());
            tokio::spawn(async move {
                call(
                    &app,
                    &owner,
                    "transfer_ownership",
                    &[("slug", &slug), ("user_id", &to)],
                )
                .await
                .status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    // A transfer that raced the winner inside its transaction answers 409; one that
    // started after it finds its sender an Admin, and Admins may not transfer (404, as
    // for a second transfer made in sequence). Never a 500.
    assert!(
        statuses
            .iter()
            .all(|s| [StatusCode::OK, StatusCode::CONFLICT, StatusCode::NOT_FOUND].contains(s)),
        "{statuses:?}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM org_members WHERE role = 'owner'")
            .await,
        1
    );
}

async fn race<F, Fut>(n: usize, make: F) -> Vec<StatusCode>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = StatusCode> + Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(make(i))).collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses
}

async fn limits_hold_when_requests_race(app: TestApp) {
    let app = Arc::new(app);
    // Keys: 200 per owner; the last 10 slots raced by 30 requests.
    let someone = Arc::new(person(&app).await);
    for i in 0..190 {
        let reply = app
            .call_json(
                "/api/create_key",
                json!({"name": format!("k{i}"), "scopes": ["account:read"], "expiry": {"days": 9}}),
                &someone.cookie,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    let statuses = race(30, |i| {
        let (app, someone) = (app.clone(), someone.clone());
        async move {
            app.call_json(
                "/api/create_key",
                json!({"name": format!("race{i}"), "scopes": ["account:read"], "expiry": {"days": 9}}),
                &someone.cookie,
            )
            .await
            .status
        }
    })
    .await;
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM api_keys").await, 200);

    // Organizations: 20 owned per person, raced by 30.
    let founder = Arc::new(person(&app).await);
    let statuses = race(30, |i| {
        let (app, founder) = (app.clone(), founder.clone());
        async move {
            let slug = format!(
                "race-{i}-{}",
                keyward::infra::random::base62(6).unwrap().to_lowercase()
            );
            call(
                &app,
                &founder,
                "create_organization",
                &[("name", "Race"), ("slug", &slug)],
            )
            .await
            .status
        }
    })
    .await;
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        20,
        "{statuses:?}"
    );

    // Pending credit requests: 5 per member, raced by 20.
    let owner = person(&app).await;
    let slug = create_org(&app, &owner).await;
    let member = person(&app).await;
    join(&app, &owner, &slug, &member, "member").await;
    let member = Arc::new(member);
    let statuses = race(20, |_| {
        let (app, member, slug) = (app.clone(), member.clone(), slug.clone());
        async move {
            call(
                &app,
                &member,
                "request_credits",
                &[("slug", &slug), ("credits", "100"), ("note", "")],
            )
            .await
            .status
        }
    })
    .await;
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        5,
        "{statuses:?}"
    );
}
