//! Lab servers against the real JupyterHub `make test` starts (scripts/test-hub.sh),
//! through the real router, on SQLite and on Postgres: launching and stopping,
//! metering (also of a server started on the hub's own page), idle shutdown with an
//! injected clock, the plan's limit and Continue with credits, one metering task per
//! deployment, and a hub that is down or not set up.

use crate::common;

use axum::http::StatusCode;
use common::{api, new_key, TestApp};
use keyward::infra::config::Config;
use keyward::infra::hub_config::HubConnection;
use keyward::infra::lab_config::LabSettings;
use keyward::infra::plans::PlanCatalog;
use keyward::lab::runner::{Pass, Runner};
use keyward::lab::{store, StopReason, CPU_HOUR_MS};
use keyward::wallet::{ledger, EntryKind};
use keyward::workspace::Owner;
use serde_json::Value;
use std::time::Duration;

fn test_hub() -> HubConnection {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} must name the test JupyterHub; make test starts one")
        })
    };
    HubConnection {
        url: var("TEST_JUPYTERHUB_URL"),
        api_token: var("TEST_JUPYTERHUB_API_TOKEN").into(),
    }
}

/// The test hub, a Free plan of 1 compute hour (30 minutes on 2 vCPUs), idle after 10
/// hours (so that only the idle test, which moves the clock that far, meets it).
fn with_lab() -> Config {
    let mut config = common::test_config();
    config.hub = Some(test_hub());
    config.lab = LabSettings {
        cpus: 2,
        idle_minutes: 600,
        meter_secs: 30,
        credits_per_cpu_hour: 10,
    };
    let mut plans = PlanCatalog::default().all().to_vec();
    plans[0].lab_hours = 1;
    config.plans = PlanCatalog::new(plans).unwrap();
    config
}

on_both_databases_with!(with_lab;
    a_server_started_anywhere_is_metered_and_stopped_by_its_owner,
    an_idle_server_is_stopped_and_its_owner_told,
    the_limit_stops_the_server_and_credits_pay_past_it,
    the_hours_start_again_when_the_month_turns,
    one_process_meters_at_a_time,
    a_launch_with_less_than_a_minute_left_is_refused,
);

/// 2026-11-30T23:00:00Z, an hour before December (UTC).
const NOVEMBER_30_AT_23_MS: i64 = 1_796_079_600_000;
/// 2026-11-30T23:59:59Z, the last second of November.
const LAST_SECOND_OF_NOVEMBER_MS: i64 = 1_796_083_199_000;

fn runner(app: &TestApp) -> Runner {
    let state = &app.state;
    Runner::new(
        state.lab.clone().expect("Lab is configured"),
        state.db.clone(),
        state.clock.clone(),
        state.mailer.clone(),
        state.config.base_url(),
    )
    .expect("a runner")
}

async fn overview(app: &TestApp, cookie: &str) -> Value {
    let reply = app.call("/api/lab_summary", &[], Some(cookie)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()
}

/// The server's state as the Lab page gets it: "stopped", "starting", "running", "stopping".
fn server_state(overview: &Value) -> String {
    overview["availability"]["available"]["state"]
        .as_str()
        .unwrap_or("unavailable")
        .to_string()
}

/// Reads the Lab page's state until it is `wanted` (the hub starts and stops in the
/// background).
async fn wait_for(app: &TestApp, cookie: &str, wanted: &str) -> Value {
    for _ in 0..300 {
        let overview = overview(app, cookie).await;
        if server_state(&overview) == wanted {
            return overview;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the server never became {wanted}");
}

async fn history(app: &TestApp, cookie: &str) -> Vec<Value> {
    let reply = app.call("/api/lab_history", &[], Some(cookie)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json().as_array().cloned().unwrap_or_default()
}

async fn launch(app: &TestApp, cookie: &str) -> common::Reply {
    app.call("/api/launch_lab", &[], Some(cookie)).await
}

async fn used_cpu_ms(app: &TestApp, cookie: &str) -> i64 {
    overview(app, cookie).await["compute"]["used_cpu_ms"]
        .as_i64()
        .unwrap()
}

async fn a_server_started_anywhere_is_metered_and_stopped_by_its_owner(app: TestApp) {
    let (email, cookie) = app.sign_up().await;
    let user = app.user_id(&email).await;
    let first = overview(&app, &cookie).await;
    assert_eq!(server_state(&first), "stopped");
    assert_eq!(first["compute"]["plan"], "free");
    assert_eq!(first["compute"]["used_cpu_ms"], 0);
    assert!(history(&app, &cookie).await.is_empty());

    // Started on the hub's own page (here: its API), not through Keyward.
    let account = store::ensure_account(&app.state.db, &user, app.state.now_ms())
        .await
        .unwrap();
    let hub = &app.state.lab.as_ref().unwrap().hub;
    hub.ensure_user(&account.hub_name).await.unwrap();
    hub.start(&account.hub_name).await.unwrap();
    wait_for(&app, &cookie, "running").await;
    let runner = runner(&app);
    let pass = runner.pass().await.unwrap();
    assert!(pass.ran);
    assert!(pass.opened >= 1, "{pass:?}");
    assert_eq!(history(&app, &cookie).await.len(), 1);

    // Twenty minutes on 2 vCPUs: two thirds of a compute hour, counted once however
    // often the task runs.
    app.state.clock.advance_secs(20 * 60);
    runner.pass().await.unwrap();
    runner.pass().await.unwrap();
    let used = used_cpu_ms(&app, &cookie).await;
    assert!(
        (2 * 20 * 60_000..2 * 21 * 60_000).contains(&used),
        "used {used} CPU-ms"
    );

    // Stopped through the REST API by a key with lab:write.
    let (_, reader) = new_key(&app, &cookie, "lab reader", &["lab:read"]).await;
    let refused = api(&app, "POST", "/api/v1/lab/stop", Some(&reader), None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(refused.json()["error"]["required_scope"], "lab:write");
    let read = api(&app, "GET", "/api/v1/lab", Some(&reader), None).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.json()["server"]["state"], "running");
    assert_eq!(read.json()["plan"], "free");
    assert_eq!(read.json()["hours_limit"], 1);
    let (_, writer) = new_key(&app, &cookie, "lab writer", &["lab:write"]).await;
    let stopped = api(&app, "POST", "/api/v1/lab/stop", Some(&writer), None).await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.body);
    wait_for(&app, &cookie, "stopped").await;
    let sessions = history(&app, &cookie).await;
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["stop_reason"], "user");
    assert!(sessions[0]["stopped_at"].is_i64());

    // Launched through Keyward, stopped on the hub: recorded as stopped there.
    let launched = launch(&app, &cookie).await;
    assert_eq!(launched.status, StatusCode::OK, "{}", launched.body);
    let url = launched.json().as_str().unwrap().to_string();
    assert!(
        url.ends_with(&format!("/user/{}/lab", account.hub_name)),
        "{url}"
    );
    wait_for(&app, &cookie, "running").await;
    hub.stop(&account.hub_name).await.unwrap();
    wait_for(&app, &cookie, "stopped").await;
    runner.pass().await.unwrap();
    let sessions = history(&app, &cookie).await;
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0]["stop_reason"], "hub");
    // Neither stop needs a notice: the person (or the hub) did it.
    assert!(overview(&app, &cookie).await["notice"].is_null());
}

async fn an_idle_server_is_stopped_and_its_owner_told(app: TestApp) {
    let (email, cookie) = app.sign_up().await;
    let launched = launch(&app, &cookie).await;
    assert_eq!(launched.status, StatusCode::OK, "{}", launched.body);
    wait_for(&app, &cookie, "running").await;
    let runner = runner(&app);
    // Active a minute ago: not idle.
    app.state.clock.advance_secs(60);
    let pass = runner.pass().await.unwrap();
    assert!(pass.stopped.is_empty(), "{pass:?}");
    // The hub's last activity is now more than 600 minutes old.
    app.state.clock.advance_secs(600 * 60);
    let pass = runner.pass().await.unwrap();
    let user = app.user_id(&email).await;
    assert!(
        pass.stopped.contains(&(user.clone(), StopReason::Idle)),
        "{pass:?}"
    );
    let now = wait_for(&app, &cookie, "stopped").await;
    assert_eq!(now["notice"]["reason"], "idle");
    assert_eq!(history(&app, &cookie).await[0]["stop_reason"], "idle");
    common::newest_mail(&app, &format!("about the idle stop to {email}"), |m| {
        m.to == email && m.text.contains("no activity for 10 hours")
    })
    .await;
    let session = now["notice"]["session_id"].as_str().unwrap().to_string();
    let dismissed = app
        .call(
            "/api/dismiss_lab_notice",
            &[("session_id", &session)],
            Some(&cookie),
        )
        .await;
    assert_eq!(dismissed.status, StatusCode::OK, "{}", dismissed.body);
    assert!(overview(&app, &cookie).await["notice"].is_null());
}

async fn the_limit_stops_the_server_and_credits_pay_past_it(app: TestApp) {
    let (email, cookie) = app.sign_up().await;
    let user = app.user_id(&email).await;
    let owner = Owner::User(user.clone());
    assert_eq!(launch(&app, &cookie).await.status, StatusCode::OK);
    wait_for(&app, &cookie, "running").await;
    let runner = runner(&app);
    runner.pass().await.unwrap();
    // 27 minutes on 2 vCPUs is 90 % of the Free plan's hour: a warning, no stop.
    app.state.clock.advance_secs(27 * 60);
    let pass = runner.pass().await.unwrap();
    assert!(pass.stopped.is_empty(), "{pass:?}");
    let warned = overview(&app, &cookie).await;
    assert!(warned["compute"]["used_cpu_ms"].as_i64().unwrap() >= 54 * 60_000);
    // Past the hour: stopped, and launching is refused until the month turns.
    app.state.clock.advance_secs(4 * 60);
    let pass = runner.pass().await.unwrap();
    assert!(
        pass.stopped.contains(&(user.clone(), StopReason::Limit)),
        "{pass:?}"
    );
    wait_for(&app, &cookie, "stopped").await;
    let refused = launch(&app, &cookie).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("used all 1 compute hours of your Free plan"),
        "{}",
        refused.body
    );

    // Continue with credits, with an empty wallet: still refused.
    let on = app
        .call(
            "/api/set_continue_with_credits",
            &[("on", "true")],
            Some(&cookie),
        )
        .await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.body);
    let broke = launch(&app, &cookie).await;
    assert_eq!(broke.status, StatusCode::CONFLICT, "{}", broke.body);
    assert!(
        broke.body.contains("10 credits per CPU hour"),
        "{}",
        broke.body
    );

    // 25 credits pay for two CPU hours (10 each); the third stops the server.
    let grant = ledger::Posting {
        owner: owner.clone(),
        amount: 25,
        kind: EntryKind::OperatorGrant,
        reference: None,
        description: "test".into(),
        actor: "operator".into(),
        key_id: None,
        metadata: None,
        idempotency_key: format!("lab-test-{user}"),
        may_overdraw: false,
    };
    ledger::post(&app.state.db, &grant, app.state.now_ms())
        .await
        .unwrap();
    assert_eq!(launch(&app, &cookie).await.status, StatusCode::OK);
    wait_for(&app, &cookie, "running").await;
    let pass = runner.pass().await.unwrap();
    assert_eq!(pass.hours_charged, 1, "{pass:?}");
    // A retry at the same moment charges nothing more.
    assert_eq!(runner.pass().await.unwrap().hours_charged, 0);
    assert_eq!(ledger::balance(&app.state.db, &owner).await.unwrap(), 15);
    app.state.clock.advance_secs(30 * 60);
    let pass = runner.pass().await.unwrap();
    assert_eq!(pass.hours_charged, 1, "{pass:?}");
    assert_eq!(ledger::balance(&app.state.db, &owner).await.unwrap(), 5);
    app.state.clock.advance_secs(30 * 60);
    let pass = runner.pass().await.unwrap();
    assert!(
        pass.stopped.contains(&(user.clone(), StopReason::Credits)),
        "{pass:?}"
    );
    assert_eq!(ledger::balance(&app.state.db, &owner).await.unwrap(), 5);
    let page = ledger::entries(&app.state.db, &owner, Some(EntryKind::Charge), None, 50)
        .await
        .unwrap();
    assert_eq!(page.entries.len(), 2);
    assert!(page.entries.iter().all(|e| e.amount == -10));
    let (used, paid) = store::month_usage(&app.state.db, &user, app.state.now_ms())
        .await
        .unwrap();
    assert!(used > 2 * CPU_HOUR_MS, "{used}");
    assert_eq!(paid, 2);
    wait_for(&app, &cookie, "stopped").await;
}

/// The plan's hours are per calendar month (UTC): used up on the evening of November 30,
/// still used up in its last second, a fresh hour in the first second of December.
async fn the_hours_start_again_when_the_month_turns(app: TestApp) {
    app.state.clock.pin_at(NOVEMBER_30_AT_23_MS);
    let (email, cookie) = app.sign_up().await;
    let user = app.user_id(&email).await;
    assert_eq!(launch(&app, &cookie).await.status, StatusCode::OK);
    wait_for(&app, &cookie, "running").await;
    let runner = runner(&app);
    runner.pass().await.unwrap();
    // 31 minutes on 2 vCPUs, all in November: past the Free plan's hour.
    app.state.clock.advance_secs(31 * 60);
    let pass = runner.pass().await.unwrap();
    assert!(
        pass.stopped.contains(&(user.clone(), StopReason::Limit)),
        "{pass:?}"
    );
    wait_for(&app, &cookie, "stopped").await;

    app.state.clock.pin_at(LAST_SECOND_OF_NOVEMBER_MS);
    let refused = launch(&app, &cookie).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    let (november, _) = store::month_usage(&app.state.db, &user, app.state.now_ms())
        .await
        .unwrap();
    assert!(november >= CPU_HOUR_MS, "{november}");

    app.state.clock.pin_at(LAST_SECOND_OF_NOVEMBER_MS + 1_000);
    let december = store::month_usage(&app.state.db, &user, app.state.now_ms())
        .await
        .unwrap();
    assert_eq!(december, (0, 0));
    let summary = overview(&app, &cookie).await;
    assert_eq!(summary["compute"]["used_cpu_ms"], 0, "{summary}");
    assert_eq!(launch(&app, &cookie).await.status, StatusCode::OK);
    wait_for(&app, &cookie, "running").await;
    let stopped = app.call("/api/stop_lab", &[], Some(&cookie)).await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.body);
    wait_for(&app, &cookie, "stopped").await;
}

async fn one_process_meters_at_a_time(app: TestApp) {
    let other = app.another_process().await;
    let first = runner(&app);
    let second = runner(&other);
    assert!(first.pass().await.unwrap().ran);
    assert_eq!(second.pass().await.unwrap(), Pass::default());
    assert!(first.pass().await.unwrap().ran);
    // The holder goes away: after its lease runs out (3 intervals), the other takes over.
    other.state.clock.advance_secs(91);
    assert!(second.pass().await.unwrap().ran);
    assert!(!first.pass().await.unwrap().ran);
}

#[tokio::test]
async fn without_a_hub_lab_is_not_set_up_and_nothing_else_changes() {
    let app = TestApp::sqlite().await;
    let (_, cookie) = app.sign_up().await;
    let overview = overview(&app, &cookie).await;
    assert_eq!(overview["availability"], "not_set_up");
    let refused = launch(&app, &cookie).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.body.contains("Lab is not set up on this server"));
    let dashboard = app.call("/api/account_overview", &[], Some(&cookie)).await;
    assert_eq!(dashboard.status, StatusCode::OK);
    let (_, key) = new_key(&app, &cookie, "lab", &["lab:read"]).await;
    let rest = api(&app, "GET", "/api/v1/lab", Some(&key), None).await;
    assert_eq!(rest.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(rest.json()["error"]["code"], "lab_not_set_up");
    let page = app.get("/account/lab", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Lab is not set up on this server"));
}

#[tokio::test]
async fn a_hub_that_is_down_is_unavailable_and_the_dashboard_still_works() {
    let mut config = with_lab();
    // Nothing listens on port 9 of loopback: connection refused.
    config.hub = Some(HubConnection {
        url: "http://127.0.0.1:9".into(),
        api_token: "a-token-the-hub-never-sees".into(),
    });
    let app = TestApp::sqlite_with(config).await;
    let (_, cookie) = app.sign_up().await;
    let overview = overview(&app, &cookie).await;
    assert_eq!(overview["availability"], "unavailable");
    assert_eq!(overview["compute"]["plan"], "free");
    let refused = launch(&app, &cookie).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.body.contains("Lab is unavailable right now"));
    assert!(!refused.body.contains("a-token-the-hub-never-sees"));
    let dashboard = app.call("/api/account_overview", &[], Some(&cookie)).await;
    assert_eq!(dashboard.status, StatusCode::OK);
    let keys = app.get("/account/api-keys", Some(&cookie)).await;
    assert_eq!(keys.status, StatusCode::OK);
    // The metering task reads nothing and breaks nothing.
    assert!(runner(&app).pass().await.unwrap().ran);
    let (_, key) = new_key(&app, &cookie, "lab", &["lab:read"]).await;
    let rest = api(&app, "GET", "/api/v1/lab", Some(&key), None).await;
    assert_eq!(rest.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(rest.json()["error"]["code"], "unavailable");
}

#[tokio::test]
async fn operators_set_plans_and_others_cannot() {
    let app = TestApp::sqlite_with(with_lab()).await;
    let (email, cookie) = app.sign_up().await;
    let (admin_email, admin_cookie) = app.sign_up().await;
    keyward::auth::admin::set_admin(&app.state.db, &admin_email, true)
        .await
        .unwrap();
    let form = [("email", email.as_str()), ("plan", "pro")];
    let refused = app.call("/api/admin_set_plan", &form, Some(&cookie)).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let bad = app
        .call(
            "/api/admin_set_plan",
            &[("email", &email), ("plan", "gold")],
            Some(&admin_cookie),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let nobody = app
        .call(
            "/api/admin_set_plan",
            &[("email", "nobody@example.com"), ("plan", "pro")],
            Some(&admin_cookie),
        )
        .await;
    assert_eq!(nobody.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(nobody.body.contains("No account has this email"));
    let set = app
        .call("/api/admin_set_plan", &form, Some(&admin_cookie))
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    let now = overview(&app, &cookie).await;
    assert_eq!(now["compute"]["plan"], "pro");
    assert_eq!(now["compute"]["limit_hours"], 2_000);
    let servers = app.call("/api/admin_lab_servers", &[], Some(&cookie)).await;
    assert_eq!(servers.status, StatusCode::NOT_FOUND);
    let stop = app
        .call(
            "/api/admin_stop_lab",
            &[("user_id", "usr_nobody")],
            Some(&admin_cookie),
        )
        .await;
    assert_eq!(stop.status, StatusCode::NOT_FOUND);
}

async fn a_launch_with_less_than_a_minute_left_is_refused(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    assert_eq!(launch(&app, &cookie).await.status, StatusCode::OK);
    wait_for(&app, &cookie, "running").await;
    let runner = runner(&app);
    runner.pass().await.unwrap();
    // 29 min 40 s on 2 vCPUs: 40 CPU-seconds of the Free plan's hour are left, 20 s of a server.
    app.state.clock.advance_secs(29 * 60 + 40);
    runner.pass().await.unwrap();
    let stopped = app.call("/api/stop_lab", &[], Some(&cookie)).await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.body);
    wait_for(&app, &cookie, "stopped").await;
    let refused = launch(&app, &cookie).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(
        refused.body.contains("too little to start a server"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("seconds of your Free plan"),
        "{}",
        refused.body
    );
}
