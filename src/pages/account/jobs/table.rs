//! The jobs table: a row per job, its name a button that expands the row to the
//! job's timeline and ledger entries (read when first opened), and Cancel on a job
//! still queued or running.

use super::JobsUi;
use crate::components::data_table::{cell, Column, DataTable, TableHead};
use crate::components::icons::{ChevronIcon, StopIcon};
use crate::infra::wire::load;
use crate::jobs::api::read_job;
use crate::jobs::{JobDetail, JobStatus, JobView};
use crate::time_fmt;
use crate::wallet::format_credits;
use leptos::prelude::*;

const JOB_COLUMNS: [Column; 8] = [
    Column::primary("Job"),
    Column::text("Device"),
    Column::text("Status"),
    Column::numeric("Shots"),
    Column::numeric("Cost"),
    Column::nowrap("Submitted"),
    Column::text("Key"),
    Column::actions(),
];

pub fn status_badge(status: JobStatus) -> impl IntoView {
    let class = match status {
        JobStatus::Completed => "badge badge-active",
        JobStatus::Running | JobStatus::Queued => "badge badge-running",
        JobStatus::CancelRequested => "badge badge-warning",
        JobStatus::Failed | JobStatus::Expired => "badge badge-expired",
        JobStatus::Cancelled => "badge badge-inactive",
    };
    view! { <span class=class>{status.label()}</span> }
}

#[component]
pub fn JobTable(jobs: Vec<JobView>) -> impl IntoView {
    let expanded = RwSignal::new(None::<String>);
    let now = time_fmt::now_ms();
    view! {
        <div class="table-wrap">
            <table class="stack-table jobs-table">
                <caption class="visually-hidden">"Jobs, newest first"</caption>
                <TableHead columns=JOB_COLUMNS.to_vec() />
                <tbody>
                    {jobs.into_iter().map(|job| view! { <JobRow job now expanded /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn JobRow(job: JobView, now: i64, expanded: RwSignal<Option<String>>) -> impl IntoView {
    let ui = expect_context::<JobsUi>();
    let id = StoredValue::new(job.id.clone());
    let open = Memo::new(move |_| expanded.with(|e| id.with_value(|id| e.as_deref() == Some(id))));
    let toggle = move || {
        expanded.update(|e| {
            let id = id.get_value();
            *e = if e.as_deref() == Some(id.as_str()) {
                None
            } else {
                Some(id)
            };
        })
    };
    let cost = match (job.final_cost, job.status) {
        (Some(_), _) => view! {
            <span title=format!("Estimated {}", format_credits(job.estimated_cost))>{format_credits(job.charged)}</span>
            {(job.owed > 0).then(|| view! { <span class="muted">{format!(" + {} owed", format_credits(job.owed))}</span> })}
        }.into_any(),
        (None, status) if status.ended() => view! { <span class="muted">"0"</span> }.into_any(),
        (None, _) => view! { <span class="muted" title="Estimated; held until the job ends">{format!("~{}", format_credits(job.estimated_cost))}</span> }.into_any(),
    };
    let duration = job
        .duration_ms(now)
        .map(|ms| time_fmt::duration_words((ms / 1000).max(0) as u64));
    let name = job.name.clone();
    let cancellable = job.status.cancellable();
    let for_cancel = job.clone();
    let message = job.status_message.clone();
    let detail_id = format!("job-detail-{}", job.id);
    let controls = detail_id.clone();
    view! {
        <tr class="job-row" class:expanded=move || open.get()>
            {cell(JOB_COLUMNS[0], view! {
                <div class="key-name">
                    <button type="button" aria-expanded=move || open.get().to_string()
                        aria-controls=move || open.get().then(|| controls.clone())
                        on:click=move |_| toggle()>
                        <span class="chevron"><ChevronIcon /></span>
                        <span>{name.clone()}</span>
                    </button>
                </div>
                <span class="muted mono reference">{job.id.clone()}</span>
            }.into_any())}
            {cell(JOB_COLUMNS[1], view! { <span>{job.device.clone()}</span> }.into_any())}
            {cell(JOB_COLUMNS[2], view! {
                {status_badge(job.status)}
                {message.map(|m| view! { <span class="muted status-message">{m}</span> })}
                {job.queue_position.map(|p| view! { <span class="muted status-message">{format!("Position {p} in queue")}</span> })}
            }.into_any())}
            {cell(JOB_COLUMNS[3], job.shots.map(format_credits).unwrap_or_else(|| "—".into()).into_any())}
            {cell(JOB_COLUMNS[4], cost)}
            {cell(JOB_COLUMNS[5], view! {
                <span title=time_fmt::exact(job.submitted_at)>{time_fmt::relative(job.submitted_at, now)}</span>
                {duration.map(|d| view! { <span class="muted status-message">{format!("ran {d}")}</span> })}
            }.into_any())}
            {cell(JOB_COLUMNS[6], view! { <span>{job.key_name.clone()}</span> }.into_any())}
            {cell(JOB_COLUMNS[7], view! {
                {cancellable.then(|| {
                    let label = format!("Cancel job \"{}\"", for_cancel.name);
                    let job = for_cancel.clone();
                    view! {
                        <button type="button" class="button button-small" aria-label=label
                            on:click=move |_| ui.cancelling.set(Some(job.clone()))>
                            <StopIcon />
                            <span>"Cancel"</span>
                        </button>
                    }
                })}
            }.into_any())}
        </tr>
        <Show when=move || open.get()>
            <tr class="job-detail" id=detail_id.clone()>
                <td colspan="8">
                    <JobDetailPanel id=id.get_value() />
                </td>
            </tr>
        </Show>
    }
}

#[component]
fn JobDetailPanel(id: String) -> impl IntoView {
    let ui = expect_context::<JobsUi>();
    let detail = load(
        move || (ui.org.get(), id.clone(), ui.version.get()),
        |(org, id, _)| read_job(org, id),
    );
    view! {
        <Transition fallback=|| view! { <p class="muted" aria-busy="true">"Loading the timeline…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => detail_view(detail).into_any(),
                    Err(e) => view! { <p class="field-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn detail_view(detail: JobDetail) -> impl IntoView {
    let steps = detail
        .timeline
        .into_iter()
        .map(|step| {
            view! {
                <li>
                    {status_badge(step.status)}
                    <span class="nowrap" title=time_fmt::exact(step.created_at)>{time_fmt::exact(step.created_at)}</span>
                    {step.message.map(|m| view! { <span class="muted">{m}</span> })}
                </li>
            }
        })
        .collect_view();
    let rows = detail
        .entries
        .into_iter()
        .map(|entry| {
            let amount = if entry.amount > 0 {
                format!("+{}", format_credits(entry.amount))
            } else {
                format_credits(entry.amount)
            };
            vec![
                view! { <span title=time_fmt::exact(entry.created_at)>{time_fmt::exact(entry.created_at)}</span> }.into_any(),
                entry.kind.label().into_any(),
                amount.into_any(),
                entry.description.into_any(),
            ]
        })
        .collect();
    let columns = vec![
        Column::nowrap("Time"),
        Column::text("Kind"),
        Column::numeric("Credits"),
        Column::text("Description"),
    ];
    view! {
        <div class="job-detail-grid">
            <div>
                <h3>"Timeline"</h3>
                <ol class="timeline">{steps}</ol>
            </div>
            <div>
                <h3>"Credits"</h3>
                <DataTable caption="The job's ledger entries" columns rows compact=true />
            </div>
        </div>
    }
}
