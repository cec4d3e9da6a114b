//! Organizations through the real router, on SQLite and on Postgres: the role matrix
//! (owner, admin, member, removed member, outsider) against every organization server
//! function, invitations (accept, decline, expiry, reuse, revoke, another address),
//! bulk invitations, ownership transfer and removal.

use crate::common;

use axum::http::StatusCode;
use common::orgs::{call, create_org, invite, join, person, token_sent_to, Person};
use common::TestApp;

on_both_databases!(
    every_role_gets_exactly_what_it_may,
    an_invitation_link_works_once_for_its_address_for_seven_days,
    bulk_invitations_answer_per_address,
    ownership_moves_to_an_admin_and_there_is_one_owner,
);

async fn pending_invitation_id(app: &TestApp, owner: &Person, slug: &str) -> String {
    let email = format!(
        "pending-{}@example.com",
        keyward::infra::random::base62(8).unwrap().to_lowercase()
    );
    let sent = invite(app, owner, slug, &email, "member").await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let page = call(app, owner, "organization_members", &[("slug", slug)])
        .await
        .json();
    page["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["email"] == email)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn every_role_gets_exactly_what_it_may(app: TestApp) {
    let owner = person(&app).await;
    let admin = person(&app).await;
    let member = person(&app).await;
    let removed = person(&app).await;
    let outsider = person(&app).await;
    let slug = create_org(&app, &owner).await;
    join(&app, &owner, &slug, &admin, "admin").await;
    join(&app, &owner, &slug, &member, "member").await;
    join(&app, &owner, &slug, &removed, "member").await;
    let gone = call(
        &app,
        &owner,
        "remove_member",
        &[("slug", &slug), ("user_id", &removed.id)],
    )
    .await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.body);

    // One invitation stays pending throughout, for the managers to see.
    pending_invitation_id(&app, &owner, &slug).await;
    const OK: StatusCode = StatusCode::OK;
    const NO: StatusCode = StatusCode::NOT_FOUND;
    // (who, may read, may manage)
    let actors = [
        ("owner", &owner, OK, OK),
        ("admin", &admin, OK, OK),
        ("member", &member, OK, NO),
        ("removed member", &removed, NO, NO),
        ("outsider", &outsider, NO, NO),
    ];
    for (name, who, read, manage) in actors {
        let page = call(&app, who, "organization_members", &[("slug", &slug)]).await;
        assert_eq!(page.status, read, "{name} reads members: {}", page.body);
        if read == OK {
            let pending = page.json()["invitations"].as_array().map_or(0, Vec::len);
            assert_eq!(
                pending > 0,
                manage == OK,
                "{name} sees pending invitations only as a manager"
            );
        }
        let listed = call(&app, who, "my_organizations", &[]).await.json();
        let lists = listed.as_array().unwrap().iter().any(|o| o["slug"] == slug);
        assert_eq!(lists, read == OK, "{name} lists the organization");

        let email = format!(
            "new-{}@example.com",
            keyward::infra::random::base62(8).unwrap().to_lowercase()
        );
        let invited = invite(&app, who, &slug, &email, "member").await;
        assert_eq!(invited.status, manage, "{name} invites: {}", invited.body);

        let invitation = pending_invitation_id(&app, &owner, &slug).await;
        let revoked = call(
            &app,
            who,
            "revoke_invitation",
            &[("slug", &slug), ("invitation_id", &invitation)],
        )
        .await;
        assert_eq!(revoked.status, manage, "{name} revokes: {}", revoked.body);

        // A fresh member for each of these, so every cell starts alike.
        let target = person(&app).await;
        join(&app, &owner, &slug, &target, "member").await;
        let form = [
            ("slug", slug.as_str()),
            ("user_id", target.id.as_str()),
            ("role", "admin"),
        ];
        let changed = call(&app, who, "change_member_role", &form).await;
        assert_eq!(
            changed.status, manage,
            "{name} changes a role: {}",
            changed.body
        );
        let target = person(&app).await;
        join(&app, &owner, &slug, &target, "member").await;
        let form = [("slug", slug.as_str()), ("user_id", target.id.as_str())];
        let removed_one = call(&app, who, "remove_member", &form).await;
        assert_eq!(
            removed_one.status, manage,
            "{name} removes a member: {}",
            removed_one.body
        );

        // Only the Owner transfers or deletes; for anyone else the organization is not there.
        if name != "owner" {
            let form = [("slug", slug.as_str()), ("user_id", admin.id.as_str())];
            let transfer = call(&app, who, "transfer_ownership", &form).await;
            assert_eq!(transfer.status, NO, "{name} transfers: {}", transfer.body);
            let form = [("slug", slug.as_str()), ("confirm", slug.as_str())];
            let delete = call(&app, who, "delete_organization", &form).await;
            assert_eq!(delete.status, NO, "{name} deletes: {}", delete.body);
        }
    }
    // An Admin manages Members but not other Admins; nobody changes the Owner.
    let other_admin = person(&app).await;
    join(&app, &owner, &slug, &other_admin, "admin").await;
    let form = [
        ("slug", slug.as_str()),
        ("user_id", other_admin.id.as_str()),
    ];
    assert_eq!(
        call(&app, &admin, "remove_member", &form).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let form = [("slug", slug.as_str()), ("user_id", owner.id.as_str())];
    assert_eq!(
        call(&app, &admin, "remove_member", &form).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let form = [
        ("slug", slug.as_str()),
        ("user_id", owner.id.as_str()),
        ("role", "member"),
    ];
    assert_eq!(
        call(&app, &owner, "change_member_role", &form).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        invite(&app, &admin, &slug, "someone@example.com", "admin")
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "only the Owner invites Admins"
    );
    // The Owner cannot leave; a member can, and then the organization is gone for them.
    assert_eq!(
        call(&app, &owner, "leave_organization", &[("slug", &slug)])
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        call(&app, &member, "leave_organization", &[("slug", &slug)])
            .await
            .status,
        OK
    );
    assert_eq!(
        call(&app, &member, "organization_members", &[("slug", &slug)])
            .await
            .status,
        NO
    );
    // Deleting needs the slug typed.
    let form = [("slug", slug.as_str()), ("confirm", "wrong")];
    assert_eq!(
        call(&app, &owner, "delete_organization", &form)
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let form = [("slug", slug.as_str()), ("confirm", slug.as_str())];
    assert_eq!(
        call(&app, &owner, "delete_organization", &form)
            .await
            .status,
        OK
    );
    assert_eq!(
        call(&app, &owner, "organization_members", &[("slug", &slug)])
            .await
            .status,
        NO
    );
    assert_eq!(
        call(&app, &admin, "organization_members", &[("slug", &slug)])
            .await
            .status,
        NO
    );
}

async fn an_invitation_link_works_once_for_its_address_for_seven_days(app: TestApp) {
    let owner = person(&app).await;
    let invited = person(&app).await;
    let stranger = person(&app).await;
    let slug = create_org(&app, &owner).await;

    // Sent to another address than the stranger's: the link shows nothing to them.
    assert_eq!(
        invite(&app, &owner, &slug, &invited.email, "member")
            .await
            .status,
        StatusCode::OK
    );
    let token = token_sent_to(&app, &invited.email).await;
    let stored: (String,) =
        sqlx::query_as("SELECT token_digest FROM org_invitations WHERE email = $1")
            .bind(&invited.email)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    assert_ne!(stored.0, token, "the token is stored as a digest");
    let seen = call(&app, &stranger, "open_invitation", &[("token", &token)]).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(seen.json().is_null());
    assert!(call(&app, &stranger, "my_invitations", &[])
        .await
        .json()
        .as_array()
        .unwrap()
        .is_empty());

    let opened = call(&app, &invited, "open_invitation", &[("token", &token)])
        .await
        .json();
    assert_eq!(opened["org_slug"], slug.as_str());
    let id = opened["id"].as_str().unwrap().to_string();
    // The stranger cannot answer it by id either.
    let form = [("invitation_id", id.as_str()), ("accept", "true")];
    assert_eq!(
        call(&app, &stranger, "answer_invitation", &form)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&app, &invited, "answer_invitation", &form)
            .await
            .status,
        StatusCode::OK
    );
    // Once: the link and the id are spent.
    assert!(
        call(&app, &invited, "open_invitation", &[("token", &token)])
            .await
            .json()
            .is_null()
    );
    assert_eq!(
        call(&app, &invited, "answer_invitation", &form)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let page = call(&app, &invited, "organization_members", &[("slug", &slug)]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.json()["org"]["role"], "member");

    // Declined: no membership.
    let decliner = person(&app).await;
    assert_eq!(
        invite(&app, &owner, &slug, &decliner.email, "member")
            .await
            .status,
        StatusCode::OK
    );
    let id = call(&app, &decliner, "my_invitations", &[]).await.json()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let form = [("invitation_id", id.as_str()), ("accept", "false")];
    assert_eq!(
        call(&app, &decliner, "answer_invitation", &form)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, &decliner, "organization_members", &[("slug", &slug)])
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Revoked: spent.
    let revokee = person(&app).await;
    assert_eq!(
        invite(&app, &owner, &slug, &revokee.email, "member")
            .await
            .status,
        StatusCode::OK
    );
    let id = call(&app, &revokee, "my_invitations", &[]).await.json()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let form = [("slug", slug.as_str()), ("invitation_id", id.as_str())];
    assert_eq!(
        call(&app, &owner, "revoke_invitation", &form).await.status,
        StatusCode::OK
    );
    let form = [("invitation_id", id.as_str()), ("accept", "true")];
    assert_eq!(
        call(&app, &revokee, "answer_invitation", &form)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Expired after seven days.
    let late = person(&app).await;
    assert_eq!(
        invite(&app, &owner, &slug, &late.email, "member")
            .await
            .status,
        StatusCode::OK
    );
    let token = token_sent_to(&app, &late.email).await;
    let id = call(&app, &late, "my_invitations", &[]).await.json()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Seven days and a second later (set in the table: moving the clock that far would
    // also end the person's session).
    sqlx::query("UPDATE org_invitations SET expires_at = $1 WHERE email = $2")
        .bind(app.state.now_ms() - 1)
        .bind(&late.email)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    assert!(call(&app, &late, "open_invitation", &[("token", &token)])
        .await
        .json()
        .is_null());
    let form = [("invitation_id", id.as_str()), ("accept", "true")];
    assert_eq!(
        call(&app, &late, "answer_invitation", &form).await.status,
        StatusCode::NOT_FOUND
    );

    // An unverified address sees no invitations and cannot accept.
    let (email, cookie) = app.sign_up().await;
    let unverified = Person {
        id: app.user_id(&email).await,
        email,
        cookie,
    };
    assert_eq!(
        invite(&app, &owner, &slug, &unverified.email, "member")
            .await
            .status,
        StatusCode::OK
    );
    assert!(call(&app, &unverified, "my_invitations", &[])
        .await
        .json()
        .as_array()
        .unwrap()
        .is_empty());
    let (id,): (String,) = sqlx::query_as("SELECT id FROM org_invitations WHERE email = $1")
        .bind(&unverified.email)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let form = [("invitation_id", id.as_str()), ("accept", "true")];
    assert_eq!(
        call(&app, &unverified, "answer_invitation", &form)
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

async fn bulk_invitations_answer_per_address(app: TestApp) {
    let owner = person(&app).await;
    let member = person(&app).await;
    let slug = create_org(&app, &owner).await;
    join(&app, &owner, &slug, &member, "member").await;
    let list = format!(
        "email,name\nada@example.com,Ada\n\"grace@example.com\",Grace\nADA@example.com,dup\nnot-an-address@,x\n{},member\n",
        member.email
    );
    let reply = invite(&app, &owner, &slug, &list, "member").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let rows = reply.json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(rows[0]["problem"].is_null() && rows[1]["problem"].is_null());
    assert!(
        rows[2]["problem"].as_str().is_some(),
        "a malformed address is refused"
    );
    assert!(rows[3]["problem"]
        .as_str()
        .unwrap()
        .contains("already a member"));
    let many: String = (0..51).map(|i| format!("p{i}@example.com\n")).collect();
    let refused = invite(&app, &owner, &slug, &many, "member").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("At most 50"), "{}", refused.body);
    let empty = invite(&app, &owner, &slug, "  ", "member").await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Inviting the same address again replaces the pending invitation.
    assert_eq!(
        invite(&app, &owner, &slug, "ada@example.com", "member")
            .await
            .status,
        StatusCode::OK
    );
    let pending = call(&app, &owner, "organization_members", &[("slug", &slug)])
        .await
        .json();
    let ada = pending["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["email"] == "ada@example.com")
        .count();
    assert_eq!(ada, 1);
}

async fn ownership_moves_to_an_admin_and_there_is_one_owner(app: TestApp) {
    let owner = person(&app).await;
    let admin = person(&app).await;
    let member = person(&app).await;
    let slug = create_org(&app, &owner).await;
    join(&app, &owner, &slug, &admin, "admin").await;
    join(&app, &owner, &slug, &member, "member").await;
    // To a Member: refused (make them an Admin first).
    let form = [("slug", slug.as_str()), ("user_id", member.id.as_str())];
    assert_eq!(
        call(&app, &owner, "transfer_ownership", &form).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let form = [("slug", slug.as_str()), ("user_id", admin.id.as_str())];
    assert_eq!(
        call(&app, &owner, "transfer_ownership", &form).await.status,
        StatusCode::OK
    );
    let page = call(&app, &admin, "organization_members", &[("slug", &slug)])
        .await
        .json();
    assert_eq!(page["org"]["role"], "owner");
    let owners = page["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "owner")
        .count();
    assert_eq!(owners, 1);
    // The former Owner is an Admin now, and may leave.
    let before = call(&app, &owner, "organization_members", &[("slug", &slug)])
        .await
        .json();
    assert_eq!(before["org"]["role"], "admin");
    assert_eq!(
        call(&app, &owner, "transfer_ownership", &form).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&app, &owner, "leave_organization", &[("slug", &slug)])
            .await
            .status,
        StatusCode::OK
    );
    // Slugs are unique, and bad names and slugs are refused beside their fields.
    let taken = call(
        &app,
        &member,
        "create_organization",
        &[("name", "Other"), ("slug", &slug)],
    )
    .await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        taken.body.contains("Another organization has this URL"),
        "{}",
        taken.body
    );
    let bad = call(
        &app,
        &member,
        "create_organization",
        &[("name", " "), ("slug", "-x")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("\"name\"") && bad.body.contains("\"slug\""),
        "{}",
        bad.body
    );
}
