//! The Organizations and Members pages' server functions, and the invitations a
//! person answers. Each one that names an organization first reads the asking
//! person's membership (`access::membership`): for anyone else it does not exist.

use super::{IncomingInvitation, InviteResult, OrgMembers, OrgSummary};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::{access, invitations, members, Role},
    crate::auth::User,
    crate::web::request::Caller,
};

/// Runs `body` with the person's membership of the organization `slug`.
#[cfg(feature = "ssr")]
async fn in_org<T>(
    slug: &str,
    body: impl AsyncFnOnce(&Caller, User, access::Membership) -> Result<T, AppError>,
) -> Result<T, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        let state = &caller.state;
        let membership = access::membership(&state.db, slug, &user.id, state.now_ms()).await?;
        body(caller, user, membership).await
    })
    .await
}

#[cfg(feature = "ssr")]
fn role_from(text: &str) -> Result<Role, AppError> {
    Role::parse(text).ok_or_else(|| AppError::invalid("role", "Choose Admin or Member."))
}

/// The person's organizations (the workspace switcher and the Organizations page).
#[server(endpoint = "my_organizations")]
pub async fn my_organizations() -> Result<Vec<OrgSummary>, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        access::organizations_of(&caller.state.db, &user.id).await
    })
    .await
}

#[server(endpoint = "create_organization")]
pub async fn create_organization(name: String, slug: String) -> Result<OrgSummary, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        let state = &caller.state;
        members::create(&state.db, &user.id, &name, &slug, state.now_ms()).await
    })
    .await
}

/// The Members page: members for everyone in it, pending invitations for Admins.
#[server(endpoint = "organization_members")]
pub async fn organization_members(slug: String) -> Result<OrgMembers, AppError> {
    in_org(
        &slug,
        async |caller: &Caller, _user: User, m: access::Membership| {
            let db = &caller.state.db;
            let list = members::list(db, &m.org_id).await?;
            let invitations = if m.role.manages() {
                invitations::pending(db, &m.org_id, caller.state.now_ms()).await?
            } else {
                Vec::new()
            };
            Ok(OrgMembers {
                org: OrgSummary {
                    members: list.len() as i64,
                    id: m.org_id,
                    name: m.name,
                    slug: m.slug,
                    role: m.role,
                    created_at: m.created_at,
                },
                members: list,
                invitations,
            })
        },
    )
    .await
}

#[server(endpoint = "invite_members")]
pub async fn invite_members(
    slug: String,
    emails: String,
    role: String,
) -> Result<Vec<InviteResult>, AppError> {
    in_org(
        &slug,
        async |caller: &Caller, user: User, m: access::Membership| {
            let state = &caller.state;
            let base_url = state.config.base_url();
            let inviter = invitations::Inviter {
                db: &state.db,
                mailer: &state.mailer,
                base_url: &base_url,
                acting: &m,
                user: &user,
            };
            inviter
                .invite_many(&emails, role_from(&role)?, state.now_ms())
                .await
        },
    )
    .await
}

#[server(endpoint = "revoke_invitation")]
pub async fn revoke_invitation(slug: String, invitation_id: String) -> Result<(), AppError> {
    in_org(
        &slug,
        async |caller: &Caller, _user: User, m: access::Membership| {
            invitations::revoke(&caller.state.db, &m, &invitation_id, caller.state.now_ms()).await
        },
    )
    .await
}

#[server(endpoint = "change_member_role")]
pub async fn change_member_role(
    slug: String,
    user_id: String,
    role: String,
) -> Result<(), AppError> {
    in_org(
        &slug,
        async |caller: &Caller, _user: User, m: access::Membership| {
            members::set_role(&caller.state.db, &m, &user_id, role_from(&role)?).await
        },
    )
    .await
}

#[server(endpoint = "remove_member")]
pub async fn remove_member(slug: String, user_id: String) -> Result<(), AppError> {
    in_org(
        &slug,
        async |caller: &Caller, _user: User, m: access::Membership| {
            members::remove(&caller.state.db, &m, &user_id).await
        },
    )
    .await
}

#[server(endpoint = "leave_organization")]
pub async fn leave_organization(slug: String) -> Result<(), AppError> {
    in_org(
        &slug,
        async |caller: &Caller, user: User, m: access::Membership| {
            members::leave(&caller.state.db, &m, &user.id).await
        },
    )
    .await
}

#[server(endpoint = "transfer_ownership")]
pub async fn transfer_ownership(slug: String, user_id: String) -> Result<(), AppError> {
    in_org(
        &slug,
        async |caller: &Caller, user: User, m: access::Membership| {
            members::transfer(&caller.state.db, &m, &user.id, &user_id).await
        },
    )
    .await
}

#[server(endpoint = "delete_organization")]
pub async fn delete_organization(slug: String, confirm: String) -> Result<(), AppError> {
    in_org(
        &slug,
        async |caller: &Caller, _user: User, m: access::Membership| {
            members::delete(&caller.state.db, &m, &confirm).await
        },
    )
    .await
}

/// Invitations waiting for the person (their dashboard lists them).
#[server(endpoint = "my_invitations")]
pub async fn my_invitations() -> Result<Vec<IncomingInvitation>, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        invitations::incoming(&caller.state.db, &user, caller.state.now_ms()).await
    })
    .await
}

/// The invitation behind an emailed link: `Ok(None)` when it is spent, expired or was
/// sent to another address (the page says so without saying which).
#[server(endpoint = "open_invitation")]
pub async fn open_invitation(token: String) -> Result<Option<IncomingInvitation>, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        Ok(
            match invitations::open(&caller.state.db, &user, &token, caller.state.now_ms()).await? {
                invitations::Opened::Pending(invitation) => Some(invitation),
                invitations::Opened::Spent | invitations::Opened::OtherEmail => None,
            },
        )
    })
    .await
}

/// Accepts or declines one of the person's invitations; answers the organization's slug.
#[server(endpoint = "answer_invitation")]
pub async fn answer_invitation(invitation_id: String, accept: bool) -> Result<String, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        invitations::decide(
            &caller.state.db,
            &user,
            &invitation_id,
            accept,
            caller.state.now_ms(),
        )
        .await
    })
    .await
}
