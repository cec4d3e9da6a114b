//! The centred card that the signed-out pages share: brand, heading, what it is for.

use crate::components::icons::LogoIcon;
use leptos::prelude::*;

#[component]
pub fn AuthCard(
    heading: &'static str,
    subheading: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <main class="auth-page">
            <div class="auth-card">
                <a class="brand brand-large" href="/">
                    <LogoIcon />
                    <span>"Keyward"</span>
                </a>
                <h1>{heading}</h1>
                <p class="muted">{subheading}</p>
                {children()}
            </div>
        </main>
    }
}
