//! An organization's Members page (`/org/{slug}/members`): members with role,
//! joined date and last activity; Admins invite by email (one or a pasted list),
//! revoke pending invitations, change roles and remove members; anyone but the Owner
//! leaves; the Owner transfers ownership or deletes the organization.

use super::remove_member::RemoveMemberDialog;
use crate::components::action_result::{on_action, on_action_toast};
use crate::components::data_table::{Column, DataTable};
use crate::components::kept::keep_typed;
use crate::components::toast::{ToastRegion, Toasts};
use crate::error::AppError;
use crate::infra::wire::load;
use crate::orgs::api::{
    organization_members, ChangeMemberRole, DeleteOrganization, InviteMembers, LeaveOrganization,
    RevokeInvitation, TransferOwnership,
};
use crate::orgs::{Member, OrgMembers, Role};
use crate::pages::account::workspace::OrgNotFound;
use crate::time_fmt;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn OrgMembersPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.with(|p| p.get("slug").unwrap_or_default());
    let version = RwSignal::new(0_u32);
    let page = load(
        move || (slug(), version.get()),
        |(slug, _)| organization_members(slug),
    );
    let toasts = Toasts::new();
    let reload = Callback::new(move |_: ()| version.update(|v| *v += 1));
    // Kept here, not in the form: the page renders again after each change, and the
    // addresses typed and the per-address results must survive that.
    let invite_state = InviteState {
        emails: RwSignal::new(String::new()),
        results: RwSignal::new(Vec::new()),
    };
    view! {
        <Transition fallback=|| view! { <div class="card skeleton" aria-busy="true">"Loading the organization…"</div> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(data) => view! { <MembersView data toasts reload invite_state /> }.into_any(),
                    Err(AppError::NotFound) => view! { <OrgNotFound /> }.into_any(),
                    Err(e) => view! { <div class="banner banner-danger" role="alert">{e.to_string()}</div> }.into_any(),
                }
            })}
        </Transition>
        <ToastRegion toasts />
    }
}

#[component]
fn MembersView(
    data: OrgMembers,
    toasts: Toasts,
    reload: Callback<()>,
    invite_state: InviteState,
) -> impl IntoView {
    let org = data.org.clone();
    let slug = org.slug.clone();
    let manages = org.role.manages();
    let is_owner = org.role == Role::Owner;
    let invitations = (manages && !data.invitations.is_empty()).then(|| {
        let slug = slug.clone();
        view! { <PendingInvitations slug invitations=data.invitations.clone() toasts reload /> }
    });
    let invite =
        manages.then(|| view! { <InviteForm slug=slug.clone() owner=is_owner toasts reload state=invite_state /> });
    let member_rows = data
        .members
        .iter()
        .map(|member| {
            let last_active = member
                .last_active_at
                .map(|t| time_fmt::relative(t, time_fmt::now_ms()))
                .unwrap_or_else(|| "Never".into());
            let (member, slug, acting) = (member.clone(), slug.clone(), org.role);
            vec![
                member.email.clone().into_any(),
                member.role.label().into_any(),
                time_fmt::date(member.joined_at).into_any(),
                last_active.into_any(),
                view! { <MemberActions member slug acting toasts reload /> }.into_any(),
            ]
        })
        .collect::<Vec<_>>();
    view! {
        <Title text=org.name.clone() />
        <header class="page-header">
            <div>
                <h1>{org.name.clone()}</h1>
                <p class="muted">{format!("{} · you are {} · {} member{}", org.slug, org.role.with_article(), org.members, if org.members == 1 { "" } else { "s" })}</p>
            </div>
        </header>
        <section class="card" aria-labelledby="members-heading">
            <h2 id="members-heading">"Members"</h2>
            <DataTable caption="Members" flat=true columns=MEMBER_COLUMNS.to_vec() rows=member_rows />
        </section>
        {invite}
        {invitations}
        <DangerZone slug=slug.clone() owner=is_owner toasts />
    }
}

const MEMBER_COLUMNS: [Column; 5] = [
    Column::primary("Member"),
    Column::text("Role"),
    Column::text("Joined"),
    Column::text("Last active"),
    Column::actions(),
];

/// What the person may do to one member: change the role, hand over ownership, remove.
#[component]
fn MemberActions(
    member: Member,
    slug: String,
    acting: Role,
    toasts: Toasts,
    reload: Callback<()>,
) -> impl IntoView {
    let change = ServerAction::<ChangeMemberRole>::new();
    let removing = RwSignal::new(false);
    let transfer = ServerAction::<TransferOwnership>::new();
    let email = member.email.clone();
    let done = move |message: String| {
        let message = message.replace("{email}", &email);
        move |()| {
            toasts.success(message.clone());
            reload.run(());
        }
    };
    on_action_toast(change, toasts, done("{email}'s role changed.".into()));
    on_action_toast(transfer, toasts, done("{email} is now the Owner.".into()));
    // Admins manage Members; the Owner manages everyone but themself.
    let may_manage = member.role != Role::Owner
        && (acting == Role::Owner || (acting == Role::Admin && member.role == Role::Member));
    let actions = may_manage.then(|| {
        let (slug_role, slug_transfer) = (slug.clone(), slug.clone());
        let (id_role, id_transfer) = (member.user_id.clone(), member.user_id.clone());
        let other = if member.role == Role::Admin { Role::Member } else { Role::Admin };
        let label = format!("Make {}", other.label());
        let transfer_button = (acting == Role::Owner && member.role == Role::Admin).then(|| view! {
            <button type="button" class="button button-small"
                aria-label=format!("Transfer ownership to {}", member.email)
                on:click=move |_| { transfer.dispatch(TransferOwnership { slug: slug_transfer.clone(), user_id: id_transfer.clone() }); }>
                "Make Owner"
            </button>
        });
        view! {
            <div class="row-actions">
                <button type="button" class="button button-small"
                    aria-label=format!("{label}: {}", member.email)
                    on:click=move |_| { change.dispatch(ChangeMemberRole { slug: slug_role.clone(), user_id: id_role.clone(), role: other.as_str().into() }); }>
                    {label.clone()}
                </button>
                {transfer_button}
                <button type="button" class="button button-small button-danger-ghost"
                    aria-label=format!("Remove {}", member.email)
                    on:click=move |_| removing.set(true)>
                    "Remove"
                </button>
                <RemoveMemberDialog member=member.clone() slug=slug.clone() open=removing toasts reload />
            </div>
        }
    });
    actions
}

/// What the invite form keeps across the page's renders.
#[derive(Clone, Copy)]
struct InviteState {
    emails: RwSignal<String>,
    results: RwSignal<Vec<crate::orgs::InviteResult>>,
}

#[component]
fn InviteForm(
    slug: String,
    owner: bool,
    toasts: Toasts,
    reload: Callback<()>,
    state: InviteState,
) -> impl IntoView {
    let invite = ServerAction::<InviteMembers>::new();
    let InviteState { emails, results } = state;
    let role = RwSignal::new("member".to_string());
    let error = RwSignal::new(None::<String>);
    on_action(
        invite,
        move |list| {
            let sent = list
                .iter()
                .filter(|r: &&crate::orgs::InviteResult| r.problem.is_none())
                .count();
            toasts.success(format!(
                "{sent} invitation{} sent.",
                if sent == 1 { "" } else { "s" }
            ));
            error.set(None);
            if list.iter().all(|r| r.problem.is_none()) {
                emails.set(String::new());
            }
            results.set(list);
            reload.run(());
        },
        move |e| {
            error.set(Some(
                e.field_message("emails")
                    .or_else(|| e.field_message("role"))
                    .unwrap_or_else(|| e.to_string()),
            ))
        },
    );
    view! {
        <section class="card" aria-labelledby="invite-heading">
            <h2 id="invite-heading">"Invite people"</h2>
            <p class="muted card-text">"Each address gets an email with a link that works once, for 7 days. Paste up to 50 addresses, or a CSV."</p>
            <form novalidate on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                invite.dispatch(InviteMembers { slug: slug.clone(), emails: emails.get_untracked(), role: role.get_untracked() });
            }>
                <div class="field" class:field-invalid=move || error.get().is_some()>
                    <label for="invite-emails">"Email addresses"</label>
                    <textarea id="invite-emails" rows="3" aria-describedby="invite-emails-message"
                        use:keep_typed=emails
                        prop:value=move || emails.get() on:input=move |ev| emails.set(event_target_value(&ev))
                        placeholder="ada@example.com, grace@example.com"></textarea>
                    <p class="field-error" id="invite-emails-message" role="alert">{move || error.get()}</p>
                </div>
                <div class="field">
                    <label for="invite-role">"Role"</label>
                    <select id="invite-role" use:keep_typed=role on:change=move |ev| role.set(event_target_value(&ev))>
                        <option value="member" selected=true>"Member"</option>
                        {owner.then(|| view! { <option value="admin">"Admin"</option> })}
                    </select>
                </div>
                <button type="submit" class="button button-primary" disabled=move || invite.pending().get()>
                    {move || if invite.pending().get() { "Sending…" } else { "Send invitations" }}
                </button>
            </form>
            {move || {
                let failed: Vec<_> = results.get().into_iter().filter(|r| r.problem.is_some()).collect();
                (!failed.is_empty()).then(|| view! {
                    <ul class="invite-results" aria-label="Addresses not invited">
                        {failed.into_iter().map(|r| view! {
                            <li><strong>{r.email}</strong>": "{r.problem.unwrap_or_default()}</li>
                        }).collect_view()}
                    </ul>
                })
            }}
        </section>
    }
}

#[component]
fn PendingInvitations(
    slug: String,
    invitations: Vec<crate::orgs::Invitation>,
    toasts: Toasts,
    reload: Callback<()>,
) -> impl IntoView {
    let revoke = ServerAction::<RevokeInvitation>::new();
    on_action_toast(revoke, toasts, move |()| {
        toasts.success("Invitation revoked.");
        reload.run(());
    });
    let rows = invitations
        .into_iter()
        .map(|inv| {
            let (slug, id) = (slug.clone(), inv.id.clone());
            vec![
                inv.email.clone().into_any(),
                inv.role.label().into_any(),
                inv.invited_by.clone().into_any(),
                time_fmt::date(inv.expires_at).into_any(),
                view! {
                    <button type="button" class="button button-small"
                        aria-label=format!("Revoke the invitation to {}", inv.email)
                        on:click=move |_| { revoke.dispatch(RevokeInvitation { slug: slug.clone(), invitation_id: id.clone() }); }>
                        "Revoke"
                    </button>
                }
                .into_any(),
            ]
        })
        .collect::<Vec<_>>();
    let columns = vec![
        Column::primary("Email"),
        Column::text("Role"),
        Column::text("Invited by"),
        Column::text("Expires"),
        Column::actions(),
    ];
    view! {
        <section class="card" aria-labelledby="pending-heading">
            <h2 id="pending-heading">"Pending invitations"</h2>
            <DataTable caption="Pending invitations" flat=true columns rows />
        </section>
    }
}

/// Leave (anyone but the Owner) or delete (the Owner, typing the slug).
#[component]
fn DangerZone(slug: String, owner: bool, toasts: Toasts) -> impl IntoView {
    let leave = ServerAction::<LeaveOrganization>::new();
    let delete = ServerAction::<DeleteOrganization>::new();
    let confirm = RwSignal::new(String::new());
    let delete_error = RwSignal::new(None::<String>);
    on_action_toast(leave, toasts, |()| {
        crate::components::load_page("/account/organizations")
    });
    on_action(
        delete,
        move |()| crate::components::load_page("/account/organizations"),
        move |e| {
            delete_error.set(Some(
                e.field_message("confirm").unwrap_or_else(|| e.to_string()),
            ))
        },
    );
    let body = if owner {
        let slug_delete = slug.clone();
        view! {
            <p class="muted card-text">{format!("Deleting removes every member and invitation. Type {slug} to confirm. To leave instead, make an Admin the Owner first.")}</p>
            <form class="admin-form" novalidate on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                delete.dispatch(DeleteOrganization { slug: slug_delete.clone(), confirm: confirm.get_untracked() });
            }>
                <div class="field" class:field-invalid=move || delete_error.get().is_some()>
                    <label for="delete-confirm">"Organization URL"</label>
                    <input id="delete-confirm" type="text" autocomplete="off" aria-describedby="delete-confirm-message"
                        use:keep_typed=confirm
                        prop:value=move || confirm.get() on:input=move |ev| confirm.set(event_target_value(&ev)) />
                    <p class="field-error" id="delete-confirm-message" role="alert">{move || delete_error.get()}</p>
                </div>
                <button type="submit" class="button button-danger" disabled=move || delete.pending().get()>"Delete organization"</button>
            </form>
        }.into_any()
    } else {
        view! {
            <p class="muted card-text">"Leaving ends your access at once. Organization keys you created or last regenerated are revoked, since only you knew their values."</p>
            <button type="button" class="button button-danger" disabled=move || leave.pending().get()
                on:click=move |_| { leave.dispatch(LeaveOrganization { slug: slug.clone() }); }>
                "Leave organization"
            </button>
        }.into_any()
    };
    view! {
        <section class="card card-danger" aria-labelledby="danger-heading">
            <h2 id="danger-heading">{if owner { "Delete this organization" } else { "Leave this organization" }}</h2>
            {body}
        </section>
    }
}
