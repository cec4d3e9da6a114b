//! Newer / Older buttons for a list read a page at a time by cursor: `cursors` holds
//! the cursor of every page before this one (the last is this page's), `next` the
//! cursor of the page after it, if there is one.

use leptos::prelude::*;

#[component]
pub fn CursorPager(
    cursors: RwSignal<Vec<Option<String>>>,
    next: Option<String>,
    /// Names the navigation for screen readers: "Transaction pages".
    label: &'static str,
) -> impl IntoView {
    let has_next = next.is_some();
    view! {
        <nav class="pagination" aria-label=label>
            <span>{move || format!("Page {}", cursors.with(Vec::len))}</span>
            <div class="buttons">
                <button type="button" class="button button-small"
                    disabled=move || cursors.with(|c| c.len() <= 1)
                    on:click=move |_| cursors.update(|c| { c.pop(); })>
                    "Newer"
                </button>
                <button type="button" class="button button-small"
                    disabled=!has_next
                    on:click=move |_| {
                        if let Some(next) = next.clone() {
                            cursors.update(|c| c.push(Some(next)));
                        }
                    }>
                    "Older"
                </button>
            </div>
        </nav>
    }
}
