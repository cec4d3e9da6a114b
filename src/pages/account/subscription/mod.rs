//! Account > Subscription (and an organization's): the plan, its status and renewal,
//! the card on file, the plans side by side to subscribe to, cancel and resume, and
//! the invoices.

mod card_forms;
mod change_form;
pub mod checkout;
mod invoices;

use super::workspace::{use_org_slug, workspace_href};
use crate::billing::api::{subscription_overview, CancelSubscription, ResumeSubscription};
use crate::billing::{PlanOffer, SubscriptionPage as Overview, CANCEL_REASONS};
use crate::components::action_result::on_action;
use crate::error::AppError;
use crate::infra::wire::load;
use crate::time_fmt;
use crate::wallet::format_credits;
use card_forms::UpdateCardForm;
use change_form::ChangePlanPanel;
use invoices::{invoices_table, NO_INVOICES};
use leptos::prelude::*;
use leptos_meta::Title;

fn status_badge(status: &str, cancels: bool) -> AnyView {
    let (class, label) = match (status, cancels) {
        (_, true) => ("badge badge-warning", "Cancels at period end"),
        ("active", _) | ("trialing", _) => ("badge badge-active", "Active"),
        ("past_due", _) => ("badge badge-expired", "Past due"),
        _ => ("badge badge-inactive", "Ended"),
    };
    view! { <span class=class>{label}</span> }.into_any()
}

/// What a plan card lists: the plan's own feature list, or (without one) what it
/// includes.
fn features(plan: &PlanOffer) -> Vec<String> {
    if !plan.features.is_empty() {
        return plan.features.clone();
    }
    vec![
        format!(
            "{} credits included each period",
            format_credits(plan.included_credits)
        ),
        format!(
            "{} Lab compute hours a month",
            format_credits(plan.lab_hours)
        ),
    ]
}

#[component]
pub fn SubscriptionPage() -> impl IntoView {
    let org = use_org_slug();
    let reloads = RwSignal::new(0u32);
    let overview = load(
        move || (org.get(), reloads.get()),
        |(org, _)| subscription_overview(org),
    );
    view! {
        <Title text="Subscription" />
        <header class="page-header">
            <div>
                <h1>"Subscription"</h1>
                <p class="muted">{move || match org.get() {
                    Some(_) => "The organization's plan: its included credits go to the organization's wallet. Owners and Admins change it.",
                    None => "Your plan decides the credits included each period and your Lab's compute hours.",
                }}</p>
            </div>
        </header>
        <Suspense fallback=|| view! { <div class="card skeleton" aria-busy="true">"Loading your subscription…"</div> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(page) => view! { <SubscriptionBody page reloads /> }.into_any(),
                    Err(error) => view! { <p class="field-error" role="alert">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SubscriptionBody(page: Overview, reloads: RwSignal<u32>) -> impl IntoView {
    let org = use_org_slug();
    let current = page.current.clone();
    let subscribed = current.status.is_some();
    let yearly = RwSignal::new(false);
    let reload = move || reloads.update(|n| *n += 1);
    let manage_error = RwSignal::new(None::<String>);
    let cancel = ServerAction::<CancelSubscription>::new();
    let resume = ServerAction::<ResumeSubscription>::new();
    let reason = RwSignal::new(String::new());
    let updating_card = RwSignal::new(false);
    on_action(
        cancel,
        move |_| reload(),
        move |e: AppError| manage_error.set(Some(e.to_string())),
    );
    on_action(
        resume,
        move |_| reload(),
        move |e: AppError| manage_error.set(Some(e.to_string())),
    );
    let period_end = current.current_period_end.map(time_fmt::date);
    let price = current.price.clone().map(|price| {
        format!(
            "{price} per {}",
            current.interval.clone().unwrap_or_default()
        )
    });
    let renewal = match (
        &period_end,
        current.cancel_at_period_end,
        &current.changes_to,
    ) {
        (Some(date), true, _) => {
            format!("Your plan ends on {date}; after that you are on the Free plan.")
        }
        (Some(_), false, Some((name, when))) => format!(
            "On {} your plan changes to {name}, at {}.",
            time_fmt::date(*when),
            price.clone().unwrap_or_default()
        ),
        (Some(date), false, None) => format!("Renews on {date}."),
        (None, _, _) => String::new(),
    };
    // While a downgrade waits, the price billed is the next plan's: said in `renewal`.
    let price = price.filter(|_| current.changes_to.is_none());
    let asked = RwSignal::new(None::<(String, String)>);
    let navigate = leptos_router::hooks::use_navigate();
    let changeable = subscribed
        && !current.cancel_at_period_end
        && current.status.as_deref() != Some("past_due");
    let waiting = current.changes_to.is_some();
    let current_yearly = current.interval.as_deref() == Some("year");
    let past_due = current.status.as_deref() == Some("past_due");
    let can_change = page.available && page.can_manage;
    view! {
        {past_due.then(|| view! {
            <div class="banner banner-danger" role="alert">
                <strong>"Your last payment failed. "</strong>
                "The payment provider is trying your card again; update it below so your plan does not end."
            </div>
        })}
        {(!page.available).then(|| view! {
            <div class="banner banner-warning" role="status">
                "Subscriptions are not set up on this server. An operator can still give you a plan."
            </div>
        })}
        <section class="card" aria-labelledby="current-plan-heading">
            <div class="card-title-row">
                <h2 id="current-plan-heading">{format!("{} plan", current.plan_name)}</h2>
                {match current.status.as_deref() {
                    Some(status) => status_badge(status, current.cancel_at_period_end),
                    None if current.source == "complimentary" => view! { <span class="badge badge-plain">"Complimentary"</span> }.into_any(),
                    None => view! { <span class="badge badge-plain">"Free"</span> }.into_any(),
                }}
            </div>
            {price.map(|price| view! { <p class="stat-value">{price}</p> })}
            {(!renewal.is_empty()).then(|| view! { <p>{renewal.clone()}</p> })}
            {page.next_invoice.clone().map(|(date, amount)| view! {
                <p class="muted">{format!("Next invoice: {amount} on {}", time_fmt::date(date))}</p>
            })}
            {(current.source == "free").then(|| view! {
                <p class="muted">"Nothing is charged. Choose a plan below for credits included each period and more Lab hours."</p>
            })}
            {(current.source == "complimentary").then(|| view! {
                <p class="muted">"An operator gave you this plan; nothing is charged for it."</p>
            })}
            {page.card.clone().map(|card| view! {
                <p class="muted">{format!("Card on file: {} ending in {}, expires {:02}/{}", card.brand, card.last4, card.exp_month, card.exp_year)}</p>
            })}
            {(subscribed && can_change).then(|| view! {
                {move || (!updating_card.get()).then(|| view! {
                    <div class="actions"><button class="button" type="button" on:click=move |_| updating_card.set(true)>"Update card"</button></div>
                })}
                {move || updating_card.get().then(|| view! { <UpdateCardForm open=updating_card reloads /> })}
            })}
            {(subscribed && can_change).then(|| {
                if current.cancel_at_period_end {
                    view! {
                        <div class="actions">
                            <button class="button" type="button" disabled=move || resume.pending().get()
                                on:click=move |_| { manage_error.set(None); resume.dispatch(ResumeSubscription { org: org.get_untracked() }); }>
                                "Resume subscription"
                            </button>
                        </div>
                    }.into_any()
                } else {
                    view! {
                        <form class="inline-form" on:submit=move |ev| {
                            ev.prevent_default();
                            manage_error.set(None);
                            cancel.dispatch(CancelSubscription { org: org.get_untracked(), reason: reason.get_untracked() });
                        }>
                            <div class="field">
                                <label for="cancel-reason">"Why are you cancelling? (optional)"</label>
                                <select id="cancel-reason" on:change=move |ev| reason.set(event_target_value(&ev))>
                                    <option value="">"Choose a reason"</option>
                                    {CANCEL_REASONS.iter().map(|(id, label)| view! { <option value=*id>{*label}</option> }).collect_view()}
                                </select>
                            </div>
                            <button class="button button-danger" type="submit" disabled=move || cancel.pending().get()>
                                "Cancel at period end"
                            </button>
                        </form>
                    }.into_any()
                }
            })}
            {move || manage_error.get().map(|message| view! { <p class="field-error" role="alert">{message}</p> })}
        </section>
        <section class="card" aria-labelledby="plans-heading">
            <div class="card-title-row">
                <h2 id="plans-heading">"Plans"</h2>
                <div class="segmented" role="radiogroup" aria-label="Billing period">
                    <label><input type="radio" name="billing-period" checked=move || !yearly.get()
                        on:change=move |_| yearly.set(false) />"Monthly"</label>
                    <label><input type="radio" name="billing-period" checked=move || yearly.get()
                        on:change=move |_| yearly.set(true) />"Yearly"</label>
                </div>
            </div>
            <div class="plan-grid">
                {page.plans.clone().into_iter().map(|plan| {
                    let on_plan = plan.id == current.plan;
                    let yearly_price = plan.yearly_price.clone();
                    let monthly_price = plan.monthly_price.clone();
                    let price = move || match (yearly.get(), &yearly_price) {
                        (true, Some(price)) => format!("{price} / year"),
                        (true, None) => format!("{monthly_price} / month (no yearly price)"),
                        (false, _) => format!("{monthly_price} / month"),
                    };
                    let no_yearly = plan.yearly_price.is_none();
                    let free = plan.free;
                    // No button on the free plan or on what is paid for now; the plan paid
                    // for offers the other interval, or keeping it while a downgrade waits.
                    let shows_button = move || {
                        !free && (!on_plan || (subscribed && waiting == (yearly.get() == current_yearly)))
                    };
                    let disabled = move || {
                        !can_change || (yearly.get() && no_yearly)
                            || (subscribed && (!changeable || (waiting && !on_plan)))
                    };
                    let name = plan.name.clone();
                    let label = move || match (subscribed, on_plan, waiting, yearly.get()) {
                        (false, ..) => format!("Choose {name}"),
                        (true, true, true, _) => format!("Keep {name}"),
                        (true, true, false, true) => "Switch to yearly".to_string(),
                        (true, true, false, false) => "Switch to monthly".to_string(),
                        _ => format!("Change to {name}"),
                    };
                    let plan_id = plan.id.clone();
                    let navigate = navigate.clone();
                    let pick = move || {
                        let interval = if yearly.get_untracked() { "year" } else { "month" };
                        if subscribed {
                            asked.set(Some((plan_id.clone(), interval.to_string())));
                        } else {
                            // Subscribing is an order, at checkout.
                            let page = format!("subscription/checkout/{plan_id}?interval={interval}");
                            navigate(&workspace_href(org.get_untracked().as_deref(), &page), Default::default());
                        }
                    };
                    view! {
                        <article class="card plan" class:plan-current=on_plan aria-label=format!("{} plan", plan.name)>
                            <h3>{plan.name.clone()}{on_plan.then(|| view! { " " <span class="badge badge-active">"Current"</span> })}</h3>
                            <p class="stat-value">{price}</p>
                            <ul class="plan-features">
                                {features(&plan).into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}
                            </ul>
                            {move || shows_button().then(|| {
                                let pick = pick.clone();
                                view! {
                                    <button class="button button-primary" type="button" disabled=disabled
                                        on:click=move |_| pick()>{label.clone()}</button>
                                }
                            })}
                        </article>
                    }
                }).collect_view()}
            </div>
            {(subscribed && can_change).then(|| view! {
                <p class="muted">"An upgrade takes effect at once, charged for the rest of the period; a cheaper plan takes effect when the period ends."</p>
            })}
            <ChangePlanPanel asked current_plan=current.plan_name.clone() reloads />
        </section>
        <section class="card" aria-labelledby="invoices-heading">
            <h2 id="invoices-heading">"Invoices"</h2>
            {if page.invoices.is_empty() {
                NO_INVOICES.in_card()
            } else {
                invoices_table(page.invoices.clone(), org.get_untracked()).into_any()
            }}
        </section>
    }
}
