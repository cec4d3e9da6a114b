//! The HTML shell and the route table; nothing else.

use crate::pages::{
    account::{
        api_keys::ApiKeysPage, dashboard::DashboardPage, security::SecurityPage, AccountLayout,
    },
    forgot_password::ForgotPasswordPage,
    not_found::NotFoundPage,
    reset_password::ResetPasswordPage,
    sign_in::SignInPage,
    sign_up::SignUpPage,
    verify_email::VerifyEmailPage,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes},
    path,
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    // The page's policy names the nonce Leptos puts on this response's inline scripts.
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) {
        if let Ok(policy) =
            axum::http::HeaderValue::from_str(&crate::web::headers::page_csp(&nonce))
        {
            response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, policy);
        }
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <link rel="stylesheet" id="leptos" href="/pkg/keyward.css" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Tests (and people debugging) can tell when the WebAssembly has taken over.
    Effect::new(|_| {
        #[cfg(feature = "hydrate")]
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Title formatter=|title: String| {
            if title.is_empty() { "Keyward".to_string() } else { format!("{title} · Keyward") }
        } />
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/sign-in") view=SignInPage />
                <Route path=path!("/sign-up") view=SignUpPage />
                <Route path=path!("/forgot-password") view=ForgotPasswordPage />
                <Route path=path!("/reset-password") view=ResetPasswordPage />
                <Route path=path!("/verify-email") view=VerifyEmailPage />
                <ParentRoute path=path!("/account") view=AccountLayout>
                    <Route path=path!("") view=DashboardPage />
                    <Route path=path!("api-keys") view=ApiKeysPage />
                    <Route path=path!("security") view=SecurityPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
