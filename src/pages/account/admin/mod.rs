//! Admin: operators' pages. For anyone else every one of them is "Page not found",
//! with status 404 (the routes render in `SsrMode::Async`, so the status is known
//! before the answer starts).

pub mod credits;
pub mod lab;
pub mod promo_codes;
pub mod subscriptions;
pub mod webhooks;

use crate::admin::api::admin_status;
use crate::infra::wire::load_blocking;
use leptos::prelude::*;
use leptos_router::components::Outlet;

#[component]
pub fn AdminLayout() -> impl IntoView {
    let admin = load_blocking(|| (), |_| admin_status());
    view! {
        <Suspense fallback=|| view! { <div class="card skeleton" aria-busy="true">"Loading…"</div> }>
            {move || Suspend::new(async move {
                match admin.await {
                    Ok(true) => view! { <Outlet /> }.into_any(),
                    _ => view! { <NotAdmin /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn NotAdmin() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <crate::components::HydrationMark />
        <leptos_meta::Title text="Page not found" />
        <div class="card empty-state">
            <h1>"Page not found"</h1>
            <p class="muted">"The address may be mistyped, or the page may have moved."</p>
            <a class="button" href="/account">"Go to your account"</a>
        </div>
    }
}

pub use crate::components::request_id;
