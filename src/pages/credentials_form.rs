//! The sign-in and sign-up pages share one form; each page says what it submits.

use super::auth_card::AuthCard;
use crate::components::action_result::form_level_message;
use crate::components::field::{EmailField, PasswordField, TextField};
use crate::error::AppError;
use crate::infra::url::percent_encode;
use leptos::prelude::*;
use leptos::web_sys::SubmitEvent;

/// Email + password form. `submit` receives the trimmed email and the password.
#[component]
pub fn CredentialsForm(
    heading: &'static str,
    subheading: &'static str,
    submit_label: &'static str,
    pending_label: &'static str,
    action_url: &'static str,
    password_autocomplete: &'static str,
    #[prop(optional)] password_hint: &'static str,
    /// A "Forgot your password?" link under the password (sign-in only).
    #[prop(optional)]
    forgot_link: bool,
    /// The two-factor code, asked for once the server says the account needs one.
    #[prop(optional)]
    code: Option<RwSignal<String>>,
    next: Signal<Option<String>>,
    pending: Signal<bool>,
    result: Signal<Option<Result<String, AppError>>>,
    submit: Callback<(String, String)>,
    children: Children,
) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());

    // Success: a full page load so the server renders the account with the new cookie.
    Effect::new(move |_| {
        if let Some(Ok(path)) = result.get() {
            crate::components::load_page(&path);
        }
    });

    let error = move || result.get().and_then(Result::err);
    let field_error = move |field: &'static str| {
        Signal::derive(move || error().and_then(|e| e.field_message(field)))
    };
    let form_error = move || form_level_message(error());

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        submit.run((
            email.get_untracked().trim().to_string(),
            password.get_untracked(),
        ));
    };

    view! {
        <AuthCard heading subheading>
                <form method="post" action=action_url on:submit=on_submit novalidate>
                    <input type="hidden" name="next" value=move || next.get().unwrap_or_default() />
                    {move || {
                        form_error()
                            .map(|message| {
                                view! {
                                    <div class="banner banner-danger" role="alert">
                                        {message}
                                    </div>
                                }
                            })
                    }}
                    <EmailField value=email error=field_error("email") />
                    <PasswordField
                        value=password
                        error=field_error("password")
                        autocomplete=password_autocomplete
                        hint=password_hint
                    />
                    {move || code.filter(|_| field_error("code").get().is_some() || code.is_some_and(|c| !c.get().is_empty())).map(|code| view! {
                        <TextField
                            label="Authentication code"
                            name="code"
                            autocomplete="one-time-code"
                            hint="From your authenticator app, or one of your recovery codes."
                            max_chars=32
                            value=code
                            error=field_error("code")
                            autofocus=true
                        />
                    })}
                    {forgot_link.then(|| view! {
                        <p class="forgot-link"><a href="/forgot-password">"Forgot your password?"</a></p>
                    })}
                    {move || field_error("form").get().map(|m| view! { <p class="field-error">{m}</p> })}
                    <button type="submit" class="button button-primary button-block" disabled=move || pending.get()>
                        {move || if pending.get() { pending_label } else { submit_label }}
                    </button>
                </form>
                <p class="auth-footer">{children()}</p>
        </AuthCard>
    }
}

/// The `next` query parameter, carried through sign-in and sign-up.
pub fn next_param() -> Signal<Option<String>> {
    let query = leptos_router::hooks::use_query_map();
    Signal::derive(move || query.read().get("next"))
}

/// A link to the other credentials page that keeps `next`.
pub fn with_next(path: &'static str, next: Option<String>) -> String {
    match next {
        Some(next) => format!("{path}?next={}", percent_encode(&next)),
        None => path.to_string(),
    }
}
