//! Downloads for signed-in people: the ledger and the jobs as CSV.

use super::request::session_user;
use super::state::AppState;
use crate::jobs::JobView;
use crate::wallet::{ledger, EntryKind, LedgerEntry};
use crate::workspace::access::{workspace, Need};
use crate::workspace::Owner;
use axum::{
    extract::{Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use std::collections::HashMap;

/// Rows one export holds at most.
const MAX_ROWS: i64 = 100_000;

/// Whose export it is: the signed-in person's workspace, or the organization `org`
/// names (any member may read it). A person not signed in goes to sign in first, and
/// comes back to `page`.
async fn exporting_owner(
    state: &AppState,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    page: &str,
) -> Result<Owner, Response> {
    let user = match session_user(state, headers).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            let next = page.replace('/', "%2F");
            return Err(Redirect::to(&format!("/sign-in?next={next}")).into_response());
        }
        Err(error) => return Err(error.into_response()),
    };
    let org = query
        .get("org")
        .map(String::as_str)
        .filter(|o| !o.is_empty());
    workspace(&state.db, org, &user.id, state.now_ms(), Need::Use)
        .await
        .map(|space| space.owner)
        .map_err(IntoResponse::into_response)
}

/// A CSV download named `keyward-{what}-{date}.csv`, never cached.
fn csv_download(state: &AppState, what: &str, body: String) -> Response {
    let filename = format!(
        "keyward-{what}-{}.csv",
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

/// RFC 4180 rows (quoted where needed, CRLF) by the csv crate; writing to a Vec cannot fail.
fn csv_of<const N: usize>(head: [&str; N], rows: impl Iterator<Item = [String; N]>) -> String {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let _ = out.write_record(head);
    for row in rows {
        let _ = out.write_record(row);
    }
    String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// `GET /account/wallet/transactions.csv[?kind=charge][&org=slug]`
pub async fn transactions_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let owner = match exporting_owner(&state, &headers, &query, "/account/wallet").await {
        Ok(owner) => owner,
        Err(response) => return response,
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
    match ledger::all_entries(&state.db, &owner, kind, MAX_ROWS).await {
        Ok(entries) => csv_download(&state, "transactions", to_csv(&entries)),
        Err(error) => error.into_response(),
    }
}

/// `GET /account/jobs.csv[?org=…&status=…&device=…&key_id=…&from=…&until=…]`: the
/// jobs the page's filters show, every page of them.
pub async fn jobs_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let owner = match exporting_owner(&state, &headers, &query, "/account/jobs").await {
        Ok(owner) => owner,
        Err(response) => return response,
    };
    let field = |name: &str| query.get(name).cloned().unwrap_or_default();
    let filter = crate::jobs::api::FilterForm {
        status: field("status"),
        device: field("device"),
        key_id: field("key_id"),
        from: field("from"),
        until: field("until"),
    };
    let jobs = match filter.parse() {
        Ok(filter) => crate::jobs::store::all(&state.db, &owner, &filter, MAX_ROWS).await,
        Err(error) => Err(error),
    };
    match jobs {
        Ok(jobs) => csv_download(&state, "jobs", jobs_to_csv(&jobs)),
        Err(error) => error.into_response(),
    }
}

fn jobs_to_csv(jobs: &[JobView]) -> String {
    let when = |ms: Option<i64>| ms.map(crate::time_fmt::exact).unwrap_or_default();
    let number = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    csv_of(
        [
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
        ],
        jobs.iter().map(|job| {
            [
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
            ]
        }),
    )
}

fn to_csv(entries: &[LedgerEntry]) -> String {
    csv_of(
        [
            "date",
            "id",
            "kind",
            "description",
            "credits",
            "reference",
            "key_id",
            "actor",
        ],
        entries.iter().map(|e| {
            [
                crate::time_fmt::exact(e.created_at),
                e.id.clone(),
                e.kind.as_str().to_string(),
                text_cell(&e.description),
                e.amount.to_string(),
                text_cell(e.reference.as_deref().unwrap_or("")),
                text_cell(e.key_id.as_deref().unwrap_or("")),
                text_cell(&e.actor),
            ]
        }),
    )
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
