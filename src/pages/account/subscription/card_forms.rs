//! The subscription page's two card forms: subscribing to a plan, and replacing the card
//! renewals are paid with. Both take the card in the provider's framed card form.

use crate::billing::api::{Subscribe, UpdateCard};
use crate::billing::PlanOffer;
use crate::components::action_result::on_action;
use crate::components::card_form::{CardDetails, CardForm, CardFormState};
use crate::error::AppError;
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
        leptos::task::spawn_local(async move {
            match form.card_token().await {
                Ok(card_token) => {
                    subscribe.dispatch(Subscribe {
                        org: org.get_untracked(),
                        plan: plan_id,
                        interval: interval.to_string(),
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
    let summary = format!(
        "{price} each {interval}, charged now and at each renewal until you cancel. {} credits are included each period and expire at its end.",
        format_credits(plan.included_credits)
    );
    view! {
        <form class="subscribe-form" aria-labelledby="subscribe-heading" on:submit=on_submit>
            <h3 id="subscribe-heading">{format!("Subscribe to {}", plan.name)}</h3>
            <p>{summary}</p>
            <CardDetails form=Some(form) error=card_error />
            {move || form_error.get().map(|message| view! { <p class="field-error" role="alert">{message}</p> })}
            <div class="actions">
                <button class="button button-primary" type="submit"
                    disabled=move || working.get() || form.state.with(|s| *s != CardFormState::Ready)>
                    {move || if working.get() { "Subscribing…".to_string() } else { format!("Subscribe for {price}") }}
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
