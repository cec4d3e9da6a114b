//! `/reset-password?token=…`: choose a new password from the emailed link.

use super::auth_card::AuthCard;
use crate::auth::api::ResetPassword;
use crate::components::action_result::form_level_message;
use crate::components::field::PasswordField;
use crate::error::AppError;
use leptos::prelude::*;
use leptos::web_sys::SubmitEvent;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let password = RwSignal::new(String::new());
    let action = ServerAction::<ResetPassword>::new();
    let error = move || action.value().get().and_then(Result::err);
    // The link's own problem (expired, used) belongs at the top, not beside the field.
    let top_message = move || match error() {
        Some(e @ AppError::Validation(_)) => e.field_message("token"),
        other => form_level_message(other),
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if !action.pending().get_untracked() {
            action.dispatch(ResetPassword {
                token: query.read_untracked().get("token").unwrap_or_default(),
                password: password.get_untracked(),
            });
        }
    };
    view! {
        <Title text="Choose a new password" />
        <AuthCard heading="Choose a new password" subheading="Every session of your account is signed out when the password changes.">
            {move || match action.value().get() {
                Some(Ok(())) => view! {
                    <div class="banner banner-success" role="status">"Your password was changed and every session was signed out."</div>
                    <a class="button button-primary button-block" href="/sign-in">"Sign in"</a>
                }.into_any(),
                _ => view! {
                    <form on:submit=on_submit novalidate>
                        {move || top_message().map(|m| view! { <div class="banner banner-danger" role="alert">{m}</div> })}
                        <PasswordField
                            label="New password"
                            value=password
                            error=Signal::derive(move || error().and_then(|e| e.field_message("password")))
                            autocomplete="new-password"
                            hint="At least 12 characters. A passphrase of a few words works well."
                        />
                        <button type="submit" class="button button-primary button-block" disabled=move || action.pending().get()>
                            {move || if action.pending().get() { "Saving…" } else { "Set new password" }}
                        </button>
                    </form>
                }.into_any(),
            }}
        </AuthCard>
    }
}
