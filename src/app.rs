//! The HTML shell and the route table; nothing else.

use crate::components::HydrationMark;
use crate::pages::{
    account::{
        admin::{
            credits::CreditGrantsPage, lab::LabServersPage, promo_codes::PromoCodesPage,
            subscriptions::SubscriptionsAdminPage, webhooks::WebhooksAdminPage, AdminLayout,
        },
        api_keys::ApiKeysPage,
        dashboard::DashboardPage,
        jobs::JobsPage,
        lab::LabPage,
        organizations::{
            dashboard::OrgDashboardPage, invitations::InvitationPage, members::OrgMembersPage,
            OrganizationsPage,
        },
        security::SecurityPage,
        subscription::{checkout::SubscriptionCheckoutPage, SubscriptionPage},
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
use leptos::lazy;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes},
    path, Lazy, LazyRoute, SsrMode,
};

/// Keeps what a person enters before the page hydrates, and holds a form's submission
/// until then (see the script's own comment).
const BEFORE_HYDRATION: &str = include_str!("before_hydration.js");

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
                <script nonce=leptos::nonce::use_nonce() inner_html=BEFORE_HYDRATION></script>
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
                    <Route path=path!("subscription") view={Lazy::<SubscriptionRoute>::new()} />
                    <Route path=path!("subscription/checkout/:plan") view={Lazy::<SubscriptionCheckoutRoute>::new()} />
                    <Route path=path!("lab") view={Lazy::<LabRoute>::new()} />
                    <Route path=path!("jobs") view={Lazy::<JobsRoute>::new()} />
                    <Route path=path!("organizations") view={Lazy::<OrganizationsRoute>::new()} />
                    <Route path=path!("invitations") view={Lazy::<InvitationRoute>::new()} />
                    <Route path=path!("security") view={Lazy::<SecurityRoute>::new()} />
                    <ParentRoute path=path!("admin") view={Lazy::<AdminRoute>::new()} ssr=SsrMode::Async>
                        <Route path=path!("promo-codes") view={Lazy::<PromoCodesRoute>::new()} />
                        <Route path=path!("credits") view={Lazy::<CreditGrantsRoute>::new()} />
                        <Route path=path!("lab") view={Lazy::<LabServersRoute>::new()} />
                        <Route path=path!("subscriptions") view={Lazy::<SubscriptionsAdminRoute>::new()} />
                        <Route path=path!("webhooks") view={Lazy::<WebhooksAdminRoute>::new()} />
                    </ParentRoute>
                </ParentRoute>
                // An organization's workspace: the same layout and pages, for its resources.
                <ParentRoute path=path!("/org/:slug") view={Lazy::<AccountRoute>::new()}>
                    <Route path=path!("") view={Lazy::<OrgDashboardRoute>::new()} />
                    <Route path=path!("api-keys") view={Lazy::<ApiKeysRoute>::new()} />
                    <Route path=path!("wallet") view={Lazy::<WalletRoute>::new()} />
                    <Route path=path!("wallet/checkout/:order") view={Lazy::<CheckoutRoute>::new()} />
                    <Route path=path!("subscription") view={Lazy::<SubscriptionRoute>::new()} />
                    <Route path=path!("subscription/checkout/:plan") view={Lazy::<SubscriptionCheckoutRoute>::new()} />
                    <Route path=path!("jobs") view={Lazy::<JobsRoute>::new()} />
                    <Route path=path!("members") view={Lazy::<OrgMembersRoute>::new()} />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// The pages loaded after the sign-in page, in three groups, each one lazily loaded
/// WebAssembly module (`cargo leptos build --split`): the other signed-out pages,
/// everything behind sign-in, and the operator's admin pages. A group is one module
/// because all its pages are reached through one lazily loaded function: the splitter
/// makes a module per lazily loaded function and a further chunk for every distinct set
/// of functions that share code, so a function per page (19 of them) made hundreds of
/// chunks and an account page fetched over 200 files. With three, a page fetches at most
/// the main module, its group's and the chunks shared between groups (BENCHMARKS.md).
#[derive(Clone, Copy)]
#[repr(u8)]
enum SignedOutPage {
    SignUp,
    ForgotPassword,
    ResetPassword,
    VerifyEmail,
}

#[derive(Clone, Copy)]
#[repr(u8)]
enum AccountPage {
    Layout,
    Dashboard,
    ApiKeys,
    Security,
    Lab,
    Organizations,
    OrgMembers,
    OrgDashboard,
    Invitation,
    Wallet,
    Checkout,
    Subscription,
    SubscriptionCheckout,
    Jobs,
}

#[derive(Clone, Copy)]
#[repr(u8)]
enum AdminPage {
    Layout,
    PromoCodes,
    CreditGrants,
    LabServers,
    Subscriptions,
    Webhooks,
}

/// A page (a leaf route) ends with a `HydrationMark`; a layout does not, as its page
/// hydrates after it.
fn leaf(page: impl IntoView + 'static) -> AnyView {
    view! { {page} <HydrationMark /> }.into_any()
}

#[lazy]
fn signed_out_view(page: SignedOutPage) -> AnyView {
    match page {
        SignedOutPage::SignUp => leaf(view! { <SignUpPage /> }),
        SignedOutPage::ForgotPassword => leaf(view! { <ForgotPasswordPage /> }),
        SignedOutPage::ResetPassword => leaf(view! { <ResetPasswordPage /> }),
        SignedOutPage::VerifyEmail => leaf(view! { <VerifyEmailPage /> }),
    }
}

#[lazy]
fn account_view(page: AccountPage) -> AnyView {
    match page {
        AccountPage::Layout => view! { <AccountLayout /> }.into_any(),
        AccountPage::Dashboard => leaf(view! { <DashboardPage /> }),
        AccountPage::ApiKeys => leaf(view! { <ApiKeysPage /> }),
        AccountPage::Security => leaf(view! { <SecurityPage /> }),
        AccountPage::Lab => leaf(view! { <LabPage /> }),
        AccountPage::Organizations => leaf(view! { <OrganizationsPage /> }),
        AccountPage::OrgMembers => leaf(view! { <OrgMembersPage /> }),
        AccountPage::OrgDashboard => leaf(view! { <OrgDashboardPage /> }),
        AccountPage::Invitation => leaf(view! { <InvitationPage /> }),
        AccountPage::Wallet => leaf(view! { <WalletPage /> }),
        AccountPage::Checkout => leaf(view! { <CheckoutPage /> }),
        AccountPage::Subscription => leaf(view! { <SubscriptionPage /> }),
        AccountPage::SubscriptionCheckout => leaf(view! { <SubscriptionCheckoutPage /> }),
        AccountPage::Jobs => leaf(view! { <JobsPage /> }),
    }
}

#[lazy]
fn admin_view(page: AdminPage) -> AnyView {
    match page {
        AdminPage::Layout => view! { <AdminLayout /> }.into_any(),
        AdminPage::PromoCodes => leaf(view! { <PromoCodesPage /> }),
        AdminPage::CreditGrants => leaf(view! { <CreditGrantsPage /> }),
        AdminPage::LabServers => leaf(view! { <LabServersPage /> }),
        AdminPage::Subscriptions => leaf(view! { <SubscriptionsAdminPage /> }),
        AdminPage::Webhooks => leaf(view! { <WebhooksAdminPage /> }),
    }
}

/// A route showing one page of a group; preloading it fetches the group's module.
macro_rules! lazy_page {
    ($route:ident, $group:ident, $page:expr) => {
        struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            async fn view(_this: Self) -> AnyView {
                $group($page).await
            }

            async fn preload() {
                #[cfg(target_arch = "wasm32")]
                lazy_preload_of!($group).await;
            }
        }
    };
}

/// The preload function `#[lazy]` generates for a group's function (WebAssembly only).
#[cfg(target_arch = "wasm32")]
macro_rules! lazy_preload_of {
    (signed_out_view) => {
        __preload_signed_out_view()
    };
    (account_view) => {
        __preload_account_view()
    };
    (admin_view) => {
        __preload_admin_view()
    };
}

lazy_page!(SignUpRoute, signed_out_view, SignedOutPage::SignUp);
lazy_page!(
    ForgotPasswordRoute,
    signed_out_view,
    SignedOutPage::ForgotPassword
);
lazy_page!(
    ResetPasswordRoute,
    signed_out_view,
    SignedOutPage::ResetPassword
);
lazy_page!(
    VerifyEmailRoute,
    signed_out_view,
    SignedOutPage::VerifyEmail
);
lazy_page!(AccountRoute, account_view, AccountPage::Layout);
lazy_page!(DashboardRoute, account_view, AccountPage::Dashboard);
lazy_page!(ApiKeysRoute, account_view, AccountPage::ApiKeys);
lazy_page!(SecurityRoute, account_view, AccountPage::Security);
lazy_page!(LabRoute, account_view, AccountPage::Lab);
lazy_page!(OrganizationsRoute, account_view, AccountPage::Organizations);
lazy_page!(OrgMembersRoute, account_view, AccountPage::OrgMembers);
lazy_page!(OrgDashboardRoute, account_view, AccountPage::OrgDashboard);
lazy_page!(InvitationRoute, account_view, AccountPage::Invitation);
lazy_page!(WalletRoute, account_view, AccountPage::Wallet);
lazy_page!(CheckoutRoute, account_view, AccountPage::Checkout);
lazy_page!(SubscriptionRoute, account_view, AccountPage::Subscription);
lazy_page!(
    SubscriptionCheckoutRoute,
    account_view,
    AccountPage::SubscriptionCheckout
);
lazy_page!(JobsRoute, account_view, AccountPage::Jobs);
lazy_page!(AdminRoute, admin_view, AdminPage::Layout);
lazy_page!(PromoCodesRoute, admin_view, AdminPage::PromoCodes);
lazy_page!(CreditGrantsRoute, admin_view, AdminPage::CreditGrants);
lazy_page!(LabServersRoute, admin_view, AdminPage::LabServers);
lazy_page!(
    SubscriptionsAdminRoute,
    admin_view,
    AdminPage::Subscriptions
);
lazy_page!(WebhooksAdminRoute, admin_view, AdminPage::Webhooks);
