//! Email verification, password reset and change, the session list, and the emails
//! that tell an owner what happened. Mail is read from the mailer's record of what it
//! sent (the log mailer `make run` uses); the browser tests read it from a real SMTP server.

use crate::common;

use axum::http::StatusCode;
use common::{api, mail, new_key, token_in, TestApp, PASSWORD};
use serde_json::json;

on_both_databases!(
    a_new_account_verifies_its_address_from_the_emailed_link,
    a_reset_link_works_once_and_signs_out_everywhere,
    unknown_addresses_get_no_reset_link_and_the_same_answer,
    changing_the_password_needs_the_current_one_and_ends_other_sessions,
    the_session_list_shows_each_browser_and_can_end_one,
    key_changes_made_by_a_key_are_emailed_to_the_owner,
    a_sign_in_from_a_new_device_is_emailed,
);

async fn verified_at(app: &TestApp, email: &str) -> Option<i64> {
    use sqlx::Row;
    sqlx::query("SELECT email_verified_at FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .get(0)
}

async fn verify(app: &TestApp, email: &str) {
    let link = mail(app, email, "Verify your email").await;
    let token = token_in(&link, "/verify-email");
    let reply = app
        .call("/api/verify_email", &[("token", &token)], None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

async fn a_new_account_verifies_its_address_from_the_emailed_link(app: TestApp) {
    let (email, cookie) = app.sign_up().await;
    let message = mail(&app, &email, "Verify your email").await;
    assert!(message
        .text
        .contains("http://127.0.0.1:3000/verify-email?token="));
    assert!(message.html.contains("Verify email address"));
    assert_eq!(verified_at(&app, &email).await, None);
    let me = app
        .call("/api/current_user", &[], Some(&cookie))
        .await
        .json();
    assert_eq!(me["email_verified_at"], serde_json::Value::Null);

    let token = token_in(&message, "/verify-email");
    let used = app
        .call("/api/verify_email", &[("token", &token)], None)
        .await;
    assert_eq!(used.status, StatusCode::OK, "{}", used.body);
    assert!(verified_at(&app, &email).await.is_some());
    let again = app
        .call("/api/verify_email", &[("token", &token)], None)
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("expired or was already used"));
    // Only the digest of the link's token is stored.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM email_tokens WHERE token_digest = 'x'")
            .await,
        0
    );
    let stored: String = {
        use sqlx::Row;
        sqlx::query("SELECT token_digest FROM email_tokens")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap()
            .get(0)
    };
    assert_ne!(stored, token);
}

async fn a_reset_link_works_once_and_signs_out_everywhere(app: TestApp) {
    let (email, cookie) = app.sign_up().await;
    verify(&app, &email).await;
    let asked = app
        .call("/api/request_password_reset", &[("email", &email)], None)
        .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    let message = mail(&app, &email, "Reset your Keyward password").await;
    let token = token_in(&message, "/reset-password");
    let new_password = "an entirely new passphrase";
    let reset = app
        .call(
            "/api/reset_password",
            &[("token", &token), ("password", new_password)],
            None,
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
    assert_eq!(
        app.get("/account", Some(&cookie)).await.status,
        StatusCode::SEE_OTHER,
        "every session ended"
    );
    let twice = app
        .call(
            "/api/reset_password",
            &[("token", &token), ("password", "yet another passphrase")],
            None,
        )
        .await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    let old = app
        .call(
            "/api/sign_in",
            &[("email", &email), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = app
        .call(
            "/api/sign_in",
            &[("email", &email), ("password", new_password)],
            None,
        )
        .await;
    assert_eq!(new.status, StatusCode::OK);
    mail(&app, &email, "password was changed").await;

    // A link older than 30 minutes is refused.
    app.call("/api/request_password_reset", &[("email", &email)], None)
        .await;
    let mut late = token.clone();
    for _ in 0..100 {
        late = token_in(
            &mail(&app, &email, "Reset your Keyward password").await,
            "/reset-password",
        );
        if late != token {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_ne!(late, token, "a second link was sent");
    app.state.clock.advance_secs(31 * 60);
    let expired = app
        .call(
            "/api/reset_password",
            &[("token", &late), ("password", "too late for this one")],
            None,
        )
        .await;
    assert_eq!(expired.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// An unknown address gets no link and the same answer as a known one; an address whose
/// account was never verified gets a link (the link proves the address: see
/// `tests/account_claims.rs`).
async fn unknown_addresses_get_no_reset_link_and_the_same_answer(app: TestApp) {
    let (unverified, _) = app.sign_up().await;
    let a = app
        .call(
            "/api/request_password_reset",
            &[("email", &unverified)],
            None,
        )
        .await;
    let b = app
        .call(
            "/api/request_password_reset",
            &[("email", "nobody-here@example.com")],
            None,
        )
        .await;
    assert_eq!((a.status, &a.body), (b.status, &b.body));
    assert_eq!(a.status, StatusCode::OK);
    mail(&app, &unverified, "Reset your Keyward password").await;
    app.state.mailer.flush().await;
    assert!(!app
        .state
        .mailer
        .recent()
        .iter()
        .any(|m| m.to == "nobody-here@example.com"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM email_tokens WHERE purpose = 'reset_password'")
            .await,
        1
    );
}

async fn changing_the_password_needs_the_current_one_and_ends_other_sessions(app: TestApp) {
    let (email, here) = app.sign_up().await;
    let elsewhere = app
        .call(
            "/api/sign_in",
            &[("email", &email), ("password", PASSWORD)],
            None,
        )
        .await
        .session_cookie()
        .unwrap();
    let wrong = app
        .call(
            "/api/change_password",
            &[
                ("current_password", "not it at all"),
                ("new_password", "short"),
            ],
            Some(&here),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = wrong.json()["Validation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fields, ["current_password", "new_password"]);
    let changed = app
        .call(
            "/api/change_password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a better passphrase now"),
            ],
            Some(&here),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(
        app.get("/account", Some(&here)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/account", Some(&elsewhere)).await.status,
        StatusCode::SEE_OTHER
    );
}

async fn the_session_list_shows_each_browser_and_can_end_one(app: TestApp) {
    let (email, here) = app.sign_up().await;
    let mut others = Vec::new();
    for _ in 0..2 {
        others.push(
            app.call(
                "/api/sign_in",
                &[("email", &email), ("password", PASSWORD)],
                None,
            )
            .await
            .session_cookie()
            .unwrap(),
        );
    }
    let listed = app.call("/api/list_sessions", &[], Some(&here)).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let sessions = listed.json();
    let sessions = sessions.as_array().unwrap();
    assert_eq!(sessions.len(), 3);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let token = here.split_once('=').unwrap().1;
    assert!(!listed.body.contains(token), "no token in the list");

    // Another person cannot end them, and is told "not found".
    let other_id = sessions.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, stranger) = app.sign_up().await;
    let refused = app
        .call(
            "/api/sign_out_session",
            &[("id", &other_id)],
            Some(&stranger),
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);

    let ended = app
        .call("/api/sign_out_session", &[("id", &other_id)], Some(&here))
        .await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.body);
    let left = app
        .call("/api/list_sessions", &[], Some(&here))
        .await
        .json();
    assert_eq!(left.as_array().unwrap().len(), 2);
    let rest = app
        .call("/api/sign_out_other_sessions", &[], Some(&here))
        .await;
    assert_eq!(rest.json(), json!(1));
    for other in &others {
        assert_eq!(
            app.get("/account", Some(other)).await.status,
            StatusCode::SEE_OTHER
        );
    }
    assert_eq!(
        app.get("/account", Some(&here)).await.status,
        StatusCode::OK
    );
}

async fn key_changes_made_by_a_key_are_emailed_to_the_owner(app: TestApp) {
    let (email, cookie) = app.sign_up().await;
    let (_, admin) = new_key(
        &app,
        &cookie,
        "admin",
        &["account:read", "keys:read", "keys:write"],
    )
    .await;
    let created = api(
        &app,
        "POST",
        "/api/v1/keys",
        Some(&admin),
        Some(json!({"name": "made-by-a-key", "scopes": ["account:read"]})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let secret = created.json()["secret"].as_str().unwrap().to_string();
    let message = mail(&app, &email, "An API key was created").await;
    assert!(message.text.contains("made-by-a-key"));
    assert!(!message.text.contains(&secret) && !message.html.contains(&secret));
    assert!(!message.text.contains(&admin));
    // Changes made on the page by the person are not emailed.
    new_key(&app, &cookie, "by-hand", &["account:read"]).await;
    app.state.mailer.flush().await;
    assert!(!app
        .state
        .mailer
        .recent()
        .iter()
        .any(|m| m.text.contains("by-hand")));
}

async fn a_sign_in_from_a_new_device_is_emailed(app: TestApp) {
    let (email, _) = app.sign_up().await;
    let reply = app
        .call(
            "/api/sign_in",
            &[("email", &email), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let message = mail(&app, &email, "New sign-in").await;
    assert!(message.text.contains("new device"));
    assert!(!message.text.contains(&reply.session_cookie().unwrap()));
}
