//! The subscription page's invoices table, each with a link to its receipt.

use crate::billing::InvoiceRow;
use crate::components::data_table::{Column, DataTable, Empty};
use crate::infra::url::percent_encode;
use crate::time_fmt;
use leptos::prelude::*;

pub const NO_INVOICES: Empty = Empty {
    title: "No invoices yet",
    hint: "Each payment of your plan is listed here.",
};

pub fn invoices_table(list: Vec<InvoiceRow>, org: Option<String>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|invoice| {
            let href = match &org {
                Some(slug) => format!(
                    "/account/subscription/receipts/{}?org={}",
                    percent_encode(&invoice.id),
                    percent_encode(slug)
                ),
                None => format!("/account/subscription/receipts/{}", percent_encode(&invoice.id)),
            };
            let label = format!("Receipt for invoice {}", invoice.number);
            let status = match invoice.status.as_str() {
                "paid" => "Paid",
                "failed" => "Payment failed",
                "open" => "Open",
                "void" => "Void",
                _ => "Draft",
            };
            vec![
                invoice.number.into_any(),
                time_fmt::date(invoice.created_at).into_any(),
                format!(
                    "{} – {}",
                    time_fmt::date(invoice.period_start),
                    time_fmt::date(invoice.period_end)
                )
                .into_any(),
                invoice.total.into_any(),
                status.into_any(),
                view! { <a href=href target="_blank" rel="external noopener" aria-label=label>"Receipt"</a> }.into_any(),
            ]
        })
        .collect();
    let columns = vec![
        Column::primary("Invoice"),
        Column::nowrap("Date"),
        Column::text("Period"),
        Column::numeric("Amount"),
        Column::text("Status"),
        Column::actions(),
    ];
    view! { <DataTable caption="Invoices, newest first" flat=true class="invoices-table" columns rows /> }
}
