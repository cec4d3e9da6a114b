//! The expanded row: dates, status, permissions, usage, recent requests and lifecycle.

use super::spend_limit::SpendingLimit;
use super::ui::use_keys_ui;
use crate::components::action_result::on_action;
use crate::components::data_table::{Column, DataTable};
use crate::components::usage_chart::UsageChart;
use crate::infra::wire::load;
use crate::keys::{
    api::{get_key_details, SetKeyActive},
    KeyDetails, KeyStatus,
};
use crate::time_fmt;
use leptos::prelude::*;

#[component]
pub fn KeyDetailsPanel(id: String) -> impl IntoView {
    let ui = use_keys_ui();
    let details = load(
        move || (id.clone(), ui.refresh.get(), ui.org.get()),
        |(id, _, org)| get_key_details(org, id),
    );
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading details…"</p> }>
            {move || Suspend::new(async move {
                match details.await {
                    Ok(details) => view! { <DetailsBody details /> }.into_any(),
                    Err(error) => view! { <p class="field-error" role="alert">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn DetailsBody(details: KeyDetails) -> impl IntoView {
    let ui = use_keys_ui();
    let now = time_fmt::now_ms();
    let key = details.key.clone();
    let toggle = ServerAction::<SetKeyActive>::new();
    on_action(
        toggle,
        move |key| {
            ui.toasts.success(if key.active {
                format!("\"{}\" activated", key.name)
            } else {
                format!("\"{}\" deactivated", key.name)
            });
            ui.reload();
        },
        move |error| ui.toasts.error(error.to_string()),
    );

    let catalog = ui.catalog.get_untracked();
    let scopes = key
        .scopes
        .iter()
        .map(|name| {
            let description = catalog
                .iter()
                .find(|s| &s.name == name)
                .map(|s| s.description.clone())
                .unwrap_or_else(|| "No longer offered by this server.".to_string());
            view! { <li><code>{name.clone()}</code>" — "<span class="muted">{description}</span></li> }
        })
        .collect_view();

    let dated = |at: Option<i64>, none: &'static str| match at {
        Some(at) => {
            view! { <span title=time_fmt::exact(at)>{time_fmt::exact(at)}</span> }.into_any()
        }
        None => view! { <span class="muted">{none}</span> }.into_any(),
    };
    let expiry = match key.expires_at {
        Some(at) if at <= now => view! { <span class="field-error">{format!("Expired {}", time_fmt::exact(at))}</span> }.into_any(),
        Some(at) => view! { <span title=time_fmt::exact(at)>{format!("{} ({})", time_fmt::date(at), time_fmt::relative(at, now))}</span> }.into_any(),
        None => view! { <span class="muted">"Never"</span> }.into_any(),
    };
    let last_used = match key.last_used_at {
        Some(at) => view! { <span title=time_fmt::exact(at)>{format!("{} ({})", time_fmt::exact(at), time_fmt::relative(at, now))}</span> }.into_any(),
        None => view! { <span class="muted">"Never"</span> }.into_any(),
    };
    let (id, active, name) = (key.id.clone(), key.active, key.name.clone());
    let usage = details.usage.clone();

    view! {
        <div class="detail-grid">
            <section class="detail-section" aria-label=format!("Details of \"{name}\"")>
                <h3>"Details"</h3>
                <dl class="details">
                    <div><dt>"Created"</dt><dd>{dated(Some(key.created_at), "")}</dd></div>
                    <div><dt>"Last used"</dt><dd>{last_used}</dd></div>
                    <div><dt>"Status"</dt><dd>{key.status.label()}</dd></div>
                    <div><dt>"Expires"</dt><dd>{expiry}</dd></div>
                    <div><dt>"Last regenerated"</dt><dd>{dated(key.regenerated_at, "Never")}</dd></div>
                    <div><dt>"Key ID"</dt><dd><code>{key.id.clone()}</code></dd></div>
                </dl>
                <h3 class="subheading">"Permissions"</h3>
                <ul class="scope-list">{scopes}</ul>
                <div class="detail-actions" hidden=move || !ui.can_manage.get()>
                    <button
                        type="button"
                        class="button button-small"
                        disabled=move || toggle.pending().get()
                        on:click=move |_| {
                            toggle.dispatch(SetKeyActive { org: ui.org.get_untracked(), id: id.clone(), active: !active });
                        }
                    >
                        {if active { "Deactivate" } else { "Activate" }}
                    </button>
                    <span class="muted">
                        {match key.status {
                            KeyStatus::Active => "Deactivating stops the key working until you activate it again.",
                            KeyStatus::Inactive => "This key is refused until you activate it.",
                            KeyStatus::Expired => "Expired keys are refused. Create a new key to replace this one.",
                        }}
                    </span>
                </div>
                <SpendingLimit id=key.id.clone() name=key.name.clone() limit=key.monthly_spend_limit spent=details.spent_this_month />
            </section>
            <section class="detail-section" aria-label=format!("Usage of \"{}\"", key.name)>
                <h3>"Usage"</h3>
                <dl class="usage-stats">
                    <div><dt>"Last 24 hours"</dt><dd>{usage.last_24h}</dd></div>
                    <div><dt>"Last 7 days"</dt><dd>{usage.last_7d}</dd></div>
                    <div><dt>"Last 30 days"</dt><dd>{usage.last_30d}</dd></div>
                    <div><dt>"Total"</dt><dd>{usage.total}</dd></div>
                </dl>
                <UsageChart days=details.daily.clone() />
                <h3 class="subheading">"Recent requests"</h3>
                {if details.recent.is_empty() {
                    view! { <p class="muted">"No requests yet. Calls made with this key show up here within seconds."</p> }.into_any()
                } else {
                    let rows = details.recent.iter().map(|r| vec![
                        view! { <span title=time_fmt::exact(r.at)>{time_fmt::relative(r.at, now)}</span> }.into_any(),
                        view! { <code>{format!("{} {}", r.method, r.path)}</code> }.into_any(),
                        r.status.into_any(),
                        view! { <span title=r.user_agent.clone()>{r.client_addr.clone()}</span> }.into_any(),
                    ]).collect::<Vec<_>>();
                    let columns = vec![
                        Column::nowrap("Time"),
                        Column::text("Request"),
                        Column::numeric("Status"),
                        Column::text("Client"),
                    ];
                    view! {
                        <DataTable caption=format!("Recent requests with {}", key.name) compact=true columns rows />
                    }.into_any()
                }}
                <h3 class="subheading">"Activity"</h3>
                <ul class="events">
                    {details.events.iter().map(|e| view! {
                        <li>
                            <span><strong>{capitalize(&e.event)}</strong>" by "{e.actor.clone()}" from "{e.client_addr.clone()}</span>
                            <span class="muted nowrap" title=time_fmt::exact(e.at)>{time_fmt::relative(e.at, now)}</span>
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        </div>
    }
}

/// Audit event names are ASCII words ("created", "regenerated").
fn capitalize(word: &str) -> String {
    let mut text = word.to_owned();
    if let Some(first) = text.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    text
}
