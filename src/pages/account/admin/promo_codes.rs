//! Admin > Promo codes: create codes, see how often they were redeemed, deactivate them.

use crate::admin::api::{list_promo_codes, CreatePromoCode, DeactivatePromoCode, PromoCodes};
use crate::components::action_result::{on_action_result, on_action_toast};
use crate::components::data_table::{Column, DataTable, Empty, Listing};
use crate::components::field::TextField;
use crate::components::kept::keep_chosen;
use crate::components::toast::{ToastRegion, Toasts};
use crate::error::{AppError, FieldError};
use crate::infra::wire::load;
use crate::time_fmt;
use crate::wallet::{example_money, format_money, parse_money, NewPromo, PromoCodeInfo};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn PromoCodesPage() -> impl IntoView {
    let toasts = Toasts::new();
    let create = ServerAction::<CreatePromoCode>::new();
    let deactivate = ServerAction::<DeactivatePromoCode>::new();
    on_action_toast(deactivate, toasts, move |()| {
        toasts.success("Code deactivated")
    });
    // Read again after each creation or deactivation.
    let codes = load(
        move || (create.version().get(), deactivate.version().get()),
        |_| list_promo_codes(),
    );
    // Read when a code is created, never while rendering.
    let currency = Signal::derive(move || {
        codes
            .get()
            .and_then(Result::ok)
            .map(|p| p.currency)
            .unwrap_or_default()
    });
    view! {
        <Title text="Promo codes" />
        <header class="page-header">
            <div>
                <h1>"Promo codes"</h1>
                <p class="muted">"Codes people enter at checkout for a percentage or a fixed amount off."</p>
            </div>
        </header>
        <CreateForm toasts create currency />
        <section aria-labelledby="codes-heading" class="transactions">
            <h2 id="codes-heading">"Codes"</h2>
            <Listing resource=codes loading="Loading codes…"
                is_empty=|page: &PromoCodes| page.codes.is_empty() empty=NO_CODES
                show=move |page: PromoCodes| code_table(page.codes, deactivate) />
        </section>
        <ToastRegion toasts />
    }
}

#[component]
fn CreateForm(
    toasts: Toasts,
    create: ServerAction<CreatePromoCode>,
    currency: Signal<String>,
) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let percent = RwSignal::new(true);
    let kind_chosen = Callback::new(move |kind: String| percent.set(kind == "percent"));
    let value = RwSignal::new(String::new());
    let expires = RwSignal::new(String::new());
    let max = RwSignal::new(String::new());
    let min = RwSignal::new(String::new());
    let once = RwSignal::new(true);
    let first_only = RwSignal::new(false);
    let note = RwSignal::new(String::new());
    let applies_to = RwSignal::new("both".to_string());
    let duration = RwSignal::new("once".to_string());
    let months = RwSignal::new(String::new());
    let plans = RwSignal::new(String::new());
    let error = RwSignal::new(None::<AppError>);
    on_action_result(create, error, move |created| {
        toasts.success(format!("Created {} ({})", created.code, created.discount));
        for field in [code, value, expires, max, min, note, months, plans] {
            field.set(String::new());
        }
    });
    let field = move |name: &'static str| {
        Signal::derive(move || error.with(|e| e.as_ref().and_then(|e| e.field_message(name))))
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut problems = Vec::new();
        let currency = currency.get_untracked();
        let example = example_money(&currency);
        let number = |text: String, name: &str, message: &str, problems: &mut Vec<FieldError>| {
            let text = text.trim().to_string();
            if text.is_empty() {
                return None;
            }
            let parsed = if name == "min_purchase" || name == "amount_off" {
                parse_money(&text, &currency)
            } else {
                text.parse::<i64>().ok()
            };
            if parsed.is_none() {
                problems.push(FieldError::new(name, message));
            }
            parsed
        };
        let amount = if percent.get_untracked() {
            number(
                value.get_untracked(),
                "percent_off",
                "Enter a whole number from 1 to 100.",
                &mut problems,
            )
        } else {
            number(
                value.get_untracked(),
                "amount_off",
                &format!("Enter an amount such as {example}."),
                &mut problems,
            )
        };
        let expires_at = match expires.get_untracked().trim() {
            "" => None,
            text => {
                let at = time_fmt::end_of_iso_date(text);
                if at.is_none() {
                    problems.push(FieldError::new("expires_at", "Pick a date."));
                }
                at
            }
        };
        let max_redemptions = number(
            max.get_untracked(),
            "max_redemptions",
            "Enter a whole number, or leave it empty.",
            &mut problems,
        );
        let min_purchase_minor = number(
            min.get_untracked(),
            "min_purchase",
            &format!("Enter an amount such as {example}, or leave it empty."),
            &mut problems,
        );
        let duration_months = number(
            months.get_untracked(),
            "duration_months",
            "Enter a whole number of months.",
            &mut problems,
        );
        if !problems.is_empty() {
            error.set(Some(AppError::Validation(problems)));
            return;
        }
        let promo = NewPromo {
            code: code.get_untracked(),
            percent_off: if percent.get_untracked() {
                amount.or(Some(0))
            } else {
                None
            },
            amount_off_minor: if percent.get_untracked() {
                None
            } else {
                amount.or(Some(0))
            },
            expires_at,
            max_redemptions,
            once_per_user: once.get_untracked(),
            min_purchase_minor,
            first_purchase_only: first_only.get_untracked(),
            note: Some(note.get_untracked()),
            applies_to: applies_to.get_untracked(),
            plans: plans.get_untracked(),
            duration: duration.get_untracked(),
            duration_months,
        };
        create.dispatch(CreatePromoCode { promo });
    };
    let discount_error = Signal::derive(move || {
        error.with(|e| {
            e.as_ref().and_then(|e| {
                e.field_message("percent_off")
                    .or_else(|| e.field_message("amount_off"))
                    .or_else(|| e.field_message("discount"))
            })
        })
    });
    view! {
        <section class="card" aria-labelledby="new-code-heading">
            <h2 id="new-code-heading">"New promo code"</h2>
            <form class="promo-create" on:submit=on_submit novalidate>
                <div class="form-grid">
                    <TextField label="Code" name="code" value=code error=field("code")
                        hint="Letters, digits, '-' or '_'; people may type it in any case." max_chars=32 autocomplete="off" />
                    <fieldset class="discount-kind">
                        <legend>"Discount"</legend>
                        <div class="radio-row">
                            <label class="choice">
                                <input type="radio" name="discount-kind" value="percent" use:keep_chosen=kind_chosen prop:checked=move || percent.get() on:change=move |_| percent.set(true) />
                                "Percentage"
                            </label>
                            <label class="choice">
                                <input type="radio" name="discount-kind" value="amount" use:keep_chosen=kind_chosen prop:checked=move || !percent.get() on:change=move |_| percent.set(false) />
                                "Fixed amount"
                            </label>
                        </div>
                    </fieldset>
                    <TextField label="Amount off" name="discount-value" value=value error=discount_error
                        hint="A percentage (1-100), or an amount of money in the server's currency." max_chars=12 />
                    <TextField label="Expires on" name="expires" kind="date" value=expires error=field("expires_at")
                        hint="Optional. The code works through this day (UTC)." />
                    <TextField label="Redemption limit" name="max" value=max error=field("max_redemptions")
                        hint="Optional. Total uses by everyone." max_chars=9 />
                    <TextField label="Minimum purchase" name="min" value=min error=field("min_purchase")
                        hint="Optional. The least an order must cost for the code to apply." max_chars=12 />
                </div>
                <div class="form-grid">
                    <div class="field">
                        <label for="promo-applies-to">"Applies to"</label>
                        <select id="promo-applies-to" on:change=move |ev| applies_to.set(event_target_value(&ev))>
                            <option value="both" selected>"Credits and subscriptions"</option>
                            <option value="credits">"Credits only"</option>
                            <option value="subscriptions">"Subscriptions only"</option>
                        </select>
                    </div>
                    <div class="field">
                        <label for="promo-duration">"On subscriptions"</label>
                        <select id="promo-duration" on:change=move |ev| duration.set(event_target_value(&ev))>
                            <option value="once" selected>"First invoice only"</option>
                            <option value="repeating">"For a number of months"</option>
                            <option value="forever">"Every invoice"</option>
                        </select>
                        {move || field("duration").get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                    </div>
                    <TextField label="Months" name="months" value=months error=field("duration_months")
                        hint="For a code that lasts a number of months." max_chars=3 />
                    <TextField label="Plans" name="plans" value=plans error=field("plans")
                        hint="Optional. Plan ids, comma-separated (e.g. standard, pro); empty for every plan." max_chars=200 />
                </div>
                <label class="check-row">
                    <input type="checkbox" prop:checked=move || once.get() on:change=move |ev| once.set(event_target_checked(&ev)) />
                    "Once per person"
                </label>
                <label class="check-row">
                    <input type="checkbox" prop:checked=move || first_only.get() on:change=move |ev| first_only.set(event_target_checked(&ev)) />
                    "First purchase only"
                </label>
                <TextField label="Note" name="note" value=note error=field("note")
                    hint="Optional. Only operators see it." max_chars=200 />
                <button type="submit" class="button button-primary" disabled=move || create.pending().get()>"Create code"</button>
            </form>
        </section>
    }
}

const NO_CODES: Empty = Empty {
    title: "No promo codes yet",
    hint: "Create one above; people enter it at checkout.",
};

fn code_table(
    list: Vec<PromoCodeInfo>,
    deactivate: ServerAction<DeactivatePromoCode>,
) -> impl IntoView {
    let now = time_fmt::now_ms();
    let rows = list
        .into_iter()
        .map(|promo| {
            let redeemed = match promo.max_redemptions {
                Some(max) => format!("{} of {max}", promo.redeemed),
                None => format!("{}, no limit", promo.redeemed),
            };
            let mut rules = Vec::new();
            if promo.once_per_user {
                rules.push("once per person".to_string());
            }
            if promo.first_purchase_only {
                rules.push("first purchase only".to_string());
            }
            if let Some(min) = promo.min_purchase_minor {
                rules.push(format!("minimum {}", format_money(min, &promo.currency)));
            }
            if let Some(at) = promo.expires_at {
                rules.push(format!("until {}", time_fmt::date(at - 1)));
            }
            match promo.applies_to.as_str() {
                "credits" => rules.push("credits only".to_string()),
                "subscriptions" => rules.push(format!("subscriptions only, {}", promo.duration)),
                _ => rules.push(format!("subscriptions {}", promo.duration)),
            }
            if !promo.plans.is_empty() {
                rules.push(format!("plans: {}", promo.plans.join(", ")));
            }
            let rules = if rules.is_empty() { "none".to_string() } else { rules.join(", ") };
            let expired = promo.expires_at.is_some_and(|at| at <= now);
            let (status, badge) = match (promo.active, expired) {
                (false, _) => ("Inactive", "badge"),
                (true, true) => ("Expired", "badge badge-expired"),
                (true, false) => ("Active", "badge badge-active"),
            };
            let code = promo.code.clone();
            let action = promo.active.then(|| view! {
                <button type="button" class="button button-small"
                    aria-label=format!("Deactivate {code}")
                    disabled=move || deactivate.pending().get()
                    on:click=move |_| { deactivate.dispatch(DeactivatePromoCode { code: code.clone() }); }>
                    "Deactivate"
                </button>
            });
            vec![
                view! {
                    <code>{promo.code.clone()}</code>
                    {promo.note.clone().map(|n| view! { <span class="muted reference">{n}</span> })}
                }
                .into_any(),
                promo.discount.clone().into_any(),
                redeemed.into_any(),
                rules.into_any(),
                view! { <span class=badge>{status}</span> }.into_any(),
                action.into_any(),
            ]
        })
        .collect();
    let columns = vec![
        Column::primary("Code"),
        Column::text("Discount"),
        Column::text("Redeemed"),
        Column::text("Rules"),
        Column::text("Status"),
        Column::actions(),
    ];
    view! { <DataTable caption="Promo codes" columns rows /> }
}
