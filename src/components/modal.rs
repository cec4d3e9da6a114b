//! A native modal `<dialog>`: the browser traps focus, Escape closes it, and focus
//! returns to whatever opened it. Server-rendered closed; opened with `showModal()`.

use leptos::html;
use leptos::prelude::*;

#[component]
pub fn Modal(
    /// Whether the dialog is showing.
    #[prop(into)]
    open: Signal<bool>,
    /// Runs when the dialog closes by Escape or by `open` turning false.
    on_close: Callback<()>,
    /// Id of the element that names the dialog.
    labelled_by: &'static str,
    #[prop(optional)] described_by: &'static str,
    /// Asked when Escape would close the dialog; answering false keeps it open.
    /// Browsers let a page refuse only once per user action, so a second Escape
    /// always closes.
    #[prop(optional)]
    on_escape: Option<Callback<(), bool>>,
    children: ChildrenFn,
) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    Effect::new(move |_| {
        let Some(dialog) = dialog.get() else { return };
        if open.get() {
            if !dialog.open() {
                let _ = dialog.show_modal();
            }
        } else if dialog.open() {
            dialog.close();
        }
    });
    view! {
        <dialog
            node_ref=dialog
            aria-labelledby=labelled_by
            aria-describedby=described_by
            on:keydown=move |ev| {
                if let Some(dialog) = dialog.get() {
                    keep_focus_inside(&dialog, &ev);
                }
            }
            on:cancel=move |ev: leptos::ev::Event| {
                if on_escape.is_some_and(|allow| !allow.run(())) {
                    ev.prevent_default();
                }
            }
            on:close=move |_| {
                if open.get_untracked() {
                    on_close.run(());
                }
            }
        >
            <Show when=move || open.get()>{children()}</Show>
        </dialog>
    }
}

/// Tab from the last control wraps to the first (and Shift+Tab back), so focus
/// never leaves the dialog for the browser's own toolbar.
fn keep_focus_inside(dialog: &leptos::web_sys::HtmlDialogElement, ev: &leptos::ev::KeyboardEvent) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        if ev.key() != "Tab" {
            return;
        }
        let Ok(nodes) = dialog.query_selector_all(
            "button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), a[href], [tabindex]:not([tabindex='-1'])",
        ) else {
            return;
        };
        let focusable: Vec<leptos::web_sys::HtmlElement> = (0..nodes.length())
            .filter_map(|i| nodes.item(i))
            .filter_map(|n| n.dyn_into::<leptos::web_sys::HtmlElement>().ok())
            .collect();
        let (Some(first), Some(last)) = (focusable.first(), focusable.last()) else {
            return;
        };
        let active = document().active_element();
        let is = |el: &leptos::web_sys::HtmlElement| {
            active
                .as_ref()
                .is_some_and(|a| a == el.unchecked_ref::<leptos::web_sys::Element>())
        };
        let inside = active.as_ref().is_some_and(|a| dialog.contains(Some(a)));
        if ev.shift_key() && (is(first) || !inside) {
            ev.prevent_default();
            let _ = last.focus();
        } else if !ev.shift_key() && (is(last) || !inside) {
            ev.prevent_default();
            let _ = first.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (dialog, ev);
}
