//! What a stolen session alone cannot do, and what a password reset ends: two-factor
//! replaced or turned off and the password changed only with the current password (and
//! a current code); wrong answers throttled, at the OAuth token endpoint too; reset
//! links ended by a newer reset or a password change; an account opened with someone
//! else's address claimed by that address's owner, with everything its opener set up.
//! On SQLite and on Postgres.

use crate::common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{mail, me_status, new_key, token_in, TestApp, PASSWORD};
use keyward::infra::config::Config;
use keyward::infra::hub_config::OAuthClient;
use totp_rs::{Algorithm, Secret, TOTP};

fn with_hub() -> Config {
    let mut config = common::test_config();
    config.hub_oauth = Some(OAuthClient {
        id: "jupyterhub".into(),
        secret: "hub-client-secret-0123456789".into(),
        redirect_uri: "http://127.0.0.1:8010/hub/oauth_callback".into(),
    });
    config
}

on_both_databases_with!(with_hub;
    replacing_or_turning_off_two_factor_needs_the_password_and_a_current_code,
    wrong_answers_to_every_oracle_are_throttled,
    a_reset_or_a_password_change_ends_older_reset_links,
    the_owner_of_an_address_claims_an_account_opened_with_it,
);

fn code(app: &TestApp, secret: &str, steps_ahead: i64) -> String {
    let bytes = Secret::Encoded(secret.to_string()).to_bytes().unwrap();
    let totp = TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes).unwrap();
    let at = app.state.clock.now_ms() / 1000 + steps_ahead * 30;
    totp.generate(at as u64)
}

fn fields(reply: &common::Reply) -> Vec<String> {
    reply.json()["Validation"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The first `refused` answers are `first`, every later one 429: guessing is throttled.
fn assert_throttled_after(statuses: &[StatusCode], refused: usize, first: StatusCode) {
    assert!(
        statuses[..refused].iter().all(|s| *s == first),
        "{statuses:?}"
    );
    assert!(
        statuses[refused..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
}

/// Turns two-factor on with the pending `secret`, as the Security page does.
async fn turn_on_with(app: &TestApp, cookie: &str, secret: &str) {
    let on = app
        .call(
            "/api/confirm_two_factor",
            &[
                ("code", &code(app, secret, 0)),
                ("current_password", PASSWORD),
            ],
            Some(cookie),
        )
        .await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.body);
}

/// Sets two-factor up and turns it on; answers its secret.
async fn turned_on(app: &TestApp, cookie: &str) -> String {
    let secret = begin(app, cookie).await;
    turn_on_with(app, cookie, &secret).await;
    secret
}

/// Starts set-up and answers the new secret.
async fn begin(app: &TestApp, cookie: &str) -> String {
    let setup = app.call("/api/begin_two_factor", &[], Some(cookie)).await;
    assert_eq!(setup.status, StatusCode::OK, "{}", setup.body);
    setup.json()["secret"].as_str().unwrap().to_string()
}

async fn replacing_or_turning_off_two_factor_needs_the_password_and_a_current_code(app: TestApp) {
    let (email, cookie) = app.sign_up().await;
    // Turning it on asks for the password too.
    let secret = begin(&app, &cookie).await;
    let no_password = app
        .call(
            "/api/confirm_two_factor",
            &[("code", &code(&app, &secret, 0)), ("current_password", "")],
            Some(&cookie),
        )
        .await;
    assert_eq!(
        no_password.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        no_password.body
    );
    assert_eq!(fields(&no_password), ["current_password"]);
    turn_on_with(&app, &cookie, &secret).await;
    mail(&app, &email, "Two-factor authentication was turned on").await;

    // The attack: a session alone starts a new secret and confirms it.
    app.state.clock.advance_secs(60);
    let stolen = begin(&app, &cookie).await;
    let replaced = app
        .call(
            "/api/confirm_two_factor",
            &[
                ("code", &code(&app, &stolen, 0)),
                ("current_password", PASSWORD),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(
        replaced.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        replaced.body
    );
    assert_eq!(fields(&replaced), ["current_code"]);
    let recovery_before = app.count("SELECT COUNT(*) FROM recovery_codes").await;
    assert_eq!(recovery_before, 10, "the recovery codes are untouched");
    // With the current code, the owner replaces it, and is told by email.
    let replaced = app
        .call(
            "/api/confirm_two_factor",
            &[
                ("code", &code(&app, &stolen, 0)),
                ("current_password", PASSWORD),
                ("current_code", &code(&app, &secret, 0)),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    mail(&app, &email, "Two-factor authentication was replaced").await;

    // Turning it off: a right code with a wrong password is refused, and the code is
    // not used up by the refusal.
    app.state.clock.advance_secs(60);
    let now_code = code(&app, &stolen, 0);
    let wrong_password = app
        .call(
            "/api/disable_two_factor",
            &[("code", &now_code), ("current_password", "not my password")],
            Some(&cookie),
        )
        .await;
    assert_eq!(wrong_password.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&wrong_password), ["current_password"]);
    // Changing the password with two-factor on needs a code as well.
    let no_code = app
        .call(
            "/api/change_password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "another long passphrase"),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(no_code.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&no_code), ["code"]);
    let off = app
        .call(
            "/api/disable_two_factor",
            &[("code", &now_code), ("current_password", PASSWORD)],
            Some(&cookie),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    mail(&app, &email, "Two-factor authentication was turned off").await;
}

async fn token_request(app: &TestApp, secret: &str) -> common::Reply {
    let body = format!(
        "grant_type=authorization_code&code=abc&code_verifier=x&client_id=jupyterhub&client_secret={secret}"
    );
    let request = Request::post("/oauth/token")
        .header(header::HOST, common::HOST)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    app.send(request).await
}

async fn wrong_answers_to_every_oracle_are_throttled(app: TestApp) {
    let (_, cookie) = app.sign_up().await;
    let secret = turned_on(&app, &cookie).await;
    // Wrong codes to turn it off: refused, then throttled, never an endless oracle.
    let mut statuses = Vec::new();
    for guess in 0..12 {
        let reply = app
            .call(
                "/api/disable_two_factor",
                &[
                    ("code", &format!("{:06}", 100_000 + guess)),
                    ("current_password", PASSWORD),
                ],
                Some(&cookie),
            )
            .await;
        statuses.push(reply.status);
    }
    assert_throttled_after(&statuses, 5, StatusCode::UNPROCESSABLE_ENTITY);
    // While throttled, even the right answer waits: the limit is on the account.
    let right = app
        .call(
            "/api/disable_two_factor",
            &[
                ("code", &code(&app, &secret, 1)),
                ("current_password", PASSWORD),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS);

    // Wrong current passwords: the same.
    let (_, other) = app.sign_up().await;
    let mut statuses = Vec::new();
    for guess in 0..8 {
        let reply = app
            .call(
                "/api/change_password",
                &[
                    ("current_password", &format!("guess number {guess}")),
                    ("new_password", "another long passphrase"),
                ],
                Some(&other),
            )
            .await;
        statuses.push(reply.status);
    }
    assert_throttled_after(&statuses, 5, StatusCode::UNPROCESSABLE_ENTITY);

    // The OAuth client secret.
    let mut statuses = Vec::new();
    for guess in 0..14 {
        statuses.push(
            token_request(&app, &format!("wrong-secret-{guess}"))
                .await
                .status,
        );
    }
    assert_throttled_after(&statuses, 10, StatusCode::UNAUTHORIZED);
    // While throttled, the right secret waits too: a right guess must not get through.
    let right = token_request(&app, "hub-client-secret-0123456789").await;
    assert_eq!(
        right.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        right.body
    );
    // A window later, the client is heard again.
    app.state.clock.advance_secs(16 * 60);
    let right = token_request(&app, "hub-client-secret-0123456789").await;
    assert_eq!(right.status, StatusCode::BAD_REQUEST, "{}", right.body);
    assert_eq!(right.json()["error"], "invalid_grant");
    assert_eq!(
        token_request(&app, "wrong-again").await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn request_reset(app: &TestApp, email: &str) -> String {
    let before = app
        .state
        .mailer
        .recent()
        .iter()
        .filter(|m| m.to == email && m.subject.contains("Reset"))
        .count();
    let asked = app
        .call("/api/request_password_reset", &[("email", email)], None)
        .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    for _ in 0..100 {
        let sent: Vec<_> = app
            .state
            .mailer
            .recent()
            .into_iter()
            .filter(|m| m.to == email && m.subject.contains("Reset"))
            .collect();
        if sent.len() > before {
            return token_in(sent.last().unwrap(), "/reset-password");
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no reset email to {email}");
}

async fn reset(app: &TestApp, token: &str, password: &str) -> common::Reply {
    app.call(
        "/api/reset_password",
        &[("token", token), ("password", password)],
        None,
    )
    .await
}

async fn a_reset_or_a_password_change_ends_older_reset_links(app: TestApp) {
    let (email, _) = app.sign_up().await;
    let older = request_reset(&app, &email).await;
    let newer = request_reset(&app, &email).await;
    assert_ne!(older, newer);
    let done = reset(&app, &newer, "the newest passphrase").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let stale = reset(&app, &older, "an attacker's passphrase").await;
    assert_eq!(
        stale.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        stale.body
    );

    // A change made while signed in ends a link sent before it, too.
    let signed_in = app
        .call(
            "/api/sign_in",
            &[("email", &email), ("password", "the newest passphrase")],
            None,
        )
        .await;
    let cookie = signed_in.session_cookie().expect("signed in");
    let pending = request_reset(&app, &email).await;
    let changed = app
        .call(
            "/api/change_password",
            &[
                ("current_password", "the newest passphrase"),
                ("new_password", "changed while signed in"),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let stale = reset(&app, &pending, "an attacker's passphrase").await;
    assert_eq!(
        stale.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        stale.body
    );
}

async fn the_owner_of_an_address_claims_an_account_opened_with_it(app: TestApp) {
    // Someone opens an account with the victim's address and makes it theirs.
    let (victim, squatter) = app.sign_up().await;
    let (_, squatters_key) = new_key(&app, &squatter, "planted", &["account:read"]).await;
    turned_on(&app, &squatter).await;
    assert_eq!(me_status(&app, &squatters_key).await, StatusCode::OK);
    // The verification link expires unused; the owner cannot sign up with their address.
    app.state.clock.advance_secs(25 * 3600);
    let taken = app
        .call(
            "/api/sign_up",
            &[
                ("email", &victim),
                ("password", "the owner's own passphrase"),
            ],
            None,
        )
        .await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The reset email proves the address: the owner claims the account.
    let token = request_reset(&app, &victim).await;
    let claimed = reset(&app, &token, "the owner's own passphrase").await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    // Everything the squatter set up is gone: their key, their session, their two-factor.
    assert_eq!(
        me_status(&app, &squatters_key).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/account", Some(&squatter)).await.status,
        StatusCode::SEE_OTHER
    );
    let owner = app
        .call(
            "/api/sign_in",
            &[
                ("email", &victim),
                ("password", "the owner's own passphrase"),
            ],
            None,
        )
        .await;
    assert_eq!(owner.status, StatusCode::OK, "{}", owner.body);
    let verified: (Option<i64>,) =
        sqlx::query_as("SELECT email_verified_at FROM users WHERE email = $1")
            .bind(&victim)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    assert!(verified.0.is_some(), "the reset verified the address");
    assert_eq!(app.count("SELECT COUNT(*) FROM api_keys").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM recovery_codes").await, 0);
}
