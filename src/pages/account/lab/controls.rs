//! What the sidebar, the dashboard card and the Lab page share: one reading of the
//! Lab's state (provided by the account layout, so that a stop in one place shows in
//! all of them without a reload), the Stop server confirmation, and the hours bar.

use crate::components::action_result::{on_action, on_action_toast};
use crate::components::icons::StopIcon;
use crate::components::modal::Modal;
use crate::components::toast::{ToastRegion, Toasts};
use crate::error::AppError;
use crate::infra::wire::{load, Loaded};
use crate::lab::api::{lab_summary, DismissLabNotice, LaunchLab, StopLab};
use crate::lab::{format_hours, ComputeUse, LabOverview, ServerStatus, StopNotice, StopReason};
use crate::time_fmt;
use leptos::prelude::*;

/// The Lab's state for everything under the account layout.
#[derive(Clone, Copy)]
pub struct LabStatus {
    version: RwSignal<u64>,
    pub overview: Loaded<Result<LabOverview, AppError>>,
    /// Whether the Stop server confirmation is showing.
    pub stop_open: RwSignal<bool>,
    pub toasts: Toasts,
}

impl LabStatus {
    /// Made once, by the account layout. While the server starts or stops, it reads
    /// the state again every 1.5 s until it settles; while it runs, every 20 s.
    pub fn provide() -> Self {
        let version = RwSignal::new(0_u64);
        let status = Self {
            version,
            overview: load(move || version.get(), |_| lab_summary()),
            stop_open: RwSignal::new(false),
            toasts: Toasts::new(),
        };
        // Starting or stopping: read again soon. Running: read again now and then, so a
        // server the meter or the hub stopped shows as stopped without a reload.
        Effect::new(move |_| {
            let server = status
                .overview
                .get()
                .and_then(|overview| overview.ok().and_then(|o| o.server().cloned()));
            let again_ms = match server {
                Some(ServerStatus::Starting | ServerStatus::Stopping) => Some(1_500),
                Some(ServerStatus::Running { .. }) => Some(20_000),
                _ => None,
            };
            // A read since this one was scheduled (an action's) has taken its place.
            #[cfg(feature = "hydrate")]
            if let Some(ms) = again_ms {
                let scheduled_at = version.get_untracked();
                gloo_timers::callback::Timeout::new(ms, move || {
                    if version.get_untracked() == scheduled_at {
                        status.refresh();
                    }
                })
                .forget();
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = again_ms;
        });
        provide_context(status);
        status
    }

    /// Reads the version, so a resource that calls it loads again after a change.
    pub fn track(&self) -> u64 {
        self.version.get()
    }

    pub fn refresh(&self) {
        self.version.try_update(|v| *v += 1);
    }
}

pub fn use_lab() -> LabStatus {
    use_context::<LabStatus>().expect("the account layout provides LabStatus")
}

/// The confirmation every Stop server control opens, and the toasts Lab actions show.
#[component]
pub fn StopServerDialog() -> impl IntoView {
    let lab = use_lab();
    let action = ServerAction::<StopLab>::new();
    let error = RwSignal::new(None::<AppError>);
    on_action(
        action,
        move |status| {
            lab.stop_open.set(false);
            lab.toasts.success(if status.is_active() {
                "Your Lab server is stopping."
            } else {
                "Your Lab server is stopped."
            });
            lab.refresh();
        },
        move |e| error.set(Some(e)),
    );
    Effect::new(move |_| {
        if lab.stop_open.get() {
            error.set(None);
        }
    });
    view! {
        <Modal open=lab.stop_open on_close=Callback::new(move |_| lab.stop_open.set(false))
            labelled_by="stop-lab-title" described_by="stop-lab-text">
            <div class="dialog-body">
                <h2 id="stop-lab-title">"Stop your Lab server?"</h2>
                <p class="muted" id="stop-lab-text">
                    "Running notebooks, kernels and terminals end. Your files are kept, and you can launch Lab again at any time."
                </p>
                {move || error.get().map(|e| view! { <p class="field-error" role="alert">{e.to_string()}</p> })}
            </div>
            <div class="dialog-footer">
                <button type="button" class="button" on:click=move |_| lab.stop_open.set(false)>"Cancel"</button>
                <button type="button" class="button button-danger" disabled=move || action.pending().get()
                    on:click=move |_| { action.dispatch(StopLab {}); }>
                    {move || if action.pending().get() { "Stopping…" } else { "Stop server" }}
                </button>
            </div>
        </Modal>
        <ToastRegion toasts=lab.toasts />
    }
}

/// A Stop server button that opens the confirmation.
#[component]
pub fn StopButton(#[prop(optional)] block: bool) -> impl IntoView {
    let lab = use_lab();
    view! {
        <button type="button" class="button" class:button-block=block
            on:click=move |_| lab.stop_open.set(true)>
            <StopIcon />
            <span>"Stop server"</span>
        </button>
    }
}

/// Launch Lab: starts the server and takes the browser to JupyterLab.
#[component]
pub fn LaunchButton(#[prop(optional)] primary: bool) -> impl IntoView {
    let lab = use_lab();
    let action = ServerAction::<LaunchLab>::new();
    on_action(
        action,
        move |url| crate::components::load_page(&url),
        move |e| {
            lab.toasts.error(e.to_string());
            lab.refresh();
        },
    );
    view! {
        <button type="button" class="button" class:button-primary=primary
            disabled=move || action.pending().get()
            on:click=move |_| { action.dispatch(LaunchLab {}); }>
            {move || if action.pending().get() { "Launching…" } else { "Launch Lab" }}
        </button>
    }
}

/// "Started 2026-12-02 14:05:09 UTC · last activity 3 minutes ago", "Your server is
/// starting…": the line beside the state's badge.
pub fn status_line(status: &ServerStatus) -> (String, &'static str, &'static str) {
    let now = time_fmt::now_ms();
    match status {
        ServerStatus::Stopped => (
            "Your server is not running.".into(),
            "Stopped",
            "badge-inactive",
        ),
        ServerStatus::Starting => (
            "Your server is starting…".into(),
            "Starting",
            "badge-warning",
        ),
        ServerStatus::Stopping => (
            "Your server is stopping…".into(),
            "Stopping",
            "badge-warning",
        ),
        ServerStatus::Running {
            started_at,
            last_activity_at,
        } => {
            let since = started_at
                .map(|t| format!("Started {}", time_fmt::exact(t)))
                .unwrap_or_else(|| "Started".into());
            let active = last_activity_at
                .map(|t| format!(" · last activity {}", time_fmt::relative(t, now)))
                .unwrap_or_default();
            (format!("{since}{active}"), "Running", "badge-active")
        }
    }
}

/// Compute hours this month against the plan's limit, as a bar with numbers.
#[component]
pub fn ComputeBar(compute: ComputeUse) -> impl IntoView {
    let limit = compute.limit_hours.max(0);
    let used = format_hours(compute.used_cpu_ms);
    let label = format!("{used} of {limit} compute hours used");
    let warning = if compute.limit_reached() {
        Some(if compute.continue_with_credits {
            format!(
                "This month's hours are used up; each further CPU hour costs {} credits from your wallet.",
                compute.credits_per_cpu_hour
            )
        } else {
            format!(
                "This month's hours are used up. Lab can launch again on {}, or turn on Continue with credits.",
                time_fmt::date(compute.resets_at)
            )
        })
    } else if compute.nearly_reached() {
        Some(format!(
            "You have used {}% of this month's compute hours.",
            (compute.share() * 100.0).floor() as i64
        ))
    } else {
        None
    };
    let value = (compute.used_cpu_ms as f64 / crate::lab::CPU_HOUR_MS as f64).min(limit as f64);
    view! {
        <div class="compute">
            <p class="compute-numbers">
                <strong>{used}</strong>
                {format!(" of {limit} compute hours · {} plan · ", compute.plan_name)}
                <a href="/account/subscription">"Change plan"</a>
            </p>
            <progress class="compute-bar" class:compute-bar-full=compute.limit_reached()
                max=limit.max(1) value=value aria-label=label></progress>
            <p class="muted small">
                {format!("{} vCPUs per server: one hour running uses {} compute hours. Resets {}.",
                    compute.cpus, compute.cpus, time_fmt::date(compute.resets_at))}
            </p>
            {warning.map(|w| view! { <p class="banner banner-warning" role="status">{w}</p> })}
        </div>
    }
}

/// Tells the person why Keyward stopped their server, until they dismiss it.
#[component]
pub fn StopNoticeBanner(notice: StopNotice, idle_minutes: i64) -> impl IntoView {
    let lab = use_lab();
    let dismiss = ServerAction::<DismissLabNotice>::new();
    on_action_toast(dismiss, lab.toasts, move |()| lab.refresh());
    let when = time_fmt::exact(notice.stopped_at);
    let text = match notice.reason {
        StopReason::Idle => {
            format!(
                "Your Lab server was stopped after {} without activity.",
                time_fmt::duration_words((idle_minutes.max(0) as u64) * 60)
            )
        }
        StopReason::Limit => {
            "Your Lab server was stopped: this month's compute hours are used up.".to_string()
        }
        StopReason::Credits => {
            "Your Lab server was stopped: your wallet could not pay for the next CPU hour."
                .to_string()
        }
        StopReason::Operator => "An operator stopped your Lab server.".to_string(),
        StopReason::User | StopReason::Hub => "Your Lab server was stopped.".to_string(),
    };
    let session_id = notice.session_id.clone();
    view! {
        <div class="banner banner-warning notice-banner" role="status">
            <span><strong>{text}</strong>{format!(" ({when}). Your files are kept.")}</span>
            <button type="button" class="button button-small" disabled=move || dismiss.pending().get()
                on:click=move |_| { dismiss.dispatch(DismissLabNotice { session_id: session_id.clone() }); }>
                "Dismiss"
            </button>
        </div>
    }
}

/// The sidebar's Lab box, shown while the server runs: its state and Stop server.
#[component]
pub fn SidebarLab() -> impl IntoView {
    let lab = use_lab();
    view! {
        // A Transition, not a Suspense: while the state is read again the box stays as it
        // was, so it disappears only once the server has stopped.
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let overview = lab.overview.await.ok()?;
                let status = overview.server().filter(|s| s.is_active())?.clone();
                let (_, badge, badge_class) = status_line(&status);
                Some(view! {
                    <section class="sidebar-lab" aria-label="Lab server">
                        <p><span class=format!("badge {badge_class}")>{badge}</span>" Lab server"</p>
                        <StopButton block=true />
                    </section>
                })
            })}
        </Transition>
    }
}
