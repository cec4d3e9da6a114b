//! Admin > Webhooks: the endpoints Keyward signs and sends events to, a form to add
//! one (its signing secret shown once), and the latest deliveries with Resend.

use crate::components::action_result::{on_action, on_action_toast};
use crate::components::copy_button::CopyButton;
use crate::components::data_table::{Column, DataTable, Empty, Listing};
use crate::components::field::TextField;
use crate::components::toast::{ToastRegion, Toasts};
use crate::error::AppError;
use crate::infra::wire::load;
use crate::operator_webhooks::api::{
    list_webhooks, AddWebhookEndpoint, RemoveWebhookEndpoint, ResendWebhook,
    SetWebhookEndpointActive,
};
use crate::operator_webhooks::{
    DeliveryStatus, DeliveryView, EndpointView, WebhooksOverview, EVENT_TYPES,
};
use crate::time_fmt;
use leptos::prelude::*;
use leptos_meta::Title;

const NO_ENDPOINTS: Empty = Empty {
    title: "No endpoints yet",
    hint: "Add your job service's address to hear when people cancel jobs, jobs end, balances run low and keys are revoked.",
};

const NO_DELIVERIES: Empty = Empty {
    title: "No deliveries yet",
    hint: "Each event sent to an endpoint is listed here with how its attempts went.",
};

#[component]
pub fn WebhooksAdminPage() -> impl IntoView {
    let toasts = Toasts::new();
    let version = RwSignal::new(0_u64);
    let overview = load(move || version.get(), |_| list_webhooks());
    let reload = move || version.update(|v| *v += 1);
    let set_active = ServerAction::<SetWebhookEndpointActive>::new();
    let remove = ServerAction::<RemoveWebhookEndpoint>::new();
    let resend = ServerAction::<ResendWebhook>::new();
    on_action_toast(set_active, toasts, move |()| {
        toasts.success("Endpoint updated");
        reload();
    });
    on_action_toast(remove, toasts, move |()| {
        toasts.success("Endpoint removed");
        reload();
    });
    on_action_toast(resend, toasts, move |_| {
        toasts.success("Queued to send again");
        reload();
    });
    let endpoints_table = move |list: Vec<EndpointView>| {
        let rows = list
            .into_iter()
            .map(|e| {
                let (id, id2) = (e.id.clone(), e.id.clone());
                let active = e.active;
                let url = e.url.clone();
                vec![
                    view! { <span class="mono">{e.url.clone()}</span> }.into_any(),
                    e.events.join(", ").into_any(),
                    view! { <span class=if active { "badge badge-active" } else { "badge badge-inactive" }>{if active { "On" } else { "Off" }}</span> }.into_any(),
                    view! {
                        <div class="row-actions">
                            <button type="button" class="button button-small"
                                aria-label=format!("{} {url}", if active { "Switch off" } else { "Switch on" })
                                on:click=move |_| { set_active.dispatch(SetWebhookEndpointActive { id: id.clone(), active: !active }); }>
                                {if active { "Switch off" } else { "Switch on" }}
                            </button>
                            <button type="button" class="button button-small button-danger-quiet"
                                aria-label=format!("Remove {}", e.url)
                                on:click=move |_| { remove.dispatch(RemoveWebhookEndpoint { id: id2.clone() }); }>
                                "Remove"
                            </button>
                        </div>
                    }.into_any(),
                ]
            })
            .collect();
        let columns = vec![
            Column::primary("URL"),
            Column::text("Events"),
            Column::text("Status"),
            Column::actions(),
        ];
        view! { <DataTable caption="Webhook endpoints" flat=true columns rows /> }
    };
    let deliveries_table = move |list: Vec<DeliveryView>| {
        let now = time_fmt::now_ms();
        let rows = list
            .into_iter()
            .map(|d| {
                let id = d.id.clone();
                let (class, label) = match d.status {
                    DeliveryStatus::Delivered => ("badge badge-active", d.status.label()),
                    DeliveryStatus::Pending => ("badge badge-warning", d.status.label()),
                    DeliveryStatus::Failed => ("badge badge-expired", d.status.label()),
                };
                let outcome = match (&d.last_status, &d.last_error, d.next_attempt_at) {
                    (_, Some(error), Some(next)) => format!("{error} Next try {}.", time_fmt::relative(next, now)),
                    (_, Some(error), None) => error.clone(),
                    (Some(status), None, _) => format!("HTTP {status}"),
                    (None, None, _) => "Not tried yet".to_string(),
                };
                let event_label = format!("Resend {} {}", d.event_type, d.event_id);
                vec![
                    view! {
                        <span>{d.event_type.clone()}</span>
                        <span class="muted mono reference">{d.event_id.clone()}</span>
                    }.into_any(),
                    view! { <span class="mono">{d.endpoint_url.clone()}</span> }.into_any(),
                    view! {
                        <span class=class>{label}</span>
                        <span class="muted status-message">{format!("{} attempt{} · {outcome}", d.attempts, if d.attempts == 1 { "" } else { "s" })}</span>
                    }.into_any(),
                    view! { <span title=time_fmt::exact(d.created_at)>{time_fmt::relative(d.created_at, now)}</span> }.into_any(),
                    view! {
                        <button type="button" class="button button-small" aria-label=event_label
                            on:click=move |_| { resend.dispatch(ResendWebhook { id: id.clone() }); }>"Resend"</button>
                    }.into_any(),
                ]
            })
            .collect();
        let columns = vec![
            Column::primary("Event"),
            Column::text("Endpoint"),
            Column::text("Status"),
            Column::nowrap("Created"),
            Column::actions(),
        ];
        view! { <DataTable caption="Recent deliveries, newest first" flat=true columns rows /> }
    };
    view! {
        <Title text="Webhooks" />
        <header class="page-header">
            <div>
                <h1>"Webhooks"</h1>
                <p class="muted">"Keyward sends these events to your services, signed with each endpoint's secret (Keyward-Signature: t=…,v1=HMAC-SHA256), and retries any answer but 2xx for 24 hours."</p>
            </div>
        </header>
        <AddEndpointForm toasts on_added=Callback::new(move |_| reload()) />
        <section class="card" aria-labelledby="endpoints-heading">
            <h2 id="endpoints-heading">"Endpoints"</h2>
            <Listing resource=overview loading="Loading endpoints…" in_card=true
                is_empty=|o: &WebhooksOverview| o.endpoints.is_empty()
                empty=NO_ENDPOINTS
                show=move |o: WebhooksOverview| endpoints_table(o.endpoints) />
        </section>
        <section class="card" aria-labelledby="deliveries-heading">
            <h2 id="deliveries-heading">"Recent deliveries"</h2>
            <Listing resource=overview loading="Loading deliveries…" in_card=true
                is_empty=|o: &WebhooksOverview| o.deliveries.is_empty()
                empty=NO_DELIVERIES
                show=move |o: WebhooksOverview| deliveries_table(o.deliveries) />
        </section>
        <ToastRegion toasts />
    }
}

#[component]
fn AddEndpointForm(toasts: Toasts, on_added: Callback<()>) -> impl IntoView {
    let add = ServerAction::<AddWebhookEndpoint>::new();
    let url = RwSignal::new(String::new());
    let events = RwSignal::new(Vec::<String>::new());
    let error = RwSignal::new(None::<AppError>);
    let secret = RwSignal::new(None::<String>);
    on_action(
        add,
        move |made| {
            error.set(None);
            url.set(String::new());
            events.set(Vec::new());
            secret.set(Some(made.secret));
            toasts.success("Endpoint added");
            on_added.run(());
        },
        move |e| error.set(Some(e)),
    );
    let field = move |name: &'static str| {
        Signal::derive(move || error.with(|e| e.as_ref().and_then(|e| e.field_message(name))))
    };
    view! {
        <section class="card narrow-form" aria-labelledby="add-endpoint-heading">
            <h2 id="add-endpoint-heading">"Add an endpoint"</h2>
            {move || secret.get().map(|value| view! {
                <div class="banner banner-warning reveal-once" role="status">
                    <p><strong>"Signing secret: copy it now. "</strong>"It is not shown again."</p>
                    <div class="secret-box">
                        <input type="text" readonly aria-label="Signing secret" prop:value=value.clone() />
                        <CopyButton value=value.clone() label="Copy signing secret" text="Copy" class="button" />
                    </div>
                </div>
            })}
            <form novalidate on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                if !add.pending().get_untracked() {
                    add.dispatch(AddWebhookEndpoint { url: url.get_untracked(), events: events.get_untracked() });
                }
            }>
                <TextField label="Endpoint URL" name="url" value=url error=field("url")
                    placeholder="https://jobs.example.com/keyward-webhooks" max_chars=2048 kind="url" />
                <fieldset class="field" class:field-invalid=move || field("events").get().is_some()>
                    <legend>"Events"</legend>
                    {EVENT_TYPES.into_iter().map(|(name, meaning)| view! {
                        <label class="choice choice-block">
                            <input type="checkbox" value=name
                                prop:checked=move || events.with(|e| e.iter().any(|n| n == name))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    events.update(|e| {
                                        e.retain(|n| n != name);
                                        if on { e.push(name.to_string()); }
                                    });
                                } />
                            <span><span class="mono">{name}</span><span class="muted">{format!(" — {meaning}")}</span></span>
                        </label>
                    }).collect_view()}
                    {move || field("events").get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                </fieldset>
                {move || error.with(|e| match e {
                    Some(AppError::Validation(_)) | None => None,
                    Some(other) => Some(view! { <p class="field-error" role="alert">{other.to_string()}</p> }),
                })}
                <button type="submit" class="button button-primary" disabled=move || add.pending().get()>"Add endpoint"</button>
            </form>
        </section>
    }
}
