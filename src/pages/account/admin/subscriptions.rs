//! Admin > Subscriptions: monthly recurring revenue, who pays for which plan, who is
//! behind on payment, and the plans operators gave.

use crate::billing::api::admin_subscriptions;
use crate::billing::{AdminSubscriptionRow, AdminSubscriptions};
use crate::components::data_table::{Column, DataTable, Empty};
use crate::infra::wire::load;
use crate::time_fmt;
use leptos::prelude::*;
use leptos_meta::Title;

const NO_SUBSCRIPTIONS: Empty = Empty {
    title: "No subscriptions yet",
    hint: "People and organizations who subscribe to a plan are listed here.",
};

const NO_COMPLIMENTARY: Empty = Empty {
    title: "No complimentary plans",
    hint: "Give someone a plan on the Lab servers page or with keyward plan set.",
};

fn status_label(row: &AdminSubscriptionRow) -> AnyView {
    let (class, label) = match (row.status.as_str(), row.cancel_at_period_end) {
        ("past_due", _) => ("badge badge-expired", "Past due"),
        (_, true) => ("badge badge-warning", "Cancels at period end"),
        ("active", _) | ("trialing", _) => ("badge badge-active", "Active"),
        _ => ("badge badge-inactive", "Incomplete"),
    };
    view! { <span class=class>{label}</span> }.into_any()
}

fn subscriptions_table(list: Vec<AdminSubscriptionRow>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|row| {
            let status = status_label(&row);
            let who = if row.organization {
                format!("{} (organization)", row.who)
            } else {
                row.who.clone()
            };
            vec![
                who.into_any(),
                row.plan_name.into_any(),
                (if row.interval == "year" {
                    "Yearly"
                } else {
                    "Monthly"
                })
                .into_any(),
                status,
                time_fmt::date(row.current_period_end).into_any(),
                row.monthly_value.into_any(),
            ]
        })
        .collect();
    let columns = vec![
        Column::primary("Who"),
        Column::text("Plan"),
        Column::text("Billed"),
        Column::text("Status"),
        Column::nowrap("Period ends"),
        Column::numeric("Each month"),
    ];
    view! { <DataTable caption="Subscriptions, newest first" flat=true columns rows /> }
}

fn complimentary_table(list: Vec<(String, String)>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|(email, plan)| vec![email.into_any(), plan.into_any()])
        .collect();
    let columns = vec![Column::primary("Person"), Column::text("Plan")];
    view! { <DataTable caption="Complimentary plans" flat=true columns rows /> }
}

fn report(report: AdminSubscriptions) -> impl IntoView {
    view! {
        <section class="stat-grid" aria-label="Revenue">
            <div class="card stat">
                <p class="stat-label">"Monthly recurring revenue"</p>
                <p class="stat-value">{report.mrr}</p>
                <p class="muted">"Active and past-due subscriptions; a yearly price counts a twelfth"</p>
            </div>
            <div class="card stat">
                <p class="stat-label">"Active"</p>
                <p class="stat-value">{report.active}</p>
            </div>
            <div class="card stat">
                <p class="stat-label">"Past due"</p>
                <p class="stat-value">{report.past_due}</p>
                <p class="muted">"The provider is retrying their card"</p>
            </div>
        </section>
        <section class="card" aria-labelledby="subscriptions-heading">
            <h2 id="subscriptions-heading">"Subscriptions"</h2>
            {if report.subscriptions.is_empty() {
                NO_SUBSCRIPTIONS.in_card()
            } else {
                subscriptions_table(report.subscriptions).into_any()
            }}
        </section>
        <section class="card" aria-labelledby="complimentary-heading">
            <h2 id="complimentary-heading">"Complimentary plans"</h2>
            {if report.complimentary.is_empty() {
                NO_COMPLIMENTARY.in_card()
            } else {
                complimentary_table(report.complimentary).into_any()
            }}
        </section>
    }
}

#[component]
pub fn SubscriptionsAdminPage() -> impl IntoView {
    let data = load(|| (), |_| admin_subscriptions());
    view! {
        <Title text="Subscriptions" />
        <header class="page-header">
            <div>
                <h1>"Subscriptions"</h1>
                <p class="muted">"Who pays for which plan, and what that brings in each month."</p>
            </div>
        </header>
        <Suspense fallback=|| view! { <div class="card skeleton" aria-busy="true">"Loading…"</div> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => report(data).into_any(),
                    Err(e) => view! { <div class="banner banner-danger" role="alert">{e.to_string()}</div> }.into_any(),
                }
            })}
        </Suspense>
    }
}
