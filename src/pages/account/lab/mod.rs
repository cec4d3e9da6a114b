//! Account > Lab: the server's state, Launch Lab and Stop server, compute hours
//! against the plan, Continue with credits, and the session history.

pub mod card;
pub mod controls;
mod history;

use crate::components::action_result::on_action;
use crate::lab::api::SetContinueWithCredits;
use crate::lab::{Availability, ComputeUse, LabOverview, ServerStatus};
use controls::{status_line, use_lab, ComputeBar, LaunchButton, StopButton, StopNoticeBanner};
use history::SessionHistory;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn LabPage() -> impl IntoView {
    let lab = use_lab();
    view! {
        <Title text="Lab" />
        <header class="page-header">
            <div>
                <h1>"Lab"</h1>
                <p class="muted">"Your own JupyterLab server. Stop it when you are done: running time counts against your monthly compute hours."</p>
            </div>
        </header>
        <Transition fallback=|| view! { <div class="card skeleton" aria-busy="true">"Loading your Lab server…"</div> }>
            {move || Suspend::new(async move {
                match lab.overview.await {
                    Ok(overview) => view! { <LabDetails overview /> }.into_any(),
                    Err(e) => view! { <div class="banner banner-danger" role="alert">{e.to_string()}</div> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn LabDetails(overview: LabOverview) -> impl IntoView {
    let server_card = match overview.availability.clone() {
        Availability::NotSetUp => {
            return view! {
                <section class="card empty-state" aria-labelledby="lab-off-heading">
                    <h2 id="lab-off-heading">"Lab is not set up on this server"</h2>
                    <p class="muted">"An operator turns Lab on by connecting Keyward to a JupyterHub. Your API keys and wallet work without it."</p>
                </section>
            }
            .into_any()
        }
        Availability::Unavailable => view! {
            <section class="card" aria-labelledby="server-heading">
                <h2 id="server-heading">"Server"</h2>
                <div class="banner banner-danger" role="alert">"Lab is unavailable right now. Try again in a few minutes; your files are safe."</div>
            </section>
        }
        .into_any(),
        Availability::Available(status) => view! { <ServerCard status lab_url=overview.lab_url.clone() /> }.into_any(),
    };
    let notice = overview
        .notice
        .clone()
        .map(|notice| view! { <StopNoticeBanner notice idle_minutes=overview.idle_minutes /> });
    let compute = overview
        .compute
        .clone()
        .map(|compute| view! { <ComputeCard compute /> });
    view! {
        {notice}
        {server_card}
        {compute}
        <SessionHistory />
    }
    .into_any()
}

#[component]
fn ServerCard(status: ServerStatus, lab_url: Option<String>) -> impl IntoView {
    let (line, badge, badge_class) = status_line(&status);
    let open_link = lab_url.filter(|_| status.is_active()).map(|url| {
        view! {
            <a class="button button-primary" href=url>"Open JupyterLab"</a>
        }
    });
    let actions = if status.is_active() {
        view! { {open_link} <StopButton /> }.into_any()
    } else {
        view! { <LaunchButton primary=true /> }.into_any()
    };
    view! {
        <section class="card" aria-labelledby="server-heading">
            <div class="card-cta">
                <div>
                    <h2 id="server-heading">"Server " <span class=format!("badge {badge_class}")>{badge}</span></h2>
                    <p class="muted">{line}</p>
                </div>
                <div class="actions">{actions}</div>
            </div>
        </section>
    }
}

#[component]
fn ComputeCard(compute: ComputeUse) -> impl IntoView {
    let lab = use_lab();
    let save = ServerAction::<SetContinueWithCredits>::new();
    let on = RwSignal::new(compute.continue_with_credits);
    on_action(
        save,
        move |()| {
            lab.toasts.success(if on.get_untracked() {
                "Continue with credits is on."
            } else {
                "Continue with credits is off."
            });
        },
        move |e| {
            on.set(!on.get_untracked());
            lab.toasts.error(e.to_string());
        },
    );
    let price = compute.credits_per_cpu_hour;
    view! {
        <section class="card" aria-labelledby="compute-heading">
            <h2 id="compute-heading">"Compute hours this month"</h2>
            <ComputeBar compute />
            <div class="checkbox-field">
                <input type="checkbox" id="continue-with-credits" aria-describedby="continue-with-credits-help"
                    prop:checked=move || on.get() disabled=move || save.pending().get()
                    on:change=move |ev| {
                        let checked = event_target_checked(&ev);
                        on.set(checked);
                        save.dispatch(SetContinueWithCredits { on: checked });
                    } />
                <div>
                    <label for="continue-with-credits">"Continue with credits"</label>
                    <p class="muted small" id="continue-with-credits-help">
                        {format!("When this month's hours run out, keep your server running and pay {price} credits per further CPU hour from your wallet. It stops when the wallet cannot pay for the next hour.")}
                    </p>
                </div>
            </div>
        </section>
    }
}
