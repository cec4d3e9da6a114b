//! Dialogs that confirm a change to an existing key: regenerate and delete.

use super::ui::{use_keys_ui, KeyDialog, Revealed};
use crate::components::action_result::on_action_result;
use crate::components::icons::AlertIcon;
use crate::components::modal::Modal;
use crate::error::AppError;
use crate::keys::{
    api::{DeleteKey, RegenerateKey},
    RevealedKey, GRACE_CHOICES,
};
use leptos::prelude::*;
use leptos::web_sys::SubmitEvent;

#[component]
pub fn RegenerateKeyDialog() -> impl IntoView {
    let ui = use_keys_ui();
    let open = Signal::derive(move || {
        ui.dialog
            .with(|d| matches!(d, Some(KeyDialog::Regenerate(_))))
    });
    let action = ServerAction::<RegenerateKey>::new();
    let grace = RwSignal::new(0_i64);
    let error = RwSignal::new(None::<AppError>);
    on_action_result(action, error, move |revealed: RevealedKey| {
        let grace_secs = grace.get_untracked();
        let old_value_until = (grace_secs > 0)
            .then(|| revealed.key.regenerated_at.unwrap_or_default() + grace_secs * 1000);
        ui.close_dialog();
        ui.revealed.set(Some(Revealed {
            key: revealed,
            regenerated: true,
            old_value_until,
        }));
        ui.reload();
    });
    // Each opening starts at "Immediately" with no message.
    Effect::new(move |_| {
        if open.get() {
            grace.set(0);
            error.set(None);
        }
    });

    view! {
        <Modal open on_close=Callback::new(move |_| ui.close_dialog()) labelled_by="regenerate-key-title" described_by="regenerate-key-warning">
            {move || match ui.dialog.get() {
                Some(KeyDialog::Regenerate(key)) => {
                    let id = key.id.clone();
                    Some(view! {
                        <form on:submit=move |ev: SubmitEvent| {
                            ev.prevent_default();
                            if !action.pending().get_untracked() {
                                action.dispatch(RegenerateKey { org: ui.org.get_untracked(), id: id.clone(), grace_secs: grace.get_untracked() });
                            }
                        }>
                            <div class="dialog-body">
                                <h2 id="regenerate-key-title">{format!("Regenerate \"{}\"?", key.name)}</h2>
                                <p class="muted">"A new value replaces the current one; the name, scopes and expiry policy stay."</p>
                                <div class="banner banner-danger" id="regenerate-key-warning">
                                    <AlertIcon />
                                    <span>"The current value stops working. Update every service that uses it, or production will break."</span>
                                </div>
                                {move || error.get().map(|e| view! { <p class="field-error" role="alert">{e.to_string()}</p> })}
                                <fieldset>
                                    <legend>"Current value stops working"</legend>
                                    <div class="radio-row">
                                        {GRACE_CHOICES.iter().map(|&(secs, label)| view! {
                                            <label class="choice">
                                                <input
                                                    type="radio"
                                                    name="grace"
                                                    value=secs
                                                    prop:checked=move || grace.get() == secs
                                                    on:change=move |_| grace.set(secs)
                                                />
                                                <span>{label}</span>
                                            </label>
                                        }).collect_view()}
                                    </div>
                                </fieldset>
                            </div>
                            <div class="dialog-footer">
                                <button type="button" class="button" on:click=move |_| ui.close_dialog()>"Cancel"</button>
                                <button type="submit" class="button button-danger" disabled=move || action.pending().get()>
                                    {move || if action.pending().get() { "Regenerating…" } else { "Regenerate Key" }}
                                </button>
                            </div>
                        </form>
                    })
                }
                _ => None,
            }}
        </Modal>
    }
}

#[component]
pub fn DeleteKeyDialog() -> impl IntoView {
    let ui = use_keys_ui();
    let open = Signal::derive(move || ui.dialog.with(|d| matches!(d, Some(KeyDialog::Delete(_)))));
    let action = ServerAction::<DeleteKey>::new();
    let deleting = RwSignal::new(String::new());
    let error = RwSignal::new(None::<AppError>);
    on_action_result(action, error, move |()| {
        ui.close_dialog();
        ui.expanded.set(None);
        ui.toasts
            .success(format!("\"{}\" deleted", deleting.get_untracked()));
        ui.reload();
    });
    Effect::new(move |_| {
        if open.get() {
            error.set(None);
        }
    });

    view! {
        <Modal open on_close=Callback::new(move |_| ui.close_dialog()) labelled_by="delete-key-title" described_by="delete-key-warning">
            {move || match ui.dialog.get() {
                Some(KeyDialog::Delete(key)) => {
                    let id = key.id.clone();
                    let name = key.name.clone();
                    Some(view! {
                        <div class="dialog-body">
                            <h2 id="delete-key-title">{format!("Delete \"{}\"?", key.name)}</h2>
                            <p class="muted">{format!("Key {} · {}", key.preview, key.id)}</p>
                            <div class="banner banner-danger" id="delete-key-warning">
                                <AlertIcon />
                                <span>"Revoked keys cannot be recovered. Anything still using this key fails immediately."</span>
                            </div>
                            {move || error.get().map(|e| view! { <p class="field-error" role="alert">{e.to_string()}</p> })}
                        </div>
                        <div class="dialog-footer">
                            <button type="button" class="button" on:click=move |_| ui.close_dialog()>"Cancel"</button>
                            <button
                                type="button"
                                class="button button-danger"
                                disabled=move || action.pending().get()
                                on:click=move |_| {
                                    deleting.set(name.clone());
                                    action.dispatch(DeleteKey { org: ui.org.get_untracked(), id: id.clone() });
                                }
                            >
                                {move || if action.pending().get() { "Deleting…" } else { "Delete" }}
                            </button>
                        </div>
                    })
                }
                _ => None,
            }}
        </Modal>
    }
}
