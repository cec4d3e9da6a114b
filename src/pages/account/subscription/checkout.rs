//! Checkout for a plan (`/account/subscription/checkout/{plan}?interval=year`, and an
//! organization's): the plan and its price, a promotion code, the card, and the order
//! completed; then back to the subscription page.

use super::card_forms::SubscribeForm;
use crate::billing::api::subscription_overview;
use crate::billing::PlanOffer;
use crate::infra::wire::load;
use crate::pages::account::workspace::{use_org_slug, workspace_href};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

#[component]
pub fn SubscriptionCheckoutPage() -> impl IntoView {
    let org = use_org_slug();
    let params = use_params_map();
    let query = use_query_map();
    let plan_id = move || params.with(|p| p.get("plan").unwrap_or_default());
    let yearly = move || query.with(|q| q.get("interval").as_deref() == Some("year"));
    let overview = load(move || org.get(), subscription_overview);
    let back = move || workspace_href(org.get().as_deref(), "subscription");
    // The form says when it is done (subscribed) or cancelled: back to the plan page.
    let chosen = RwSignal::new(None::<PlanOffer>);
    let done = RwSignal::new(0u32);
    let navigate = use_navigate();
    Effect::new(move |previous: Option<bool>| {
        let finished = done.get() > 0;
        // Both read on every run, so both are tracked.
        let none_chosen = chosen.with(Option::is_none);
        let cancelled = previous.is_some() && none_chosen;
        if finished || cancelled {
            navigate(
                &workspace_href(org.get_untracked().as_deref(), "subscription"),
                Default::default(),
            );
        }
        true
    });
    view! {
        <Title text="Checkout" />
        <p class="breadcrumb"><a href=back>"← Subscription"</a></p>
        <header class="page-header">
            <div>
                <h1>"Checkout"</h1>
                <p class="muted">"Check the plan, add a promotion code if you have one, and complete the order."</p>
            </div>
        </header>
        <Suspense fallback=|| view! { <div class="card skeleton" aria-busy="true">"Loading the plan…"</div> }>
            {move || Suspend::new(async move {
                let page = match overview.await {
                    Ok(page) => page,
                    Err(e) => return view! { <div class="banner banner-danger" role="alert">{e.to_string()}</div> }.into_any(),
                };
                let offered = page.plans.iter().find(|p| p.id == plan_id() && !p.free).cloned();
                let yearly = yearly();
                match offered {
                    Some(plan) if page.available && page.can_manage && page.current.status.is_none()
                        && (!yearly || plan.yearly_price.is_some()) => {
                        chosen.set(Some(plan.clone()));
                        view! { <section class="card"><SubscribeForm plan yearly chosen reloads=done /></section> }.into_any()
                    }
                    _ => view! {
                        <div class="card empty-state">
                            <p><strong>"This plan cannot be ordered here"</strong></p>
                            <p class="muted">"It may not exist, there may be a subscription already, or only an Owner or Admin may subscribe."</p>
                            <a class="button" href=back()>"Go to Subscription"</a>
                        </div>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
