//! NUL and invalid UTF-8 in any text a request carries answer 422 naming the field, on
//! both databases, signed in or out, never a database error; and a charge with bad text
//! never fails the other charges written in its group.

use crate::common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{api, new_key, TestApp, HOST, ORIGIN};
use keyward::infra::config::Config;
use keyward::wallet::ChargeRequest;
use keyward::workspace::Owner;
use serde_json::json;

fn with_service_token() -> Config {
    let mut config = common::with_service_token();
    // Sixty people sign up from one address.
    config.sign_ups_per_hour = 1_000;
    config
}

on_both_databases_with!(with_service_token;
    nul_in_any_server_function_text_is_refused_beside_its_field,
    nul_in_rest_paths_and_bodies_is_refused_as_validation,
    a_bad_charge_never_fails_the_others_in_its_group,
);

/// A url-encoded server function call with the raw (already encoded) body.
async fn raw_call(app: &TestApp, path: &str, body: &str, cookie: Option<&str>) -> common::Reply {
    let mut builder = Request::post(path)
        .header(header::HOST, HOST)
        .header(header::ORIGIN, ORIGIN)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json");
    if let Some(cookie) = cookie {
        builder = builder.header(header::COOKIE, cookie);
    }
    app.send(builder.body(Body::from(body.to_string())).unwrap())
        .await
}

fn field_of(reply: &common::Reply) -> String {
    reply.json()["Validation"][0]["field"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn nul_in_any_server_function_text_is_refused_beside_its_field(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let signed_out: &[(&str, &str, &str)] = &[
        (
            "/api/sign_in",
            "email=a%00b%40example.com&password=x",
            "email",
        ),
        (
            "/api/sign_in",
            "email=a%40example.com&password=x%00y",
            "password",
        ),
        (
            "/api/sign_in",
            "email=%FF%FE%40example.com&password=x",
            "email",
        ),
        (
            "/api/sign_up",
            "email=new%00%40example.com&password=correct+horse+battery",
            "email",
        ),
        (
            "/api/request_password_reset",
            "email=x%00%40example.com",
            "email",
        ),
        ("/api/verify_email", "token=abc%00", "token"),
        (
            "/api/reset_password",
            "token=abc%00&password=correct+horse+battery",
            "token",
        ),
    ];
    let signed_in: &[(&str, &str, &str)] = &[
        (
            "/api/change_password",
            "current_password=x%00&new_password=another+long+password",
            "current_password",
        ),
        ("/api/disable_two_factor", "code=12%0034", "code"),
        ("/api/confirm_two_factor", "code=%00", "code"),
        ("/api/sign_out_session", "id=s%00", "id"),
        ("/api/apply_promo_code", "order_id=ord_x&code=A%00B", "code"),
        ("/api/create_organization", "name=Evil%00Org", "name"),
    ];
    for (path, body, field) in signed_out {
        let reply = raw_call(&app, path, body, None).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path} {body}: {}",
            reply.body
        );
        assert_eq!(field_of(&reply), *field, "{path} {body}: {}", reply.body);
    }
    for (path, body, field) in signed_in {
        let reply = raw_call(&app, path, body, Some(&cookie)).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path} {body}: {}",
            reply.body
        );
        assert_eq!(field_of(&reply), *field, "{path} {body}: {}", reply.body);
    }
    // Whatever the body claims to be: server functions decode it all the same.
    let request = Request::post("/api/create_organization")
        .header(header::HOST, HOST)
        .header(header::ORIGIN, ORIGIN)
        .header(header::CONTENT_TYPE, "text/plain")
        .header(header::COOKIE, &cookie)
        .body(Body::from("name=Evil&slug=evil%00org"))
        .unwrap();
    let reply = app.send(request).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert_eq!(field_of(&reply), "slug");
    // A JSON-encoded server function: the field is named by its path in the body.
    let reply = app
        .call_json(
            "/api/create_key",
            json!({"name": "a\u{0}b", "scopes": ["account:read"], "expiry": {"days": 9}}),
            &cookie,
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert_eq!(field_of(&reply), "name");
    // Nothing was written by any of them: the person still has no keys, no orgs.
    assert_eq!(app.count("SELECT COUNT(*) FROM api_keys").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM organizations").await, 0);
    // Pages too: a NUL in the path is refused, not a server error.
    let page = app.get("/org/ab%00cd", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = app.get("/account/wallet?page=%00", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
}

fn rest_field(reply: &common::Reply) -> Vec<String> {
    assert_eq!(
        reply.json()["error"]["code"],
        "validation_failed",
        "{}",
        reply.body
    );
    reply.json()["error"]["fields"]
        .as_object()
        .map(|fields| fields.keys().cloned().collect())
        .unwrap_or_default()
}

async fn nul_in_rest_paths_and_bodies_is_refused_as_validation(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let (_, secret) = new_key(&app, &cookie, "maker", &["keys:write", "keys:read"]).await;
    let refund = api(
        &app,
        "POST",
        "/api/v1/charges/%00/refund",
        Some(common::SERVICE_TOKEN),
        None,
    )
    .await;
    assert_eq!(
        refund.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refund.body
    );
    assert_eq!(rest_field(&refund), ["path"]);
    let key = api(&app, "GET", "/api/v1/keys/k%00", Some(&secret), None).await;
    assert_eq!(key.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", key.body);
    let verify = api(
        &app,
        "POST",
        "/api/v1/verify",
        Some(common::SERVICE_TOKEN),
        Some(json!({"key": "kw_\u{0}"})),
    )
    .await;
    assert_eq!(
        verify.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        verify.body
    );
    assert_eq!(rest_field(&verify), ["key"]);
    let charge = api(&app, "POST", "/api/v1/verify", Some(common::SERVICE_TOKEN),
        Some(json!({"key": secret, "cost": 1, "description": "job\u{0}", "metadata": {"a": ["\u{0}"]}}))).await;
    assert_eq!(
        charge.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        charge.body
    );
    assert_eq!(rest_field(&charge), ["description"]);
    let create = api(
        &app,
        "POST",
        "/api/v1/keys",
        Some(&secret),
        Some(json!({"name": "x\u{0}", "scopes": ["keys:read"]})),
    )
    .await;
    assert_eq!(
        create.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        create.body
    );
    assert_eq!(rest_field(&create), ["name"]);
    let list = api(
        &app,
        "GET",
        "/api/v1/credits/transactions?cursor=%00",
        Some(&secret),
        None,
    )
    .await;
    assert_eq!(
        list.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        list.body
    );
    assert_eq!(rest_field(&list), ["cursor"]);
    // Bytes that are not UTF-8 in a JSON body.
    let request = Request::post("/api/v1/keys")
        .header(header::HOST, HOST)
        .header(header::AUTHORIZATION, format!("Bearer {secret}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            b"{\"name\":\"\xff\xfe\",\"scopes\":[\"keys:read\"]}".to_vec(),
        ))
        .unwrap();
    let reply = app.send(request).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM api_keys").await, 1);
}

/// Sixty people charge at once beside charges whose text cannot be stored: every good
/// charge is committed and answered, each bad one is refused alone.
async fn a_bad_charge_never_fails_the_others_in_its_group(app: TestApp) {
    let mut people = Vec::new();
    for i in 0..60 {
        let (email, _) = app.sign_up().await;
        let user_id = app.user_id(&email).await;
        common::grant_credits(&app, Owner::User(user_id.clone()), 100, &format!("g{i}")).await;
        people.push(user_id);
    }
    let app = std::sync::Arc::new(app);
    let request = |owner: &str, description: &str, key: Option<String>| ChargeRequest {
        owner: Owner::User(owner.to_string()),
        key_id: "key_test".into(),
        cost: 7,
        idempotency_key: key,
        description: description.to_string(),
        metadata: None,
        key_spend_limit: None,
    };
    let mut tasks = Vec::new();
    for (i, owner) in people.iter().enumerate() {
        let bad = (i % 20 == 0).then(|| request(owner, "bad\u{0}text", None));
        let good = request(owner, "a good charge", Some(format!("good-{i}")));
        for charge in bad.into_iter().chain([good]) {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                let bad = charge.description.contains('\0');
                (bad, app.state.charger.charge(charge).await)
            }));
        }
    }
    let mut charged = 0;
    for task in tasks {
        let (bad, outcome) = task.await.unwrap();
        if bad {
            let error = outcome.expect_err("a NUL description is refused");
            assert!(error.field_message("description").is_some(), "{error:?}");
        } else {
            outcome.expect("a good charge is charged");
            charged += 1;
        }
    }
    assert_eq!(charged, 60);
    for owner in &people {
        let balance = keyward::wallet::ledger::balance(&app.state.db, &Owner::User(owner.clone()))
            .await
            .unwrap();
        assert_eq!(balance, 93);
    }
}
