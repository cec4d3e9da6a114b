//! Labelled form fields with their validation message beside them.

use super::icons::{EyeIcon, EyeOffIcon};
use super::kept::keep_typed;
use leptos::prelude::*;

/// `aria-describedby` for a field: its hint (if any) and its message (while shown).
fn described_by(
    id: &str,
    hint: &'static str,
    error: Signal<Option<String>>,
) -> impl Fn() -> String + Send + Sync + 'static {
    let (hint_id, message_id) = (format!("{id}-hint"), format!("{id}-message"));
    move || {
        let mut ids = Vec::new();
        if !hint.is_empty() {
            ids.push(hint_id.clone());
        }
        if error.get().is_some() {
            ids.push(message_id.clone());
        }
        ids.join(" ")
    }
}

/// The email field of the signed-out forms.
#[component]
pub fn EmailField(
    value: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <TextField
            label="Email"
            name="email"
            kind="email"
            autocomplete="email"
            placeholder="you@example.com"
            max_chars=crate::auth::MAX_EMAIL_CHARS
            value
            error
            autofocus=true
        />
    }
}

/// A labelled text input. `error` holds the message shown under it, if any.
#[component]
pub fn TextField(
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] hint: &'static str,
    #[prop(default = 256)] max_chars: usize,
    #[prop(optional)] autofocus: bool,
) -> impl IntoView {
    let id = format!("field-{name}");
    let message_id = format!("{id}-message");
    let hint_id = format!("{id}-hint");
    let described_by = described_by(&id, hint, error);
    view! {
        <div class="field" class:field-invalid=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                placeholder=placeholder
                maxlength=max_chars
                autofocus=autofocus
                use:keep_typed=value
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=described_by
            />
            <Show when=move || !hint.is_empty()>
                <p class="field-hint" id=hint_id.clone()>{hint}</p>
            </Show>
            {move || error.get().map(|message| view! { <p class="field-error" id=message_id.clone()>{message}</p> })}
        </div>
    }
}

/// A password input with a show/hide toggle (the toggle works only once the WebAssembly is running).
#[component]
pub fn PasswordField(
    value: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
    autocomplete: &'static str,
    #[prop(optional)] hint: &'static str,
    #[prop(default = "Password")] label: &'static str,
    #[prop(default = "password")] name: &'static str,
) -> impl IntoView {
    let visible = RwSignal::new(false);
    let id = format!("field-{name}");
    let message_id = format!("{id}-message");
    let hint_id = format!("{id}-hint");
    let described_by = described_by(&id, hint, error);
    let toggle_label = move || {
        let verb = if visible.get() { "Hide" } else { "Show" };
        format!("{verb} {}", label.to_ascii_lowercase())
    };
    view! {
        <div class="field" class:field-invalid=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            <div class="input-with-button">
                <input
                    id=id
                    name=name
                    type=move || if visible.get() { "text" } else { "password" }
                    autocomplete=autocomplete
                    maxlength=crate::auth::MAX_PASSWORD_CHARS
                    use:keep_typed=value
                    prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))
                    aria-invalid=move || error.get().is_some().to_string()
                    aria-describedby=described_by
                />
                <button
                    type="button"
                    class="input-button"
                    aria-label=toggle_label
                    aria-pressed=move || visible.get().to_string()
                    on:click=move |_| visible.update(|v| *v = !*v)
                >
                    {move || if visible.get() { EyeOffIcon().into_any() } else { EyeIcon().into_any() }}
                </button>
            </div>
            <Show when=move || !hint.is_empty()>
                <p class="field-hint" id=hint_id.clone()>{hint}</p>
            </Show>
            {move || error.get().map(|message| view! { <p class="field-error" id=message_id.clone()>{message}</p> })}
        </div>
    }
}
