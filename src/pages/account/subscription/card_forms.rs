//! The subscription page's two card forms: subscribing to a plan, and replacing the card
//! renewals are paid with. Both take the card in the provider's framed card form.

use crate::billing::api::{QuoteSubscriptionCode, Subscribe, UpdateCard};
use crate::billing::{CodeQuote, PlanOffer};
use crate::components::action_result::on_action;
use crate::components::card_form::{CardDetails, CardForm, CardFormState};
use crate::components::field::TextField;
use crate::error::AppError;
use crate::pages::account::lab::controls::LabStatus;
use crate::pages::account::workspace::use_org_slug;
use crate::wallet::format_credits;
use leptos::prelude::*;

#[component]
pub fn SubscribeForm(
    plan: PlanOffer,
    yearly: bool,
    chosen: RwSignal<Option<PlanOffer>>,
    reloads: RwSignal<u32>,
) -> impl IntoView {
    let org = use_org_slug();
    let subscribe = ServerAction::<Subscribe>::new();
    let lab_status = use_context::<LabStatus>();
    let form = CardForm::new("card-frame");
    let card_error = RwSignal::new(None::<String>);
    let form_error = RwSignal::new(None::<String>);
    let working = RwSignal::new(false);
    let interval = if yearly { "year" } else { "month" };
    let price = if yearly {
        plan.yearly_price.clone().unwrap_or_default()
    } else {
        plan.monthly_price.clone()
    };
    on_action(
        subscribe,
        move |_| {
            working.set(false);
            // The Lab's hours follow the plan: its compute line is read again.
            if let Some(lab) = lab_status {
                lab.refresh();
            }
            chosen.set(None);
            reloads.update(|n| *n += 1);
        },
        move |e: AppError| {
            working.set(false);
            match e.field_message("card") {
                Some(message) => card_error.set(Some(message)),
                None => form_error.set(Some(e.to_string())),
            }
        },
    );
    // An optional promotion code, checked when applied and again when subscribing.
    let show_code = RwSignal::new(false);
    let code = RwSignal::new(String::new());
    let code_error = RwSignal::new(None::<String>);
    let applied = RwSignal::new(None::<CodeQuote>);
    let quote = ServerAction::<QuoteSubscriptionCode>::new();
    on_action(
        quote,
        move |quoted| {
            code_error.set(None);
            applied.set(Some(quoted));
        },
        move |e: AppError| {
            code_error.set(Some(
                e.field_message("promo_code")
                    .unwrap_or_else(|| e.to_string()),
            ))
        },
    );
    let plan_for_code = plan.id.clone();
    let apply_code = move |_: ()| {
        code_error.set(None);
        quote.dispatch(QuoteSubscriptionCode {
            org: org.get_untracked(),
            plan: plan_for_code.clone(),
            interval: interval.to_string(),
            code: code.get_untracked(),
        });
    };
    let no_card_needed =
        Signal::derive(move || applied.with(|a| a.as_ref().is_some_and(|q| q.pays_every_invoice)));
    let plan_id = plan.id.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if working.get_untracked() {
            return;
        }
        card_error.set(None);
        form_error.set(None);
        working.set(true);
        let plan_id = plan_id.clone();
        let free = no_card_needed.get_untracked();
        leptos::task::spawn_local(async move {
            let card_token = if free {
                Ok(String::new())
            } else {
                form.card_token().await
            };
            match card_token {
                Ok(card_token) => {
                    subscribe.dispatch(Subscribe {
                        org: org.get_untracked(),
                        plan: plan_id,
                        interval: interval.to_string(),
                        card_token,
                        promo_code: applied.get_untracked().map(|quoted| quoted.code),
                    });
                }
                Err(message) => {
                    card_error.set(Some(message));
                    working.set(false);
                }
            }
        });
    };
    let summary = format!(
        "{price} each {interval}, charged now and at each renewal until you cancel. {} credits are included each period and expire at its end.",
        format_credits(plan.included_credits)
    );
    view! {
        <form class="subscribe-form" aria-labelledby="subscribe-heading" on:submit=on_submit>
            <h3 id="subscribe-heading">{format!("Subscribe to {}", plan.name)}</h3>
            <p>{summary}</p>
            {move || match applied.get() {
                Some(quoted) => view! {
                    <p class="discount-line">
                        {format!("Promotion code {} ({}): {} off the first invoice, which is {}.", quoted.code, quoted.label, quoted.discount, quoted.first_invoice)}
                        " "
                        <button type="button" class="button button-small button-ghost"
                            aria-label=format!("Remove promotion code {}", quoted.code)
                            on:click=move |_| applied.set(None)>"Remove"</button>
                    </p>
                }.into_any(),
                None if show_code.get() => view! {
                    // Enter applies the code rather than subscribing.
                    <div class="promo-form" on:keydown={
                        let apply_code = apply_code.clone();
                        move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" {
                            ev.prevent_default();
                            apply_code(());
                        }
                    }>
                        <TextField label="Promotion code" name="code" value=code
                            error=Signal::derive(move || code_error.get()) max_chars=32 autofocus=true
                            autocomplete="off" />
                        <button type="button" class="button" disabled=move || quote.pending().get() on:click={
                            let apply_code = apply_code.clone();
                            move |_| apply_code(())
                        }>"Apply"</button>
                    </div>
                }.into_any(),
                None => view! {
                    <button type="button" class="button button-ghost add-code" on:click=move |_| show_code.set(true)>
                        "Add promotion code"
                    </button>
                }.into_any(),
            }}
            <Show when=move || !no_card_needed.get()
                fallback=|| view! { <p class="muted">"The code pays every invoice: no card is needed."</p> }>
                <CardDetails form=Some(form) error=card_error />
            </Show>
            {move || form_error.get().map(|message| view! { <p class="field-error" role="alert">{message}</p> })}
            <div class="actions">
                <button class="button button-primary" type="submit"
                    disabled=move || working.get() || (!no_card_needed.get() && form.state.with(|s| *s != CardFormState::Ready))>
                    {move || match (working.get(), applied.get()) {
                        (true, _) => "Subscribing…".to_string(),
                        (false, Some(quoted)) => format!("Subscribe for {}", quoted.first_invoice),
                        (false, None) => format!("Subscribe for {price}"),
                    }}
                </button>
                <button class="button" type="button" on:click=move |_| chosen.set(None)>"Cancel"</button>
            </div>
        </form>
    }
}

#[component]
pub fn UpdateCardForm(open: RwSignal<bool>, reloads: RwSignal<u32>) -> impl IntoView {
    let org = use_org_slug();
    let update = ServerAction::<UpdateCard>::new();
    let form = CardForm::new("card-frame");
    let card_error = RwSignal::new(None::<String>);
    let working = RwSignal::new(false);
    on_action(
        update,
        move |_| {
            working.set(false);
            open.set(false);
            reloads.update(|n| *n += 1);
        },
        move |e: AppError| {
            working.set(false);
            card_error.set(Some(
                e.field_message("card").unwrap_or_else(|| e.to_string()),
            ));
        },
    );
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if working.get_untracked() {
            return;
        }
        card_error.set(None);
        working.set(true);
        leptos::task::spawn_local(async move {
            match form.card_token().await {
                Ok(card_token) => {
                    update.dispatch(UpdateCard {
                        org: org.get_untracked(),
                        card_token,
                    });
                }
                Err(message) => {
                    card_error.set(Some(message));
                    working.set(false);
                }
            }
        });
    };
    view! {
        <form class="subscribe-form" aria-labelledby="update-card-heading" on:submit=on_submit>
            <h3 id="update-card-heading">"Update card"</h3>
            <p>"Renewals are paid with this card from now on; nothing is charged now."</p>
            <CardDetails form=Some(form) error=card_error />
            <div class="actions">
                <button class="button button-primary" type="submit"
                    disabled=move || working.get() || form.state.with(|s| *s != CardFormState::Ready)>
                    {move || if working.get() { "Saving…" } else { "Save card" }}
                </button>
                <button class="button" type="button" on:click=move |_| open.set(false)>"Cancel"</button>
            </div>
        </form>
    }
}
