//! People and organizations for the organization tests: verified people, an
//! organization, invitations accepted from the dashboard.

use super::{Reply, TestApp};
use axum::http::StatusCode;
use serde_json::Value;

pub struct Person {
    pub email: String,
    pub cookie: String,
    pub id: String,
}

/// A fresh person with a verified email (invitations go to verified addresses only).
pub async fn person(app: &TestApp) -> Person {
    let (email, cookie) = app.sign_up().await;
    sqlx::query("UPDATE users SET email_verified_at = $1 WHERE email = $2")
        .bind(app.state.now_ms())
        .bind(&email)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let id = app.user_id(&email).await;
    Person { email, cookie, id }
}

pub async fn call(app: &TestApp, who: &Person, function: &str, form: &[(&str, &str)]) -> Reply {
    app.call(&format!("/api/{function}"), form, Some(&who.cookie))
        .await
}

pub fn slug() -> String {
    format!(
        "org-{}",
        keyward::infra::random::base62(8).unwrap().to_lowercase()
    )
}

pub async fn create_org(app: &TestApp, owner: &Person) -> String {
    let slug = slug();
    let reply = call(
        app,
        owner,
        "create_organization",
        &[("name", "Acme Research"), ("slug", &slug)],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    slug
}

/// The token in the newest invitation email to `email` (not the sign-up's verification
/// email, which also holds one).
pub async fn token_sent_to(app: &TestApp, email: &str) -> String {
    let mail = super::newest_mail(app, &format!("inviting {email}"), |m| {
        m.to == email && m.subject.starts_with("Join ")
    })
    .await;
    let at = mail.text.find("token=").expect("a link with a token") + "token=".len();
    mail.text[at..at + 64].to_string()
}

pub async fn invite(app: &TestApp, by: &Person, slug: &str, email: &str, role: &str) -> Reply {
    call(
        app,
        by,
        "invite_members",
        &[("slug", slug), ("emails", email), ("role", role)],
    )
    .await
}

/// Invites `who` as `role` and has them accept from their dashboard.
pub async fn join(app: &TestApp, owner: &Person, slug: &str, who: &Person, role: &str) {
    let sent = invite(app, owner, slug, &who.email, role).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert!(sent.json()[0]["problem"].is_null(), "{}", sent.body);
    let mine = call(app, who, "my_invitations", &[]).await.json();
    let id = mine[0]["id"].as_str().expect("an invitation").to_string();
    let accepted = call(
        app,
        who,
        "answer_invitation",
        &[("invitation_id", &id), ("accept", "true")],
    )
    .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    assert_eq!(accepted.json(), Value::String(slug.to_string()));
}
