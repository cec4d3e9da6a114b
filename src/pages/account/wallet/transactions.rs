//! The ledger, newest first: filter by kind, page through, export as CSV.

use crate::components::data_table::{Column, DataTable, Empty, Listing};
use crate::components::icons::DownloadIcon;
use crate::components::kept::keep_typed;
use crate::components::pager::CursorPager;
use crate::infra::wire::load;
use crate::time_fmt;
use crate::wallet::api::wallet_transactions;
use crate::wallet::{format_credits, EntryKind, LedgerEntry, LedgerPage};
use leptos::prelude::*;

const NO_TRANSACTIONS: Empty = Empty {
    title: "No transactions yet",
    hint: "Credits you buy, receive or spend show up here, newest first.",
};

fn ledger_table(entries: Vec<LedgerEntry>) -> impl IntoView {
    let rows = entries
        .into_iter()
        .map(|entry| {
            let adds = entry.amount > 0;
            let amount = if adds {
                format!("+{}", format_credits(entry.amount))
            } else {
                format_credits(entry.amount)
            };
            let reference = entry.reference.clone().or(entry.key_id.clone());
            vec![
                view! { <span title=time_fmt::exact(entry.created_at)>{time_fmt::date(entry.created_at)}</span> }.into_any(),
                view! {
                    <span>{entry.description.clone()}</span>
                    {reference.map(|r| view! { <span class="muted mono reference">{r}</span> })}
                }
                .into_any(),
                entry.kind.label().into_any(),
                view! { <span class:credit=adds>{amount}</span> }.into_any(),
            ]
        })
        .collect();
    let columns = vec![
        Column::nowrap("Date"),
        Column::primary("Description"),
        Column::text("Kind"),
        Column::numeric("Credits"),
    ];
    view! { <DataTable caption="Transactions, newest first" class="ledger-table" columns rows /> }
}

#[component]
pub fn Transactions(org: Memo<Option<String>>) -> impl IntoView {
    let kind = RwSignal::new(String::new());
    // The cursors of the pages before this one; the last is this page's.
    let cursors = RwSignal::new(vec![None::<String>]);
    let page = load(
        move || {
            (
                org.get(),
                kind.get(),
                cursors.with(|c| c.last().cloned().flatten()),
            )
        },
        |(org, kind, before)| wallet_transactions(org, kind, before),
    );
    let export_href = move || {
        let query: Vec<String> = [("org", org.get().unwrap_or_default()), ("kind", kind.get())]
            .into_iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        match query.is_empty() {
            true => "/account/wallet/transactions.csv".to_string(),
            false => format!("/account/wallet/transactions.csv?{}", query.join("&")),
        }
    };
    view! {
        <section class="transactions" aria-labelledby="transactions-heading">
            <div class="toolbar">
                <h2 id="transactions-heading">"Transactions"</h2>
                <div class="toolbar-actions">
                    <label class="sort">
                        <span>"Show"</span>
                        <select
                            aria-label="Show transactions of kind"
                            use:keep_typed=kind
                            on:change=move |ev| {
                                kind.set(event_target_value(&ev));
                                cursors.set(vec![None]);
                            }
                        >
                            <option value="" selected=move || kind.with(String::is_empty)>"All kinds"</option>
                            {EntryKind::ALL.into_iter().map(|k| view! {
                                <option value=k.as_str() selected=move || kind.with(|v| v == k.as_str())>{k.label()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <a class="button" href=export_href download="">
                        <DownloadIcon />
                        <span>"Export CSV"</span>
                    </a>
                </div>
            </div>
            <Listing resource=page loading="Loading transactions…"
                is_empty=move |page: &LedgerPage| page.entries.is_empty() && cursors.with_untracked(|c| c.len() == 1)
                empty=NO_TRANSACTIONS
                show=move |page: LedgerPage| view! {
                    {ledger_table(page.entries)}
                    <CursorPager cursors next=page.next_before label="Transaction pages" />
                } />
        </section>
    }
}
