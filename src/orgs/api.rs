//! The Organizations and Members pages' server functions, and the invitations a
//! person answers. Each one that names an organization first reads the asking
//! person's membership (`workspace::access::membership`): for anyone else it does not exist.

use super::{
    AnsweredRequest, CreditRequest, IncomingInvitation, InviteResult, MemberKey, OrgMembers,
    OrgSummary,
};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::{access, credit_requests, credits, departure, invitations, members, Role},
    crate::auth::User,
    crate::web::request::Caller,
    crate::workspace::access::{self as workspace_access, Membership},
};

/// Runs `body` with the person's membership of the organization `slug`.
#[cfg(feature = "ssr")]
async fn in_org<T>(
    slug: &str,
    body: impl AsyncFnOnce(&Caller, User, Membership) -> Result<T, AppError>,
) -> Result<T, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        let state = &caller.state;
        let membership =
            workspace_access::membership(&state.db, slug, &user.id, state.now_ms()).await?;
        body(caller, user, membership).await
    })
    .await
}

#[cfg(feature = "ssr")]
fn role_from(text: &str) -> Result<Role, AppError> {
    Role::parse(text).ok_or_else(|| AppError::invalid("role", "Choose Admin or Member."))
}

/// The person's organizations (the workspace switcher and the Organizations page).
#[server(endpoint = "my_organizations", output = crate::infra::wire::Wire)]
pub async fn my_organizations() -> Result<Vec<OrgSummary>, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        access::organizations_of(&caller.state.db, &user.id).await
    })
    .await
}

#[server(endpoint = "create_organization", output = crate::infra::wire::Wire)]
pub async fn create_organization(name: String, slug: String) -> Result<OrgSummary, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        let state = &caller.state;
        members::create(&state.db, &user.id, &name, &slug, state.now_ms()).await
    })
    .await
}

/// The Members page: members for everyone in it, pending invitations for Admins.
#[server(endpoint = "organization_members", output = crate::infra::wire::Wire)]
pub async fn organization_members(slug: String) -> Result<OrgMembers, AppError> {
    in_org(
        &slug,
        async |caller: &Caller, _user: User, m: Membership| {
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

#[server(endpoint = "invite_members", output = crate::infra::wire::Wire)]
pub async fn invite_members(
    slug: String,
    emails: String,
    role: String,
) -> Result<Vec<InviteResult>, AppError> {
    in_org(&slug, async |caller: &Caller, user: User, m: Membership| {
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
    })
    .await
}

#[server(endpoint = "revoke_invitation", output = crate::infra::wire::Wire)]
pub async fn revoke_invitation(slug: String, invitation_id: String) -> Result<(), AppError> {
    in_org(
        &slug,
        async |caller: &Caller, _user: User, m: Membership| {
            invitations::revoke(&caller.state.db, &m, &invitation_id, caller.state.now_ms()).await
        },
    )
    .await
}

#[server(endpoint = "change_member_role", output = crate::infra::wire::Wire)]
pub async fn change_member_role(
    slug: String,
    user_id: String,
    role: String,
) -> Result<(), AppError> {
    in_org(
        &slug,
        async |caller: &Caller, _user: User, m: Membership| {
            members::set_role(&caller.state.db, &m, &user_id, role_from(&role)?).await
        },
    )
    .await
}

/// The organization keys a member created or last regenerated (a manager asks about
/// anyone, a member about themself): the removal dialog lists them.
#[server(endpoint = "member_keys", output = crate::infra::wire::Wire)]
pub async fn member_keys(slug: String, user_id: String) -> Result<Vec<MemberKey>, AppError> {
    in_org(&slug, async |caller: &Caller, user: User, m: Membership| {
        departure::keys_of(&caller.state.db, &m, &user.id, &user_id).await
    })
    .await
}

/// Removes a member; the keys they made are revoked unless `keep_keys` is true.
#[server(endpoint = "remove_member", output = crate::infra::wire::Wire)]
pub async fn remove_member(
    slug: String,
    user_id: String,
    keep_keys: Option<bool>,
) -> Result<(), AppError> {
    in_org(&slug, async |caller: &Caller, user: User, m: Membership| {
        let state = &caller.state;
        let actor = org_actor(caller, &user, &m);
        let keys = departure::DepartingKeys {
            store: &state.keys,
            actor: &actor,
            revoke: !keep_keys.unwrap_or(false),
        };
        departure::remove(&state.db, &m, &user_id, keys, state.now_ms()).await
    })
    .await
}

/// Leaves the organization; the keys the person made for it are revoked.
#[server(endpoint = "leave_organization", output = crate::infra::wire::Wire)]
pub async fn leave_organization(slug: String) -> Result<(), AppError> {
    in_org(&slug, async |caller: &Caller, user: User, m: Membership| {
        let state = &caller.state;
        let actor = org_actor(caller, &user, &m);
        let keys = departure::DepartingKeys {
            store: &state.keys,
            actor: &actor,
            revoke: true,
        };
        departure::leave(&state.db, &m, &user.id, keys, state.now_ms()).await
    })
    .await
}

/// The person acting on the organization's keys, for their history.
#[cfg(feature = "ssr")]
fn org_actor(caller: &Caller, user: &User, m: &Membership) -> crate::keys::store::Actor {
    crate::keys::store::Actor {
        user_id: user.id.clone(),
        owner: crate::workspace::Owner::Org(m.org_id.clone()),
        label: user.email.clone(),
        client_addr: caller.client_addr.clone(),
    }
}

#[server(endpoint = "transfer_ownership", output = crate::infra::wire::Wire)]
pub async fn transfer_ownership(slug: String, user_id: String) -> Result<(), AppError> {
    in_org(&slug, async |caller: &Caller, user: User, m: Membership| {
        members::transfer(&caller.state.db, &m, &user.id, &user_id).await
    })
    .await
}

#[server(endpoint = "delete_organization", output = crate::infra::wire::Wire)]
pub async fn delete_organization(slug: String, confirm: String) -> Result<(), AppError> {
    in_org(
        &slug,
        async |caller: &Caller, _user: User, m: Membership| {
            members::delete(&caller.state.db, &m, &confirm).await
        },
    )
    .await
}

/// Invitations waiting for the person (their dashboard lists them).
#[server(endpoint = "my_invitations", output = crate::infra::wire::Wire)]
pub async fn my_invitations() -> Result<Vec<IncomingInvitation>, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        invitations::incoming(&caller.state.db, &user, caller.state.now_ms()).await
    })
    .await
}

/// The invitation behind an emailed link: `Ok(None)` when it is spent, expired or was
/// sent to another address (the page says so without saying which).
#[server(endpoint = "open_invitation", output = crate::infra::wire::Wire)]
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
#[server(endpoint = "answer_invitation", output = crate::infra::wire::Wire)]
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

/// "1,000" or "1000" credits; anything else is told what to type.
#[cfg(feature = "ssr")]
fn credits_from(text: &str) -> Result<i64, AppError> {
    crate::wallet::parse_optional_credits(text, credits::MAX_CREDITS)
        .flatten()
        .ok_or_else(|| AppError::invalid("credits", "Enter a whole number of credits, at least 1."))
}

/// Admins give `credits` to each member in `members`; answers the organization's balance.
#[server(endpoint = "allocate_credits", input = leptos::server_fn::codec::Json, output = crate::infra::wire::Wire)]
pub async fn allocate_credits(
    slug: String,
    members: Vec<String>,
    credits: String,
    request_id: String,
) -> Result<i64, AppError> {
    in_org(&slug, async |caller: &Caller, user: User, m: Membership| {
        let amount = credits_from(&credits)?;
        let state = &caller.state;
        let now = state.now_ms();
        credits::allocate(
            &state.db,
            &m,
            &user.email,
            &members,
            amount,
            &request_id,
            now,
        )
        .await
    })
    .await
}

/// A member asks the organization for credits.
#[server(endpoint = "request_credits", output = crate::infra::wire::Wire)]
pub async fn request_credits(
    slug: String,
    credits: String,
    note: String,
) -> Result<CreditRequest, AppError> {
    in_org(&slug, async |caller: &Caller, user: User, m: Membership| {
        let amount = credits_from(&credits)?;
        let state = &caller.state;
        credit_requests::request(&state.db, &m, &user.id, amount, &note, state.now_ms()).await
    })
    .await
}

/// Admins approve (allocating the credits) or decline a member's request.
#[server(endpoint = "answer_credit_request", output = crate::infra::wire::Wire)]
pub async fn answer_credit_request(
    slug: String,
    request_id: String,
    approve: bool,
) -> Result<(), AppError> {
    in_org(&slug, async |caller: &Caller, user: User, m: Membership| {
        let state = &caller.state;
        let base_url = state.config.base_url();
        let now = state.now_ms();
        let mailer = &state.mailer;
        credit_requests::decide(
            &state.db,
            mailer,
            &base_url,
            &m,
            &user.email,
            &request_id,
            approve,
            now,
        )
        .await
    })
    .await
}

/// Answers to the person's requests for credits, for their dashboard.
#[server(endpoint = "credit_request_answers", output = crate::infra::wire::Wire)]
pub async fn credit_request_answers() -> Result<Vec<AnsweredRequest>, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        credit_requests::unseen_answers(&caller.state.db, &user.id).await
    })
    .await
}

#[server(endpoint = "dismiss_credit_answer", output = crate::infra::wire::Wire)]
pub async fn dismiss_credit_answer(request_id: String) -> Result<(), AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        credit_requests::dismiss_answer(&caller.state.db, &user.id, &request_id).await
    })
    .await
}
