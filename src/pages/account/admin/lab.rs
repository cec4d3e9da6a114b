//! Admin > Lab servers: put a person on a plan, and see and stop running servers.

use crate::components::action_result::{form_level_message, on_action, on_action_toast};
use crate::components::data_table::{Column, DataTable, Empty, Listing};
use crate::components::field::EmailField;
use crate::components::kept::keep_typed;
use crate::components::toast::{ToastRegion, Toasts};
use crate::error::AppError;
use crate::infra::wire::load;
use crate::lab::api::{admin_lab_servers, admin_plans, AdminSetPlan, AdminStopLab, RunningServer};
use crate::lab::format_hours;
use crate::time_fmt;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn LabServersPage() -> impl IntoView {
    let toasts = Toasts::new();
    view! {
        <Title text="Lab servers" />
        <header class="page-header">
            <div>
                <h1>"Lab servers"</h1>
                <p class="muted">"Plans set each person's monthly compute hours. Running servers can be stopped here; the person is told an operator stopped theirs."</p>
            </div>
        </header>
        <PlanForm toasts />
        <RunningServers toasts />
        <ToastRegion toasts />
    }
}

#[component]
fn PlanForm(toasts: Toasts) -> impl IntoView {
    let save = ServerAction::<AdminSetPlan>::new();
    let email = RwSignal::new(String::new());
    let plan = RwSignal::new("standard".to_string());
    let plans = load(|| (), |_| admin_plans());
    let error = RwSignal::new(None::<AppError>);
    on_action(
        save,
        move |()| {
            let chosen = plan.get_untracked();
            let label = plans
                .get_untracked()
                .and_then(Result::ok)
                .and_then(|list| list.into_iter().find(|(id, _)| *id == chosen))
                .map(|(_, name)| name)
                .unwrap_or(chosen);
            toasts.success(format!(
                "{} is now on the {label} plan.",
                email.get_untracked()
            ));
            error.set(None);
        },
        move |e| error.set(Some(e)),
    );
    let field = move |name: &'static str| {
        Signal::derive(move || error.with(|e| e.as_ref().and_then(|e| e.field_message(name))))
    };
    view! {
        <section class="card narrow-form" aria-labelledby="plan-heading">
            <h2 id="plan-heading">"Set a plan"</h2>
            <form novalidate on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                save.dispatch(AdminSetPlan { email: email.get_untracked(), plan: plan.get_untracked() });
            }>
                <EmailField value=email error=field("email") />
                <div class="field">
                    <label for="field-plan">"Plan"</label>
                    <select id="field-plan" class="select" use:keep_typed=plan on:change=move |ev| plan.set(event_target_value(&ev))>
                        <Suspense fallback=|| ()>
                            {move || Suspend::new(async move {
                                plans.await.unwrap_or_default().into_iter().map(|(id, name)| {
                                    let selected = id == plan.get_untracked();
                                    view! { <option value=id selected=selected>{name}</option> }
                                }).collect_view()
                            })}
                        </Suspense>
                    </select>
                    {move || field("plan").get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                </div>
                {move || form_level_message(error.get()).map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                <button type="submit" class="button button-primary" disabled=move || save.pending().get()>"Set plan"</button>
            </form>
        </section>
    }
}

const NO_SERVERS: Empty = Empty {
    title: "No Lab server is running.",
    hint: "Servers people start show here while they run, with the compute hours they use.",
};

fn servers_table(list: Vec<RunningServer>, stop: ServerAction<AdminStopLab>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|s| {
            let user_id = s.user_id.clone();
            let label = format!("Stop {}'s server", s.email);
            vec![
                s.email.clone().into_any(),
                time_fmt::exact(s.started_at).into_any(),
                format_hours(s.cpu_ms).into_any(),
                view! {
                    <button type="button" class="button button-small"
                        aria-label=label
                        disabled=move || stop.pending().get()
                        on:click=move |_| { stop.dispatch(AdminStopLab { user_id: user_id.clone() }); }>
                        "Stop"
                    </button>
                }
                .into_any(),
            ]
        })
        .collect();
    let columns = vec![
        Column::primary("Person"),
        Column::text("Started"),
        Column::numeric("Compute hours"),
        Column::actions(),
    ];
    view! { <DataTable caption="Running Lab servers" flat=true columns rows /> }
}

#[component]
fn RunningServers(toasts: Toasts) -> impl IntoView {
    let servers = load(|| (), |_| admin_lab_servers());
    let stop = ServerAction::<AdminStopLab>::new();
    on_action_toast(stop, toasts, move |()| {
        toasts.success("Server stopped.");
        servers.refetch();
    });
    view! {
        <section class="card" aria-labelledby="running-heading">
            <h2 id="running-heading">"Running servers"</h2>
            <Listing resource=servers loading="Loading…" in_card=true
                is_empty=Vec::is_empty empty=NO_SERVERS
                show={move |list: Vec<RunningServer>| servers_table(list, stop)} />
        </section>
    }
}
