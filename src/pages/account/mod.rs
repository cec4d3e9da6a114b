//! The signed-in area: a sidebar layout and its pages.

pub mod api_keys;
pub mod dashboard;
pub mod security;
mod two_factor;

use crate::auth::api::{current_user, SignOut};
use crate::components::icons::{HomeIcon, KeyIcon, LogoIcon, ShieldIcon, SignOutIcon};
use leptos::prelude::*;
use leptos_router::components::{Outlet, A};

#[component]
pub fn AccountLayout() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    let sign_out = ServerAction::<SignOut>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out.value().get() {
            crate::components::load_page("/sign-in");
        }
    });

    view! {
        <div class="shell">
            <aside class="sidebar">
                <a class="brand" href="/account">
                    <LogoIcon />
                    <span>"Keyward"</span>
                </a>
                <nav aria-label="Account">
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
                            <A href="/account/security">
                                <ShieldIcon />
                                <span>"Security"</span>
                            </A>
                        </li>
                    </ul>
                </nav>
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
        </div>
    }
}
