//! Two-factor sign-in with TOTP: set-up, sign-in with a code, replay, recovery codes,
//! turning it off. Codes are computed here from the secret, as an authenticator would.

use crate::common;

use axum::http::StatusCode;
use common::{TestApp, PASSWORD};
use totp_rs::{Algorithm, Secret, TOTP};

on_both_databases!(
    two_factor_sign_in_asks_for_a_code_that_works_once,
    a_recovery_code_signs_in_once,
    turning_two_factor_off_needs_a_code,
);

/// The code an authenticator shows `steps_ahead` 30-second steps from the server's now.
fn code(app: &TestApp, secret: &str, steps_ahead: i64) -> String {
    let bytes = Secret::Encoded(secret.to_string()).to_bytes().unwrap();
    let totp = TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes).unwrap();
    let at = app.state.clock.now_ms() / 1000 + steps_ahead * 30;
    totp.generate(at as u64)
}

/// Signs up and turns two-factor on; answers (email, cookie, secret, recovery codes).
async fn enrolled(app: &TestApp) -> (String, String, String, Vec<String>) {
    let (email, cookie) = app.sign_up().await;
    let setup = app.call("/api/begin_two_factor", &[], Some(&cookie)).await;
    assert_eq!(setup.status, StatusCode::OK, "{}", setup.body);
    let setup = setup.json();
    let secret = setup["secret"].as_str().unwrap().to_string();
    assert!(setup["qr_svg"].as_str().unwrap().contains("<svg"));
    assert!(setup["otpauth_url"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/Keyward:"));
    let wrong = app
        .call(
            "/api/confirm_two_factor",
            &[("code", "000000"), ("current_password", PASSWORD)],
            Some(&cookie),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let confirmed = app
        .call(
            "/api/confirm_two_factor",
            &[
                ("code", &code(app, &secret, 0)),
                ("current_password", PASSWORD),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    let codes: Vec<String> = confirmed
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 10);
    (email, cookie, secret, codes)
}

async fn sign_in(app: &TestApp, email: &str, code: Option<&str>) -> common::Reply {
    let mut form = vec![("email", email), ("password", PASSWORD)];
    if let Some(code) = code {
        form.push(("code", code));
    }
    app.call("/api/sign_in", &form, None).await
}

async fn two_factor_sign_in_asks_for_a_code_that_works_once(app: TestApp) {
    let (email, _, secret, codes) = enrolled(&app).await;
    // Recovery codes are stored as digests.
    for code in &codes {
        let sql = "SELECT COUNT(*) FROM recovery_codes WHERE code_digest = $1";
        use sqlx::Row;
        let plain: i64 = sqlx::query(sql)
            .bind(code)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap()
            .get(0);
        assert_eq!(plain, 0);
    }
    let sessions_before = app.count("SELECT COUNT(*) FROM sessions").await;
    let asked = sign_in(&app, &email, None).await;
    assert_eq!(asked.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(asked.json()["Validation"][0]["field"], "code");
    assert!(asked.session_cookie().is_none());
    let wrong = sign_in(&app, &email, Some("123456")).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sessions").await,
        sessions_before,
        "no session without the code"
    );
    // The next step's code (the current one was used to turn it on).
    let next = code(&app, &secret, 1);
    let ok = sign_in(&app, &email, Some(&next)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert!(ok.session_cookie().is_some());
    let replayed = sign_in(&app, &email, Some(&next)).await;
    assert_eq!(
        replayed.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a code works once"
    );
    // Later, a fresh code works.
    app.state.clock.advance_secs(90);
    let later = sign_in(&app, &email, Some(&code(&app, &secret, 0))).await;
    assert_eq!(later.status, StatusCode::OK, "{}", later.body);
}

async fn a_recovery_code_signs_in_once(app: TestApp) {
    let (email, _, _, codes) = enrolled(&app).await;
    let first = sign_in(&app, &email, Some(&codes[3].to_uppercase())).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let again = sign_in(&app, &email, Some(&codes[3])).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    let other = sign_in(&app, &email, Some(&codes[4])).await;
    assert_eq!(other.status, StatusCode::OK);
}

async fn turning_two_factor_off_needs_a_code(app: TestApp) {
    let (email, cookie, secret, _) = enrolled(&app).await;
    let refused = app
        .call(
            "/api/disable_two_factor",
            &[("code", "999999"), ("current_password", PASSWORD)],
            Some(&cookie),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let enabled = app
        .call("/api/two_factor_enabled", &[], Some(&cookie))
        .await;
    assert_eq!(enabled.json(), serde_json::json!(true));
    let off = app
        .call(
            "/api/disable_two_factor",
            &[
                ("code", &code(&app, &secret, 1)),
                ("current_password", PASSWORD),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM recovery_codes").await,
        0,
        "recovery codes go with it"
    );
    let plain = sign_in(&app, &email, None).await;
    assert_eq!(plain.status, StatusCode::OK, "{}", plain.body);
}
