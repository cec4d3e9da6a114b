//! Account > Security: change the password, see every signed-in browser, sign one out
//! or all but this one.

use super::two_factor::TwoFactorCard;
use crate::auth::api::{
    list_sessions, two_factor_enabled, ChangePassword, SignOutOtherSessions, SignOutSession,
};
use crate::auth::SessionInfo;
use crate::components::action_result::{form_level_message, on_action_result};
use crate::components::data_table::{Column, DataTable, Empty, Listing};
use crate::components::field::{PasswordField, TextField};
use crate::components::toast::{ToastRegion, Toasts};
use crate::error::AppError;
use crate::infra::wire::load;
use crate::time_fmt;
use leptos::prelude::*;
use leptos::web_sys::SubmitEvent;
use leptos_meta::Title;

#[component]
pub fn SecurityPage() -> impl IntoView {
    let toasts = Toasts::new();
    // Changing the password signs out the other sessions: the list reads again.
    let change_password = ServerAction::<ChangePassword>::new();
    view! {
        <Title text="Security" />
        <header class="page-header">
            <div>
                <h1>"Security"</h1>
                <p class="muted">"Your password and the browsers signed in to your account."</p>
            </div>
        </header>
        <ChangePasswordCard toasts action=change_password />
        <TwoFactorCard toasts />
        <SessionsCard toasts change_password />
        <ToastRegion toasts />
    }
}

#[component]
fn ChangePasswordCard(toasts: Toasts, action: ServerAction<ChangePassword>) -> impl IntoView {
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    // With two-factor on, a change also asks for a code.
    let two_factor = load(|| (), |_| two_factor_enabled());
    let error = RwSignal::new(None::<AppError>);
    on_action_result(action, error, move |()| {
        current.set(String::new());
        new.set(String::new());
        code.set(String::new());
        toasts.success("Password changed. Your other sessions were signed out.");
    });
    let field_error = move |field: &'static str| {
        Signal::derive(move || error.get().and_then(|e| e.field_message(field)))
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if !action.pending().get_untracked() {
            let code = code.get_untracked();
            action.dispatch(ChangePassword {
                current_password: current.get_untracked(),
                new_password: new.get_untracked(),
                code: (!code.trim().is_empty()).then_some(code),
            });
        }
    };
    view! {
        <section class="card" aria-labelledby="password-heading">
            <h2 id="password-heading">"Password"</h2>
            <form class="narrow-form" on:submit=on_submit novalidate>
                {move || form_level_message(error.get()).map(|m| view! { <div class="banner banner-danger" role="alert">{m}</div> })}
                <PasswordField
                    label="Current password"
                    name="current_password"
                    value=current
                    error=field_error("current_password")
                    autocomplete="current-password"
                />
                <PasswordField
                    label="New password"
                    name="new_password"
                    value=new
                    error=field_error("new_password")
                    autocomplete="new-password"
                    hint="At least 12 characters. Changing it signs out every other session."
                />
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        two_factor.await.unwrap_or(false).then(|| view! {
                            <TextField
                                label="Authentication code"
                                name="password_code"
                                autocomplete="one-time-code"
                                hint="A code from your authenticator app, or a recovery code."
                                max_chars=32
                                value=code
                                error=field_error("code")
                            />
                        })
                    })}
                </Transition>
                <button type="submit" class="button button-primary" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Changing…" } else { "Change password" }}
                </button>
            </form>
        </section>
    }
}

#[component]
fn SessionsCard(toasts: Toasts, change_password: ServerAction<ChangePassword>) -> impl IntoView {
    let sign_out_one = ServerAction::<SignOutSession>::new();
    let sign_out_others = ServerAction::<SignOutOtherSessions>::new();
    // Read again after anything that ends sessions.
    let sessions = load(
        move || {
            (
                change_password.version().get(),
                sign_out_one.version().get(),
                sign_out_others.version().get(),
            )
        },
        |_| list_sessions(),
    );
    let error = RwSignal::new(None::<AppError>);
    on_action_result(sign_out_one, error, move |()| {
        toasts.success("Session signed out");
    });
    on_action_result(sign_out_others, error, move |ended: u64| {
        let noun = if ended == 1 { "session" } else { "sessions" };
        toasts.success(format!("{ended} other {noun} signed out"));
    });
    Effect::new(move |_| {
        if let Some(e) = error.get() {
            toasts.error(e.to_string());
        }
    });
    view! {
        <section class="card" aria-labelledby="sessions-heading">
            <div class="card-heading-row">
                <h2 id="sessions-heading">"Sessions"</h2>
                <button
                    type="button"
                    class="button button-small"
                    disabled=move || sign_out_others.pending().get()
                    on:click=move |_| { sign_out_others.dispatch(SignOutOtherSessions {}); }
                >
                    "Sign out all other sessions"
                </button>
            </div>
            <p class="muted">"Browsers signed in to your account. Sign out any you do not recognise, then change your password."</p>
            <Listing resource=sessions loading="Loading sessions…" in_card=true
                is_empty=Vec::is_empty empty=NO_SESSIONS
                show={move |list: Vec<SessionInfo>| session_table(list, sign_out_one)} />
        </section>
    }
}

const NO_SESSIONS: Empty = Empty {
    title: "No sessions",
    hint: "Browsers you sign in with are listed here.",
};

fn session_table(
    list: Vec<SessionInfo>,
    sign_out_one: ServerAction<SignOutSession>,
) -> impl IntoView {
    let now = time_fmt::now_ms();
    let rows = list
        .into_iter()
        .map(|session| {
            let device = describe_device(&session.user_agent);
            let label = format!("Sign out {device} at {}", session.client_addr);
            let id = session.id.clone();
            let action = if session.current {
                view! { <span class="badge badge-active">"This device"</span> }.into_any()
            } else {
                view! {
                    <button
                        type="button"
                        class="button button-small"
                        aria-label=label
                        disabled=move || sign_out_one.pending().get()
                        on:click=move |_| { sign_out_one.dispatch(SignOutSession { id: id.clone() }); }
                    >
                        "Sign out"
                    </button>
                }
                .into_any()
            };
            vec![
                view! { <span title=session.user_agent.clone()>{device}</span> }.into_any(),
                view! { <code>{session.client_addr.clone()}</code> }.into_any(),
                view! { <span title=time_fmt::exact(session.created_at)>{time_fmt::date(session.created_at)}</span> }.into_any(),
                view! { <span title=time_fmt::exact(session.last_seen_at)>{time_fmt::relative(session.last_seen_at, now)}</span> }.into_any(),
                action,
            ]
        })
        .collect();
    let columns = vec![
        Column::primary("Device"),
        Column::text("Address"),
        Column::nowrap("Signed in"),
        Column::nowrap("Last active"),
        Column::actions(),
    ];
    view! { <DataTable caption="Your sessions" flat=true columns rows /> }
}

/// "Chrome on Linux", from a user agent string; "Unknown browser" when it says nothing.
fn describe_device(user_agent: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .iter()
    .find(|(marker, _)| user_agent.contains(marker))
    .map(|(_, name)| *name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(marker, _)| user_agent.contains(marker))
    .map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_string(),
        (None, Some(s)) => format!("A browser on {s}"),
        (None, None) => "Unknown browser".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::describe_device;

    #[test]
    fn devices_are_named_plainly() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
        assert_eq!(describe_device(chrome), "Chrome on Linux");
        assert_eq!(describe_device("curl/8.5.0"), "curl");
        assert_eq!(describe_device(""), "Unknown browser");
    }
}
