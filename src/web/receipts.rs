//! `GET /account/subscription/receipts/{invoice}` (`?org=slug` for an organization's):
//! a subscription invoice's receipt, printable HTML (the browser's Print saves it as a
//! PDF). Another owner's invoice answers exactly as a missing one.

use super::request::session_user;
use super::state::AppState;
use crate::billing::invoices;
use crate::infra::mail::html_escape;
use crate::infra::money::format_money;
use crate::time_fmt;
use crate::workspace::access::{workspace, Need};
use crate::workspace::Owner;
use axum::{
    extract::{Path, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use std::collections::HashMap;

pub async fn receipt(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(invoice): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let user = match session_user(&state, &headers).await {
        Ok(Some(user)) => user,
        Ok(None) => return Redirect::to("/sign-in?next=%2Faccount%2Fsubscription").into_response(),
        Err(error) => return error.into_response(),
    };
    let org = query.get("org").map(String::as_str);
    let space = match workspace(&state.db, org, &user.id, state.now_ms(), Need::Use).await {
        Ok(space) => space,
        Err(error) => return error.into_response(),
    };
    let bill_to = match &space.owner {
        Owner::User(_) => user.email.clone(),
        Owner::Org(_) => space
            .membership
            .as_ref()
            .map(|m| m.name.clone())
            .unwrap_or_default(),
    };
    let receipt = match invoices::receipt(&state.db, &space.owner, &invoice).await {
        Ok(Some(receipt)) => receipt,
        Ok(None) => return (StatusCode::NOT_FOUND, "No such invoice.").into_response(),
        Err(error) => return error.into_response(),
    };
    let plan_name = state.config.plans.or_free(&receipt.plan).name.clone();
    let Ok(nonce) = crate::infra::random::base62(22) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    // Its own style only: no script, nothing loaded, not framed.
    let policy = format!(
        "default-src 'none'; style-src 'nonce-{nonce}'; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
            (header::CONTENT_SECURITY_POLICY, policy),
        ],
        page(&state.config.seller, &bill_to, &plan_name, &receipt, &nonce),
    )
        .into_response()
}

fn page(
    seller: &crate::infra::seller::Seller,
    bill_to: &str,
    plan_name: &str,
    receipt: &invoices::Receipt,
    nonce: &str,
) -> String {
    let money = |minor: i64| html_escape(&format_money(minor, &receipt.currency));
    let lines: String = receipt
        .lines
        .iter()
        .map(|(description, amount)| {
            format!(
                "<tr><td>{}</td><td class=\"num\">{}</td></tr>",
                html_escape(description),
                money(*amount)
            )
        })
        .collect();
    // What the lines do not account for: a discount (below their sum) or tax (above).
    let subtotal = receipt
        .lines
        .iter()
        .fold(0i64, |sum, (_, amount)| sum.saturating_add(*amount));
    let difference = receipt.total_minor.saturating_sub(subtotal);
    let adjustment_row = match difference {
        0 => String::new(),
        d if d < 0 => format!(
            "<tr><td>Discount</td><td class=\"num\">-{}</td></tr>",
            money(d.saturating_neg())
        ),
        d => format!("<tr><td>Tax</td><td class=\"num\">{}</td></tr>", money(d)),
    };
    let address: String = seller
        .address
        .iter()
        .map(|line| format!("<br>{}", html_escape(line)))
        .collect();
    let status = match receipt.status.as_str() {
        "paid" => "Paid",
        "failed" => "Payment failed",
        "open" => "Open",
        "void" => "Void",
        _ => "Draft",
    };
    let title = if receipt.status == "paid" {
        "Receipt"
    } else {
        "Invoice"
    };
    let credits = if receipt.credits_granted > 0 {
        format!(
            "<p>{} credits were included with this payment; they expire at the end of the period.</p>",
            crate::wallet::format_credits(receipt.credits_granted)
        )
    } else {
        String::new()
    };
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light"><title>{title} {number}</title>
<style nonce="{nonce}">
body {{ font: 15px/1.5 system-ui, sans-serif; color: #1f2328; max-width: 720px; margin: 32px auto; padding: 0 16px; }}
h1 {{ font-size: 24px; margin: 0 0 4px; }}
.muted {{ color: #59636e; }}
.parties {{ display: flex; justify-content: space-between; gap: 24px; flex-wrap: wrap; margin: 24px 0; }}
table {{ width: 100%; border-collapse: collapse; margin: 16px 0; }}
th, td {{ text-align: left; padding: 8px 0; border-bottom: 1px solid #d1d9e0; }}
.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
tfoot td {{ font-weight: 600; border-bottom: none; }}
@media print {{ body {{ margin: 0; }} .no-print {{ display: none; }} }}
</style></head><body>
<main>
<h1>{title}</h1>
<p class="muted">Number {number} · {date} · {status}</p>
<div class="parties">
<div><strong>From</strong><br>{seller}{address}</div>
<div><strong>Bill to</strong><br>{bill_to}</div>
</div>
<p>{plan} plan, {start} to {end}</p>
<table><thead><tr><th scope="col">Description</th><th scope="col" class="num">Amount</th></tr></thead>
<tbody>{lines}{adjustment_row}</tbody>
<tfoot><tr><td>Total</td><td class="num">{total}</td></tr></tfoot></table>
{credits}
<p class="muted no-print">Use your browser's Print command to keep this as a PDF.</p>
</main></body></html>"#,
        number = html_escape(&receipt.number),
        date = time_fmt::date(receipt.created_at),
        seller = html_escape(&seller.name),
        bill_to = html_escape(bill_to),
        plan = html_escape(plan_name),
        start = time_fmt::date(receipt.period_start),
        end = time_fmt::date(receipt.period_end),
        total = money(receipt.total_minor),
    )
}
