//! The expanded row's spending limit: what the key charged this month against its
//! limit, and a form to set, change or remove the limit.

use super::ui::use_keys_ui;
use crate::components::action_result::on_action;
use crate::components::kept::keep_typed;
use crate::keys::api::SetKeySpendLimit;
use crate::wallet::format_credits;
use leptos::prelude::*;

#[component]
pub fn SpendingLimit(id: String, name: String, limit: Option<i64>, spent: i64) -> impl IntoView {
    let ui = use_keys_ui();
    let save = ServerAction::<SetKeySpendLimit>::new();
    let value = RwSignal::new(limit.map(|l| l.to_string()).unwrap_or_default());
    let error = RwSignal::new(None::<String>);
    on_action(
        save,
        move |key| {
            error.set(None);
            ui.toasts.success(match key.monthly_spend_limit {
                Some(limit) => format!(
                    "\"{}\" may now charge {} credits a month",
                    key.name,
                    format_credits(limit)
                ),
                None => format!("\"{}\" has no monthly limit now", key.name),
            });
            ui.reload();
        },
        move |e| {
            error.set(Some(
                e.field_message("monthly_spend_limit")
                    .unwrap_or_else(|| e.to_string()),
            ))
        },
    );
    let field_id = format!("spend-limit-{id}");
    let message_id = format!("{field_id}-message");
    let error_id = message_id.clone();
    let summary = match limit {
        Some(limit) => format!(
            "{} of {} credits charged this month",
            format_credits(spent),
            format_credits(limit)
        ),
        None => format!(
            "{} credits charged this month; no monthly limit",
            format_credits(spent)
        ),
    };
    let (save_id, remove_id) = (id.clone(), id);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if !save.pending().get_untracked() {
            save.dispatch(SetKeySpendLimit {
                org: ui.org.get_untracked(),
                id: save_id.clone(),
                limit: value.get_untracked(),
            });
        }
    };
    view! {
        <h3 class="subheading">"Spending limit"</h3>
        <p class="spend-summary">{summary.clone()}</p>
        {limit.map(|limit| view! {
            <progress class="spend-meter" max=limit value=spent.min(limit)
                aria-label=format!("Credits charged with \"{name}\" this month")></progress>
        })}
        <form class="spend-form" on:submit=on_submit novalidate hidden=move || !ui.can_manage.get()>
            <div class="field" class:field-invalid=move || error.get().is_some()>
                <label for=field_id.clone()>"Monthly limit (credits)"</label>
                <input id=field_id type="text" inputmode="numeric" autocomplete="off" maxlength=16
                    placeholder="No limit"
                    use:keep_typed=value
                    prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))
                    aria-invalid=move || error.get().is_some().to_string()
                    aria-describedby=move || if error.get().is_some() { message_id.clone() } else { String::new() } />
                {move || error.get().map(|m| view! { <p class="field-error" id=error_id.clone()>{m}</p> })}
            </div>
            <button type="submit" class="button button-small" disabled=move || save.pending().get()>"Save limit"</button>
            {limit.is_some().then(|| view! {
                <button type="button" class="button button-small button-ghost" disabled=move || save.pending().get()
                    on:click=move |_| { save.dispatch(SetKeySpendLimit { org: ui.org.get_untracked(), id: remove_id.clone(), limit: String::new() }); }>
                    "Remove limit"
                </button>
            })}
        </form>
        <p class="muted">"A charge that would pass the limit is refused with key_spending_limit, even when the wallet could pay. The month is the calendar month in UTC."</p>
    }
}
