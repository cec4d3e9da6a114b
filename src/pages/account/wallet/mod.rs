//! Account > Wallet: the balance, what is being spent, and every transaction.

mod alert;
mod buy;
pub mod checkout;
mod transactions;

use super::workspace::{use_org_slug, OrgNotFound};
use crate::components::usage_chart::UsageChart;
use crate::error::AppError;
use crate::infra::wire::load;
use crate::time_fmt;
use crate::wallet::api::wallet_overview;
use crate::wallet::{format_credits, format_money};
use alert::LowBalanceAlert;
use buy::BuyCredits;
use leptos::prelude::*;
use leptos_meta::Title;
use transactions::Transactions;

#[component]
pub fn WalletPage() -> impl IntoView {
    let org = use_org_slug();
    let overview = load(move || org.get(), wallet_overview);
    view! {
        <Title text="Wallet" />
        <header class="page-header">
            <div>
                <h1>"Wallet"</h1>
                <p class="muted">{move || match org.get() {
                    Some(_) => "The organization's credits pay for what its API keys ask for. Owners and Admins buy them and allocate them to members.",
                    None => "Credits pay for the work your API keys ask for. Every change to your balance is listed below.",
                }}</p>
            </div>
        </header>
        <Suspense fallback=|| view! { <div class="card skeleton" aria-busy="true">"Loading your wallet…"</div> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(wallet) => {
                        let runway = match wallet.runway_days() {
                            Some(1) => "About 1 day left".to_string(),
                            Some(days) => format!("About {} days left", format_credits(days)),
                            None if wallet.balance <= 0 => "No credits left".to_string(),
                            None => "Nothing spent in 30 days".to_string(),
                        };
                        view! {
                            <section class="stat-grid" aria-label="Credits">
                                <div class="card stat">
                                    <p class="stat-label">"Balance"</p>
                                    <p class="stat-value">{format_credits(wallet.balance)}" credits"</p>
                                    <p class="muted">{format!("Worth {}", format_money(wallet.value_minor, &wallet.currency))}</p>
                                    {(wallet.included > 0).then(|| {
                                        let expires = wallet.included_expires_at.map(|at| format!(" (expire {})", time_fmt::date(at))).unwrap_or_default();
                                        view! {
                                            // Each part whole on its line: a narrow card wraps between them.
                                            <p class="muted balance-split">
                                                <span>{format!("{} included{expires}", format_credits(wallet.included))}</span>
                                                " · "
                                                <span>{format!("{} bought", format_credits(wallet.balance - wallet.included))}</span>
                                            </p>
                                        }
                                    })}
                                </div>
                                {(wallet.on_hold > 0 || wallet.owed > 0).then(|| view! {
                                    <div class="card stat">
                                        <p class="stat-label">"On hold"</p>
                                        <p class="stat-value">{format_credits(wallet.on_hold)}" credits"</p>
                                        <p class="muted">
                                            <a href=move || match org.get() { Some(slug) => format!("/org/{slug}/jobs"), None => "/account/jobs".to_string() }>"Held for running jobs"</a>
                                            {(wallet.owed > 0).then(|| format!(" · {} owed", format_credits(wallet.owed)))}
                                        </p>
                                    </div>
                                })}
                                <div class="card stat">
                                    <p class="stat-label">"Burn rate"</p>
                                    <p class="stat-value">{wallet.burn_rate_label()}" / day"</p>
                                    <p class="muted">"Average over the last 30 days"</p>
                                </div>
                                <div class="card stat">
                                    <p class="stat-label">"Runway"</p>
                                    <p class="stat-value stat-value-text">{runway}</p>
                                    <p class="muted">"At the current burn rate"</p>
                                </div>
                            </section>
                            <section class="card" aria-labelledby="spending-heading">
                                <h2 id="spending-heading">"Credits spent, last 30 days"</h2>
                                <UsageChart days=wallet.spent_per_day.clone() title="Credits spent" singular="credit" plural="credits" />
                            </section>
                            {org.get_untracked().is_none().then(|| view! {
                                <LowBalanceAlert threshold=wallet.low_balance_threshold balance=wallet.balance />
                            })}
                            {wallet.can_buy.then(|| view! { <BuyCredits org=org.get_untracked() /> })}
                            <Transactions org />
                        }.into_any()
                    }
                    Err(AppError::NotFound) if org.get_untracked().is_some() => view! { <OrgNotFound /> }.into_any(),
                    Err(e) => view! { <div class="banner banner-danger" role="alert">{e.to_string()}</div> }.into_any(),
                }
            })}
        </Suspense>
    }
}
