//! The Lab page's session history: when each server ran, for how long, what it used,
//! and why it stopped.

use super::controls::use_lab;
use crate::lab::api::lab_history;
use crate::lab::{format_duration, format_hours};
use crate::time_fmt;
use leptos::prelude::*;

#[component]
pub fn SessionHistory() -> impl IntoView {
    let lab = use_lab();
    let sessions = Resource::new(move || lab.track(), |_| lab_history());
    view! {
        <section class="card" aria-labelledby="history-heading">
            <h2 id="history-heading">"Session history"</h2>
            <Transition fallback=|| view! { <p class="muted" aria-busy="true">"Loading sessions…"</p> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="muted">"No sessions yet. Each time your server runs, it is listed here with the compute hours it used."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <div class="table-wrap flat">
                                <table class="stack-table sessions-table">
                                    <caption class="visually-hidden">"Your Lab sessions, newest first"</caption>
                                    <thead>
                                        <tr>
                                            <th scope="col">"Started"</th>
                                            <th scope="col">"Stopped"</th>
                                            <th scope="col">"Duration"</th>
                                            <th scope="col" class="numeric">"Compute hours"</th>
                                            <th scope="col">"Why it stopped"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {list.into_iter().map(|s| view! {
                                            <tr>
                                                <td class="cell-primary" data-label="Started">{time_fmt::exact(s.started_at)}</td>
                                                <td data-label="Stopped">{s.stopped_at.map(time_fmt::exact).unwrap_or_else(|| "Running".into())}</td>
                                                <td data-label="Duration">{format_duration(s.duration_ms)}</td>
                                                <td class="numeric" data-label="Compute hours">{format_hours(s.cpu_ms)}</td>
                                                <td data-label="Why it stopped">{s.stop_reason.map(|r| r.label()).unwrap_or("—")}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any(),
                        Err(e) => view! { <p class="field-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
