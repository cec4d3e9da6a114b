//! Account > API Keys: list, search, sort, expand, create, reveal once, regenerate,
//! deactivate and delete keys.

mod details;
mod dialogs;
mod table;

use crate::components::icons::{ChevronIcon, KeyIcon, PlusIcon, SearchIcon, ShieldIcon};
use crate::components::toast::{ToastRegion, Toasts};
use crate::keys::{api::list_keys, KeySummary, RevealedKey, ScopeInfo};
use dialogs::{CreateKeyDialog, DeleteKeyDialog, RegenerateKeyDialog, RevealKeyDialog};
use leptos::prelude::*;
use leptos_meta::Title;
use table::KeyTable;

/// Which dialog is open over the page.
#[derive(Clone, Debug, PartialEq)]
pub enum KeyDialog {
    Create,
    Regenerate(KeySummary),
    Delete(KeySummary),
}

/// A value on its one showing, with what produced it.
#[derive(Clone, Debug, PartialEq)]
pub struct Revealed {
    pub key: RevealedKey,
    pub regenerated: bool,
    /// When a regenerated key's previous value stops working (None: already stopped).
    pub old_value_until: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortBy {
    Newest,
    Name,
    LastUsed,
}

/// Page-wide state, shared through context so rows and dialogs stay small.
#[derive(Clone, Copy)]
pub struct KeysUi {
    /// Bumped after every change; the list and open details reload.
    pub refresh: RwSignal<u32>,
    pub expanded: RwSignal<Option<String>>,
    pub dialog: RwSignal<Option<KeyDialog>>,
    pub revealed: RwSignal<Option<Revealed>>,
    pub catalog: RwSignal<Vec<ScopeInfo>>,
    pub search: RwSignal<String>,
    pub sort: RwSignal<SortBy>,
    pub page: RwSignal<usize>,
    pub toasts: Toasts,
}

impl KeysUi {
    pub fn reload(&self) {
        self.refresh.update(|n| *n += 1);
    }
}

pub fn use_keys_ui() -> KeysUi {
    expect_context::<KeysUi>()
}

#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let ui = KeysUi {
        refresh: RwSignal::new(0),
        expanded: RwSignal::new(None),
        dialog: RwSignal::new(None),
        revealed: RwSignal::new(None),
        catalog: RwSignal::new(Vec::new()),
        search: RwSignal::new(String::new()),
        sort: RwSignal::new(SortBy::Newest),
        page: RwSignal::new(0),
        toasts: Toasts::new(),
    };
    provide_context(ui);
    let keys = Resource::new(move || ui.refresh.get(), |_| list_keys());
    // Known once the list has loaded; keeps the search box mounted (and focused) across reloads.
    let has_keys = RwSignal::new(false);

    view! {
        <Title text="API Keys" />
        <header class="page-header">
            <div>
                <h1>"API Keys"</h1>
                <p class="muted">
                    "Keys let your scripts and services call the Keyward API as you. Each key carries only the scopes you give it."
                </p>
            </div>
            <button type="button" class="button button-primary" on:click=move |_| ui.dialog.set(Some(KeyDialog::Create))>
                <PlusIcon />
                "Create API Key"
            </button>
        </header>

        <Show when=move || has_keys.get()>
            <Toolbar />
        </Show>
        <Transition fallback=|| view! { <div class="card skeleton" aria-busy="true">"Loading your keys…"</div> }>
            {move || Suspend::new(async move {
                match keys.await {
                    Ok(page) => {
                        ui.catalog.set(page.catalog.clone());
                        has_keys.set(!page.keys.is_empty());
                        if page.keys.is_empty() {
                            view! { <EmptyState /> }.into_any()
                        } else {
                            view! { <KeyTable keys=page.keys now=page.now /> }.into_any()
                        }
                    }
                    Err(error) => view! {
                        <div class="banner banner-danger" role="alert">{error.to_string()}</div>
                    }.into_any(),
                }
            })}
        </Transition>

        <BestPractices />
        <CreateKeyDialog />
        <RevealKeyDialog />
        <RegenerateKeyDialog />
        <DeleteKeyDialog />
        <ToastRegion toasts=ui.toasts />
    }
}

#[component]
fn EmptyState() -> impl IntoView {
    let ui = use_keys_ui();
    view! {
        <div class="card empty-state">
            <KeyIcon />
            <h2>"No API keys yet"</h2>
            <p class="muted">
                "Create a key for each script or service that needs access, so you can rotate or revoke one without touching the others."
            </p>
            <button type="button" class="button button-primary" on:click=move |_| ui.dialog.set(Some(KeyDialog::Create))>
                <PlusIcon />
                "Create your first key"
            </button>
        </div>
    }
}

#[component]
fn Toolbar() -> impl IntoView {
    let ui = use_keys_ui();
    view! {
        <div class="toolbar">
            <div class="search" role="search">
                <SearchIcon />
                <input
                    type="search"
                    aria-label="Search keys by name"
                    placeholder="Search by name"
                    prop:value=move || ui.search.get()
                    on:input=move |ev| {
                        ui.search.set(event_target_value(&ev));
                        ui.page.set(0);
                    }
                />
            </div>
            <label class="sort">
                "Sort by"
                <select on:change=move |ev| {
                    ui.sort.set(match event_target_value(&ev).as_str() {
                        "name" => SortBy::Name,
                        "last_used" => SortBy::LastUsed,
                        _ => SortBy::Newest,
                    });
                    ui.page.set(0);
                }>
                    <option value="created" selected=move || ui.sort.get() == SortBy::Newest>"Newest first"</option>
                    <option value="name" selected=move || ui.sort.get() == SortBy::Name>"Name"</option>
                    <option value="last_used" selected=move || ui.sort.get() == SortBy::LastUsed>"Last used"</option>
                </select>
            </label>
        </div>
    }
}

#[component]
fn BestPractices() -> impl IntoView {
    let items = [
        ("Rotate regularly", "Every 90 days is a reasonable baseline. Rotate sooner if you suspect a leak."),
        (
            "Don't commit keys to source control",
            "Use environment variables or a secrets manager (1Password, Vault, AWS Secrets Manager, etc.).",
        ),
        (
            "Don't share keys in chat or screenshots",
            "Send via a password manager or vault link. Screenshots leak through bug reports and tickets.",
        ),
        (
            "Monitor usage",
            "Review the Last used column periodically. If a key is being used when it shouldn't be, revoke it.",
        ),
    ];
    view! {
        <section class="accordion" aria-labelledby="best-practices">
            <h2 id="best-practices"><ShieldIcon />"Security best practices"</h2>
            {items
                .into_iter()
                .map(|(title, body)| view! {
                    <details>
                        <summary><ChevronIcon />{title}</summary>
                        <p>{body}</p>
                    </details>
                })
                .collect_view()}
        </section>
    }
}
