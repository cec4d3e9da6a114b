//! Downloads for signed-in people: the ledger and the jobs as CSV.

use super::request::session_user;
use super::state::AppState;
use crate::wallet::{ledger, EntryKind, LedgerEntry};
use crate::workspace::access::{workspace, Need};
use axum::{
    extract::{Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use std::collections::HashMap;

/// Rows one export holds at most.
const MAX_ROWS: i64 = 100_000;

/// `GET /account/wallet/transactions.csv[?kind=charge]`
pub async fn transactions_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let user = match session_user(&state, &headers).await {
        Ok(Some(user)) => user,
        Ok(None) => return Redirect::to("/sign-in?next=%2Faccount%2Fwallet").into_response(),
        Err(error) => return error.into_response(),
    };
    let kind = match query.get("kind").map(String::as_str) {
        None | Some("") => None,
        Some(text) => match EntryKind::parse(text) {
            Some(kind) => Some(kind),
            None => {
                return (StatusCode::BAD_REQUEST, "Unknown kind of transaction.").into_response()
            }
        },
    };
    // `org`: an organization's slug, whose wallet any member may read.
    let org = query.get("org").map(String::as_str);
    let now = state.now_ms();
    let owner = match workspace(&state.db, org, &user.id, now, Need::Use).await {
        Ok(space) => space.owner,
        Err(error) => return error.into_response(),
    };
    let entries = match ledger::all_entries(&state.db, &owner, kind, MAX_ROWS).await {
        Ok(entries) => entries,
        Err(error) => return error.into_response(),
    };
    let filename = format!(
        "keyward-transactions-{}.csv",
        crate::time_fmt::iso_date(state.now_ms())
    );
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        to_csv(&entries),
    )
        .into_response()
}

/// `GET /account/jobs.csv[?org=…&status=…&device=…&key_id=…&from=…&until=…]`: the
/// jobs the page's filters show, every page of them.
pub async fn jobs_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let user = match session_user(&state, &headers).await {
        Ok(Some(user)) => user,
        Ok(None) => return Redirect::to("/sign-in?next=%2Faccount%2Fjobs").into_response(),
        Err(error) => return error.into_response(),
    };
    let field = |name: &str| query.get(name).cloned().unwrap_or_default();
    let filter = crate::jobs::api::FilterForm {
        status: field("status"),
        device: field("device"),
        key_id: field("key_id"),
        from: field("from"),
        until: field("until"),
    };
    let filter = match filter.parse() {
        Ok(filter) => filter,
        Err(error) => return error.into_response(),
    };
    let org = query
        .get("org")
        .map(String::as_str)
        .filter(|o| !o.is_empty());
    let owner = match workspace(&state.db, org, &user.id, state.now_ms(), Need::Use).await {
        Ok(space) => space.owner,
        Err(error) => return error.into_response(),
    };
    let jobs = match crate::jobs::store::all(&state.db, &owner, &filter, MAX_ROWS).await {
        Ok(jobs) => jobs,
        Err(error) => return error.into_response(),
    };
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let _ = out.write_record([
        "submitted",
        "id",
        "name",
        "device",
        "status",
        "shots",
        "estimated_cost",
        "final_cost",
        "charged",
        "owed",
        "key_id",
        "key_name",
        "started",
        "ended",
    ]);
    let when = |ms: Option<i64>| ms.map(crate::time_fmt::exact).unwrap_or_default();
    let number = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    for job in &jobs {
        let _ = out.write_record([
            crate::time_fmt::exact(job.submitted_at),
            job.id.clone(),
            text_cell(&job.name),
            text_cell(&job.device),
            job.status.as_str().to_string(),
            number(job.shots),
            job.estimated_cost.to_string(),
            number(job.final_cost),
            job.charged.to_string(),
            job.owed.to_string(),
            job.key_id.clone(),
            text_cell(&job.key_name),
            when(job.started_at),
            when(job.ended_at),
        ]);
    }
    let body = String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default();
    let filename = format!(
        "keyward-jobs-{}.csv",
        crate::time_fmt::iso_date(state.now_ms())
    );
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

fn to_csv(entries: &[LedgerEntry]) -> String {
    // RFC 4180 (quoted where needed, CRLF) by the csv crate; writing to a Vec cannot fail.
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let _ = out.write_record([
        "date",
        "id",
        "kind",
        "description",
        "credits",
        "reference",
        "key_id",
        "actor",
    ]);
    for e in entries {
        let _ = out.write_record([
            crate::time_fmt::exact(e.created_at),
            e.id.clone(),
            e.kind.as_str().to_string(),
            text_cell(&e.description),
            e.amount.to_string(),
            text_cell(e.reference.as_deref().unwrap_or("")),
            text_cell(e.key_id.as_deref().unwrap_or("")),
            text_cell(&e.actor),
        ]);
    }
    let bytes = out.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR) gets a
/// leading apostrophe, so a description a service wrote cannot become one.
fn text_cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        let entry = |description: &str| LedgerEntry {
            id: "led_1".to_string(),
            amount: -5,
            kind: crate::wallet::EntryKind::Charge,
            reference: None,
            description: description.to_string(),
            actor: "service".to_string(),
            key_id: None,
            created_at: 0,
        };
        let rows = |description: &str| to_csv(&[entry(description)]);
        assert!(rows("plain").contains(",plain,"));
        assert!(rows("a,b").contains(",\"a,b\","));
        assert!(rows("say \"hi\"").contains(",\"say \"\"hi\"\"\","));
        assert!(rows("two\nlines").contains(",\"two\nlines\","));
        assert!(
            rows("x").starts_with("date,id,kind,description,credits,reference,key_id,actor\r\n")
        );
        assert!(rows("x").ends_with("\r\n"));
        assert_eq!(text_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(text_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(text_cell("Job 7"), "Job 7");
    }
}
