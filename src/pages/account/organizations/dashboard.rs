//! An organization's dashboard (`/org/{slug}`): its wallet, keys and use; Admins
//! allocate credits to members and answer their requests; Members see what they were
//! given and ask for more.

use crate::components::action_result::{form_level_message, on_action_result, on_action_toast};
use crate::components::data_table::{Column, DataTable};
use crate::components::field::TextField;
use crate::components::request_id;
use crate::components::toast::{ToastRegion, Toasts};
use crate::dashboard::{api::organization_overview, OrgOverview};
use crate::error::AppError;
use crate::infra::wire::load;
use crate::orgs::api::{
    credit_request_answers, AllocateCredits, AnswerCreditRequest, DismissCreditAnswer,
    RequestCredits,
};
use crate::orgs::{CreditRequest, RequestOutcome};
use crate::pages::account::workspace::OrgNotFound;
use crate::time_fmt;
use crate::wallet::format_credits;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn OrgDashboardPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.with(|p| p.get("slug").unwrap_or_default());
    let version = RwSignal::new(0_u32);
    let overview = load(
        move || (slug(), version.get()),
        |(slug, _)| organization_overview(slug),
    );
    let toasts = Toasts::new();
    let reload = Callback::new(move |_: ()| version.update(|v| *v += 1));
    view! {
        // Until the organization has loaded (its name then replaces this).
        <Title text="Organization" />
        <Transition fallback=|| view! { <div class="card skeleton" aria-busy="true">"Loading the organization…"</div> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(data) => view! { <OrgDashboard data toasts reload /> }.into_any(),
                    Err(AppError::NotFound) => view! { <OrgNotFound /> }.into_any(),
                    Err(e) => view! { <div class="banner banner-danger" role="alert">{e.to_string()}</div> }.into_any(),
                }
            })}
        </Transition>
        <ToastRegion toasts />
    }
}

#[component]
fn OrgDashboard(data: OrgOverview, toasts: Toasts, reload: Callback<()>) -> impl IntoView {
    let org = data.org.clone();
    let manages = org.role.manages();
    let base = format!("/org/{}", org.slug);
    let credits_part = if manages {
        view! {
            <AllocateForm slug=org.slug.clone() members=data.members.clone() toasts reload />
            <RequestsTable slug=org.slug.clone() requests=data.requests.clone() manages=true toasts reload />
        }
        .into_any()
    } else {
        view! {
            <section class="card" aria-labelledby="allocation-heading">
                <h2 id="allocation-heading">"Your allocation"</h2>
                <p class="stat-value">{format_credits(data.my_allocation)}" credits"</p>
                <p class="muted">"Credits this organization gave you and you have not spent yet. They are in your own wallet; if you leave, what is left goes back."</p>
            </section>
            <RequestForm slug=org.slug.clone() toasts reload />
            <RequestsTable slug=org.slug.clone() requests=data.requests.clone() manages=false toasts reload />
        }
        .into_any()
    };
    view! {
        <Title text=org.name.clone() />
        <header class="page-header">
            <div>
                <h1>{org.name.clone()}</h1>
                <p class="muted">{format!("Organization workspace · you are {} · /{}", org.role.with_article(), org.slug)}</p>
            </div>
        </header>
        <section class="stat-grid" aria-label="Organization summary">
            <a class="card stat stat-link" href=format!("{base}/wallet")>
                <p class="stat-label">"Balance"</p>
                <p class="stat-value">{format_credits(data.balance)}</p>
                <p class="muted">"Credits in the organization's wallet"</p>
            </a>
            <a class="card stat stat-link" href=format!("{base}/api-keys")>
                <p class="stat-label">"Active API keys"</p>
                <p class="stat-value">{data.active_keys}</p>
                <p class="muted">{format!("{} in total · {} requests in 30 days", data.total_keys, data.requests_30d)}</p>
            </a>
            <a class="card stat stat-link" href=format!("{base}/members")>
                <p class="stat-label">"Members"</p>
                <p class="stat-value">{org.members}</p>
                <p class="muted">"Including you"</p>
            </a>
        </section>
        {credits_part}
    }
}

/// Admins give credits to one member, selected members, or everyone.
#[component]
fn AllocateForm(
    slug: String,
    members: Vec<(String, String)>,
    toasts: Toasts,
    reload: Callback<()>,
) -> impl IntoView {
    let allocate = ServerAction::<AllocateCredits>::new();
    let credits = RwSignal::new(String::new());
    let chosen = RwSignal::new(Vec::<String>::new());
    let error = RwSignal::new(None::<AppError>);
    // One id per submission, kept until it succeeds, so a retry never allocates twice.
    let pending_id = RwSignal::new(None::<String>);
    on_action_result(allocate, error, move |balance| {
        toasts.success(format!(
            "Allocated. The organization has {} credits left.",
            format_credits(balance)
        ));
        pending_id.set(None);
        credits.set(String::new());
        chosen.set(Vec::new());
        reload.run(());
    });
    let field = move |name: &'static str| {
        Signal::derive(move || error.with(|e| e.as_ref().and_then(|e| e.field_message(name))))
    };
    let all_ids: Vec<String> = members.iter().map(|(id, _)| id.clone()).collect();
    let everyone = {
        let all = all_ids.clone();
        move || chosen.with(|c| !all.is_empty() && all.iter().all(|id| c.contains(id)))
    };
    let toggle_everyone = {
        let all = all_ids.clone();
        let everyone = everyone.clone();
        move |_| chosen.set(if everyone() { Vec::new() } else { all.clone() })
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let id = pending_id.get_untracked().unwrap_or_else(request_id);
        pending_id.set(Some(id.clone()));
        allocate.dispatch(AllocateCredits {
            slug: slug.clone(),
            members: chosen.get_untracked(),
            credits: credits.get_untracked(),
            request_id: id,
        });
    };
    view! {
        <section class="card" aria-labelledby="allocate-heading">
            <h2 id="allocate-heading">"Allocate credits"</h2>
            <p class="muted card-text">"Move credits from the organization's wallet to members' own wallets. When a member leaves, what they have not spent comes back."</p>
            <form on:submit=on_submit novalidate class="allocate-form">
                <TextField label="Credits for each member" name="credits" value=credits error=field("credits")
                    hint="A whole number, for example 500." max_chars=14 />
                <fieldset class="field" aria-describedby="allocate-members-error">
                    <legend>"Members"</legend>
                    <label class="checkbox">
                        <input type="checkbox" prop:checked=everyone on:change=toggle_everyone />
                        <span>"Everyone"</span>
                    </label>
                    {members.into_iter().map(|(id, email)| {
                        let (checked_id, toggled_id) = (id.clone(), id.clone());
                        view! {
                            <label class="checkbox">
                                <input type="checkbox"
                                    prop:checked=move || chosen.with(|c| c.contains(&checked_id))
                                    on:change=move |_| chosen.update(|c| {
                                        match c.iter().position(|x| *x == toggled_id) {
                                            Some(at) => { c.remove(at); }
                                            None => c.push(toggled_id.clone()),
                                        }
                                    }) />
                                <span>{email}</span>
                            </label>
                        }
                    }).collect_view()}
                    {move || field("members").get().map(|m| view! { <p class="field-error" id="allocate-members-error">{m}</p> })}
                </fieldset>
                {move || field("form").get().or_else(|| form_level_message(error.get())).map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                <button type="submit" class="button button-primary" disabled=move || allocate.pending().get()>"Allocate credits"</button>
            </form>
        </section>
    }
}

/// A member asks the organization for credits.
#[component]
fn RequestForm(slug: String, toasts: Toasts, reload: Callback<()>) -> impl IntoView {
    let ask = ServerAction::<RequestCredits>::new();
    let credits = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let error = RwSignal::new(None::<AppError>);
    on_action_result(ask, error, move |request| {
        toasts.success(format!(
            "Requested {} credits. The organization's Admins will answer.",
            format_credits(request.credits)
        ));
        credits.set(String::new());
        note.set(String::new());
        reload.run(());
    });
    let field = move |name: &'static str| {
        Signal::derive(move || error.with(|e| e.as_ref().and_then(|e| e.field_message(name))))
    };
    view! {
        <section class="card narrow-form" aria-labelledby="request-heading">
            <h2 id="request-heading">"Request credits"</h2>
            <p class="muted card-text">"Ask the organization's Admins for credits. You hear their answer by email and here."</p>
            <form novalidate on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                ask.dispatch(RequestCredits { slug: slug.clone(), credits: credits.get_untracked(), note: note.get_untracked() });
            }>
                <TextField label="Credits" name="credits" value=credits error=field("credits") max_chars=14
                    hint="For example 1,000." />
                <TextField label="Note" name="note" value=note error=field("note") max_chars=500
                    hint="What the credits are for (optional)." />
                {move || form_level_message(error.get()).map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                <button type="submit" class="button button-primary" disabled=move || ask.pending().get()>"Request credits"</button>
            </form>
        </section>
    }
}

#[component]
fn RequestsTable(
    slug: String,
    requests: Vec<CreditRequest>,
    manages: bool,
    toasts: Toasts,
    reload: Callback<()>,
) -> impl IntoView {
    let answer = ServerAction::<AnswerCreditRequest>::new();
    on_action_toast(answer, toasts, move |()| {
        toasts.success("Answered. The member was told by email.");
        reload.run(());
    });
    let heading = if manages {
        "Credit requests"
    } else {
        "Your requests"
    };
    let now = time_fmt::now_ms();
    let body = if requests.is_empty() {
        view! { <p class="muted">{if manages { "No member has asked for credits." } else { "You have not asked for credits yet." }}</p> }.into_any()
    } else {
        let rows = requests
            .into_iter()
            .map(|r| {
                let status = match r.outcome {
                    Some(RequestOutcome::Approved) => view! { <span class="badge badge-active">"Approved"</span> }.into_any(),
                    Some(RequestOutcome::Declined) => view! { <span class="badge badge-inactive">"Declined"</span> }.into_any(),
                    None if manages => {
                        let (slug_a, slug_d, id_a, id_d) = (slug.clone(), slug.clone(), r.id.clone(), r.id.clone());
                        let who = format!("{} credits for {}", format_credits(r.credits), r.email);
                        let who_declined = who.clone();
                        view! {
                            <div class="actions">
                                <button type="button" class="button button-primary button-small" disabled=move || answer.pending().get()
                                    aria-label=format!("Approve {who}")
                                    on:click=move |_| { answer.dispatch(AnswerCreditRequest { slug: slug_a.clone(), request_id: id_a.clone(), approve: true }); }>
                                    "Approve"
                                </button>
                                <button type="button" class="button button-small" disabled=move || answer.pending().get()
                                    aria-label=format!("Decline {who_declined}")
                                    on:click=move |_| { answer.dispatch(AnswerCreditRequest { slug: slug_d.clone(), request_id: id_d.clone(), approve: false }); }>
                                    "Decline"
                                </button>
                            </div>
                        }.into_any()
                    }
                    None => view! { <span class="badge">"Waiting"</span> }.into_any(),
                };
                let note = if r.note.is_empty() { "—".to_string() } else { r.note.clone() };
                let mut cells = Vec::with_capacity(5);
                if manages {
                    cells.push(r.email.clone().into_any());
                }
                cells.push(format_credits(r.credits).into_any());
                cells.push(note.into_any());
                cells.push(view! { <span title=time_fmt::exact(r.created_at)>{time_fmt::relative(r.created_at, now)}</span> }.into_any());
                cells.push(status);
                cells
            })
            .collect::<Vec<_>>();
        let mut columns = Vec::with_capacity(5);
        if manages {
            columns.push(Column::primary("Member"));
        }
        columns.extend([
            Column::numeric("Credits"),
            Column::text("Note"),
            Column::nowrap("Asked"),
            Column::text("Status"),
        ]);
        view! { <DataTable caption=heading flat=true columns rows /> }.into_any()
    };
    view! {
        <section class="card" aria-labelledby="requests-heading">
            <h2 id="requests-heading">{heading}</h2>
            {body}
        </section>
    }
}

/// On the person's own dashboard: how organizations answered their requests for
/// credits, until they dismiss each answer.
#[component]
pub fn CreditRequestAnswers() -> impl IntoView {
    let dismiss = ServerAction::<DismissCreditAnswer>::new();
    // Read again after each dismissal.
    let answers = load(
        move || dismiss.version().get(),
        |_| credit_request_answers(),
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                answers.await.unwrap_or_default().into_iter().map(|a| {
                    let approved = a.outcome == RequestOutcome::Approved;
                    let text = if approved {
                        format!("{} approved your request: {} credits are in your wallet.", a.org_name, format_credits(a.credits))
                    } else {
                        format!("{} declined your request for {} credits.", a.org_name, format_credits(a.credits))
                    };
                    let id = a.id.clone();
                    view! {
                        <div class=if approved { "banner banner-success banner-row" } else { "banner banner-row" } role="status">
                            <span>{text}" "<a href=format!("/org/{}", a.org_slug)>{format!("Open {}", a.org_name)}</a></span>
                            <button type="button" class="button button-small" aria-label=format!("Dismiss the answer from {}", a.org_name)
                                on:click=move |_| { dismiss.dispatch(DismissCreditAnswer { request_id: id.clone() }); }>
                                "Dismiss"
                            </button>
                        </div>
                    }
                }).collect_view()
            })}
        </Transition>
    }
}
