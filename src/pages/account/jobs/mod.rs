//! Account > Jobs (and an organization's): every job the keys submitted, filtered and
//! paged, a row expanding to its timeline and ledger entries, and Cancel on a job still
//! queued or running. While any job on the page is live, the page reads them again
//! every few seconds.

mod cancel_dialog;
mod table;

use super::workspace::use_org_slug;
use crate::components::data_table::{Empty, Listing};
use crate::components::icons::DownloadIcon;
use crate::components::kept::keep_typed;
use crate::components::pager::CursorPager;
use crate::components::toast::{ToastRegion, Toasts};
use crate::infra::wire::load;
use crate::jobs::api::{list_jobs, FilterForm, JobsOverview};
use crate::jobs::{JobChoices, JobStatus, JobView, JobsAtAGlance};
use crate::wallet::format_credits;
use cancel_dialog::CancelJobDialog;
use leptos::prelude::*;
use leptos_meta::Title;
use table::JobTable;

const NO_JOBS: Empty = Empty {
    title: "No jobs yet",
    hint: "Jobs your API keys submit to the job service show up here, newest first, with what each cost.",
};

const NO_MATCH: Empty = Empty {
    title: "No jobs match these filters",
    hint: "Choose another status, device, key or dates.",
};

/// What the page's parts share.
#[derive(Clone, Copy)]
pub(super) struct JobsUi {
    pub org: Memo<Option<String>>,
    pub version: RwSignal<u64>,
    /// The job whose cancellation is being confirmed.
    pub cancelling: RwSignal<Option<JobView>>,
    pub toasts: Toasts,
}

impl JobsUi {
    pub fn reload(&self) {
        self.version.update(|v| *v += 1);
    }
}

#[component]
pub fn JobsPage() -> impl IntoView {
    let org = use_org_slug();
    let ui = JobsUi {
        org,
        version: RwSignal::new(0),
        cancelling: RwSignal::new(None),
        toasts: Toasts::new(),
    };
    provide_context(ui);
    let status = RwSignal::new(String::new());
    let device = RwSignal::new(String::new());
    let key_id = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let until = RwSignal::new(String::new());
    let cursors = RwSignal::new(vec![None::<String>]);
    let filter = Memo::new(move |_| FilterForm {
        status: status.get(),
        device: device.get(),
        key_id: key_id.get(),
        from: from.get(),
        until: until.get(),
    });
    let filtered = move || filter.with(|f| *f != FilterForm::default());
    let overview = load(
        move || {
            (
                org.get(),
                filter.get(),
                cursors.with(|c| c.last().cloned().flatten()),
                ui.version.get(),
            )
        },
        |(org, filter, before, _)| list_jobs(org, filter, before),
    );
    // Live jobs change on the service's side: read them again while any is live.
    Effect::new(move |_| {
        let live = overview
            .get()
            .is_some_and(|o| o.is_ok_and(|o| o.page.jobs.iter().any(|j| !j.status.ended())));
        #[cfg(feature = "hydrate")]
        if live {
            gloo_timers::callback::Timeout::new(5_000, move || ui.reload()).forget();
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = live;
    });
    let restart = move || cursors.set(vec![None]);
    let export_href = move || {
        let f = filter.get();
        let query: Vec<String> = [
            ("org", org.get().unwrap_or_default()),
            ("status", f.status),
            ("device", f.device),
            ("key_id", f.key_id),
            ("from", f.from),
            ("until", f.until),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", crate::infra::url::percent_encode(&v)))
        .collect();
        if query.is_empty() {
            "/account/jobs.csv".to_string()
        } else {
            format!("/account/jobs.csv?{}", query.join("&"))
        }
    };
    // The filters' devices and keys, from the latest answer; set after hydration, so the
    // page the server drew and the one the browser hydrates agree.
    let choices = RwSignal::new(JobChoices::default());
    Effect::new(move |_| {
        if let Some(Ok(o)) = overview.get() {
            if choices.with_untracked(|c| *c != o.choices) {
                choices.set(o.choices);
            }
        }
    });
    let choice_options = move |pick: fn(&JobChoices) -> Vec<(String, String)>| choices.with(pick);
    view! {
        <Title text="Jobs" />
        <header class="page-header">
            <div>
                <h1>"Jobs"</h1>
                <p class="muted">{move || match org.get() {
                    Some(_) => "Work the organization's API keys submitted: its status, what it cost, and the credits held while it runs.",
                    None => "Work your API keys submitted: its status, what it cost, and the credits held while it runs.",
                }}</p>
            </div>
        </header>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move { overview.await.ok().map(|o| glance(o.glance)) })}
        </Transition>
        <section aria-labelledby="jobs-heading">
            <div class="toolbar jobs-toolbar">
                <h2 id="jobs-heading" class="visually-hidden">"Jobs"</h2>
                <div class="filters">
                    <label class="filter">
                        <span>"Status"</span>
                        <select use:keep_typed=status on:change=move |ev| { status.set(event_target_value(&ev)); restart(); }>
                            <option value="" selected=move || status.with(String::is_empty)>"Any status"</option>
                            {JobStatus::ALL.into_iter().map(|s| view! {
                                <option value=s.as_str() selected=move || status.with(|v| v == s.as_str())>{s.label()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label class="filter">
                        <span>"Device"</span>
                        <select use:keep_typed=device on:change=move |ev| { device.set(event_target_value(&ev)); restart(); }>
                            <option value="">"Any device"</option>
                            {move || choice_options(|c| c.devices.iter().map(|d| (d.clone(), d.clone())).collect())
                                .into_iter()
                                .map(|(value, label)| {
                                    let chosen = value.clone();
                                    view! { <option value=value selected=move || device.with(|d| *d == chosen)>{label}</option> }
                                })
                                .collect_view()}
                        </select>
                    </label>
                    <label class="filter">
                        <span>"Key"</span>
                        <select use:keep_typed=key_id on:change=move |ev| { key_id.set(event_target_value(&ev)); restart(); }>
                            <option value="">"Any key"</option>
                            {move || choice_options(|c| c.keys.clone())
                                .into_iter()
                                .map(|(value, label)| {
                                    let chosen = value.clone();
                                    view! { <option value=value selected=move || key_id.with(|k| *k == chosen)>{label}</option> }
                                })
                                .collect_view()}
                        </select>
                    </label>
                    <label class="filter">
                        <span>"From"</span>
                        <input type="date" use:keep_typed=from prop:value=from on:change=move |ev| { from.set(event_target_value(&ev)); restart(); } />
                    </label>
                    <label class="filter">
                        <span>"To"</span>
                        <input type="date" use:keep_typed=until prop:value=until on:change=move |ev| { until.set(event_target_value(&ev)); restart(); } />
                    </label>
                </div>
                <div class="toolbar-actions">
                    <a class="button" href=export_href download="">
                        <DownloadIcon />
                        <span>"Export CSV"</span>
                    </a>
                </div>
            </div>
            <Listing resource=overview loading="Loading jobs…"
                is_empty=move |o: &JobsOverview| o.page.jobs.is_empty() && cursors.with_untracked(|c| c.len() == 1) && !filtered()
                empty=NO_JOBS
                show=move |o: JobsOverview| {
                    if o.page.jobs.is_empty() && cursors.with_untracked(|c| c.len() == 1) {
                        return NO_MATCH.in_card().into_any();
                    }
                    view! {
                        <JobTable jobs=o.page.jobs />
                        <CursorPager cursors next=o.page.next_before label="Pages of jobs" />
                    }.into_any()
                } />
        </section>
        <CancelJobDialog />
        <ToastRegion toasts=ui.toasts />
    }
}

fn glance(g: JobsAtAGlance) -> impl IntoView {
    view! {
        <section class="stat-grid" aria-label="Jobs at a glance">
            <div class="card stat">
                <p class="stat-label">"Running"</p>
                <p class="stat-value">{g.running}</p>
                <p class="muted">{format!("{} queued", g.queued)}</p>
            </div>
            <div class="card stat">
                <p class="stat-label">"On hold"</p>
                <p class="stat-value">{format_credits(g.on_hold)}" credits"</p>
                <p class="muted">"Held until the jobs end"</p>
            </div>
            {(g.owed > 0).then(|| view! {
                <div class="card stat">
                    <p class="stat-label">"Owed"</p>
                    <p class="stat-value">{format_credits(g.owed)}" credits"</p>
                    <p class="muted">"Costs beyond what the balance covered"</p>
                </div>
            })}
        </section>
    }
}
