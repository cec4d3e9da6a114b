//! Confirms a cancellation: the job service is asked to stop the job, and its hold
//! comes back when the service confirms.

use super::JobsUi;
use crate::components::action_result::on_action_result;
use crate::components::modal::Modal;
use crate::error::AppError;
use crate::jobs::api::CancelJob;
use crate::wallet::format_credits;
use leptos::prelude::*;
use leptos::web_sys::SubmitEvent;

#[component]
pub fn CancelJobDialog() -> impl IntoView {
    let ui = expect_context::<JobsUi>();
    let open = Signal::derive(move || ui.cancelling.with(Option::is_some));
    let action = ServerAction::<CancelJob>::new();
    let error = RwSignal::new(None::<AppError>);
    on_action_result(action, error, move |job| {
        ui.cancelling.set(None);
        ui.toasts
            .success(format!("Cancel requested for \"{}\"", job.name));
        ui.reload();
    });
    Effect::new(move |_| {
        if open.get() {
            error.set(None);
        }
    });
    view! {
        <Modal open on_close=Callback::new(move |_| ui.cancelling.set(None)) labelled_by="cancel-job-title" described_by="cancel-job-what">
            {move || ui.cancelling.get().map(|job| {
                let id = job.id.clone();
                view! {
                    <form on:submit=move |ev: SubmitEvent| {
                        ev.prevent_default();
                        if !action.pending().get_untracked() {
                            action.dispatch(CancelJob { org: ui.org.get_untracked(), id: id.clone() });
                        }
                    }>
                        <div class="dialog-body">
                            <h2 id="cancel-job-title">{format!("Cancel \"{}\"?", job.name)}</h2>
                            <p class="muted" id="cancel-job-what">
                                {format!(
                                    "The job service is asked to stop it on {}. The {} credits held for it come back when the service confirms; work it has done may still be charged.",
                                    job.device,
                                    format_credits(job.held)
                                )}
                            </p>
                            {move || error.get().map(|e| view! { <p class="field-error" role="alert">{e.field_message("job").unwrap_or_else(|| e.to_string())}</p> })}
                        </div>
                        <div class="dialog-footer">
                            <button type="button" class="button" on:click=move |_| ui.cancelling.set(None)>"Keep running"</button>
                            <button type="submit" class="button button-danger" disabled=move || action.pending().get()>
                                {move || if action.pending().get() { "Cancelling…" } else { "Cancel job" }}
                            </button>
                        </div>
                    </form>
                }
            })}
        </Modal>
    }
}
