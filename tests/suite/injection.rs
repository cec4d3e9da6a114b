//! Names people choose (an organization's, a key's, a promo code's note) never break out
//! of the element they are written into: not `<title>`, not a `<script>`, on every
//! server-rendered load (the title is written as the page's data arrives, so each page
//! is loaded several times).

use crate::common;

use axum::http::StatusCode;
use common::orgs::{call, join, person};
use common::{new_key, TestApp};
use keyward::wallet::NewPromo;

on_both_databases!(chosen_names_never_break_out_of_title_or_script);

const TITLE_BREAKOUT: &str = r#"</title><meta http-equiv=refresh content="0;url=//evil.example">"#;
const SCRIPT_BREAKOUT: &str = "</script><script>alert(1)</script>";

/// The raw markup an attacker hoped to plant must not appear; the escaped text may.
fn assert_contained(page: &str, html: &str) {
    for planted in [
        "<meta http-equiv=refresh",
        "</title><meta",
        "<script>alert(1)",
    ] {
        assert!(!html.contains(planted), "{page} holds {planted:?}");
    }
    if let (Some(start), Some(end)) = (html.find("<title>"), html.find("</title>")) {
        let title = &html[start + "<title>".len()..end];
        assert!(!title.contains('<'), "{page}: title {title:?}");
    }
}

async fn chosen_names_never_break_out_of_title_or_script(app: TestApp) {
    let owner = person(&app).await;
    let member = person(&app).await;
    keyward::auth::admin::set_admin(&app.state.db, &owner.email, true)
        .await
        .unwrap();
    let slug = common::orgs::slug();
    let created = call(
        &app,
        &owner,
        "create_organization",
        &[("name", TITLE_BREAKOUT), ("slug", &slug)],
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    join(&app, &owner, &slug, &member, "member").await;
    new_key(&app, &owner.cookie, SCRIPT_BREAKOUT, &["account:read"]).await;
    let key_name: String = TITLE_BREAKOUT.chars().take(64).collect();
    new_key(&app, &owner.cookie, &key_name, &["account:read"]).await;
    keyward::wallet::promos::create(
        &app.state.db,
        &NewPromo {
            code: "NOTED".into(),
            percent_off: Some(10),
            note: Some(format!("{TITLE_BREAKOUT}{SCRIPT_BREAKOUT}")),
            ..NewPromo::default()
        },
        "tests",
        "usd",
        app.state.now_ms(),
    )
    .await
    .unwrap();
    let pages = [
        (format!("/org/{slug}"), &member.cookie),
        (format!("/org/{slug}/members"), &member.cookie),
        (format!("/org/{slug}/api-keys"), &owner.cookie),
        ("/account".to_string(), &member.cookie),
        ("/account/organizations".to_string(), &member.cookie),
        ("/account/api-keys".to_string(), &owner.cookie),
        ("/account/admin/promo-codes".to_string(), &owner.cookie),
    ];
    for (page, cookie) in &pages {
        for _ in 0..8 {
            let reply = app.get(page, Some(cookie)).await;
            assert_eq!(reply.status, StatusCode::OK, "{page}");
            assert_contained(page, &reply.body);
        }
    }
    // The escaped name is what the organization's pages are titled with.
    let dashboard = app.get(&format!("/org/{slug}"), Some(&member.cookie)).await;
    assert!(
        dashboard.body.contains("&lt;/title&gt;&lt;meta"),
        "the name is shown, escaped"
    );
}
