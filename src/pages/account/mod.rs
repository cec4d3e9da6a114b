//! The signed-in area: a sidebar layout and its pages.

pub mod admin;
pub mod api_keys;
pub mod dashboard;
pub mod jobs;
pub mod lab;
pub mod organizations;
pub mod security;
pub mod subscription;
mod switcher;
mod two_factor;
pub mod wallet;
pub mod workspace;

use crate::admin::api::admin_status;
use crate::auth::api::{current_user, SignOut};
use crate::components::action_result::on_action;
use crate::components::icons::{
    ActivityIcon, CardIcon, CoinsIcon, FlaskIcon, HomeIcon, KeyIcon, LogoIcon, MenuIcon, SendIcon,
    ServerIcon, ShieldIcon, SignOutIcon, TagIcon, UsersIcon, WalletIcon,
};
use crate::infra::wire::load;
use lab::controls::{LabStatus, SidebarLab, StopServerDialog};
use leptos::html;
use leptos::prelude::*;
use leptos_router::components::{Outlet, A};
use leptos_router::hooks::use_location;
use switcher::WorkspaceSwitcher;
use workspace::use_org_slug;

#[component]
pub fn AccountLayout() -> impl IntoView {
    let user = load(|| (), |_| current_user());
    let admin = load(|| (), |_| admin_status());
    let sign_out = ServerAction::<SignOut>::new();
    LabStatus::provide();
    let org = use_org_slug();
    // A failure stays in the action's value, which the sidebar shows.
    on_action(
        sign_out,
        |()| crate::components::load_page("/sign-in"),
        |_| {},
    );

    // Below 768 px the sidebar hides behind a menu button (a disclosure): Escape or
    // following a link closes it, and Escape puts focus back on the button.
    let menu_open = RwSignal::new(false);
    let menu_button = NodeRef::<html::Button>::new();
    let pathname = use_location().pathname;
    Effect::new(move |_| {
        pathname.track();
        menu_open.set(false);
    });
    let close_on_escape = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" && menu_open.get_untracked() {
            menu_open.set(false);
            if let Some(button) = menu_button.get_untracked() {
                let _ = button.focus();
            }
        }
    };

    view! {
        <div class="shell" class:menu-open=move || menu_open.get() on:keydown=close_on_escape>
            <header class="topbar">
                <a class="brand" href="/account">
                    <LogoIcon />
                    <span>"Keyward"</span>
                </a>
                <button
                    type="button"
                    class="button button-ghost menu-button"
                    node_ref=menu_button
                    aria-expanded=move || menu_open.get().to_string()
                    aria-controls="account-sidebar"
                    on:click=move |_| menu_open.update(|open| *open = !*open)
                >
                    <MenuIcon />
                    <span>"Menu"</span>
                </button>
            </header>
            <aside class="sidebar" id="account-sidebar">
                <a class="brand" href="/account">
                    <LogoIcon />
                    <span>"Keyward"</span>
                </a>
                <WorkspaceSwitcher />
                // Following a link closes the menu at once, before the next page has loaded.
                {move || org.get().map(|slug| view! { <OrganizationNav slug menu_open /> })}
                <nav aria-label="Account" on:click=move |_| menu_open.set(false) hidden=move || org.get().is_some()>
                    <p class="nav-heading" id="nav-account">"Account"</p>
                    <ul aria-labelledby="nav-account">
                        <li>
                            <A href="/account" exact=true>
                                <HomeIcon />
                                <span>"Dashboard"</span>
                            </A>
                        </li>
                        <li>
                            <A href="/account/api-keys">
                                <KeyIcon />
                                <span>"API Keys"</span>
                            </A>
                        </li>
                        <li>
                            <A href="/account/wallet">
                                <WalletIcon />
                                <span>"Wallet"</span>
                            </A>
                        </li>
                        <li>
                            <A href="/account/subscription">
                                <CardIcon />
                                <span>"Subscription"</span>
                            </A>
                        </li>
                        <li>
                            <A href="/account/jobs">
                                <ActivityIcon />
                                <span>"Jobs"</span>
                            </A>
                        </li>
                        <li>
                            <A href="/account/lab">
                                <FlaskIcon />
                                <span>"Lab"</span>
                            </A>
                        </li>
                        <li>
                            <A href="/account/organizations">
                                <UsersIcon />
                                <span>"Organizations"</span>
                            </A>
                        </li>
                        <li>
                            <A href="/account/security">
                                <ShieldIcon />
                                <span>"Security"</span>
                            </A>
                        </li>
                    </ul>
                </nav>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        matches!(admin.await, Ok(true)).then(|| view! {
                            <nav aria-label="Admin" on:click=move |_| menu_open.set(false)>
                                <p class="nav-heading" id="nav-admin">"Admin"</p>
                                <ul aria-labelledby="nav-admin">
                                    <li>
                                        <A href="/account/admin/promo-codes">
                                            <TagIcon />
                                            <span>"Promo codes"</span>
                                        </A>
                                    </li>
                                    <li>
                                        <A href="/account/admin/credits">
                                            <CoinsIcon />
                                            <span>"Credit grants"</span>
                                        </A>
                                    </li>
                                    <li>
                                        <A href="/account/admin/subscriptions">
                                            <CardIcon />
                                            <span>"Subscriptions"</span>
                                        </A>
                                    </li>
                                    <li>
                                        <A href="/account/admin/lab">
                                            <ServerIcon />
                                            <span>"Lab servers"</span>
                                        </A>
                                    </li>
                                    <li>
                                        <A href="/account/admin/webhooks">
                                            <SendIcon />
                                            <span>"Webhooks"</span>
                                        </A>
                                    </li>
                                </ul>
                            </nav>
                        })
                    })}
                </Suspense>
                <SidebarLab />
                <div class="sidebar-footer">
                    <Suspense fallback=|| view! { <p class="signed-in-as muted">"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            match user.await {
                                Ok(Some(user)) => view! {
                                    <p class="signed-in-as">
                                        <span class="muted">"Signed in as"</span>
                                        <span class="email" title=user.email.clone()>{user.email.clone()}</span>
                                    </p>
                                }.into_any(),
                                _ => view! {
                                    <p class="signed-in-as"><a href="/sign-in">"Sign in again"</a></p>
                                }.into_any(),
                            }
                        })}
                    </Suspense>
                    <ActionForm action=sign_out>
                        <button type="submit" class="button button-ghost button-block sign-out">
                            <SignOutIcon />
                            <span>"Sign out"</span>
                        </button>
                    </ActionForm>
                    {move || sign_out.value().get().and_then(Result::err).map(|e| view! {
                        <p class="field-error" role="alert">{e.to_string()}</p>
                    })}
                </div>
            </aside>
            <main class="content" id="main">
                <Outlet />
            </main>
            <StopServerDialog />
        </div>
    }
}

/// The sidebar's links in an organization's workspace.
#[component]
fn OrganizationNav(slug: String, menu_open: RwSignal<bool>) -> impl IntoView {
    let href = move |page: &str| workspace::workspace_href(Some(&slug), page);
    view! {
        <nav aria-label="Organization" on:click=move |_| menu_open.set(false)>
            <p class="nav-heading" id="nav-organization">"Organization"</p>
            <ul aria-labelledby="nav-organization">
                <li><A href=href("") exact=true><HomeIcon /><span>"Dashboard"</span></A></li>
                <li><A href=href("api-keys")><KeyIcon /><span>"API Keys"</span></A></li>
                <li><A href=href("wallet")><WalletIcon /><span>"Wallet"</span></A></li>
                <li><A href=href("subscription")><CardIcon /><span>"Subscription"</span></A></li>
                <li><A href=href("jobs")><ActivityIcon /><span>"Jobs"</span></A></li>
                <li><A href=href("members")><UsersIcon /><span>"Members"</span></A></li>
            </ul>
        </nav>
    }
}
