//! Jobs: the job service holds a job's estimated cost when it is submitted, settles it
//! when the job completes and releases it when it fails, is cancelled or is forgotten;
//! people list and cancel their jobs. Every step's ledger effect, on SQLite and Postgres.

use crate::common::{self, api, new_key, with_service_token, TestApp, SERVICE_TOKEN};
use axum::http::StatusCode;
use keyward::jobs::cancel;
use keyward::wallet::ledger;
use keyward::workspace::Owner;
use serde_json::{json, Value};

on_both_databases_with!(with_service_token;
    a_hold_is_made_once_and_completion_charges_the_final_cost,
    failure_and_cancellation_give_the_whole_hold_back,
    holds_never_pass_the_available_balance_and_overruns_are_owed,
    a_forgotten_job_expires_and_its_hold_is_released,
    key_spending_limits_count_holds,
    organization_keys_hold_the_organizations_credits,
    bad_submissions_and_wrong_callers_make_nothing,
    concurrent_holds_never_overdraw_a_wallet,
    included_credits_that_expire_while_held_expire_when_released,
    a_job_updated_after_it_went_stale_is_not_expired,
    a_hold_is_given_back_to_the_month_that_counted_it,
    costs_beyond_the_hold_respect_the_key_limit_and_a_negative_balance,
    the_same_end_sent_again_is_answered_as_before,
);

pub async fn submit(app: &TestApp, body: Value) -> common::Reply {
    api(app, "POST", "/api/v1/jobs", Some(SERVICE_TOKEN), Some(body)).await
}

pub async fn update(app: &TestApp, job_id: &str, body: Value) -> common::Reply {
    api(
        app,
        "PATCH",
        &format!("/api/v1/jobs/{job_id}"),
        Some(SERVICE_TOKEN),
        Some(body),
    )
    .await
}

/// A person with `credits` and a key that may submit, read and cancel jobs.
pub async fn funded(app: &TestApp, credits: i64) -> (String, String, String) {
    let (email, cookie) = app.sign_up().await;
    let user_id = app.user_id(&email).await;
    if credits > 0 {
        common::grant_credits(app, Owner::User(user_id.clone()), credits, &user_id).await;
    }
    let (_, key) = new_key(
        app,
        &cookie,
        "runner",
        &["jobs:submit", "jobs:read", "jobs:write"],
    )
    .await;
    (user_id, cookie, key)
}

pub async fn submitted(app: &TestApp, key: &str, cost: i64, idempotency_key: &str) -> Value {
    let reply = submit(
        app,
        json!({"key": key, "device": "ibm_brisbane", "name": "bell-state", "shots": 1024,
               "estimated_cost": cost, "idempotency_key": idempotency_key}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.json()
}

async fn held(app: &TestApp, owner: &Owner) -> i64 {
    let (held,): (i64,) = sqlx::query_as("SELECT held FROM wallets WHERE id = $1")
        .bind(ledger::wallet_id(owner))
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    held
}

pub async fn ledger_holds(app: &TestApp) {
    let (_, mismatches) = ledger::verify(&app.state.db).await.unwrap();
    assert!(
        mismatches.is_empty(),
        "balance = sum of entries: {mismatches:?}"
    );
    let (wrong,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM wallets w WHERE w.held <> \
         (SELECT CAST(COALESCE(SUM(j.held), 0) AS BIGINT) FROM jobs j \
          WHERE j.owner_kind = w.owner_kind AND j.owner_id = w.owner_id)",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    assert_eq!(wrong, 0, "each wallet holds what its jobs hold");
}

async fn a_hold_is_made_once_and_completion_charges_the_final_cost(app: TestApp) {
    let (user_id, cookie, key) = funded(&app, 1_000).await;
    let owner = Owner::User(user_id);
    let made = submitted(&app, &key, 100, "run-1").await;
    assert_eq!(made["available"], 900);
    assert_eq!(made["replayed"], false);
    let job = &made["job"];
    let id = job["id"].as_str().unwrap().to_string();
    assert_eq!(job["status"], "queued");
    assert_eq!(job["held"], 100);
    assert_eq!(job["key_name"], "runner");
    assert_eq!(held(&app, &owner).await, 100);

    // The same idempotency key never holds twice; used for another job it is refused.
    let again = submit(
        &app,
        json!({"key": key, "device": "ibm_brisbane", "name": "bell-state", "shots": 1024,
               "estimated_cost": 100, "idempotency_key": "run-1"}),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.json()["replayed"], true);
    assert_eq!(again.json()["job"]["id"], id.as_str());
    let other = submit(
        &app,
        json!({"key": key, "device": "ibm_brisbane", "estimated_cost": 5, "idempotency_key": "run-1"}),
    )
    .await;
    assert_eq!(other.status, StatusCode::CONFLICT, "{}", other.body);
    assert_eq!(other.json()["error"]["code"], "idempotency_key_reused");
    assert_eq!(ledger::balance(&app.state.db, &owner).await.unwrap(), 900);

    let queued = update(&app, &id, json!({"status": "queued", "queue_position": 3})).await;
    assert_eq!(queued.json()["queue_position"], 3);
    let running = update(
        &app,
        &id,
        json!({"status": "running", "status_message": "Calibrating"}),
    )
    .await;
    assert_eq!(running.status, StatusCode::OK, "{}", running.body);
    assert_eq!(running.json()["status"], "running");
    assert!(running.json()["started_at"].is_i64());
    let no_cost = update(&app, &id, json!({"status": "completed"})).await;
    assert_eq!(
        no_cost.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        no_cost.body
    );

    let done = update(&app, &id, json!({"status": "completed", "final_cost": 70})).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let done = done.json();
    assert_eq!(done["status"], "completed");
    assert_eq!(done["charged"], 70);
    assert_eq!(done["held"], 0);
    assert_eq!(done["owed"], 0);
    assert_eq!(ledger::balance(&app.state.db, &owner).await.unwrap(), 930);
    assert_eq!(held(&app, &owner).await, 0);
    let ended = update(&app, &id, json!({"status": "failed"})).await;
    assert_eq!(ended.status, StatusCode::CONFLICT, "{}", ended.body);
    assert_eq!(ended.json()["error"]["code"], "illegal_transition");
    assert_eq!(ended.json()["error"]["allowed"], json!([]));
    // A job that ran too briefly to report running may complete from queued.
    let quick = submitted(&app, &key, 10, "quick").await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let done = update(
        &app,
        &quick,
        json!({"status": "completed", "final_cost": 3}),
    )
    .await;
    assert_eq!(done.json()["charged"], 3, "{}", done.body);

    // The expanded row: the timeline and the three entries, in order.
    let detail = app
        .call("/api/read_job", &[("id", id.as_str())], Some(&cookie))
        .await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.body);
    let detail = detail.json();
    let statuses: Vec<&str> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["queued", "running", "completed"]);
    assert_eq!(detail["timeline"][1]["message"], "Calibrating");
    let amounts: Vec<(String, i64)> = detail["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["amount"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        amounts,
        [
            ("hold".into(), -100),
            ("release".into(), 100),
            ("charge".into(), -70)
        ]
    );
    ledger_holds(&app).await;
}

async fn failure_and_cancellation_give_the_whole_hold_back(app: TestApp) {
    let (user_id, cookie, key) = funded(&app, 500).await;
    let owner = Owner::User(user_id);
    let failing = submitted(&app, &key, 200, "fails").await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    update(&app, &failing, json!({"status": "running"})).await;
    let failed = update(
        &app,
        &failing,
        json!({"status": "failed", "status_message": "Device offline"}),
    )
    .await;
    assert_eq!(failed.status, StatusCode::OK, "{}", failed.body);
    assert_eq!(failed.json()["status_message"], "Device offline");
    assert_eq!(ledger::balance(&app.state.db, &owner).await.unwrap(), 500);
    let entries = ledger::entries(&app.state.db, &owner, None, None, 50)
        .await
        .unwrap();
    let release = &entries.entries[0];
    assert_eq!(release.amount, 200);
    assert!(
        release.description.contains("Device offline"),
        "{}",
        release.description
    );

    // The person cancels: the job waits for the service, which confirms.
    let job = submitted(&app, &key, 120, "cancelled").await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let asked = app
        .call("/api/cancel_job", &[("id", job.as_str())], Some(&cookie))
        .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    assert_eq!(asked.json()["status"], "cancel_requested");
    assert_eq!(
        ledger::balance(&app.state.db, &owner).await.unwrap(),
        380,
        "held until confirmed"
    );
    let running = update(&app, &job, json!({"status": "running"})).await;
    assert_eq!(
        running.status,
        StatusCode::CONFLICT,
        "a job asked to stop does not start"
    );
    let confirmed = update(&app, &job, json!({"status": "cancelled"})).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    assert_eq!(ledger::balance(&app.state.db, &owner).await.unwrap(), 500);
    let again = app
        .call("/api/cancel_job", &[("id", job.as_str())], Some(&cookie))
        .await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.body
    );
    assert!(again.body.contains("has ended"), "{}", again.body);

    // Someone else's job answers like a missing one, on the page and over REST.
    let (_, stranger_cookie, stranger_key) = funded(&app, 0).await;
    let theirs = app
        .call(
            "/api/cancel_job",
            &[("id", job.as_str())],
            Some(&stranger_cookie),
        )
        .await;
    let missing = app
        .call(
            "/api/cancel_job",
            &[("id", "job_nothing")],
            Some(&stranger_cookie),
        )
        .await;
    assert_eq!(theirs.status, missing.status);
    assert_eq!(theirs.body, missing.body);
    let rest = api(
        &app,
        "GET",
        &format!("/api/v1/jobs/{job}"),
        Some(&stranger_key),
        None,
    )
    .await;
    assert_eq!(rest.status, StatusCode::NOT_FOUND);

    // The owner's key lists them with filters, reads one, and cancels over REST.
    let listed = api(
        &app,
        "GET",
        "/api/v1/jobs?status=cancelled",
        Some(&key),
        None,
    )
    .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let jobs = listed.json()["jobs"].as_array().unwrap().clone();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["id"], job.as_str());
    let all = api(&app, "GET", "/api/v1/jobs", Some(&key), None)
        .await
        .json();
    assert_eq!(all["jobs"].as_array().unwrap().len(), 2);
    let bad = api(
        &app,
        "GET",
        "/api/v1/jobs?status=sleeping",
        Some(&key),
        None,
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let third = submitted(&app, &key, 10, "rest-cancel").await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let cancel = api(
        &app,
        "POST",
        &format!("/api/v1/jobs/{third}/cancel"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(cancel.status, StatusCode::OK, "{}", cancel.body);
    assert_eq!(cancel.json()["status"], "cancel_requested");
    let ended = api(
        &app,
        "POST",
        &format!("/api/v1/jobs/{job}/cancel"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(ended.status, StatusCode::CONFLICT, "{}", ended.body);
    let (_, reader_cookie, _) = funded(&app, 0).await;
    let (_, read_only) = new_key(&app, &reader_cookie, "reader", &["account:read"]).await;
    let refused = api(&app, "GET", "/api/v1/jobs", Some(&read_only), None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    ledger_holds(&app).await;
}

async fn holds_never_pass_the_available_balance_and_overruns_are_owed(app: TestApp) {
    let (user_id, cookie, key) = funded(&app, 100).await;
    let owner = Owner::User(user_id);
    let refused = submit(
        &app,
        json!({"key": key, "device": "sim", "estimated_cost": 150, "idempotency_key": "big"}),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::PAYMENT_REQUIRED,
        "{}",
        refused.body
    );
    assert_eq!(refused.json()["error"]["code"], "insufficient_credits");
    assert_eq!(refused.json()["error"]["available"], 100);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs").await,
        0,
        "no job was made"
    );

    let first = submitted(&app, &key, 60, "a").await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let second = submit(
        &app,
        json!({"key": key, "device": "sim", "estimated_cost": 50, "idempotency_key": "b"}),
    )
    .await;
    assert_eq!(
        second.json()["error"]["available"],
        40,
        "holds count against the balance"
    );
    // A charge through verify cannot spend what is held either.
    let charge = common::verify_and_charge(&app, json!({"key": key, "cost": 41})).await;
    assert_eq!(charge.json()["reason"], "insufficient_credits");

    // Beyond the hold, covered by the rest of the balance: charged in full.
    update(&app, &first, json!({"status": "running"})).await;
    let done = update(
        &app,
        &first,
        json!({"status": "completed", "final_cost": 90}),
    )
    .await
    .json();
    assert_eq!(done["charged"], 90);
    assert_eq!(done["owed"], 0);
    assert_eq!(ledger::balance(&app.state.db, &owner).await.unwrap(), 10);

    // Beyond what the wallet holds: the hold is charged and the rest is owed.
    let last = submitted(&app, &key, 10, "c").await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    update(&app, &last, json!({"status": "running"})).await;
    let done = update(
        &app,
        &last,
        json!({"status": "completed", "final_cost": 50}),
    )
    .await
    .json();
    assert_eq!(done["charged"], 10);
    assert_eq!(done["owed"], 40);
    assert_eq!(ledger::balance(&app.state.db, &owner).await.unwrap(), 0);
    let page = app
        .call_json("/api/list_jobs", json!({"org": null, "filter": {"status": "", "device": "", "key_id": "", "from": "", "until": ""}, "before": null}), &cookie)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.json()["glance"]["owed"], 40);
    assert_eq!(page.json()["page"]["jobs"].as_array().unwrap().len(), 2);
    ledger_holds(&app).await;
}

async fn a_forgotten_job_expires_and_its_hold_is_released(app: TestApp) {
    let (user_id, _, key) = funded(&app, 100).await;
    let owner = Owner::User(user_id);
    let stale = submitted(&app, &key, 30, "stale").await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.state.clock.advance_secs(20 * 3600);
    let fresh = submitted(&app, &key, 20, "fresh").await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.state.clock.advance_secs(5 * 3600);
    let now = app.state.now_ms();
    assert_eq!(
        cancel::expire_stale(&app.state.db, 24, now, 100)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        cancel::expire_stale(&app.state.db, 24, now, 100)
            .await
            .unwrap(),
        0,
        "once"
    );
    let job = api(
        &app,
        "GET",
        &format!("/api/v1/jobs/{stale}"),
        Some(&key),
        None,
    )
    .await
    .json();
    assert_eq!(job["status"], "expired");
    assert_eq!(job["held"], 0);
    assert_eq!(ledger::balance(&app.state.db, &owner).await.unwrap(), 80);
    let late = update(&app, &stale, json!({"status": "running"})).await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
    let fresh = api(
        &app,
        "GET",
        &format!("/api/v1/jobs/{fresh}"),
        Some(&key),
        None,
    )
    .await
    .json();
    assert_eq!(fresh["status"], "queued");
    ledger_holds(&app).await;
}

async fn key_spending_limits_count_holds(app: TestApp) {
    let (_, cookie, _) = funded(&app, 1_000).await;
    let (key_id, key) = new_key(&app, &cookie, "limited", &["jobs:submit"]).await;
    let set = app
        .call(
            "/api/set_key_spend_limit",
            &[("id", key_id.as_str()), ("limit", "100")],
            Some(&cookie),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    let first = submitted(&app, &key, 80, "l1").await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let over = submit(
        &app,
        json!({"key": key, "device": "sim", "estimated_cost": 30, "idempotency_key": "l2"}),
    )
    .await;
    assert_eq!(over.status, StatusCode::PAYMENT_REQUIRED, "{}", over.body);
    assert_eq!(over.json()["error"]["code"], "key_spending_limit");
    let charge = common::verify_and_charge(&app, json!({"key": key, "cost": 30})).await;
    assert_eq!(
        charge.json()["reason"],
        "key_spending_limit",
        "a charge counts the hold"
    );
    // The job fails: its hold no longer counts.
    update(&app, &first, json!({"status": "failed"})).await;
    submitted(&app, &key, 30, "l3").await;
    // A completed job counts what it cost, not what it held.
    let second = submitted(&app, &key, 60, "l4").await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    update(&app, &second, json!({"status": "running"})).await;
    update(
        &app,
        &second,
        json!({"status": "completed", "final_cost": 20}),
    )
    .await;
    submitted(&app, &key, 50, "l5").await;
    let full = submit(
        &app,
        json!({"key": key, "device": "sim", "estimated_cost": 1, "idempotency_key": "l6"}),
    )
    .await;
    assert_eq!(
        full.json()["error"]["code"],
        "key_spending_limit",
        "30 + 20 + 50 = 100"
    );
    ledger_holds(&app).await;
}

async fn organization_keys_hold_the_organizations_credits(app: TestApp) {
    use crate::common::orgs::{call, create_org, person};
    let owner = person(&app).await;
    let slug = create_org(&app, &owner).await;
    let created = app
        .call_json(
            "/api/create_key",
            json!({"org": slug, "name": "team-runner", "scopes": ["jobs:submit"], "expiry": {"days": 90}}),
            &owner.cookie,
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let key = created.json()["secret"].as_str().unwrap().to_string();
    let verified = common::verify_and_charge(&app, json!({"key": key}))
        .await
        .json();
    let org = Owner::Org(verified["owner_id"].as_str().unwrap().to_string());
    common::grant_credits(&app, org.clone(), 300, &slug).await;
    let made = submitted(&app, &key, 120, "org-1").await;
    assert_eq!(made["available"], 180);
    assert_eq!(held(&app, &org).await, 120);
    let listed = call(
        &app,
        &owner,
        "cancel_job",
        &[
            ("org", slug.as_str()),
            ("id", made["job"]["id"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    // The person's own list does not hold the organization's job.
    let mine = app
        .call_json("/api/list_jobs", json!({"org": null, "filter": {"status": "", "device": "", "key_id": "", "from": "", "until": ""}, "before": null}), &owner.cookie)
        .await;
    assert_eq!(mine.json()["page"]["jobs"].as_array().unwrap().len(), 0);
    let theirs = app
        .call_json("/api/list_jobs", json!({"org": slug, "filter": {"status": "cancel_requested", "device": "", "key_id": "", "from": "", "until": ""}, "before": null}), &owner.cookie)
        .await;
    assert_eq!(theirs.json()["page"]["jobs"].as_array().unwrap().len(), 1);
    assert_eq!(theirs.json()["glance"]["on_hold"], 120);
    let stranger = person(&app).await;
    let refused = app
        .call_json("/api/list_jobs", json!({"org": slug, "filter": {"status": "", "device": "", "key_id": "", "from": "", "until": ""}, "before": null}), &stranger.cookie)
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.body);
    // Held credits keep the organization from being deleted until its jobs end.
    let key_id = created.json()["key"]["id"].as_str().unwrap().to_string();
    let gone = call(
        &app,
        &owner,
        "delete_key",
        &[("org", slug.as_str()), ("id", key_id.as_str())],
    )
    .await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.body);
    common::grant_credits(&app, org.clone(), -180, &format!("{slug}-out")).await;
    let form = [("slug", slug.as_str()), ("confirm", slug.as_str())];
    let kept = call(&app, &owner, "delete_organization", &form).await;
    assert_eq!(
        kept.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        kept.body
    );
    assert!(kept.body.contains("on hold"), "{}", kept.body);
    ledger_holds(&app).await;
}

async fn bad_submissions_and_wrong_callers_make_nothing(app: TestApp) {
    let (_, cookie, key) = funded(&app, 100).await;
    let (_, no_scope) = new_key(&app, &cookie, "reader", &["jobs:read"]).await;
    let scope = submit(
        &app,
        json!({"key": no_scope, "device": "sim", "estimated_cost": 1, "idempotency_key": "s"}),
    )
    .await;
    assert_eq!(scope.status, StatusCode::FORBIDDEN, "{}", scope.body);
    assert_eq!(scope.json()["error"]["required_scope"], "jobs:submit");
    let unknown = submit(
        &app,
        json!({"key": "kw_nothing", "device": "sim", "estimated_cost": 1, "idempotency_key": "u"}),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::FORBIDDEN);
    assert!(
        !unknown.body.contains("kw_nothing"),
        "the key is never echoed"
    );
    for (body, field) in [
        (
            json!({"key": key, "device": "sim", "estimated_cost": 0, "idempotency_key": "x"}),
            "estimated_cost",
        ),
        (
            json!({"key": key, "device": "", "estimated_cost": 1, "idempotency_key": "x"}),
            "device",
        ),
        (
            json!({"key": key, "device": "sim", "name": "a\u{0}b", "estimated_cost": 1, "idempotency_key": "x"}),
            "name",
        ),
        (
            json!({"key": key, "device": "sim", "estimated_cost": 1, "idempotency_key": ""}),
            "idempotency_key",
        ),
        (
            json!({"key": key, "device": "sim", "shots": -1, "estimated_cost": 1, "idempotency_key": "x"}),
            "shots",
        ),
        (
            json!({"key": key, "device": "x".repeat(101), "estimated_cost": 1, "idempotency_key": "x"}),
            "device",
        ),
    ] {
        let reply = submit(&app, body).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.body
        );
        assert!(
            reply.json()["error"]["fields"][field].is_string(),
            "{field}: {}",
            reply.body
        );
    }
    let malformed = api(&app, "POST", "/api/v1/jobs", Some(SERVICE_TOKEN), None).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    let no_token = api(
        &app,
        "POST",
        "/api/v1/jobs",
        Some(&key),
        Some(json!({"key": key, "device": "sim", "estimated_cost": 1, "idempotency_key": "t"})),
    )
    .await;
    assert_eq!(no_token.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 0);
    let job = submitted(&app, &key, 5, "ok").await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for body in [
        json!({"status": "expired"}),
        json!({"status": "cancel_requested"}),
        json!({"status": "running", "status_message": "x".repeat(501)}),
        json!({"status": "running", "queue_position": -1}),
        json!({"status": "failed", "final_cost": 3}),
    ] {
        let reply = update(&app, &job, body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            reply.body
        );
    }
    let missing = update(&app, "job_missing", json!({"status": "running"})).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    ledger_holds(&app).await;
}

async fn concurrent_holds_never_overdraw_a_wallet(app: TestApp) {
    let (user_id, _, key) = funded(&app, 200).await;
    let owner = Owner::User(user_id);
    let mut tasks = Vec::new();
    let app = std::sync::Arc::new(app);
    for n in 0..40 {
        let app = app.clone();
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            submit(
                &app,
                json!({"key": key, "device": "sim", "estimated_cost": 10, "idempotency_key": format!("c{n}")}),
            )
            .await
            .status
        }));
    }
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            StatusCode::CREATED => created += 1,
            StatusCode::PAYMENT_REQUIRED => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(created, 20);
    assert_eq!(ledger::balance(&app.state.db, &owner).await.unwrap(), 0);
    assert_eq!(held(&app, &owner).await, 200);
    ledger_holds(&app).await;
}

async fn included_credits_that_expire_while_held_expire_when_released(app: TestApp) {
    use keyward::wallet::included::{expire_due, grant, IncludedGrant};
    let (user_id, _, key) = funded(&app, 0).await;
    let owner = Owner::User(user_id.clone());
    let now = app.state.now_ms();
    for (n, credits) in [(1, 100), (2, 100)] {
        let made = IncludedGrant {
            owner: owner.clone(),
            credits,
            expires_at: now + 3_600_000,
            description: "Plan".into(),
            actor: "tests".into(),
            reference: None,
            idempotency_key: format!("included-{user_id}-{n}"),
        };
        grant(&app.state.db, &made, now).await.unwrap();
    }
    // Two jobs hold all 200 included credits; then the grants end.
    let failing = submitted(&app, &key, 100, "held-1").await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let completing = submitted(&app, &key, 100, "held-2").await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.state.clock.advance_secs(2 * 3600);
    expire_due(&app.state.db, app.state.now_ms(), 100)
        .await
        .unwrap();
    // Released, the credits do not come back as bought ones that never expire.
    update(&app, &failing, json!({"status": "failed"})).await;
    assert_eq!(ledger::balance(&app.state.db, &owner).await.unwrap(), 0);
    // Completed at 30: those 30 are charged, the other 70 expire.
    update(
        &app,
        &completing,
        json!({"status": "completed", "final_cost": 30}),
    )
    .await;
    assert_eq!(ledger::balance(&app.state.db, &owner).await.unwrap(), 0);
    let entries = ledger::entries(
        &app.state.db,
        &owner,
        Some(keyward::wallet::EntryKind::Expiry),
        None,
        50,
    )
    .await
    .unwrap();
    let expired: i64 = entries.entries.iter().map(|e| -e.amount).sum();
    assert_eq!(expired, 170);
    assert!(keyward::wallet::included::out_of_bounds(&app.state.db)
        .await
        .unwrap()
        .is_empty());
    ledger_holds(&app).await;
}

async fn a_job_updated_after_it_went_stale_is_not_expired(app: TestApp) {
    let (_, _, key) = funded(&app, 100).await;
    let job = submitted(&app, &key, 30, "late").await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.state.clock.advance_secs(25 * 3600);
    // The service comes back before the sweep reaches the job.
    update(&app, &job, json!({"status": "running"})).await;
    let now = app.state.now_ms();
    assert_eq!(
        cancel::expire_stale(&app.state.db, 24, now, 100)
            .await
            .unwrap(),
        0
    );
    let done = update(&app, &job, json!({"status": "completed", "final_cost": 20})).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.json()["charged"], 20);
    ledger_holds(&app).await;
}

/// 2026-11-30T23:59:59Z, the last second of November.
const LAST_SECOND_OF_NOVEMBER_MS: i64 = 1_796_083_199_000;

async fn limit(app: &TestApp, cookie: &str, key_id: &str, credits: &str) {
    let set = app
        .call(
            "/api/set_key_spend_limit",
            &[("id", key_id), ("limit", credits)],
            Some(cookie),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
}

async fn refused_reason(app: &TestApp, key: &str, cost: i64, idempotency_key: &str) -> String {
    let reply = submit(
        app,
        json!({"key": key, "device": "sim", "estimated_cost": cost, "idempotency_key": idempotency_key}),
    )
    .await;
    if reply.status == StatusCode::CREATED {
        return "created".into();
    }
    reply.json()["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn a_hold_is_given_back_to_the_month_that_counted_it(app: TestApp) {
    app.state.clock.pin_at(LAST_SECOND_OF_NOVEMBER_MS - 10_000);
    let (_, cookie, _) = funded(&app, 1_000).await;
    let (key_id, key) = new_key(&app, &cookie, "monthly", &["jobs:submit"]).await;
    limit(&app, &cookie, &key_id, "100").await;
    let job = submitted(&app, &key, 100, "nov").await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.state.clock.advance_secs(20); // December
    update(&app, &job, json!({"status": "completed", "final_cost": 90})).await;
    // December counts the 90 charged; November's hold went back to November.
    assert_eq!(
        refused_reason(&app, &key, 11, "dec-1").await,
        "key_spending_limit"
    );
    assert_eq!(refused_reason(&app, &key, 10, "dec-2").await, "created");

    // A hold made before its key had a limit is not taken off the count that never had it.
    let (other_id, other) = new_key(&app, &cookie, "late-limit", &["jobs:submit"]).await;
    let early = submitted(&app, &other, 80, "early").await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    limit(&app, &cookie, &other_id, "100").await;
    update(&app, &early, json!({"status": "failed"})).await;
    assert_eq!(
        refused_reason(&app, &other, 100, "after-1").await,
        "created"
    );
    assert_eq!(
        refused_reason(&app, &other, 1, "after-2").await,
        "key_spending_limit"
    );
    ledger_holds(&app).await;
}

async fn costs_beyond_the_hold_respect_the_key_limit_and_a_negative_balance(app: TestApp) {
    let (user_id, cookie, _) = funded(&app, 1_000).await;
    let owner = Owner::User(user_id.clone());
    let (key_id, key) = new_key(&app, &cookie, "capped", &["jobs:submit"]).await;
    limit(&app, &cookie, &key_id, "100").await;
    let job = submitted(&app, &key, 10, "small").await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let done = update(
        &app,
        &job,
        json!({"status": "completed", "final_cost": 500}),
    )
    .await
    .json();
    assert_eq!(
        done["charged"], 10,
        "the limit stops the overrun although the balance covers it"
    );
    assert_eq!(done["owed"], 490);

    // An operator's deduction takes the balance below zero while a job holds 50: the
    // job's cost, up to its hold, is charged all the same.
    let held = submitted(&app, &key, 50, "held").await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let balance = ledger::balance(&app.state.db, &owner).await.unwrap();
    common::grant_credits(
        &app,
        owner.clone(),
        -(balance + 20),
        &format!("{user_id}-deduct"),
    )
    .await;
    let done = update(
        &app,
        &held,
        json!({"status": "completed", "final_cost": 40}),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.json()["charged"], 40);
    assert_eq!(ledger::balance(&app.state.db, &owner).await.unwrap(), -10);
    ledger_holds(&app).await;
}

async fn the_same_end_sent_again_is_answered_as_before(app: TestApp) {
    let (_, _, key) = funded(&app, 100).await;
    let job = submitted(&app, &key, 30, "again").await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let first = update(&app, &job, json!({"status": "completed", "final_cost": 20})).await;
    let again = update(&app, &job, json!({"status": "completed", "final_cost": 20})).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.json()["charged"], first.json()["charged"]);
    let other = update(&app, &job, json!({"status": "completed", "final_cost": 21})).await;
    assert_eq!(other.status, StatusCode::CONFLICT, "{}", other.body);
    let failed = update(&app, &job, json!({"status": "failed"})).await;
    assert_eq!(failed.status, StatusCode::CONFLICT);
    let entries = app
        .count("SELECT COUNT(*) FROM ledger_entries WHERE kind = 'charge'")
        .await;
    assert_eq!(entries, 1, "charged once");
    ledger_holds(&app).await;
}
