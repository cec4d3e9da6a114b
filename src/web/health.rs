//! `/health/live` (the process answers) and `/health/ready` (it should be sent
//! traffic: the database answers, every migration is applied, the charge writer and
//! the usage flusher are alive, and it is not shutting down). A load balancer checks
//! the second; `/api/v1/healthz` stays for services that check the first.

use super::state::AppState;
use axum::{extract::State, http::StatusCode, Json};
use serde::Serialize;

/// The usage flusher runs every second; this long without a flush, it is stalled.
const FLUSHER_STALLED_MS: i64 = 10_000;
#[derive(Serialize)]
pub struct Live {
    status: &'static str,
}

pub async fn live() -> Json<Live> {
    Json(Live { status: "live" })
}

#[derive(Serialize)]
pub struct Checks {
    database: &'static str,
    migrations: &'static str,
    charge_writer: &'static str,
    usage_flusher: &'static str,
    shutting_down: bool,
}

#[derive(Serialize)]
pub struct Ready {
    status: &'static str,
    checks: Checks,
}

pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Ready>) {
    let now = state.now_ms();
    let database = state.database_reachable().await;
    let expected = sqlx::migrate!("./migrations").iter().count() as i64;
    let applied: Option<(i64,)> =
        sqlx::query_as("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
            .fetch_optional(&state.db.pool)
            .await
            .ok()
            .flatten();
    let migrations = applied.is_some_and(|(n,)| n >= expected);
    let charge_writer = state.charger.is_running();
    let flushed = state.vitals.usage_flushed_at();
    let usage_flusher = flushed > 0 && now - flushed < FLUSHER_STALLED_MS;
    let shutting_down = state.vitals.shutting_down();
    let ok = database && migrations && charge_writer && usage_flusher && !shutting_down;
    let said = |good: bool, bad: &'static str| if good { "ok" } else { bad };
    (
        if ok {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        Json(Ready {
            status: if ok { "ready" } else { "not_ready" },
            checks: Checks {
                database: said(database, "unreachable"),
                migrations: said(migrations, "pending"),
                charge_writer: said(charge_writer, "stopped"),
                usage_flusher: said(
                    usage_flusher,
                    if flushed == 0 {
                        "not_started"
                    } else {
                        "stalled"
                    },
                ),
                shutting_down,
            },
        }),
    )
}
