//! Random and mutated JSON bodies against every JSON endpoint, through the real router:
//! whatever arrives, the answer is a clear 4xx (or a success), never a 500 or a panic.

use crate::common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{new_key, TestApp, HOST, ORIGIN};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Bodies: arbitrary text, JSON-ish fragments, and valid bodies with a value swapped.
fn bodies() -> impl Strategy<Value = String> {
    let scalar = prop_oneof![
        Just("null".to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:?}")),
        ".*".prop_map(|s| serde_json::Value::String(s).to_string()),
        ".*".prop_map(|s| serde_json::Value::String(format!("{s}\u{0}{s}")).to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("\"never\"".to_string()),
        Just("{\"days\":90}".to_string()),
        Just("{\"date\":\"2027-01-31\"}".to_string()),
    ];
    let field = prop_oneof![
        Just("name"),
        Just("scopes"),
        Just("expiry"),
        Just("grace_secs"),
        Just("key"),
        Just("scope"),
        Just("extra")
    ];
    prop_oneof![
        ".*",
        proptest::collection::vec((field, scalar), 0..5).prop_map(|pairs| {
            let inner: Vec<String> = pairs
                .into_iter()
                .map(|(k, v)| format!("\"{k}\":{v}"))
                .collect();
            format!("{{{}}}", inner.join(","))
        }),
        (".*", 0usize..60).prop_map(|(junk, at)| {
            let valid = r#"{"name":"n","scopes":["account:read"],"expiry":{"days":3}}"#;
            let at = at.min(valid.len());
            format!("{}{}", &valid[..at], junk)
        }),
    ]
}

fn post(path: &str, bearer: &str, body: String, json_server_fn: bool) -> Request<Body> {
    let mut builder = Request::post(path)
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "application/json");
    builder = if json_server_fn {
        builder
            .header(header::ORIGIN, ORIGIN)
            .header(header::COOKIE, bearer)
    } else {
        builder.header(header::AUTHORIZATION, format!("Bearer {bearer}"))
    };
    builder.body(Body::from(body)).unwrap()
}

#[test]
fn random_json_bodies_never_cause_a_500_on_sqlite() {
    random_json_bodies_never_cause_a_500(false, 4_000);
}

/// Postgres refuses NUL in text, which SQLite stores: the bodies' strings hold NUL
/// characters often enough to prove the edge refuses them first.
#[test]
#[ignore = "needs TEST_POSTGRES_URL; make test runs it"]
fn random_json_bodies_never_cause_a_500_on_postgres() {
    random_json_bodies_never_cause_a_500(true, 1_000);
}

fn random_json_bodies_never_cause_a_500(postgres: bool, default_cases: u32) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let token = "a-service-token-that-is-long-enough-for-this";
    let (app, key, key_id, cookie) = runtime.block_on(async {
        let config = keyward::infra::config::Config {
            service_token: Some(token.into()),
            rate_limit_per_sec: 1_000_000,
            rate_limit_burst: 1_000_000,
            max_keys_per_account: 1_000_000,
            ..Default::default()
        };
        let app = if postgres {
            TestApp::postgres_with(config).await
        } else {
            TestApp::sqlite_with(config).await
        };
        let (_, cookie) = app.sign_up().await;
        let (id, key) = new_key(
            &app,
            &cookie,
            "fuzzed",
            &["account:read", "keys:read", "keys:write"],
        )
        .await;
        let (target, _) = new_key(&app, &cookie, "regenerated", &["account:read"]).await;
        let _ = id;
        (app, key, target, cookie)
    });
    let cases: u32 = std::env::var("KEYWARD_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_cases);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let endpoints: [(&str, &str, bool); 4] = [
        ("/api/v1/keys", key.as_str(), false),
        ("/api/v1/verify", token, false),
        ("/api/create_key", cookie.as_str(), true),
        ("regenerate", key.as_str(), false),
    ];
    runner
        .run(&bodies(), |body| {
            for (path, credential, server_fn) in endpoints {
                let path = if path == "regenerate" {
                    format!("/api/v1/keys/{key_id}/regenerate")
                } else {
                    path.to_string()
                };
                let reply =
                    runtime.block_on(app.send(post(&path, credential, body.clone(), server_fn)));
                prop_assert!(
                    reply.status != StatusCode::INTERNAL_SERVER_ERROR
                        && reply.status.as_u16() < 500,
                    "{path} answered {} to {body:?}: {}",
                    reply.status,
                    reply.body
                );
                prop_assert!(!reply.body.contains(&key), "{path} echoed the key");
            }
            Ok(())
        })
        .unwrap();
}
