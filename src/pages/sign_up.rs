use super::credentials_form::{next_param, with_next, CredentialsForm};
use crate::auth::api::SignUp;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

#[component]
pub fn SignUpPage() -> impl IntoView {
    let next = next_param();
    let action = ServerAction::<SignUp>::new();
    let submit = Callback::new(move |(email, password): (String, String)| {
        action.dispatch(SignUp {
            email,
            password,
            next: next.get_untracked(),
        });
    });
    view! {
        <Title text="Create your account" />
        <CredentialsForm
            heading="Create your account"
            subheading="One account for your dashboard and every API key you issue."
            submit_label="Sign up"
            pending_label="Creating account…"
            action_url=SignUp::PATH
            password_autocomplete="new-password"
            password_hint="At least 12 characters. A passphrase of a few words works well."
            next=next
            pending=action.pending().into()
            result=action.value().into()
            submit=submit
        >
            "Already have an account? "
            <a href=move || with_next("/sign-in", next.get())>"Sign in"</a>
        </CredentialsForm>
    }
}
