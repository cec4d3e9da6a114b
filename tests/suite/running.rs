//! Running Keyward for real: the health endpoints a load balancer checks, and SQLite
//! backups taken under charge load and restored by the real binary.

use crate::common::{self, api, new_key, with_service_token, TestApp};
use axum::http::StatusCode;
use keyward::wallet::ledger;
use keyward::workspace::Owner;
use serde_json::json;
use std::process::Command;

on_both_databases!(ready_means_database_migrations_writers_and_not_stopping,);

async fn ready_means_database_migrations_writers_and_not_stopping(app: TestApp) {
    let live = app.get("/health/live", None).await;
    assert_eq!(live.status, StatusCode::OK);
    assert_eq!(live.json()["status"], "live");
    // The usage flusher has not run: not ready yet, and saying why.
    let early = app.get("/health/ready", None).await;
    assert_eq!(
        early.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        early.body
    );
    assert_eq!(early.json()["checks"]["usage_flusher"], "not_started");
    assert_eq!(early.json()["checks"]["database"], "ok");
    assert_eq!(early.json()["checks"]["migrations"], "ok");
    assert_eq!(early.json()["checks"]["charge_writer"], "ok");
    app.state.start_background_tasks();
    let mut ready = app.get("/health/ready", None).await;
    for _ in 0..50 {
        if ready.status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        ready = app.get("/health/ready", None).await;
    }
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    assert_eq!(ready.json()["status"], "ready");
    // Stopping: not ready at once, while it still answers.
    app.state.vitals.begin_shutdown();
    let stopping = app.get("/health/ready", None).await;
    assert_eq!(stopping.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(stopping.json()["checks"]["shutting_down"], true);
    assert_eq!(app.get("/health/live", None).await.status, StatusCode::OK);
}

fn keyward(args: &[&str], database_url: &str) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("KEYWARD_ADDR", "127.0.0.1:1")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run keyward");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_charge_load_restores_to_a_ledger_that_verifies() {
    let app = std::sync::Arc::new(TestApp::sqlite_with(with_service_token()).await);
    let (email, cookie) = app.sign_up().await;
    let user = app.user_id(&email).await;
    let (_, key) = new_key(&app, &cookie, "backed-up", &["account:read"]).await;
    common::grant_credits(&app, Owner::User(user.clone()), 100_000, &user).await;
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup.db");

    // Charges go on while the backup is taken.
    let charging = {
        let (app, key) = (app.clone(), key.clone());
        tokio::spawn(async move {
            let mut answered = 0;
            for n in 0..300 {
                let reply = common::verify_and_charge(
                    &app,
                    json!({"key": key, "cost": 1, "idempotency_key": format!("load-{n}")}),
                )
                .await;
                if reply.status == StatusCode::OK && reply.json()["valid"] == true {
                    answered += 1;
                }
            }
            answered
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let bytes = keyward::infra::backup::backup(&app.state.db, &backup)
        .await
        .unwrap();
    assert!(bytes > 0);
    assert_eq!(charging.await.unwrap(), 300);
    let again = keyward::infra::backup::backup(&app.state.db, &backup).await;
    assert!(
        again.unwrap_err().contains("exists already"),
        "a backup never overwrites"
    );

    // Restored by the real binary into a fresh file: a consistent ledger, a working key.
    let restored = format!("sqlite://{}", dir.path().join("restored.db").display());
    let (ok, out) = keyward(&["restore", backup.to_str().unwrap()], &restored);
    assert!(ok, "{out}");
    let (ok, out) = keyward(&["ledger", "verify"], &restored);
    assert!(ok, "{out}");
    let server = TestApp::on_database(&restored, with_service_token()).await;
    let me = api(&server, "GET", "/api/v1/me", Some(&key), None).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    let balance = ledger::balance(&server.state.db, &Owner::User(user))
        .await
        .unwrap();
    assert!((99_700..=100_000).contains(&balance), "{balance}");

    // A restore refuses a database a server is using, and a file that is not a backup.
    let live = app.sqlite_path.clone().unwrap();
    let _serving = keyward::infra::backup::hold_serving_lock(&live).unwrap();
    let live_url = format!("sqlite://{}", live.display());
    let (ok, out) = keyward(&["restore", backup.to_str().unwrap()], &live_url);
    assert!(!ok && out.contains("is using"), "{out}");
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, "not a database").unwrap();
    let (ok, out) = keyward(&["restore", junk.to_str().unwrap()], &restored);
    assert!(!ok, "{out}");
}

#[test]
fn log_lines_are_json_when_asked_and_an_unknown_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("logs.db").display());
    let run = |format: &str| {
        Command::new(env!("CARGO_BIN_EXE_keyward"))
            .args(["ledger", "verify"])
            .env("DATABASE_URL", &url)
            .env("KEYWARD_ADDR", "127.0.0.1:1")
            .env("KEYWARD_LOG_FORMAT", format)
            .env("RUST_LOG", "debug")
            .output()
            .expect("run keyward")
    };
    let json = run("json");
    assert!(json.status.success());
    let stderr = String::from_utf8_lossy(&json.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "debug logs were written");
    for line in lines {
        let parsed: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(
            parsed["level"].is_string() && parsed["timestamp"].is_string(),
            "{line}"
        );
    }
    let refused = run("yaml");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("KEYWARD_LOG_FORMAT"));
}
