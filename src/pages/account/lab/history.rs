//! The Lab page's session history: when each server ran, for how long, what it used,
//! and why it stopped.

use super::controls::use_lab;
use crate::components::data_table::{Column, DataTable, Empty, Listing};
use crate::infra::wire::load;
use crate::lab::api::lab_history;
use crate::lab::{format_duration, format_hours, LabSession};
use crate::time_fmt;
use leptos::prelude::*;

const NO_SESSIONS: Empty = Empty {
    title: "No sessions yet",
    hint: "Each time your server runs, it is listed here with the compute hours it used.",
};

fn sessions_table(list: Vec<LabSession>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|s| {
            vec![
                time_fmt::exact(s.started_at).into_any(),
                s.stopped_at
                    .map(time_fmt::exact)
                    .unwrap_or_else(|| "Running".into())
                    .into_any(),
                format_duration(s.duration_ms).into_any(),
                format_hours(s.cpu_ms).into_any(),
                s.stop_reason.map(|r| r.label()).unwrap_or("—").into_any(),
            ]
        })
        .collect();
    let columns = vec![
        Column::primary("Started"),
        Column::text("Stopped"),
        Column::text("Duration"),
        Column::numeric("Compute hours"),
        Column::text("Why it stopped"),
    ];
    view! {
        <DataTable caption="Your Lab sessions, newest first" flat=true class="sessions-table" columns rows />
    }
}

#[component]
pub fn SessionHistory() -> impl IntoView {
    let lab = use_lab();
    let sessions = load(move || lab.track(), |_| lab_history());
    view! {
        <section class="card" aria-labelledby="history-heading">
            <h2 id="history-heading">"Session history"</h2>
            <Listing resource=sessions loading="Loading sessions…" in_card=true
                is_empty=Vec::is_empty empty=NO_SESSIONS show=sessions_table />
        </section>
    }
}
