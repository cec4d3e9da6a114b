//! Checkout: the order, a promotion code, and completing it.

use crate::components::field::TextField;
use crate::error::AppError;
use crate::wallet::api::{
    order_details, purchase_options, ApplyPromoCode, CompleteOrder, RemovePromoCode,
};
use crate::wallet::{format_credits, format_money, OrderStatus, OrderView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn CheckoutPage() -> impl IntoView {
    let params = use_params_map();
    let order_id = move || params.with(|p| p.get("order").unwrap_or_default());
    let order = Resource::new(order_id, order_details);
    let options = Resource::new(|| (), |_| purchase_options());
    view! {
        <Title text="Checkout" />
        <p class="breadcrumb"><a href="/account/wallet">"← Wallet"</a></p>
        <header class="page-header">
            <div>
                <h1>"Checkout"</h1>
                <p class="muted">"Check your order, add a promotion code if you have one, and complete it."</p>
            </div>
        </header>
        <Suspense fallback=|| view! { <div class="card skeleton" aria-busy="true">"Loading your order…"</div> }>
            {move || Suspend::new(async move {
                match (order.await, options.await) {
                    (Ok(order), Ok(options)) => view! { <Checkout order card_payments=options.card_payments /> }.into_any(),
                    (Err(AppError::NotFound), _) => view! {
                        <div class="card empty-state">
                            <p><strong>"No such order"</strong></p>
                            <p class="muted">"It may belong to another account. Start a new one from your wallet."</p>
                            <a class="button" href="/account/wallet">"Go to Wallet"</a>
                        </div>
                    }.into_any(),
                    (Err(e), _) | (_, Err(e)) => view! { <div class="banner banner-danger" role="alert">{e.to_string()}</div> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Checkout(order: OrderView, card_payments: bool) -> impl IntoView {
    let order = RwSignal::new(order);
    let apply = ServerAction::<ApplyPromoCode>::new();
    let remove = ServerAction::<RemovePromoCode>::new();
    let complete = ServerAction::<CompleteOrder>::new();
    let show_code = RwSignal::new(false);
    let code = RwSignal::new(String::new());
    let code_error = RwSignal::new(None::<String>);
    let order_error = RwSignal::new(None::<String>);
    Effect::new(move |_| match apply.value().get() {
        Some(Ok(updated)) => {
            order.set(updated);
            show_code.set(false);
            code.set(String::new());
            code_error.set(None);
        }
        Some(Err(e)) => code_error.set(Some(
            e.field_message("code").unwrap_or_else(|| e.to_string()),
        )),
        None => {}
    });
    Effect::new(move |_| match remove.value().get() {
        Some(Ok(updated)) => order.set(updated),
        Some(Err(e)) => order_error.set(Some(e.to_string())),
        None => {}
    });
    Effect::new(move |_| match complete.value().get() {
        Some(Ok(updated)) => order.set(updated),
        Some(Err(e)) => order_error.set(Some(e.to_string())),
        None => {}
    });
    let id = move || order.with(|o| o.id.clone());
    let on_apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if !apply.pending().get_untracked() {
            apply.dispatch(ApplyPromoCode {
                order_id: id(),
                code: code.get_untracked(),
            });
        }
    };
    let money = move |minor: i64| order.with(|o| format_money(minor, &o.currency));
    view! {
        {move || (order.with(|o| o.status) == OrderStatus::Paid).then(|| view! {
            <div class="banner banner-success" role="status">
                <strong>"Order complete. "</strong>
                {order.with(|o| format!("{} credits were added to your wallet.", format_credits(o.credits)))}
                " "<a href="/account/wallet">"Back to Wallet"</a>
            </div>
        })}
        <section class="card checkout" aria-labelledby="order-heading">
            <h2 id="order-heading">"Order summary"</h2>
            <dl class="summary">
                <div><dt>"Credits"</dt><dd>{move || format_credits(order.with(|o| o.credits))}</dd></div>
                <div><dt>"Price"</dt><dd>{move || money(order.with(|o| o.subtotal_minor))}</dd></div>
                {move || order.with(|o| o.promo.clone()).map(|(code, label)| view! {
                    <div class="discount">
                        <dt>{format!("Promotion code {code} ({label})")}</dt>
                        <dd>
                            {money(-order.with(|o| o.discount_minor))}
                            {(order.with(|o| o.status) != OrderStatus::Paid).then(|| view! {
                                <button type="button" class="button button-small button-ghost"
                                    aria-label=format!("Remove promotion code {code}")
                                    disabled=move || remove.pending().get()
                                    on:click=move |_| { remove.dispatch(RemovePromoCode { order_id: id() }); }>
                                    "Remove"
                                </button>
                            })}
                        </dd>
                    </div>
                })}
                <div class="total"><dt>"Total"</dt><dd>{move || money(order.with(|o| o.total_minor))}</dd></div>
            </dl>
            <Show when=move || order.with(|o| o.status != OrderStatus::Paid)>
                <Show
                    when=move || show_code.get()
                    fallback=move || view! {
                        <button type="button" class="button button-ghost add-code" on:click=move |_| show_code.set(true)>
                            "Add promotion code"
                        </button>
                    }
                >
                    <form class="promo-form" on:submit=on_apply novalidate>
                        <TextField label="Promotion code" name="code" value=code
                            error=Signal::derive(move || code_error.get()) max_chars=32 autofocus=true
                            autocomplete="off" />
                        <button type="submit" class="button" disabled=move || apply.pending().get()>"Apply"</button>
                    </form>
                </Show>
                {move || order.with(|o| o.failure_reason.clone()).map(|reason| view! {
                    <div class="banner banner-danger" role="alert">{format!("The payment failed: {reason}")}</div>
                })}
                {move || (order.with(|o| o.total_minor > 0) && !card_payments).then(|| view! {
                    <div class="banner banner-warning" role="status">
                        "Card payments are not set up on this server. An order can be completed when a promotion code pays for all of it."
                    </div>
                })}
                {move || order_error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
                <button type="button" class="button button-primary complete"
                    disabled=move || complete.pending().get() || (order.with(|o| o.total_minor > 0) && !card_payments)
                    on:click=move |_| { order_error.set(None); complete.dispatch(CompleteOrder { order_id: id() }); }>
                    {move || if complete.pending().get() { "Completing…" } else { "Complete Order" }}
                </button>
            </Show>
        </section>
    }
}
