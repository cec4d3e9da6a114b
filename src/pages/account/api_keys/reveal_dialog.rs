//! The one showing of a key's value, right after it was created or regenerated.

use super::ui::use_keys_ui;
use crate::components::copy_button::CopyButton;
use crate::components::icons::AlertIcon;
use crate::components::modal::Modal;
use crate::time_fmt;
use leptos::prelude::*;

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
