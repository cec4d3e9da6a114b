//! Changing plan from the subscription page: what the change does is worked out first
//! (the amount charged now for an upgrade, the date a downgrade takes effect), and the
//! person confirms exactly that.

use crate::billing::api::{ChangePlan, PreviewPlanChange};
use crate::billing::PlanChangeQuote;
use crate::components::action_result::on_action;
use crate::error::AppError;
use crate::pages::account::lab::controls::LabStatus;
use crate::pages::account::workspace::use_org_slug;
use crate::time_fmt;
use crate::wallet::format_credits;
use leptos::prelude::*;

/// The change a plan card asks for: (plan id, "month" or "year").
pub type Asked = RwSignal<Option<(String, String)>>;

fn interval_word(interval: &str) -> &'static str {
    if interval == "year" {
        "yearly"
    } else {
        "monthly"
    }
}

/// What the quote says, in a sentence or two, and the confirm button's label.
fn explain(quote: &PlanChangeQuote, current_plan: &str) -> (String, String) {
    let date = time_fmt::date(quote.effective_at);
    match quote.kind.as_str() {
        "downgrade" => (
            format!(
                "Your plan changes to {} on {date}. You keep {current_plan} until then, and nothing is charged now. From {date} you pay {}.",
                quote.plan_name, quote.new_price
            ),
            format!("Change to {} on {date}", quote.plan_name),
        ),
        "keep" => (
            format!(
                "You stay on {}: the change waiting for the end of the period is called off. You keep paying {}.",
                quote.plan_name, quote.new_price
            ),
            format!("Keep {}", quote.plan_name),
        ),
        _ => {
            let credits = if quote.credits_now > 0 {
                format!(
                    " {} more included credits arrive at once and expire with the period.",
                    format_credits(quote.credits_now)
                )
            } else {
                String::new()
            };
            (
                format!(
                    "{} takes effect now. {} is charged now to the card on file for the rest of this period, less what is unused of {current_plan}.{credits} Then you pay {}.",
                    quote.plan_name, quote.charge_now, quote.new_price
                ),
                format!("Pay {} and upgrade", quote.charge_now),
            )
        }
    }
}

#[component]
pub fn ChangePlanPanel(
    asked: Asked,
    current_plan: String,
    reloads: RwSignal<u32>,
) -> impl IntoView {
    let org = use_org_slug();
    let preview = ServerAction::<PreviewPlanChange>::new();
    let change = ServerAction::<ChangePlan>::new();
    let lab_status = use_context::<LabStatus>();
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some((plan, interval)) = asked.get() {
            error.set(None);
            preview.dispatch(PreviewPlanChange {
                org: org.get_untracked(),
                plan,
                interval,
            });
        }
    });
    on_action(
        change,
        move |_| {
            asked.set(None);
            // The Lab's hours follow the plan: its compute line is read again.
            if let Some(lab) = lab_status {
                lab.refresh();
            }
            reloads.update(|n| *n += 1);
        },
        move |e: AppError| error.set(Some(e.to_string())),
    );
    let confirm = move |quote: PlanChangeQuote| {
        error.set(None);
        change.dispatch(ChangePlan {
            org: org.get_untracked(),
            plan: quote.plan,
            interval: quote.interval,
            quoted_at: quote.quoted_at,
            charge_minor: quote.charge_now_minor,
        });
    };
    let back = move |_| asked.set(None);
    move || {
        asked.get()?;
        let body = if preview.pending().get() {
            view! { <p class="muted" aria-busy="true">"Working out the change…"</p> }.into_any()
        } else {
            match preview.value().get() {
                None => ().into_any(),
                Some(Err(e)) => view! {
                    <p class="field-error" role="alert">{e.to_string()}</p>
                    <div class="actions"><button class="button" type="button" on:click=back>"Back"</button></div>
                }
                .into_any(),
                Some(Ok(quote)) => {
                    let (text, label) = explain(&quote, &current_plan);
                    let heading = format!("{} ({})", quote.plan_name, interval_word(&quote.interval));
                    view! {
                        <h3 id="change-heading">{heading}</h3>
                        <p>{text}</p>
                        <div class="actions">
                            <button class="button button-primary" type="button" disabled=move || change.pending().get()
                                on:click=move |_| confirm(quote.clone())>{label}</button>
                            <button class="button" type="button" on:click=back>"Back"</button>
                        </div>
                        {move || error.get().map(|message| view! { <p class="field-error" role="alert">{message}</p> })}
                    }
                    .into_any()
                }
            }
        };
        Some(
            view! { <section class="change-plan" aria-label="Change plan" aria-live="polite">{body}</section> },
        )
    }
}
