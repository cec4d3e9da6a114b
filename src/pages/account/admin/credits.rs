//! Admin > Credit grants: add or deduct credits for a person, with a reason.

use crate::admin::api::GrantCredits;
use crate::components::action_result::on_action;
use crate::components::field::{EmailField, TextField};
use crate::components::toast::{ToastRegion, Toasts};
use crate::error::AppError;
use crate::wallet::format_credits;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn CreditGrantsPage() -> impl IntoView {
    let toasts = Toasts::new();
    let grant = ServerAction::<GrantCredits>::new();
    let email = RwSignal::new(String::new());
    let credits = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let error = RwSignal::new(None::<AppError>);
    let pending_id = RwSignal::new(None::<String>);
    on_action(
        grant,
        move |balance| {
            toasts.success(format!(
                "Done. {} now has {} credits.",
                email.get_untracked(),
                format_credits(balance)
            ));
            pending_id.set(None);
            error.set(None);
            credits.set(String::new());
            reason.set(String::new());
        },
        move |e| error.set(Some(e)),
    );
    let field = move |name: &'static str| {
        Signal::derive(move || error.with(|e| e.as_ref().and_then(|e| e.field_message(name))))
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(amount) = credits
            .get_untracked()
            .trim()
            .replace(',', "")
            .parse::<i64>()
        else {
            error.set(Some(AppError::Validation(vec![
                crate::error::FieldError::new(
                    "credits",
                    "Enter a whole number of credits (negative deducts).",
                ),
            ])));
            return;
        };
        let id = pending_id.get_untracked().unwrap_or_else(super::request_id);
        pending_id.set(Some(id.clone()));
        grant.dispatch(GrantCredits {
            email: email.get_untracked(),
            credits: amount,
            reason: reason.get_untracked(),
            request_id: id,
        });
    };
    view! {
        <Title text="Credit grants" />
        <header class="page-header">
            <div>
                <h1>"Credit grants"</h1>
                <p class="muted">"Add credits to a person's wallet, or deduct them with a negative number. The reason is shown in their transactions."</p>
            </div>
        </header>
        <section class="card narrow-form" aria-label="Grant credits">
            <form on:submit=on_submit novalidate>
                <EmailField value=email error=field("email") />
                <TextField label="Credits" name="credits" value=credits error=field("credits")
                    hint="For example 500, or -200 to deduct." max_chars=14 />
                <TextField label="Reason" name="reason" value=reason error=field("reason")
                    hint="Shown to the person, e.g. \"Refund for the outage on May 3\"." max_chars=200 />
                {move || error.with(|e| e.as_ref().and_then(|e| e.field_message("form")).map(|m| view! { <p class="field-error" role="alert">{m}</p> }))}
                {move || error.with(|e| match e {
                    Some(AppError::Validation(_)) | None => None,
                    Some(other) => Some(view! { <p class="field-error" role="alert">{other.to_string()}</p> }),
                })}
                <button type="submit" class="button button-primary" disabled=move || grant.pending().get()>"Grant credits"</button>
            </form>
        </section>
        <ToastRegion toasts />
    }
}
