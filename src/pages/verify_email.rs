//! `/verify-email?token=…`: the link from the verification email. A button, not the
//! visit itself, uses the link, so mail scanners that follow links change nothing.

use super::auth_card::AuthCard;
use crate::auth::api::VerifyEmail;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let action = ServerAction::<VerifyEmail>::new();
    view! {
        <Title text="Verify your email address" />
        <AuthCard heading="Verify your email address" subheading="Confirm that you receive mail at this address, so you can reset a forgotten password.">
            {move || match action.value().get() {
                Some(Ok(())) => view! {
                    <div class="banner banner-success" role="status">"Your email address is verified."</div>
                    <a class="button button-primary button-block" href="/account">"Go to your account"</a>
                }.into_any(),
                other => {
                    let error = other.and_then(Result::err).map(|e| e.to_string());
                    view! {
                        {error.map(|m| view! { <div class="banner banner-danger" role="alert">{m}</div> })}
                        <button
                            type="button"
                            class="button button-primary button-block"
                            disabled=move || action.pending().get()
                            on:click=move |_| { action.dispatch(VerifyEmail { token: token() }); }
                        >
                            {move || if action.pending().get() { "Verifying…" } else { "Verify email address" }}
                        </button>
                    }.into_any()
                }
            }}
        </AuthCard>
    }
}
