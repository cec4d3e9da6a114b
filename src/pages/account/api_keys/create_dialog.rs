//! The create dialog: name, scopes and expiry; on success the value is revealed once.

use super::ui::{use_keys_ui, KeyDialog, Revealed};
use crate::components::action_result::{form_level_message, on_action, on_action_result};
use crate::components::field::TextField;
use crate::components::modal::Modal;
use crate::error::AppError;
use crate::keys::{
    api::{CreateKey, SetKeySpendLimit},
    parse_spend_limit, Expiry, MAX_NAME_CHARS,
};
use crate::time_fmt;
use leptos::prelude::*;
use leptos::web_sys::SubmitEvent;

#[component]
pub fn CreateKeyDialog() -> impl IntoView {
    let ui = use_keys_ui();
    let open = Signal::derive(move || ui.dialog.with(|d| matches!(d, Some(KeyDialog::Create))));
    // The action lives outside the form: if the dialog is closed while the request is in
    // flight, the answer still arrives and its value is still shown once.
    let action = ServerAction::<CreateKey>::new();
    let set_limit = ServerAction::<SetKeySpendLimit>::new();
    let error = RwSignal::new(None::<AppError>);
    // Checked before the key is created; set on it right after.
    let limit = RwSignal::new(String::new());
    on_action(
        set_limit,
        |_| {},
        move |e| {
            ui.toasts.error(format!(
                "The key was created, but its spending limit was not set: {e}"
            ))
        },
    );
    on_action_result(action, error, move |revealed| {
        if !limit.get_untracked().trim().is_empty() {
            set_limit.dispatch(SetKeySpendLimit {
                org: ui.org.get_untracked(),
                id: revealed.key.id.clone(),
                limit: limit.get_untracked(),
            });
        }
        ui.close_dialog();
        ui.revealed.set(Some(Revealed {
            key: revealed,
            regenerated: false,
            old_value_until: None,
        }));
        ui.reload();
    });
    // Each opening starts without the last attempt's messages.
    Effect::new(move |_| {
        if open.get() {
            error.set(None);
        }
    });
    view! {
        <Modal open on_close=Callback::new(move |_| ui.close_dialog()) labelled_by="create-key-title">
            <CreateKeyForm action error limit />
        </Modal>
    }
}

#[component]
fn CreateKeyForm(
    action: ServerAction<CreateKey>,
    error: RwSignal<Option<AppError>>,
    limit: RwSignal<String>,
) -> impl IntoView {
    let ui = use_keys_ui();
    let name = RwSignal::new(String::new());
    let scopes = RwSignal::new(vec!["account:read".to_string()]);
    let expiry_choice = RwSignal::new("90".to_string());
    let custom_date = RwSignal::new(String::new());

    let field_error = move |field: &'static str| {
        Signal::derive(move || error.get().and_then(|e| e.field_message(field)))
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if action.pending().get_untracked() {
            return;
        }
        let expiry = match expiry_choice.get_untracked().as_str() {
            "never" => Expiry::Never,
            "custom" => Expiry::Date(custom_date.get_untracked()),
            days => Expiry::Days(days.parse().unwrap_or(90)),
        };
        if let Err(refused) = parse_spend_limit(&limit.get_untracked()) {
            error.set(Some(refused));
            return;
        }
        error.set(None);
        action.dispatch(CreateKey {
            org: ui.org.get_untracked(),
            name: name.get_untracked(),
            scopes: scopes.get_untracked(),
            expiry,
        });
    };
    let expiry_hint = move || {
        let now = time_fmt::now_ms();
        match expiry_choice.get().as_str() {
            "never" => {
                "The key works until you delete it. Prefer an expiry for anything automated."
                    .to_string()
            }
            "custom" => "The key works through the end of that day (UTC).".to_string(),
            days => {
                let days: i64 = days.parse().unwrap_or(90);
                format!(
                    "The key will expire on {}.",
                    time_fmt::date(now + days * time_fmt::DAY_MS)
                )
            }
        }
    };
    let catalog = move || ui.catalog.get();

    view! {
        <form on:submit=on_submit novalidate>
            <div class="dialog-body">
                <h2 id="create-key-title">"Create API key"</h2>
                <p class="muted">"The key's value is shown once, right after you create it."</p>
                {move || form_level_message(error.get()).map(|m| view! { <div class="banner banner-danger" role="alert">{m}</div> })}
                <TextField
                    label="Name"
                    name="name"
                    value=name
                    error=field_error("name")
                    placeholder="e.g. ci-runner"
                    hint="What uses this key, so you can tell keys apart later."
                    max_chars=MAX_NAME_CHARS * 4
                    autofocus=true
                />
                <fieldset aria-describedby="scopes-message">
                    <legend>"Scopes"</legend>
                    <For each=catalog key=|s| s.name.clone() let:scope>
                        {
                            let scope_name = scope.name.clone();
                            let checked_name = scope.name.clone();
                            view! {
                                <label class="choice">
                                    <input
                                        type="checkbox"
                                        name="scopes"
                                        value=scope.name.clone()
                                        prop:checked=move || scopes.with(|s| s.contains(&checked_name))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            scopes.update(|s| {
                                                s.retain(|n| n != &scope_name);
                                                if on {
                                                    s.push(scope_name.clone());
                                                }
                                            });
                                        }
                                    />
                                    <span>
                                        <code>{scope.name.clone()}</code>
                                        <span class="muted">{scope.description.clone()}</span>
                                    </span>
                                </label>
                            }
                        }
                    </For>
                    {move || field_error("scopes").get().map(|m| view! { <p class="field-error" id="scopes-message">{m}</p> })}
                </fieldset>
                <div class="field" class:field-invalid=move || field_error("expiry").get().is_some()>
                    <label for="field-expiry">"Expiration"</label>
                    <select
                        id="field-expiry"
                        on:change=move |ev| expiry_choice.set(event_target_value(&ev))
                        aria-invalid=move || field_error("expiry").get().is_some().to_string()
                        aria-describedby="field-expiry-hint field-expiry-message"
                    >
                        <option value="30">"30 days"</option>
                        <option value="60">"60 days"</option>
                        <option value="90" selected>"90 days"</option>
                        <option value="365">"1 year"</option>
                        <option value="custom">"Custom date…"</option>
                        <option value="never">"No expiration"</option>
                    </select>
                    <p class="field-hint" id="field-expiry-hint">{expiry_hint}</p>
                </div>
                <Show when=move || expiry_choice.get() == "custom">
                    <div class="field" class:field-invalid=move || field_error("expiry").get().is_some()>
                        <label for="field-expiry-date">"Expiry date"</label>
                        <input
                            id="field-expiry-date"
                            type="date"
                            min=time_fmt::iso_date(time_fmt::now_ms() + time_fmt::DAY_MS)
                            prop:value=move || custom_date.get()
                            on:input=move |ev| custom_date.set(event_target_value(&ev))
                            aria-invalid=move || field_error("expiry").get().is_some().to_string()
                            aria-describedby="field-expiry-message"
                        />
                    </div>
                </Show>
                {move || field_error("expiry").get().map(|m| view! { <p class="field-error" id="field-expiry-message">{m}</p> })}
            </div>
            <TextField label="Monthly spending limit (credits)" name="monthly_spend_limit" value=limit
                error=field_error("monthly_spend_limit") max_chars=16 autocomplete="off" placeholder="No limit"
                hint="Optional. Charges made with this key stop at this many credits per calendar month." />
            <div class="dialog-footer">
                <button type="button" class="button" on:click=move |_| ui.close_dialog()>"Cancel"</button>
                <button type="submit" class="button button-primary" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Creating…" } else { "Create key" }}
                </button>
            </div>
        </form>
    }
}
