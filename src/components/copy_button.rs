//! Copies a value to the clipboard and says "Copied" for two seconds.

use super::icons::{CheckIcon, CopyIcon};
use leptos::prelude::*;

/// Writes `text` to the system clipboard (browser only).
pub fn write_clipboard(text: String) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        let promise = window().navigator().clipboard().write_text(&text);
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}

#[component]
pub fn CopyButton(
    /// What goes on the clipboard.
    #[prop(into)]
    value: Signal<String>,
    /// Accessible name, e.g. `Copy ID of key "ci-runner"`.
    #[prop(into)]
    label: String,
    /// Visible text beside the icon; empty for an icon-only button.
    #[prop(optional)]
    text: &'static str,
    #[prop(default = "icon-button")] class: &'static str,
    /// Runs when the person copies (the clipboard write itself is asynchronous).
    #[prop(optional)]
    on_copy: Option<Callback<()>>,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    let on_click = move |ev: leptos::ev::MouseEvent| {
        ev.stop_propagation();
        write_clipboard(value.get_untracked());
        copied.set(true);
        if let Some(on_copy) = on_copy {
            on_copy.run(());
        }
        #[cfg(feature = "hydrate")]
        gloo_timers::callback::Timeout::new(2_000, move || {
            copied.try_set(false);
        })
        .forget();
    };
    view! {
        <button type="button" class=class class:copied=move || copied.get() aria-label=label.clone() title=label on:click=on_click>
            {move || if copied.get() { CheckIcon().into_any() } else { CopyIcon().into_any() }}
            {move || {
                if copied.get() {
                    Some("Copied")
                } else if text.is_empty() {
                    None
                } else {
                    Some(text)
                }
            }}
        </button>
    }
}
