//! The HTML shell and the route table; nothing else.

use crate::components::HydrationMark;
use crate::pages::{
    account::{
        admin::{
            credits::CreditGrantsPage, lab::LabServersPage, promo_codes::PromoCodesPage,
            AdminLayout,
        },
        api_keys::ApiKeysPage,
        dashboard::DashboardPage,
        lab::LabPage,
        organizations::{
            dashboard::OrgDashboardPage, invitations::InvitationPage, members::OrgMembersPage,
            OrganizationsPage,
        },
        security::SecurityPage,
        wallet::{checkout::CheckoutPage, WalletPage},
        AccountLayout,
    },
    forgot_password::ForgotPasswordPage,
    not_found::NotFoundPage,
    reset_password::ResetPasswordPage,
    sign_in::SignInPage,
    sign_up::SignUpPage,
    verify_email::VerifyEmailPage,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes},
    lazy_route, path, Lazy, LazyRoute, SsrMode,
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
                <HydrationScripts options=options.clone() />
                <HashedStylesheet options id="leptos" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The document title for a page's own title (which may hold a name a person chose).
/// On the server it is escaped: leptos_meta 0.8.7 writes the title into the HTML as it
/// is, so a name holding `</title><meta http-equiv=refresh …>` would end the element.
/// In the browser it becomes `document.title`, which is text, so it stays as it is.
fn page_title(title: String) -> String {
    let title = if title.is_empty() {
        "Keyward".to_string()
    } else {
        format!("{title} · Keyward")
    };
    as_written_by_the_server(title)
}

#[cfg(feature = "ssr")]
fn as_written_by_the_server(title: String) -> String {
    crate::infra::mail::html_escape(&title)
}

#[cfg(not(feature = "ssr"))]
fn as_written_by_the_server(title: String) -> String {
    title
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=page_title />
        <Router>
            <Routes fallback=|| view! { <NotFoundPage /> <HydrationMark /> }>
                <Route path=path!("/sign-in") view=|| view! { <SignInPage /> <HydrationMark /> } />
                <Route path=path!("/sign-up") view={Lazy::<SignUpRoute>::new()} />
                <Route path=path!("/forgot-password") view={Lazy::<ForgotPasswordRoute>::new()} />
                <Route path=path!("/reset-password") view={Lazy::<ResetPasswordRoute>::new()} />
                <Route path=path!("/verify-email") view={Lazy::<VerifyEmailRoute>::new()} />
                <ParentRoute path=path!("/account") view={Lazy::<AccountRoute>::new()}>
                    <Route path=path!("") view={Lazy::<DashboardRoute>::new()} />
                    <Route path=path!("api-keys") view={Lazy::<ApiKeysRoute>::new()} />
                    <Route path=path!("wallet") view={Lazy::<WalletRoute>::new()} />
                    <Route path=path!("wallet/checkout/:order") view={Lazy::<CheckoutRoute>::new()} />
                    <Route path=path!("lab") view={Lazy::<LabRoute>::new()} />
                    <Route path=path!("organizations") view={Lazy::<OrganizationsRoute>::new()} />
                    <Route path=path!("invitations") view={Lazy::<InvitationRoute>::new()} />
                    <Route path=path!("security") view={Lazy::<SecurityRoute>::new()} />
                    <ParentRoute path=path!("admin") view={Lazy::<AdminRoute>::new()} ssr=SsrMode::Async>
                        <Route path=path!("promo-codes") view={Lazy::<PromoCodesRoute>::new()} />
                        <Route path=path!("credits") view={Lazy::<CreditGrantsRoute>::new()} />
                        <Route path=path!("lab") view={Lazy::<LabServersRoute>::new()} />
                    </ParentRoute>
                </ParentRoute>
                // An organization's workspace: the same layout and pages, for its resources.
                <ParentRoute path=path!("/org/:slug") view={Lazy::<AccountRoute>::new()}>
                    <Route path=path!("") view={Lazy::<OrgDashboardRoute>::new()} />
                    <Route path=path!("api-keys") view={Lazy::<ApiKeysRoute>::new()} />
                    <Route path=path!("wallet") view={Lazy::<WalletRoute>::new()} />
                    <Route path=path!("wallet/checkout/:order") view={Lazy::<CheckoutRoute>::new()} />
                    <Route path=path!("members") view={Lazy::<OrgMembersRoute>::new()} />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// A route whose page is loaded lazily: with `cargo leptos build --split` the page's code
/// is its own WebAssembly chunk, fetched when the route is first shown (or, on a full
/// page load, before that page hydrates), so the sign-in page never downloads it.
/// A page (a leaf route) ends with a `HydrationMark`; a layout does not, as its page
/// hydrates after it.
macro_rules! lazy_page {
    ($route:ident, $page:ident) => {
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page /> <HydrationMark /> }.into_any()
            }
        }
    };
    ($route:ident, $layout:ident, layout) => {
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                view! { <$layout /> }.into_any()
            }
        }
    };
}

lazy_page!(SignUpRoute, SignUpPage);
lazy_page!(ForgotPasswordRoute, ForgotPasswordPage);
lazy_page!(ResetPasswordRoute, ResetPasswordPage);
lazy_page!(VerifyEmailRoute, VerifyEmailPage);
lazy_page!(AccountRoute, AccountLayout, layout);
lazy_page!(DashboardRoute, DashboardPage);
lazy_page!(ApiKeysRoute, ApiKeysPage);
lazy_page!(SecurityRoute, SecurityPage);
lazy_page!(LabRoute, LabPage);
lazy_page!(OrganizationsRoute, OrganizationsPage);
lazy_page!(OrgMembersRoute, OrgMembersPage);
lazy_page!(OrgDashboardRoute, OrgDashboardPage);
lazy_page!(InvitationRoute, InvitationPage);
lazy_page!(WalletRoute, WalletPage);
lazy_page!(CheckoutRoute, CheckoutPage);
lazy_page!(AdminRoute, AdminLayout, layout);
lazy_page!(PromoCodesRoute, PromoCodesPage);
lazy_page!(CreditGrantsRoute, CreditGrantsPage);
lazy_page!(LabServersRoute, LabServersPage);
