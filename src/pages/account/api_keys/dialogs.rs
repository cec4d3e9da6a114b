//! Create, reveal-once, regenerate and delete dialogs.

use super::{use_keys_ui, KeyDialog, Revealed};
use crate::components::copy_button::CopyButton;
use crate::components::field::TextField;
use crate::components::icons::AlertIcon;
use crate::components::modal::Modal;
use crate::error::AppError;
use crate::keys::{
    api::{CreateKey, DeleteKey, RegenerateKey},
    Expiry, GRACE_CHOICES, MAX_NAME_CHARS,
};
use crate::time_fmt;
use leptos::prelude::*;
use leptos::web_sys::SubmitEvent;

fn close_dialog() -> Callback<()> {
    let ui = use_keys_ui();
    Callback::new(move |_| ui.dialog.set(None))
}

/// Form-level message for errors that belong to no single field.
fn general_error(error: Option<AppError>) -> Option<String> {
    match error {
        Some(AppError::Validation(_)) | None => None,
        Some(other) => Some(other.to_string()),
    }
}

#[component]
pub fn CreateKeyDialog() -> impl IntoView {
    let ui = use_keys_ui();
    let open = Signal::derive(move || ui.dialog.with(|d| matches!(d, Some(KeyDialog::Create))));
    // The action lives outside the form: if the dialog is closed while the request is in
    // flight, the answer still arrives and its value is still shown once.
    let action = ServerAction::<CreateKey>::new();
    let error = RwSignal::new(None::<AppError>);
    Effect::new(move |_| match action.value().get() {
        Some(Ok(revealed)) => {
            action.value().set(None);
            ui.dialog.set(None);
            ui.revealed.set(Some(Revealed {
                key: revealed,
                regenerated: false,
                old_value_until: None,
            }));
            ui.reload();
        }
        Some(Err(e)) => error.set(Some(e)),
        None => {}
    });
    view! {
        <Modal open on_close=close_dialog() labelled_by="create-key-title">
            <CreateKeyForm action error />
        </Modal>
    }
}

#[component]
fn CreateKeyForm(
    action: ServerAction<CreateKey>,
    error: RwSignal<Option<AppError>>,
) -> impl IntoView {
    let ui = use_keys_ui();
    error.set(None);
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
        error.set(None);
        action.dispatch(CreateKey {
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
                {move || general_error(error.get()).map(|m| view! { <div class="banner banner-danger" role="alert">{m}</div> })}
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
            <div class="dialog-footer">
                <button type="button" class="button" on:click=move |_| ui.dialog.set(None)>"Cancel"</button>
                <button type="submit" class="button button-primary" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Creating…" } else { "Create key" }}
                </button>
            </div>
        </form>
    }
}

#[component]
pub fn RevealKeyDialog() -> impl IntoView {
    let ui = use_keys_ui();
    let open = Signal::derive(move || ui.revealed.with(Option::is_some));
    // Whether the value was copied (button or keyboard), and whether an Escape
    // already warned that it was not: the first Escape before copying keeps the
    // dialog open, because closing it loses the only copy of the key.
    let copied = RwSignal::new(false);
    let warned = RwSignal::new(false);
    // Closing drops the value from the page's state, and with it from the DOM.
    let close = move || {
        copied.set(false);
        warned.set(false);
        ui.revealed.set(None);
    };
    let on_close = Callback::new(move |_| close());
    // A new value (a create or regenerate answering while one is showing) starts uncopied.
    Effect::new(move |_| {
        ui.revealed.track();
        copied.set(false);
        warned.set(false);
    });
    let on_escape = Callback::new(move |_| {
        if copied.get_untracked() || warned.get_untracked() {
            true
        } else {
            warned.set(true);
            false
        }
    });
    let on_copy = Callback::new(move |_| copied.set(true));
    view! {
        <Modal open on_close on_escape labelled_by="reveal-key-title" described_by="reveal-key-warning">
            {move || ui.revealed.get().map(|revealed| {
                let secret = revealed.key.secret.clone();
                let name = revealed.key.key.name.clone();
                let title = if revealed.regenerated { "Your regenerated key" } else { "Your new API key" };
                let old_value = revealed.regenerated.then(|| match revealed.old_value_until {
                    Some(until) => format!("The previous value keeps working until {}.", time_fmt::exact(until)),
                    None => "The previous value has stopped working.".to_string(),
                });
                view! {
                    <div class="dialog-body">
                        <h2 id="reveal-key-title">{title}</h2>
                        <p class="muted">{format!("Key \"{name}\"")}</p>
                        <div class="banner banner-danger" id="reveal-key-warning">
                            <AlertIcon />
                            <span>
                                "This is the only time this key is shown. Copy it now and store it somewhere safe, such as a secrets manager. If you lose it, regenerate the key."
                            </span>
                        </div>
                        <div class="secret-box">
                            <input
                                type="text"
                                readonly
                                aria-label="API key value"
                                value=secret.clone()
                                spellcheck="false"
                                autocomplete="off"
                                on:copy=move |_| copied.set(true)
                                on:focus=move |ev| {
                                    use leptos::wasm_bindgen::JsCast;
                                    if let Some(input) = ev.target().and_then(|t| t.dyn_into::<leptos::web_sys::HtmlInputElement>().ok()) {
                                        input.select();
                                    }
                                }
                            />
                            <CopyButton value=secret label="Copy key value" text="Copy" class="button" on_copy />
                        </div>
                        <Show when=move || warned.get() && !copied.get()>
                            <p class="field-error" role="alert">
                                "You have not copied this key yet. Copy it first, or press Escape again to close without it."
                            </p>
                        </Show>
                        {old_value.map(|m| view! { <p class="muted">{m}</p> })}
                    </div>
                    <div class="dialog-footer">
                        <button type="button" class="button button-primary" on:click=move |_| close()>"Done"</button>
                    </div>
                }
            })}
        </Modal>
    }
}

#[component]
pub fn RegenerateKeyDialog() -> impl IntoView {
    let ui = use_keys_ui();
    let open = Signal::derive(move || {
        ui.dialog
            .with(|d| matches!(d, Some(KeyDialog::Regenerate(_))))
    });
    let action = ServerAction::<RegenerateKey>::new();
    let grace = RwSignal::new(0_i64);
    let error = RwSignal::new(None::<String>);

    Effect::new(move |_| match action.value().get() {
        Some(Ok(revealed)) => {
            action.value().set(None);
            let grace_secs = grace.get_untracked();
            let old_value_until = (grace_secs > 0)
                .then(|| revealed.key.regenerated_at.unwrap_or_default() + grace_secs * 1000);
            ui.dialog.set(None);
            ui.revealed.set(Some(Revealed {
                key: revealed,
                regenerated: true,
                old_value_until,
            }));
            ui.reload();
        }
        Some(Err(e)) => error.set(Some(e.to_string())),
        None => {}
    });

    view! {
        <Modal open on_close=close_dialog() labelled_by="regenerate-key-title" described_by="regenerate-key-warning">
            {move || match ui.dialog.get() {
                Some(KeyDialog::Regenerate(key)) => {
                    let id = key.id.clone();
                    grace.set(0);
                    error.set(None);
                    Some(view! {
                        <form on:submit=move |ev: SubmitEvent| {
                            ev.prevent_default();
                            if !action.pending().get_untracked() {
                                action.dispatch(RegenerateKey { id: id.clone(), grace_secs: grace.get_untracked() });
                            }
                        }>
                            <div class="dialog-body">
                                <h2 id="regenerate-key-title">{format!("Regenerate \"{}\"?", key.name)}</h2>
                                <p class="muted">"A new value replaces the current one; the name, scopes and expiry policy stay."</p>
                                <div class="banner banner-danger" id="regenerate-key-warning">
                                    <AlertIcon />
                                    <span>"The current value stops working. Update every service that uses it, or production will break."</span>
                                </div>
                                {move || error.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
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
                                <button type="button" class="button" on:click=move |_| ui.dialog.set(None)>"Cancel"</button>
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
    let error = RwSignal::new(None::<String>);

    Effect::new(move |_| match action.value().get() {
        Some(Ok(())) => {
            action.value().set(None);
            ui.dialog.set(None);
            ui.expanded.set(None);
            ui.toasts
                .success(format!("\"{}\" deleted", deleting.get_untracked()));
            ui.reload();
        }
        Some(Err(e)) => error.set(Some(e.to_string())),
        None => {}
    });

    view! {
        <Modal open on_close=close_dialog() labelled_by="delete-key-title" described_by="delete-key-warning">
            {move || match ui.dialog.get() {
                Some(KeyDialog::Delete(key)) => {
                    let id = key.id.clone();
                    let name = key.name.clone();
                    error.set(None);
                    Some(view! {
                        <div class="dialog-body">
                            <h2 id="delete-key-title">{format!("Delete \"{}\"?", key.name)}</h2>
                            <p class="muted">{format!("Key {} · {}", key.preview, key.id)}</p>
                            <div class="banner banner-danger" id="delete-key-warning">
                                <AlertIcon />
                                <span>"Revoked keys cannot be recovered. Anything still using this key fails immediately."</span>
                            </div>
                            {move || error.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                        </div>
                        <div class="dialog-footer">
                            <button type="button" class="button" on:click=move |_| ui.dialog.set(None)>"Cancel"</button>
                            <button
                                type="button"
                                class="button button-danger"
                                disabled=move || action.pending().get()
                                on:click=move |_| {
                                    deleting.set(name.clone());
                                    action.dispatch(DeleteKey { id: id.clone() });
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
