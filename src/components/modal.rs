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
