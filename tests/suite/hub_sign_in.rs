//! Single sign-on for the Lab's JupyterHub: Keyward as the OAuth 2.0 authorization
//! server of one client (authorization code + PKCE S256), through the real router, on
//! SQLite and on Postgres; every refusal the protocol needs.

use crate::common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use base64::Engine as _;
use common::{encode, Reply, TestApp};
use keyward::auth::oauth;
use keyward::infra::config::Config;
use keyward::infra::hub_config::OAuthClient;

const CLIENT_ID: &str = "jupyterhub";
const CLIENT_SECRET: &str = "hub-client-secret-0123456789";
const REDIRECT_URI: &str = "http://127.0.0.1:8010/hub/oauth_callback";
const VERIFIER: &str = "a-verifier-of-forty-three-or-more-characters-0123456789";

fn with_hub() -> Config {
    let mut config = common::test_config();
    config.hub_oauth = Some(OAuthClient {
        id: CLIENT_ID.into(),
        secret: CLIENT_SECRET.into(),
        redirect_uri: REDIRECT_URI.into(),
    });
    config
}

on_both_databases_with!(with_hub;
    the_hub_signs_a_person_in_with_a_code_and_pkce,
    a_signed_out_person_signs_in_first_and_comes_back,
    bad_authorization_requests_are_refused,
    bad_token_requests_are_refused_and_a_code_works_once,
);

/// The same on both databases; one is enough.
#[tokio::test]
async fn without_a_hub_client_the_endpoints_are_not_found_on_sqlite() {
    without_a_hub_client_the_endpoints_are_not_found(TestApp::sqlite().await).await;
}

fn query(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn good_request(state: &str) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", CLIENT_ID.into()),
        ("redirect_uri", REDIRECT_URI.into()),
        ("state", state.into()),
        ("code_challenge", oauth::challenge_of(VERIFIER)),
        ("code_challenge_method", "S256".into()),
        ("scope", "openid profile".into()),
    ]
}

async fn authorize(app: &TestApp, params: &[(&str, String)], cookie: Option<&str>) -> Reply {
    let refs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.get(&format!("/oauth/authorize?{}", query(&refs)), cookie)
        .await
}

/// The query parameters of a redirect's `Location`, decoded.
fn location_params(reply: &Reply) -> (String, Vec<(String, String)>) {
    let location = reply.header("location").expect("a redirect");
    let (base, query) = location.split_once('?').unwrap_or((&location, ""));
    let params = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                k.to_string(),
                keyward::infra::url::percent_decode(v).expect("encoded"),
            )
        })
        .collect();
    (base.to_string(), params)
}

fn param(params: &[(String, String)], name: &str) -> Option<String> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// A code for the signed-in person behind `cookie`.
async fn code_for(app: &TestApp, cookie: &str) -> String {
    let reply = authorize(app, &good_request("st"), Some(cookie)).await;
    assert!(reply.status.is_redirection(), "{}", reply.body);
    let (base, params) = location_params(&reply);
    assert_eq!(base, REDIRECT_URI);
    assert_eq!(param(&params, "state").as_deref(), Some("st"));
    param(&params, "code").expect("a code")
}

/// `POST /oauth/token` as the hub's server sends it: a form, no Origin, no cookie.
async fn token(app: &TestApp, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> Reply {
    let mut builder = Request::post("/oauth/token")
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some((id, secret)) = basic {
        let credentials =
            base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        builder = builder.header(header::AUTHORIZATION, format!("Basic {credentials}"));
    }
    app.send(builder.body(Body::from(query(form))).unwrap())
        .await
}

async fn exchange(app: &TestApp, code: &str, verifier: &str) -> Reply {
    token(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
            ("data", "None"),
        ],
        Some((CLIENT_ID, CLIENT_SECRET)),
    )
    .await
}

async fn userinfo(app: &TestApp, access_token: &str) -> Reply {
    let request = Request::get("/oauth/userinfo")
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::AUTHORIZATION, format!("Bearer {access_token}"))
        .header(header::ACCEPT, "application/json")
        .body(Body::empty())
        .unwrap();
    app.send(request).await
}

async fn the_hub_signs_a_person_in_with_a_code_and_pkce(app: TestApp) {
    let (email, cookie) = app.sign_up().await;
    let code = code_for(&app, &cookie).await;
    let reply = exchange(&app, &code, VERIFIER).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.header("cache-control").as_deref(), Some("no-store"));
    let body = reply.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 600);
    let access_token = body["access_token"].as_str().unwrap().to_string();

    let info = userinfo(&app, &access_token).await;
    assert_eq!(info.status, StatusCode::OK, "{}", info.body);
    let name = info.json()["preferred_username"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(name, oauth::hub_username(&app.user_id(&email).await));
    assert!(
        !info.body.contains(&email),
        "the email never reaches the hub"
    );

    // Only digests are kept: neither secret is in the database.
    for (table, secret) in [("oauth_codes", &code), ("oauth_tokens", &access_token)] {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE digest = $1 OR digest = $2");
        let (n,): (i64,) = sqlx::query_as(&sql)
            .bind(secret)
            .bind(keyward::auth::tokens::digest(secret))
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
        assert_eq!(n, 1, "{table} holds the digest, not the secret");
        let (plain,): (i64,) =
            sqlx::query_as(&format!("SELECT COUNT(*) FROM {table} WHERE digest = $1"))
                .bind(secret)
                .fetch_one(&app.state.db.pool)
                .await
                .unwrap();
        assert_eq!(plain, 0);
    }

    // A second sign-in, credentials in the form this time: the same hub name.
    let code = code_for(&app, &cookie).await;
    let reply = token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ],
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let again = userinfo(&app, reply.json()["access_token"].as_str().unwrap()).await;
    assert_eq!(again.json()["preferred_username"], name.as_str());

    // Tokens are short-lived.
    app.state.clock.advance_secs(601);
    assert_eq!(
        userinfo(&app, &access_token).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn a_signed_out_person_signs_in_first_and_comes_back(app: TestApp) {
    let reply = authorize(&app, &good_request("xyz"), None).await;
    assert!(reply.status.is_redirection());
    let (base, params) = location_params(&reply);
    assert_eq!(base, "/sign-in");
    let next = param(&params, "next").expect("next");
    assert!(next.starts_with("/oauth/authorize?"), "{next}");
    // Signed in, the same request now yields a code for the hub.
    let (_, cookie) = app.sign_up().await;
    let reply = app.get(&next, Some(&cookie)).await;
    let (base, params) = location_params(&reply);
    assert_eq!(base, REDIRECT_URI);
    assert_eq!(param(&params, "state").as_deref(), Some("xyz"));
    assert!(param(&params, "code").is_some());
}

async fn bad_authorization_requests_are_refused(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let with = |name: &'static str, value: &str| {
        let mut params = good_request("s1");
        params.retain(|(k, _)| *k != name);
        if !value.is_empty() {
            params.push((name, value.to_string()));
        }
        params
    };
    // An unknown client or a redirect it did not register: refused here, sent nowhere.
    for params in [
        with("client_id", "someone-else"),
        with("client_id", ""),
        with("redirect_uri", "http://evil.example/callback"),
        with(
            "redirect_uri",
            "http://127.0.0.1:8010/hub/oauth_callback/../x",
        ),
    ] {
        let reply = authorize(&app, &params, Some(&cookie)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{params:?}");
        assert!(reply.header("location").is_none());
        assert!(reply.body.contains("not valid"), "{}", reply.body);
    }
    // The client is known: its redirect URI hears why, with the state.
    for (params, error) in [
        (with("code_challenge", ""), "invalid_request"),
        (with("code_challenge_method", "plain"), "invalid_request"),
        (with("code_challenge_method", ""), "invalid_request"),
        (with("code_challenge", "too-short"), "invalid_request"),
        (with("response_type", "token"), "unsupported_response_type"),
    ] {
        let reply = authorize(&app, &params, Some(&cookie)).await;
        let (base, got) = location_params(&reply);
        assert_eq!(base, REDIRECT_URI);
        assert_eq!(param(&got, "error").as_deref(), Some(error), "{params:?}");
        assert_eq!(param(&got, "state").as_deref(), Some("s1"));
        assert!(param(&got, "code").is_none());
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM oauth_codes").await, 0);
}

async fn bad_token_requests_are_refused_and_a_code_works_once(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let error_of = |reply: &Reply| {
        reply.json()["error"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };

    // The client must authenticate.
    let code = code_for(&app, &cookie).await;
    for basic in [
        Some((CLIENT_ID, "wrong-secret-wrong-secret")),
        Some(("other", CLIENT_SECRET)),
        None,
    ] {
        let reply = token(
            &app,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("code_verifier", VERIFIER),
            ],
            basic,
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{basic:?}");
        assert_eq!(error_of(&reply), "invalid_client");
    }
    // Nothing but the authorization code grant.
    let reply = token(
        &app,
        &[("grant_type", "client_credentials")],
        Some((CLIENT_ID, CLIENT_SECRET)),
    )
    .await;
    assert_eq!(error_of(&reply), "unsupported_grant_type");
    // A wrong verifier spends the code: the right one no longer works either.
    let reply = exchange(&app, &code, &VERIFIER.replace('a', "b")).await;
    assert_eq!(
        (reply.status, error_of(&reply)),
        (StatusCode::BAD_REQUEST, "invalid_grant".into())
    );
    assert_eq!(
        error_of(&exchange(&app, &code, VERIFIER).await),
        "invalid_grant"
    );

    // A redirect URI other than the code's.
    let code = code_for(&app, &cookie).await;
    let reply = token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://evil.example/cb"),
            ("code_verifier", VERIFIER),
        ],
        Some((CLIENT_ID, CLIENT_SECRET)),
    )
    .await;
    assert_eq!(error_of(&reply), "invalid_grant");

    // A code used twice: refused, and the token it bought stops working.
    let code = code_for(&app, &cookie).await;
    let first = exchange(&app, &code, VERIFIER).await;
    assert_eq!(first.status, StatusCode::OK);
    let access_token = first.json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(userinfo(&app, &access_token).await.status, StatusCode::OK);
    assert_eq!(
        error_of(&exchange(&app, &code, VERIFIER).await),
        "invalid_grant"
    );
    let revoked = userinfo(&app, &access_token).await;
    assert_eq!(revoked.status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_of(&revoked), "invalid_token");

    // A code a minute old has expired.
    let code = code_for(&app, &cookie).await;
    app.state.clock.advance_secs(61);
    assert_eq!(
        error_of(&exchange(&app, &code, VERIFIER).await),
        "invalid_grant"
    );

    // Made-up codes and tokens.
    assert_eq!(
        error_of(&exchange(&app, &"0".repeat(64), VERIFIER).await),
        "invalid_grant"
    );
    assert_eq!(
        error_of(&exchange(&app, "not-a-code", VERIFIER).await),
        "invalid_grant"
    );
    assert_eq!(
        userinfo(&app, &"0".repeat(64)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let bare = app.get("/oauth/userinfo", None).await;
    assert_eq!(bare.status, StatusCode::UNAUTHORIZED);
}

async fn without_a_hub_client_the_endpoints_are_not_found(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let reply = authorize(&app, &good_request("s"), Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.header("location").is_none());
    assert_eq!(
        exchange(&app, &"0".repeat(64), VERIFIER).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        userinfo(&app, &"0".repeat(64)).await.status,
        StatusCode::NOT_FOUND
    );
}
