use super::credentials_form::{next_param, with_next, CredentialsForm};
use crate::auth::api::SignIn;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

#[component]
pub fn SignInPage() -> impl IntoView {
    let next = next_param();
    let action = ServerAction::<SignIn>::new();
    let code = RwSignal::new(String::new());
    let submit = Callback::new(move |(email, password): (String, String)| {
        let code = code.get_untracked();
        action.dispatch(SignIn {
            email,
            password,
            next: next.get_untracked(),
            code: (!code.trim().is_empty()).then_some(code),
        });
    });
    view! {
        <Title text="Sign in" />
        <CredentialsForm
            heading="Sign in"
            subheading="Manage your account and API keys."
            submit_label="Sign in"
            pending_label="Signing in…"
            action_url=SignIn::PATH
            password_autocomplete="current-password"
            forgot_link=true
            code=code
            next=next
            pending=action.pending().into()
            result=action.value().into()
            submit=submit
        >
            "New to Keyward? "
            <a href=move || with_next("/sign-up", next.get())>"Create an account"</a>
        </CredentialsForm>
    }
}
