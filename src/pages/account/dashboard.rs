use super::lab::card::DashboardLabCard;
use super::organizations::dashboard::CreditRequestAnswers;
use super::organizations::invitations::IncomingInvitations;
use crate::auth::api::ResendVerification;
use crate::dashboard::api::account_overview;
use crate::infra::wire::load;
use crate::time_fmt;
use crate::wallet::format_credits;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let overview = load(|| (), |_| account_overview());
    view! {
        <Title text="Dashboard" />
        <header class="page-header">
            <div>
                <h1>"Dashboard"</h1>
                <p class="muted">"Your account at a glance."</p>
            </div>
        </header>
        <Suspense fallback=|| view! { <div class="card skeleton" aria-busy="true">"Loading your account…"</div> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(o) => {
                        let now = time_fmt::now_ms();
                        let last_used = o.last_used_at
                            .map(|t| time_fmt::relative(t, now))
                            .unwrap_or_else(|| "Never".to_string());
                        let unverified = (!o.email_verified).then(|| view! { <VerifyBanner email=o.email.clone() /> });
                        let low = o.low_balance_threshold.filter(|t| o.balance < *t).map(|t| view! {
                            <div class="banner banner-warning" role="status">
                                <strong>"Your balance is low. "</strong>
                                {format!("{} credits left, below your alert at {} credits. ", format_credits(o.balance), format_credits(t))}
                                <a href="/account/wallet">"Buy credits"</a>
                            </div>
                        });
                        let past_due = o.past_due_plan.clone().map(|plan| view! {
                            <div class="banner banner-danger" role="alert">
                                <strong>{format!("Your {plan} payment failed. ")}</strong>
                                "The payment provider is trying your card again. "
                                <a href="/account/subscription">"Update your card"</a>
                            </div>
                        });
                        view! {
                            <IncomingInvitations />
                            <CreditRequestAnswers />
                            {unverified}
                            {past_due}
                            {low}
                            <section class="stat-grid" aria-label="Account summary">
                                <div class="card stat">
                                    <p class="stat-label">"Active API keys"</p>
                                    <p class="stat-value">{o.active_keys}</p>
                                    <p class="muted">{format!("{} in total", o.total_keys)}</p>
                                </div>
                                <div class="card stat">
                                    <p class="stat-label">"Requests, last 30 days"</p>
                                    <p class="stat-value">{o.requests_30d}</p>
                                    <p class="muted">"Across all your keys"</p>
                                </div>
                                <div class="card stat">
                                    <p class="stat-label">"Last key use"</p>
                                    <p class="stat-value stat-value-text">{last_used}</p>
                                    <p class="muted">"Any key, any endpoint"</p>
                                </div>
                                <div class="card stat">
                                    <p class="stat-label">"Running jobs"</p>
                                    <p class="stat-value">{o.jobs.running}</p>
                                    <p class="muted">
                                        <a href="/account/jobs">{jobs_line(&o.jobs)}</a>
                                    </p>
                                </div>
                            </section>
                            <DashboardLabCard />
                            <section class="card">
                                <h2>"Account"</h2>
                                <dl class="details">
                                    <div><dt>"Email"</dt><dd>{o.email.clone()}</dd></div>
                                    <div><dt>"Member since"</dt><dd title=time_fmt::exact(o.member_since)>{time_fmt::date(o.member_since)}</dd></div>
                                </dl>
                            </section>
                            <section class="card card-cta">
                                <div>
                                    <h2>"API keys"</h2>
                                    <p class="muted">"Create keys for scripts and services, rotate them, and see when they were last used."</p>
                                </div>
                                <a class="button button-primary" href="/account/api-keys">"Manage API keys"</a>
                            </section>
                        }.into_any()
                    }
                    Err(e) => view! { <div class="banner banner-danger" role="alert">{e.to_string()}</div> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Asks an unverified person to follow the emailed link, and can send it again.
#[component]
fn VerifyBanner(email: String) -> impl IntoView {
    let resend = ServerAction::<ResendVerification>::new();
    view! {
        <div class="banner banner-warning verify-banner" role="status">
            <span>
                <strong>"Verify your email address. "</strong>
                {format!("We sent a link to {email}. Until you follow it, you cannot reset a forgotten password.")}
            </span>
            {move || match resend.value().get() {
                Some(Ok(())) => view! { <span>"Sent. Check your inbox."</span> }.into_any(),
                Some(Err(e)) => view! { <span role="alert">{e.to_string()}</span> }.into_any(),
                None => view! {
                    <button type="button" class="button button-small" disabled=move || resend.pending().get()
                        on:click=move |_| { resend.dispatch(ResendVerification {}); }>
                        "Resend email"
                    </button>
                }.into_any(),
            }}
        </div>
    }
}

/// "2 queued · 150 credits on hold", or what is true when nothing is.
fn jobs_line(jobs: &crate::jobs::JobsAtAGlance) -> String {
    let mut parts = Vec::new();
    if jobs.queued > 0 {
        parts.push(format!("{} queued", jobs.queued));
    }
    if jobs.on_hold > 0 {
        parts.push(format!("{} credits on hold", format_credits(jobs.on_hold)));
    }
    if parts.is_empty() {
        "No credits on hold".to_string()
    } else {
        parts.join(" · ")
    }
}
