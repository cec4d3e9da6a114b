//! Buy credits: a preset pack or a custom amount, then the checkout page.

use crate::components::action_result::on_action;
use crate::components::field::TextField;
use crate::components::kept::keep_chosen;
use crate::error::AppError;
use crate::infra::wire::load;
use crate::wallet::api::{purchase_options, CreateOrder};
use crate::wallet::{format_credits, format_money, PurchaseOptions};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::pages::account::workspace::workspace_href;

const CUSTOM: i64 = 0;

#[component]
pub fn BuyCredits(org: Option<String>) -> impl IntoView {
    let options = load(|| (), |_| purchase_options());
    view! {
        <section class="card" aria-labelledby="buy-heading">
            <h2 id="buy-heading">"Buy credits"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let org = org.clone();
                    Suspend::new(async move {
                    match options.await {
                        Ok(options) => view! { <BuyForm options org /> }.into_any(),
                        Err(e) => view! { <div class="banner banner-danger" role="alert">{e.to_string()}</div> }.into_any(),
                    }
                })}}
            </Suspense>
        </section>
    }
}

#[component]
fn BuyForm(options: PurchaseOptions, org: Option<String>) -> impl IntoView {
    let first = options.packs.first().copied().unwrap_or(CUSTOM);
    let choice = RwSignal::new(first);
    let custom = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let purchase = ServerAction::<CreateOrder>::new();
    let navigate = use_navigate();
    let org_for_link = org.clone();
    on_action(
        purchase,
        move |order_id| {
            navigate(
                &workspace_href(
                    org_for_link.as_deref(),
                    &format!("wallet/checkout/{order_id}"),
                ),
                Default::default(),
            )
        },
        move |e| match e {
            AppError::Validation(fields) => error.set(fields.into_iter().next().map(|f| f.message)),
            e => error.set(Some(e.to_string())),
        },
    );
    let (price, currency) = (options.credit_price_cents, options.currency.clone());
    let (min, max) = (options.min_credits, options.max_credits);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let credits = if choice.get_untracked() == CUSTOM {
            match custom
                .get_untracked()
                .trim()
                .replace(',', "")
                .parse::<i64>()
            {
                Ok(n) => n,
                Err(_) => {
                    error.set(Some(format!(
                        "Enter a whole number of credits from {} to {}.",
                        format_credits(min),
                        format_credits(max)
                    )));
                    return;
                }
            }
        } else {
            choice.get_untracked()
        };
        error.set(None);
        purchase.dispatch(CreateOrder {
            org: org.clone(),
            credits,
        });
    };
    let custom_price = {
        let currency = currency.clone();
        move || {
            custom
                .with(|c| c.trim().replace(',', "").parse::<i64>().ok())
                .filter(|n| *n > 0)
                .map(|n| {
                    format!(
                        "{} for {} credits",
                        format_money(n.saturating_mul(price), &currency),
                        format_credits(n)
                    )
                })
                .unwrap_or_default()
        }
    };
    view! {
        <form class="buy-form" on:submit=on_submit novalidate>
            <fieldset>
                <legend class="muted">{format!("One credit costs {}.", format_money(price, &currency))}</legend>
                <div class="pack-grid">
                    {options.packs.iter().map(|&pack| {
                        let label = format!("{} credits", format_credits(pack));
                        let cost = format_money(pack.saturating_mul(price), &currency);
                        view! {
                            <label class="pack" class:selected=move || choice.get() == pack>
                                <input type="radio" name="pack" value=pack
                                    use:keep_chosen=Callback::new(move |value: String| choice.set(value.parse().unwrap_or(CUSTOM)))
                                    prop:checked=move || choice.get() == pack
                                    on:change=move |_| { choice.set(pack); error.set(None); } />
                                <span class="pack-credits">{label}</span>
                                <span class="muted">{cost}</span>
                            </label>
                        }
                    }).collect_view()}
                    <label class="pack" class:selected=move || choice.get() == CUSTOM>
                        <input type="radio" name="pack" value="custom"
                            use:keep_chosen=Callback::new(move |value: String| choice.set(value.parse().unwrap_or(CUSTOM)))
                            prop:checked=move || choice.get() == CUSTOM
                            on:change=move |_| { choice.set(CUSTOM); error.set(None); } />
                        <span class="pack-credits">"Custom amount"</span>
                        <span class="muted">{format!("{} to {}", format_credits(min), format_credits(max))}</span>
                    </label>
                </div>
            </fieldset>
            <Show when=move || choice.get() == CUSTOM>
                <div class="custom-amount">
                    <TextField label="Credits" name="credits" kind="text" value=custom
                        error=Signal::derive(move || error.get())
                        hint="A whole number of credits." max_chars=13 autofocus=true />
                    <p class="muted" aria-live="polite">{custom_price.clone()}</p>
                </div>
            </Show>
            <Show when=move || choice.get() != CUSTOM && error.get().is_some()>
                <p class="field-error" role="alert">{move || error.get()}</p>
            </Show>
            <button type="submit" class="button button-primary" disabled=move || purchase.pending().get()>
                {move || if purchase.pending().get() { "Creating order…" } else { "Purchase" }}
            </button>
        </form>
    }
}
