//! What a person entered into a server-rendered page before its WebAssembly hydrated it.
//!
//! Hydration writes a field's `prop:value` / `prop:checked` from the page's state whatever
//! the field holds (tachys 0.2's property hydration), which would undo what was typed,
//! ticked or chosen. These directives run first, with the real element, while it still
//! holds what the person entered, and hand that to the page's state. A field created
//! later (a client-side navigation) holds only its default, so they change nothing there;
//! on the server they do not run. Place them before the `prop:` they protect.
//! (Submitting before hydration is held by `src/before_hydration.js`.)

use leptos::prelude::*;
use leptos::web_sys::Element;
#[cfg(feature = "hydrate")]
use leptos::{
    wasm_bindgen::JsCast,
    web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement},
};

/// The text in a text input, text area or select, if it is not what the server drew.
#[cfg(feature = "hydrate")]
fn entered_text(element: &Element) -> Option<String> {
    if let Some(input) = element.dyn_ref::<HtmlInputElement>() {
        let value = input.value();
        return (value != input.default_value()).then_some(value);
    }
    if let Some(area) = element.dyn_ref::<HtmlTextAreaElement>() {
        let value = area.value();
        return (Ok(&value) != area.default_value().as_ref()).then_some(value);
    }
    let select = element.dyn_ref::<HtmlSelectElement>()?;
    let options = select.options();
    let drawn = (0..options.length())
        .filter_map(|i| options.item(i))
        .filter_map(|option| option.dyn_into::<leptos::web_sys::HtmlOptionElement>().ok())
        .find(|option| option.default_selected())
        .map(|option| option.value());
    let value = select.value();
    (Some(&value) != drawn.as_ref()).then_some(value)
}

/// `use:keep_typed=signal` on a text input, text area or select bound to `signal`.
pub fn keep_typed(element: Element, value: RwSignal<String>) {
    #[cfg(not(feature = "hydrate"))]
    let _ = (element, value);
    #[cfg(feature = "hydrate")]
    if let Some(typed) = entered_text(&element) {
        if typed != value.get_untracked() {
            value.set(typed);
        }
    }
}

/// `use:keep_chosen=callback` on a select, or on each radio button of a group, whose state
/// is not a string: `callback` gets the chosen option's (or the group's ticked radio's)
/// value. A radio looks at its whole group: hydrating the first radio of a group writes
/// its `checked`, which would untick the one chosen before the later ones are reached.
pub fn keep_chosen(element: Element, chosen: Callback<String>) {
    #[cfg(not(feature = "hydrate"))]
    let _ = (element, chosen);
    #[cfg(feature = "hydrate")]
    if let Some(radio) = element.dyn_ref::<HtmlInputElement>() {
        let selector = format!("input[type=radio][name=\"{}\"]:checked", radio.name());
        let ticked = element
            .owner_document()
            .and_then(|document| document.query_selector(&selector).ok().flatten())
            .and_then(|ticked| ticked.dyn_into::<HtmlInputElement>().ok());
        if let Some(ticked) = ticked.filter(|ticked| !ticked.default_checked()) {
            chosen.run(ticked.value());
        }
    } else if let Some(value) = entered_text(&element) {
        chosen.run(value);
    }
}
