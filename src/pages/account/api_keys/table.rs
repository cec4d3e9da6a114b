//! The key list: filter, sort, paginate, and one row per key with its actions.

use super::details::KeyDetailsPanel;
use super::ui::{use_keys_ui, KeyDialog, SortBy};
use crate::components::copy_button::CopyButton;
use crate::components::data_table::{Column, TableHead};
use crate::components::icons::{ChevronIcon, RefreshIcon, TrashIcon};
use crate::keys::{KeyStatus, KeySummary, PAGE_SIZE};
use crate::time_fmt;
use leptos::prelude::*;

/// Lower-cases for search and sort. In the browser the browser does it, so Rust's Unicode
/// case tables (about 24 KB) stay out of the wasm every page downloads.
fn fold_case(text: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        js_sys::JsString::from(text).to_lower_case().into()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        text.to_lowercase()
    }
}

/// The keys table's columns; its rows expand, so it builds them itself (`KeyRow`).
const KEY_COLUMNS: [Column; 6] = [
    Column::primary("Name"),
    Column::text("Key"),
    Column::nowrap("Created"),
    Column::nowrap("Last used"),
    Column::text("Status"),
    Column::actions(),
];

#[component]
pub fn KeyTable(keys: Vec<KeySummary>, now: i64) -> impl IntoView {
    let ui = use_keys_ui();
    let keys = StoredValue::new(keys);
    let visible = Memo::new(move |_| {
        let needle = fold_case(ui.search.get().trim());
        let mut list: Vec<KeySummary> = keys
            .get_value()
            .into_iter()
            .filter(|k| needle.is_empty() || fold_case(&k.name).contains(&needle))
            .collect();
        match ui.sort.get() {
            SortBy::Newest => list.sort_by_key(|k| std::cmp::Reverse(k.created_at)),
            SortBy::Name => list.sort_by_key(|k| fold_case(&k.name)),
            SortBy::LastUsed => list.sort_by_key(|k| std::cmp::Reverse(k.last_used_at)),
        }
        list
    });
    let page_count = move || visible.with(|v| v.len().div_ceil(PAGE_SIZE)).max(1);
    let page = move || ui.page.get().min(page_count() - 1);
    let rows = move || {
        let start = page() * PAGE_SIZE;
        visible.with(|v| {
            v.iter()
                .skip(start)
                .take(PAGE_SIZE)
                .cloned()
                .collect::<Vec<_>>()
        })
    };

    view! {
        <div class="table-wrap">
            <table class="keys-table">
                <TableHead columns=KEY_COLUMNS.to_vec() />
                <tbody>
                    <For each=rows key=|k| (k.id.clone(), k.active, k.preview.clone(), k.last_used_at) let:key>
                        <KeyRow key=key now=now />
                    </For>
                    <Show when=move || visible.with(Vec::is_empty)>
                        <tr>
                            <td colspan="6" class="muted">"No keys match your search."</td>
                        </tr>
                    </Show>
                </tbody>
            </table>
        </div>
        <Show when=move || { page_count() > 1 }>
            <nav class="pagination" aria-label="Pages of keys">
                <span>
                    {move || {
                        let total = visible.with(Vec::len);
                        let start = page() * PAGE_SIZE;
                        format!("Showing {}–{} of {total}", start + 1, (start + PAGE_SIZE).min(total))
                    }}
                </span>
                <div class="buttons">
                    <button type="button" class="button button-small" disabled=move || page() == 0
                        on:click=move |_| ui.page.set(page().saturating_sub(1))>"Previous"</button>
                    <button type="button" class="button button-small" disabled=move || { page() + 1 >= page_count() }
                        on:click=move |_| ui.page.set(page() + 1)>"Next"</button>
                </div>
            </nav>
        </Show>
    }
}

#[component]
fn KeyRow(key: KeySummary, now: i64) -> impl IntoView {
    let ui = use_keys_ui();
    let id = key.id.clone();
    let expanded = {
        let id = id.clone();
        Memo::new(move |_| ui.expanded.with(|e| e.as_deref() == Some(id.as_str())))
    };
    let toggle = {
        let id = id.clone();
        move || {
            ui.expanded.update(|e| {
                *e = if e.as_deref() == Some(id.as_str()) {
                    None
                } else {
                    Some(id.clone())
                }
            })
        }
    };
    let detail_id = format!("details-{id}");
    let (status_class, status_label) = match key.status {
        KeyStatus::Active => ("badge badge-active", KeyStatus::Active.label()),
        KeyStatus::Inactive => ("badge badge-inactive", KeyStatus::Inactive.label()),
        KeyStatus::Expired => ("badge badge-expired", KeyStatus::Expired.label()),
    };
    let last_used = match key.last_used_at {
        Some(at) => view! { <span title=time_fmt::exact(at)>{time_fmt::relative(at, now)}</span> }
            .into_any(),
        None => view! { <span class="muted">"Never"</span> }.into_any(),
    };
    let rotation_due = key.rotation_due(now) && key.status != KeyStatus::Expired;
    let name = key.name.clone();
    let (regen_key, delete_key) = (key.clone(), key.clone());
    let toggle_row = toggle.clone();

    view! {
        <tr class="key-row" class:expanded=move || expanded.get() on:click=move |_| toggle_row()>
            <td class="cell-name">
                <div class="key-name">
                    <button
                        type="button"
                        aria-expanded=move || expanded.get().to_string()
                        aria-controls=move || expanded.get().then(|| detail_id.clone())
                        on:click=move |ev| {
                            ev.stop_propagation();
                            toggle();
                        }
                    >
                        <span class="chevron"><ChevronIcon /></span>
                        <span>{name.clone()}</span>
                    </button>
                    {rotation_due.then(|| view! {
                        <span class="badge badge-warning badge-plain" title="This value is over 90 days old">"Rotation recommended"</span>
                    })}
                </div>
            </td>
            // On a phone each row is a card; `data-label` names the cells there.
            <td class="cell-key"><code class="key-preview">{key.preview.clone()}</code></td>
            <td class="nowrap" data-label="Created" title=time_fmt::exact(key.created_at)>{time_fmt::date(key.created_at)}</td>
            <td class="nowrap" data-label="Last used">{last_used}</td>
            <td class="cell-status"><span class=status_class>{status_label}</span></td>
            <td class="cell-actions">
                <div class="row-actions">
                    <CopyButton value=key.id.clone() label=format!("Copy ID of key \"{name}\"") text="Copy" />
                    <Show when=move || ui.can_manage.get()>
                        <DialogButton label=format!("Regenerate key \"{name}\"") title="Regenerate" class="icon-button"
                            dialog=KeyDialog::Regenerate(regen_key.clone())>
                            <RefreshIcon />
                        </DialogButton>
                        <DialogButton label=format!("Delete key \"{name}\"") title="Delete" class="icon-button danger"
                            dialog=KeyDialog::Delete(delete_key.clone())>
                            <TrashIcon />
                        </DialogButton>
                    </Show>
                </div>
            </td>
        </tr>
        <Show when=move || expanded.get()>
            <tr class="key-detail" id=format!("details-{}", key.id)>
                <td colspan="6">
                    <KeyDetailsPanel id=key.id.clone() />
                </td>
            </tr>
        </Show>
    }
}

/// An icon button in a row that opens a dialog about that row's key (and does not
/// also toggle the row).
#[component]
fn DialogButton(
    label: String,
    title: &'static str,
    class: &'static str,
    dialog: KeyDialog,
    children: Children,
) -> impl IntoView {
    let ui = use_keys_ui();
    view! {
        <button
            type="button"
            class=class
            aria-label=label
            title=title
            on:click=move |ev| {
                ev.stop_propagation();
                ui.open(dialog.clone());
            }
        >
            {children()}
        </button>
    }
}
