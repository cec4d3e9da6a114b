//! Checkout: the order, a promotion code, and completing it.

use crate::components::action_result::on_action;
use crate::components::card_form::{CardDetails, CardForm, CardFormState};
use crate::components::field::TextField;
use crate::error::AppError;
use crate::infra::wire::load;
use crate::wallet::api::{
    order_details, purchase_options, ApplyPromoCode, CompleteOrder, PayOrder, RefreshOrderPayment,
    RemovePromoCode,
};
use crate::wallet::{format_credits, format_money, CardSetup, OrderStatus, OrderView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::pages::account::workspace::{use_org_slug, workspace_href};

#[component]
pub fn CheckoutPage() -> impl IntoView {
    let params = use_params_map();
    let order_id = move || params.with(|p| p.get("order").unwrap_or_default());
    let order = load(order_id, order_details);
    let options = load(|| (), |_| purchase_options());
    let org = use_org_slug();
    view! {
        <Title text="Checkout" />
        <p class="breadcrumb"><a href=move || workspace_href(org.get().as_deref(), "wallet")>"← Wallet"</a></p>
        <header class="page-header">
            <div>
                <h1>"Checkout"</h1>
                <p class="muted">"Check your order, add a promotion code if you have one, and complete it."</p>
            </div>
        </header>
        <Suspense fallback=|| view! { <div class="card skeleton" aria-busy="true">"Loading your order…"</div> }>
            {move || Suspend::new(async move {
                match (order.await, options.await) {
                    (Ok(order), Ok(options)) => view! { <Checkout order card=options.card /> }.into_any(),
                    (Err(AppError::NotFound), _) => view! {
                        <div class="card empty-state">
                            <p><strong>"No such order"</strong></p>
                            <p class="muted">"It may belong to another account. Start a new one from your wallet."</p>
                            <a class="button" href=workspace_href(org.get_untracked().as_deref(), "wallet")>"Go to Wallet"</a>
                        </div>
                    }.into_any(),
                    (Err(e), _) | (_, Err(e)) => view! { <div class="banner banner-danger" role="alert">{e.to_string()}</div> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// How many times the page asks about a payment the provider is still processing.
const MAX_REFRESHES: u32 = 20;

#[component]
fn Checkout(order: OrderView, card: Option<CardSetup>) -> impl IntoView {
    let order = RwSignal::new(order);
    let apply = ServerAction::<ApplyPromoCode>::new();
    let remove = ServerAction::<RemovePromoCode>::new();
    let complete = ServerAction::<CompleteOrder>::new();
    let pay = ServerAction::<PayOrder>::new();
    let refresh = ServerAction::<RefreshOrderPayment>::new();
    let show_code = RwSignal::new(false);
    let code = RwSignal::new(String::new());
    let code_error = RwSignal::new(None::<String>);
    let order_error = RwSignal::new(None::<String>);
    let card_error = RwSignal::new(None::<String>);
    // True from the click until the provider has answered (card form, then server).
    let paying = RwSignal::new(false);
    let refreshes = RwSignal::new(0u32);
    let card_payments = card.is_some();
    let card_form = card.map(|_| CardForm::new("card-frame"));
    let id = move || order.with(|o| o.id.clone());
    on_action(
        apply,
        move |updated| {
            order.set(updated);
            show_code.set(false);
            code.set(String::new());
            code_error.set(None);
        },
        move |e| {
            code_error.set(Some(
                e.field_message("code").unwrap_or_else(|| e.to_string()),
            ))
        },
    );
    on_action(
        remove,
        move |updated| order.set(updated),
        move |e| order_error.set(Some(e.to_string())),
    );
    on_action(
        complete,
        move |updated| order.set(updated),
        move |e| order_error.set(Some(e.to_string())),
    );
    on_action(
        pay,
        move |step| {
            order.set(step.order);
            match (step.confirm_secret, card_form) {
                // The bank asks the person to confirm; then the server asks the provider.
                (Some(secret), Some(form)) => leptos::task::spawn_local(async move {
                    if let Err(message) = form.confirm(secret).await {
                        card_error.set(Some(message));
                    }
                    refresh.dispatch(RefreshOrderPayment { order_id: id() });
                }),
                _ => paying.set(false),
            }
        },
        move |e| {
            paying.set(false);
            match e.field_message("card") {
                Some(message) => card_error.set(Some(message)),
                None => order_error.set(Some(e.to_string())),
            }
        },
    );
    on_action(
        refresh,
        move |updated| {
            paying.set(false);
            order.set(updated);
        },
        move |e| {
            paying.set(false);
            order_error.set(Some(e.to_string()));
        },
    );
    // While the provider is still processing, ask again every two seconds, a while.
    Effect::new(move |_| {
        let processing = order.with(|o| o.status == OrderStatus::Processing);
        if processing
            && card_payments
            && !refresh.pending().get()
            && refreshes.get_untracked() < MAX_REFRESHES
        {
            set_timeout(
                move || {
                    refreshes.update(|n| *n += 1);
                    refresh.dispatch(RefreshOrderPayment { order_id: id() });
                },
                std::time::Duration::from_secs(2),
            );
        }
    });
    let on_apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if !apply.pending().get_untracked() {
            apply.dispatch(ApplyPromoCode {
                order_id: id(),
                code: code.get_untracked(),
            });
        }
    };
    let on_complete = move |_| {
        order_error.set(None);
        card_error.set(None);
        if order.with_untracked(|o| o.total_minor) == 0 {
            complete.dispatch(CompleteOrder { order_id: id() });
            return;
        }
        let Some(form) = card_form else { return };
        if paying.get_untracked() {
            return;
        }
        paying.set(true);
        leptos::task::spawn_local(async move {
            match form.payment_method().await {
                Ok(payment_method) => {
                    pay.dispatch(PayOrder {
                        order_id: id(),
                        payment_method,
                    });
                }
                Err(message) => {
                    card_error.set(Some(message));
                    paying.set(false);
                }
            }
        });
    };
    let money = move |minor: i64| order.with(|o| format_money(minor, &o.currency));
    let to_pay = move || order.with(|o| o.total_minor > 0);
    let busy = move || {
        complete.pending().get()
            || paying.get()
            || order.with(|o| o.status == OrderStatus::Processing)
    };
    let card_unusable = move || match card_form {
        None => true,
        Some(form) => form.state.with(|s| *s != CardFormState::Ready),
    };
    view! {
        {move || (order.with(|o| o.status) == OrderStatus::Paid).then(|| view! {
            <div class="banner banner-success" role="status">
                <strong>"Order complete. "</strong>
                {order.with(|o| match &o.org {
                    Some((_, _, name)) => format!("{} credits were added to {name}'s wallet.", format_credits(o.credits)),
                    None => format!("{} credits were added to your wallet.", format_credits(o.credits)),
                })}
                " "<a href=order.with(|o| workspace_href(o.org.as_ref().map(|(_, slug, _)| slug.as_str()), "wallet"))>"Back to Wallet"</a>
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
                            {(!matches!(order.with(|o| o.status), OrderStatus::Paid | OrderStatus::Processing)).then(|| view! {
                                <button type="button" class="button button-small button-ghost"
                                    aria-label=format!("Remove promotion code {code}")
                                    disabled=move || remove.pending().get() || busy()
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
                        <button type="button" class="button button-ghost add-code" disabled=busy on:click=move |_| show_code.set(true)>
                            "Add promotion code"
                        </button>
                    }
                >
                    <form class="promo-form" on:submit=on_apply novalidate>
                        <TextField label="Promotion code" name="code" value=code
                            error=Signal::derive(move || code_error.get()) max_chars=32 autofocus=true
                            autocomplete="off" />
                        <button type="submit" class="button" disabled=move || apply.pending().get() || busy()>"Apply"</button>
                    </form>
                </Show>
                <Show when=move || to_pay() && card_payments>
                    <CardDetails form=card_form error=card_error />
                </Show>
                {move || order.with(|o| o.failure_reason.clone()).map(|reason| view! {
                    <div class="banner banner-danger" role="alert">{format!("The payment failed: {reason} Nothing was charged for this attempt; you can try again.")}</div>
                })}
                {move || order.with(|o| o.status == OrderStatus::Processing).then(|| view! {
                    <div class="banner" role="status">"Confirming your payment with the bank…"</div>
                })}
                {move || (to_pay() && !card_payments).then(|| view! {
                    <div class="banner banner-warning" role="status">
                        "Card payments are not set up on this server. An order can be completed when a promotion code pays for all of it."
                    </div>
                })}
                {move || order_error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
                <button type="button" class="button button-primary complete"
                    disabled=move || busy() || (to_pay() && card_unusable())
                    on:click=on_complete>
                    {move || if busy() { "Completing…" } else { "Complete Order" }}
                </button>
            </Show>
        </section>
    }
}
