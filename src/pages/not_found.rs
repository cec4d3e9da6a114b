use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found" />
        <main class="auth-page">
            <div class="auth-card">
                <h1>"Page not found"</h1>
                <p class="muted">"The address may be mistyped, or the page may have moved."</p>
                <a class="button button-primary" href="/account">"Go to your account"</a>
            </div>
        </main>
    }
}
