//! The Security page's two-factor card: set up with a QR code and a first code, see the
//! recovery codes once, turn off with a code. Turning it on or off also asks for the
//! password: a session alone (a stolen cookie) must not lock the owner out.

use crate::auth::api::{two_factor_enabled, BeginTwoFactor, ConfirmTwoFactor, DisableTwoFactor};
use crate::components::action_result::{form_level_message, on_action_result};
use crate::components::field::{PasswordField, TextField};
use crate::components::toast::Toasts;
use crate::error::AppError;
use crate::infra::wire::load;
use leptos::prelude::*;
use leptos::web_sys::SubmitEvent;

#[component]
pub fn TwoFactorCard(toasts: Toasts) -> impl IntoView {
    let refresh = RwSignal::new(0_u32);
    let enabled = load(move || refresh.get(), |_| two_factor_enabled());
    let recovery_codes = RwSignal::new(None::<Vec<String>>);
    view! {
        <section class="card" aria-labelledby="two-factor-heading">
            <h2 id="two-factor-heading">"Two-factor authentication"</h2>
            <p class="muted card-text">"After your password, signing in asks for a code from an authenticator app on your phone."</p>
            {move || recovery_codes.get().map(|codes| view! { <RecoveryCodes codes recovery_codes /> })}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match enabled.await {
                        Ok(true) => view! { <TurnOff toasts refresh /> }.into_any(),
                        Ok(false) => view! { <SetUp toasts refresh recovery_codes /> }.into_any(),
                        Err(e) => view! { <div class="banner banner-danger" role="alert">{e.to_string()}</div> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn SetUp(
    toasts: Toasts,
    refresh: RwSignal<u32>,
    recovery_codes: RwSignal<Option<Vec<String>>>,
) -> impl IntoView {
    let begin = ServerAction::<BeginTwoFactor>::new();
    let confirm = ServerAction::<ConfirmTwoFactor>::new();
    let code = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<AppError>);
    on_action_result(confirm, error, move |codes: Vec<String>| {
        recovery_codes.set(Some(codes));
        toasts.success("Two-factor authentication is on");
        refresh.update(|n| *n += 1);
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if !confirm.pending().get_untracked() {
            confirm.dispatch(ConfirmTwoFactor {
                code: code.get_untracked(),
                current_password: password.get_untracked(),
                current_code: None,
            });
        }
    };
    view! {
        {move || match begin.value().get() {
            Some(Ok(setup)) => view! {
                <div class="two-factor-setup">
                    <div class="qr" role="img" aria-label="QR code for your authenticator app" inner_html=setup.qr_svg.clone()></div>
                    <form class="narrow-form" on:submit=on_submit novalidate>
                        <p>"Scan the code with your authenticator app, or type this key into it:"</p>
                        <p><code class="setup-key" aria-label="Setup key">{setup.secret.clone()}</code></p>
                        {move || form_level_message(error.get()).map(|m| view! { <div class="banner banner-danger" role="alert">{m}</div> })}
                        <TextField
                            label="Code from the app"
                            name="totp_code"
                            autocomplete="one-time-code"
                            max_chars=16
                            value=code
                            error=Signal::derive(move || error.get().and_then(|e| e.field_message("code")))
                        />
                        <PasswordField
                            label="Your current password"
                            name="two_factor_password"
                            value=password
                            autocomplete="current-password"
                            error=Signal::derive(move || error.get().and_then(|e| e.field_message("current_password")))
                        />
                        <button type="submit" class="button button-primary" disabled=move || confirm.pending().get()>
                            "Turn on"
                        </button>
                    </form>
                </div>
            }.into_any(),
            other => {
                let failed = other.and_then(Result::err).map(|e| e.to_string());
                view! {
                    {failed.map(|m| view! { <div class="banner banner-danger" role="alert">{m}</div> })}
                    <button type="button" class="button" disabled=move || begin.pending().get()
                        on:click=move |_| { begin.dispatch(BeginTwoFactor {}); }>
                        "Set up two-factor authentication"
                    </button>
                }.into_any()
            }
        }}
    }
}

#[component]
fn RecoveryCodes(
    codes: Vec<String>,
    recovery_codes: RwSignal<Option<Vec<String>>>,
) -> impl IntoView {
    view! {
        <div class="banner banner-warning recovery" role="region" aria-label="Recovery codes">
            <div>
                <p><strong>"Save your recovery codes now."</strong>" Each signs you in once if you lose your phone. They are not shown again."</p>
                <ul class="recovery-codes">
                    {codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
                </ul>
                <button type="button" class="button button-small" on:click=move |_| recovery_codes.set(None)>
                    "I have saved these codes"
                </button>
            </div>
        </div>
    }
}

#[component]
fn TurnOff(toasts: Toasts, refresh: RwSignal<u32>) -> impl IntoView {
    let disable = ServerAction::<DisableTwoFactor>::new();
    let code = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<AppError>);
    on_action_result(disable, error, move |()| {
        toasts.success("Two-factor authentication is off");
        refresh.update(|n| *n += 1);
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if !disable.pending().get_untracked() {
            disable.dispatch(DisableTwoFactor {
                current_password: password.get_untracked(),
                code: code.get_untracked(),
            });
        }
    };
    view! {
        <p><span class="badge badge-active">"On"</span>" Signing in asks for a code from your authenticator app."</p>
        <form class="narrow-form" on:submit=on_submit novalidate>
            <TextField
                label="Code to turn it off"
                name="disable_code"
                autocomplete="one-time-code"
                hint="A code from the app, or a recovery code."
                max_chars=32
                value=code
                error=Signal::derive(move || error.get().and_then(|e| e.field_message("code")))
            />
            <PasswordField
                label="Your current password"
                name="disable_password"
                value=password
                autocomplete="current-password"
                error=Signal::derive(move || error.get().and_then(|e| e.field_message("current_password")))
            />
            <button type="submit" class="button button-danger" disabled=move || disable.pending().get()>
                "Turn off two-factor authentication"
            </button>
        </form>
    }
}
