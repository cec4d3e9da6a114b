//! Account > API Keys: list, search, sort, expand, create, reveal once, regenerate,
//! deactivate and delete keys.

mod confirm_dialogs;
mod create_dialog;
mod details;
mod reveal_dialog;
mod spend_limit;
mod table;
mod ui;

use crate::components::icons::{ChevronIcon, KeyIcon, PlusIcon, SearchIcon, ShieldIcon};
use crate::components::kept::{keep_chosen, keep_typed};
use crate::components::toast::ToastRegion;
use crate::error::AppError;
use crate::infra::wire::load;
use crate::keys::api::list_keys;
use crate::pages::account::workspace::OrgNotFound;
use confirm_dialogs::{DeleteKeyDialog, RegenerateKeyDialog};
use create_dialog::CreateKeyDialog;
use leptos::prelude::*;
use leptos_meta::Title;
use reveal_dialog::RevealKeyDialog;
use table::KeyTable;
use ui::{use_keys_ui, KeyDialog, KeysUi, SortBy};

#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let ui = KeysUi::new();
    provide_context(ui);
    let keys = load(
        move || (ui.refresh.get(), ui.org.get()),
        |(_, org)| list_keys(org),
    );
    // Known once the list has loaded; keeps the search box mounted (and focused) across
    // reloads. Written by an effect, never while rendering.
    let has_keys = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(page)) = keys.get() {
            has_keys.set(!page.keys.is_empty());
            ui.can_manage.set(page.can_manage);
            ui.catalog.set(page.catalog);
        }
    });

    view! {
        <Title text="API Keys" />
        <header class="page-header">
            <div>
                <h1>"API Keys"</h1>
                <p class="muted">
                    {move || match ui.org.get() {
                        Some(_) => "The organization's keys call the Keyward API as the organization and spend its credits. Admins create and change them; members see them and their usage.",
                        None => "Keys let your scripts and services call the Keyward API as you. Each key carries only the scopes you give it.",
                    }}
                </p>
            </div>
            <Show when=move || ui.can_manage.get()>
                <button type="button" class="button button-primary" on:click=move |_| ui.open(KeyDialog::Create)>
                    <PlusIcon />
                    "Create API Key"
                </button>
            </Show>
        </header>

        <Show when=move || has_keys.get()>
            <Toolbar />
        </Show>
        <Transition fallback=|| view! { <div class="card skeleton" aria-busy="true">"Loading your keys…"</div> }>
            {move || Suspend::new(async move {
                match keys.await {
                    Ok(page) => {
                        if page.keys.is_empty() {
                            view! { <EmptyState /> }.into_any()
                        } else {
                            view! { <KeyTable keys=page.keys now=page.now /> }.into_any()
                        }
                    }
                    Err(AppError::NotFound) if ui.org.get_untracked().is_some() => view! { <OrgNotFound /> }.into_any(),
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
            {move || if ui.can_manage.get() {
                view! {
                    <p class="muted">
                        "Create a key for each script or service that needs access, so you can rotate or revoke one without touching the others."
                    </p>
                    <button type="button" class="button button-primary" on:click=move |_| ui.open(KeyDialog::Create)>
                        <PlusIcon />
                        "Create your first key"
                    </button>
                }.into_any()
            } else {
                view! {
                    <p class="muted">"The organization has no keys yet. Its Admins create them."</p>
                }.into_any()
            }}
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
                    use:keep_typed=ui.search
                    prop:value=move || ui.search.get()
                    on:input=move |ev| {
                        ui.search.set(event_target_value(&ev));
                        ui.page.set(0);
                    }
                />
            </div>
            <label class="sort">
                "Sort by"
                <select
                    use:keep_chosen=Callback::new(move |value: String| ui.sort.set(SortBy::from_option(&value)))
                    on:change=move |ev| {
                        ui.sort.set(SortBy::from_option(&event_target_value(&ev)));
                        ui.page.set(0);
                    }
                >
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
