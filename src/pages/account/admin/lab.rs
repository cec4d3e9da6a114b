//! Admin > Lab servers: put a person on a plan, and see and stop running servers.

use crate::components::action_result::{form_level_message, on_action_toast};
use crate::components::field::EmailField;
use crate::components::kept::keep_typed;
use crate::components::toast::{ToastRegion, Toasts};
use crate::error::AppError;
use crate::lab::api::{admin_lab_servers, AdminSetPlan, AdminStopLab};
use crate::lab::{format_hours, Plan};
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
    let error = RwSignal::new(None::<AppError>);
    Effect::new(move |_| match save.value().get() {
        Some(Ok(())) => {
            let label = Plan::parse(&plan.get_untracked())
                .map(|p| p.label())
                .unwrap_or("");
            toasts.success(format!(
                "{} is now on the {label} plan.",
                email.get_untracked()
            ));
            error.set(None);
        }
        Some(Err(e)) => error.set(Some(e)),
        None => {}
    });
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
                        {Plan::ALL.into_iter().map(|p| view! {
                            <option value=p.as_str() selected=p == Plan::Standard>{p.label()}</option>
                        }).collect_view()}
                    </select>
                    {move || field("plan").get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                </div>
                {move || form_level_message(error.get()).map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                <button type="submit" class="button button-primary" disabled=move || save.pending().get()>"Set plan"</button>
            </form>
        </section>
    }
}

#[component]
fn RunningServers(toasts: Toasts) -> impl IntoView {
    let servers = Resource::new(|| (), |_| admin_lab_servers());
    let stop = ServerAction::<AdminStopLab>::new();
    on_action_toast(stop, toasts, move |()| {
        toasts.success("Server stopped.");
        servers.refetch();
    });
    view! {
        <section class="card" aria-labelledby="running-heading">
            <h2 id="running-heading">"Running servers"</h2>
            <Suspense fallback=|| view! { <p class="muted" aria-busy="true">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match servers.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No Lab server is running."</p> }.into_any(),
                        Ok(list) => view! {
                            <div class="table-wrap flat">
                                <table class="stack-table">
                                    <thead><tr>
                                        <th scope="col">"Person"</th>
                                        <th scope="col">"Started"</th>
                                        <th scope="col" class="numeric">"Compute hours"</th>
                                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                    </tr></thead>
                                    <tbody>
                                        {list.into_iter().map(|s| {
                                            let user_id = s.user_id.clone();
                                            let email = s.email.clone();
                                            view! {
                                                <tr>
                                                    <td class="cell-primary">{s.email.clone()}</td>
                                                    <td data-label="Started">{time_fmt::exact(s.started_at)}</td>
                                                    <td class="numeric" data-label="Compute hours">{format_hours(s.cpu_ms)}</td>
                                                    <td class="numeric">
                                                        <button type="button" class="button button-small"
                                                            aria-label=format!("Stop {email}'s server")
                                                            disabled=move || stop.pending().get()
                                                            on:click=move |_| { stop.dispatch(AdminStopLab { user_id: user_id.clone() }); }>
                                                            "Stop"
                                                        </button>
                                                    </td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any(),
                        Err(e) => view! { <p class="field-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
