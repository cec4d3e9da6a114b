//! Invitations to organizations as the invited person meets them: the page an emailed
//! link opens (`/account/invitations?token=…`), and the list on their dashboard and
//! Organizations page. Accepting joins at once; declining tells no one anything more.

use crate::components::action_result::on_action;
use crate::infra::wire::load;
use crate::orgs::api::{my_invitations, open_invitation, AnswerInvitation};
use crate::orgs::IncomingInvitation;
use crate::time_fmt;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Accept and Decline for one invitation; after either, `on_done` gets the answer.
#[component]
fn AnswerButtons(
    invitation: IncomingInvitation,
    on_done: Callback<(bool, String)>,
) -> impl IntoView {
    let answer = ServerAction::<AnswerInvitation>::new();
    let accepting = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    on_action(
        answer,
        move |slug| on_done.run((accepting.get_untracked(), slug)),
        move |e| error.set(Some(e.to_string())),
    );
    let (accept_id, decline_id) = (invitation.id.clone(), invitation.id.clone());
    let org = invitation.org_name.clone();
    view! {
        <div class="actions">
            <button type="button" class="button button-primary button-small" disabled=move || answer.pending().get()
                aria-label=format!("Accept the invitation to {org}")
                on:click=move |_| { accepting.set(true); answer.dispatch(AnswerInvitation { invitation_id: accept_id.clone(), accept: true }); }>
                "Accept"
            </button>
            <button type="button" class="button button-small" disabled=move || answer.pending().get()
                aria-label=format!("Decline the invitation to {}", invitation.org_name)
                on:click=move |_| { accepting.set(false); answer.dispatch(AnswerInvitation { invitation_id: decline_id.clone(), accept: false }); }>
                "Decline"
            </button>
        </div>
        {move || error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
    }
}

fn describe(invitation: &IncomingInvitation) -> String {
    format!(
        "{} invited you to join as {}. Expires {}.",
        invitation.invited_by,
        invitation.role.label(),
        time_fmt::date(invitation.expires_at)
    )
}

/// The person's pending invitations, or nothing when there are none.
#[component]
pub fn IncomingInvitations() -> impl IntoView {
    let invitations = load(|| (), |_| my_invitations());
    let on_done = Callback::new(move |(accepted, slug): (bool, String)| {
        if accepted {
            crate::components::load_page(&format!("/org/{slug}"));
        } else {
            invitations.refetch();
        }
    });
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let list = invitations.await.ok().filter(|l| !l.is_empty())?;
                Some(view! {
                    <section class="card" aria-labelledby="invitations-heading">
                        <h2 id="invitations-heading">"Invitations"</h2>
                        <ul class="invitation-list">
                            {list.into_iter().map(|inv| view! {
                                <li>
                                    <span><strong>{inv.org_name.clone()}</strong>" "<span class="muted">{describe(&inv)}</span></span>
                                    <AnswerButtons invitation=inv on_done />
                                </li>
                            }).collect_view()}
                        </ul>
                    </section>
                })
            })}
        </Transition>
    }
}

/// The page an invitation's link opens.
#[component]
pub fn InvitationPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.with(|q| q.get("token").unwrap_or_default());
    let invitation = load(token, open_invitation);
    let declined = RwSignal::new(false);
    let on_done = Callback::new(move |(accepted, slug): (bool, String)| {
        if accepted {
            crate::components::load_page(&format!("/org/{slug}"));
        } else {
            declined.set(true);
        }
    });
    view! {
        <Title text="Invitation" />
        <header class="page-header">
            <div><h1>"Invitation"</h1></div>
        </header>
        <Suspense fallback=|| view! { <div class="card skeleton" aria-busy="true">"Loading the invitation…"</div> }>
            {move || Suspend::new(async move {
                match invitation.await {
                    Ok(Some(inv)) => view! {
                        <section class="card" aria-labelledby="invitation-heading">
                            <h2 id="invitation-heading">{format!("Join {}", inv.org_name)}</h2>
                            <p class="muted card-text">{describe(&inv)}</p>
                            {move || if declined.get() {
                                view! { <p role="status">"You declined the invitation."</p> }.into_any()
                            } else {
                                view! { <AnswerButtons invitation=inv.clone() on_done /> }.into_any()
                            }}
                        </section>
                    }.into_any(),
                    Ok(None) => view! {
                        <section class="card empty-state">
                            <h2>"This invitation cannot be used"</h2>
                            <p class="muted">"It was already answered or revoked, it expired (links work for 7 days), or it was sent to another email address than the one you are signed in with. Ask for a new invitation if you need one."</p>
                            <a class="button" href="/account/organizations">"Your organizations"</a>
                        </section>
                    }.into_any(),
                    Err(e) => view! { <div class="banner banner-danger" role="alert">{e.to_string()}</div> }.into_any(),
                }
            })}
        </Suspense>
    }
}
