//! Sign-up, sign-in, sessions, throttling and request guards, through the real router.

use crate::common;

use axum::http::StatusCode;
use common::{TestApp, PASSWORD};

on_both_databases!(
    sign_up_sets_an_http_only_session_and_opens_the_dashboard,
    sign_up_rejects_bad_input_and_writes_nothing,
    sign_up_rejects_a_taken_email,
    wrong_password_and_unknown_email_answer_alike,
    repeated_failures_are_throttled_per_email,
    repeated_failures_are_throttled_per_client,
    sign_ups_are_throttled_per_client,
    sessions_expire,
    sign_out_deletes_the_session,
    cross_site_posts_are_refused,
    signed_out_visitors_are_sent_to_sign_in,
    signed_in_visitors_skip_the_sign_in_page,
    password_is_stored_as_argon2id,
);

async fn sign_up_sets_an_http_only_session_and_opens_the_dashboard(app: TestApp) {
    let reply = app
        .call(
            "/api/sign_up",
            &[
                ("email", " Ada@Example.com "),
                ("password", PASSWORD),
                ("next", "/account/api-keys"),
            ],
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json(), serde_json::json!("/account/api-keys"));
    let set_cookie = reply.header("set-cookie").expect("cookie set");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(
            set_cookie.contains(attribute),
            "{set_cookie} lacks {attribute}"
        );
    }
    assert!(
        !set_cookie.contains("Secure"),
        "plain-http deployments must not get Secure cookies"
    );
    let cookie = reply.session_cookie().unwrap();
    let token = cookie.trim_start_matches("keyward_session=");
    assert_eq!(token.len(), 64, "256 bits as hex: {token}");
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()), "{token}");

    // Only the token's digest is stored.
    use sqlx::Row;
    let stored: String = sqlx::query("SELECT token_digest FROM sessions")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .get(0);
    assert_ne!(stored, token);
    assert_eq!(stored.len(), 64);

    let page = app.get("/account", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("ada@example.com"),
        "dashboard shows the email"
    );
    assert!(page.body.contains("API Keys"), "sidebar links API Keys");
    assert_eq!(page.header("cache-control").as_deref(), Some("no-store"));
}

async fn sign_up_rejects_bad_input_and_writes_nothing(app: TestApp) {
    let long_email = format!("{}@example.com", "a".repeat(260));
    let long_password = "p".repeat(300);
    let cases: [(&str, &str, &str); 5] = [
        ("", PASSWORD, "email"),
        ("not-an-email", PASSWORD, "email"),
        ("ada@example.com", "short", "password"),
        (&long_email, PASSWORD, "email"),
        ("ada@example.com", &long_password, "password"),
    ];
    for (email, password, field) in cases {
        let reply = app
            .call(
                "/api/sign_up",
                &[("email", email), ("password", password)],
                None,
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{email:?}/{password:?}: {}",
            reply.body
        );
        let errors = &reply.json()["Validation"];
        assert_eq!(errors[0]["field"], field, "{}", reply.body);
        assert!(reply.session_cookie().is_none());
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);
}

async fn sign_up_rejects_a_taken_email(app: TestApp) {
    let (email, _) = app.sign_up().await;
    let reply = app
        .call(
            "/api/sign_up",
            &[
                ("email", &email.to_uppercase()),
                ("password", "another password 123"),
            ],
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("already exists"), "{}", reply.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
}

async fn wrong_password_and_unknown_email_answer_alike(app: TestApp) {
    let (email, _) = app.sign_up().await;
    let wrong = app
        .call(
            "/api/sign_in",
            &[("email", &email), ("password", "wrong password!!")],
            None,
        )
        .await;
    let unknown = app
        .call(
            "/api/sign_in",
            &[("email", "nobody@example.com"), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.body, unknown.body);
    assert!(wrong.session_cookie().is_none());

    let right = app
        .call(
            "/api/sign_in",
            &[("email", &email), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(right.status, StatusCode::OK, "{}", right.body);
    assert!(right.session_cookie().is_some());
}

async fn repeated_failures_are_throttled_per_email(app: TestApp) {
    let (email, _) = app.sign_up().await;
    let max = app.state.config.sign_in_max_failures;
    for _ in 0..max {
        let reply = app
            .call(
                "/api/sign_in",
                &[("email", &email), ("password", "wrong password!!")],
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    // Now even the right password waits.
    let throttled = app
        .call(
            "/api/sign_in",
            &[("email", &email), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(
        throttled.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        throttled.body
    );
    let retry_after: u64 = throttled
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!(retry_after > 0 && retry_after <= 15 * 60);
    assert!(throttled.session_cookie().is_none());

    app.state.clock.advance_secs(retry_after as i64 + 1);
    let later = app
        .call(
            "/api/sign_in",
            &[("email", &email), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(later.status, StatusCode::OK, "{}", later.body);
}

async fn repeated_failures_are_throttled_per_client(app: TestApp) {
    // Different emails from one client address: the client limit (4x the email limit) applies.
    let limit = app.state.config.sign_in_max_failures * 4;
    for i in 0..limit {
        let email = format!("guess{i}@example.com");
        let reply = app
            .call(
                "/api/sign_in",
                &[("email", &email), ("password", "wrong password!!")],
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let reply = app
        .call(
            "/api/sign_in",
            &[
                ("email", "fresh@example.com"),
                ("password", "wrong password!!"),
            ],
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
}

async fn sign_ups_are_throttled_per_client(app: TestApp) {
    let limit = app.state.config.sign_ups_per_hour;
    // Every attempt counts, even one that creates nothing (see tests/attacks.rs).
    let bad = app
        .call(
            "/api/sign_up",
            &[("email", "short@example.com"), ("password", "short")],
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    for _ in 1..limit {
        app.sign_up().await;
    }
    let refused = app
        .call(
            "/api/sign_up",
            &[("email", "one-more@example.com"), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.body
    );
    assert!(refused.header("retry-after").is_some());
    assert!(refused.session_cookie().is_none());
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users").await,
        i64::from(limit) - 1
    );

    app.state.clock.advance_secs(3_601);
    let later = app
        .call(
            "/api/sign_up",
            &[("email", "one-more@example.com"), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(later.status, StatusCode::OK, "{}", later.body);
}

async fn sessions_expire(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    assert_eq!(
        app.get("/account", Some(&cookie)).await.status,
        StatusCode::OK
    );
    app.state
        .clock
        .advance_secs(app.state.config.session_ttl_secs + 1);
    let reply = app.get("/account", Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(
        reply.header("location").as_deref(),
        Some("/sign-in?next=/account")
    );
}

async fn sign_out_deletes_the_session(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 1);
    let reply = app.call("/api/sign_out", &[], Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.header("set-cookie").unwrap().contains("Max-Age=0"));
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);
    // The old cookie no longer opens the account.
    assert_eq!(
        app.get("/account", Some(&cookie)).await.status,
        StatusCode::SEE_OTHER
    );
}

async fn cross_site_posts_are_refused(app: TestApp) {
    let form = [("email", "mallory@example.com"), ("password", PASSWORD)];
    let foreign = app
        .call_from("/api/sign_up", &form, None, Some("http://evil.example"))
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    let missing = app.call_from("/api/sign_up", &form, None, None).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);

    let request = axum::http::Request::post("/api/sign_up")
        .header("host", common::HOST)
        .header("origin", common::ORIGIN)
        .header("sec-fetch-site", "cross-site")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(
            "email=mallory%40example.com&password=correct+horse+battery",
        ))
        .unwrap();
    assert_eq!(app.send(request).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);

    // A signed-in victim's cookie does not help a cross-site sign-out either.
    let (_, cookie) = app.sign_up().await;
    let reply = app
        .call_from(
            "/api/sign_out",
            &[],
            Some(&cookie),
            Some("http://evil.example"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 1);
}

async fn signed_out_visitors_are_sent_to_sign_in(app: TestApp) {
    for (path, location) in [
        ("/account", "/sign-in?next=/account"),
        ("/account/api-keys", "/sign-in?next=/account/api-keys"),
        ("/", "/account"),
    ] {
        let reply = app.get(path, None).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(
            reply.header("location").as_deref(),
            Some(location),
            "{path}"
        );
    }
    let forged = app
        .get(
            "/account",
            Some(
                "keyward_session=0000000000000000000000000000000000000000000000000000000000000000",
            ),
        )
        .await;
    assert_eq!(forged.status, StatusCode::SEE_OTHER);
    let page = app.get("/sign-in?next=/account/api-keys", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Sign in"));
}

async fn signed_in_visitors_skip_the_sign_in_page(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let reply = app.get("/sign-in", Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.header("location").as_deref(), Some("/account"));
}

async fn password_is_stored_as_argon2id(app: TestApp) {
    app.sign_up().await;
    use sqlx::Row;
    let hash: String = sqlx::query("SELECT password_hash FROM users")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .get(0);
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains(PASSWORD));
}

/// Leptos parks, for good, any resource first polled anywhere in the process while it
/// renders the app to find its routes. Building another router (the tests build one
/// per app) while a page is served must not leave that page waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_while_other_routers_are_built() {
    let app = TestApp::sqlite().await;
    let (_, cookie) = app.sign_up().await;
    let state = app.state.clone();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let runtime = tokio::runtime::Handle::current();
    let building = std::thread::spawn({
        let done = done.clone();
        move || {
            let _runtime = runtime.enter();
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                drop(keyward::web::router(state.clone()));
            }
        }
    });
    for round in 0..20 {
        let page = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            app.get("/account", Some(&cookie)),
        )
        .await
        .unwrap_or_else(|_| panic!("the dashboard never finished rendering (round {round})"));
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Signed in as"), "{}", page.body);
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    building.join().unwrap();
}
