//! `/forgot-password`: asks for a reset link. The answer is the same whether or not an
//! account uses the address.

use super::auth_card::AuthCard;
use crate::auth::api::RequestPasswordReset;
use crate::components::action_result::form_level_message;
use crate::components::field::EmailField;
use leptos::prelude::*;
use leptos::web_sys::SubmitEvent;
use leptos_meta::Title;

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let email = RwSignal::new(String::new());
    let action = ServerAction::<RequestPasswordReset>::new();
    let error = move || action.value().get().and_then(Result::err);
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if !action.pending().get_untracked() {
            action.dispatch(RequestPasswordReset {
                email: email.get_untracked().trim().to_string(),
            });
        }
    };
    view! {
        <Title text="Reset your password" />
        <AuthCard heading="Reset your password" subheading="Enter the verified email address of your account and we will send you a link.">
            {move || match action.value().get() {
                Some(Ok(())) => view! {
                    <div class="banner banner-success" role="status">
                        {format!("If a verified account uses {}, a link to reset its password is on its way. It works for 30 minutes.", email.get_untracked())}
                    </div>
                    <p class="auth-footer"><a href="/sign-in">"Back to sign in"</a></p>
                }.into_any(),
                _ => view! {
                    <form on:submit=on_submit novalidate>
                        {move || form_level_message(error()).map(|m| view! { <div class="banner banner-danger" role="alert">{m}</div> })}
                        <EmailField value=email error=Signal::derive(move || error().and_then(|e| e.field_message("email"))) />
                        <button type="submit" class="button button-primary button-block" disabled=move || action.pending().get()>
                            {move || if action.pending().get() { "Sending…" } else { "Send reset link" }}
                        </button>
                    </form>
                    <p class="auth-footer"><a href="/sign-in">"Back to sign in"</a></p>
                }.into_any(),
            }}
        </AuthCard>
    }
}
