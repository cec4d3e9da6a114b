//! Account > Jobs' server functions. `org` is an organization's slug (its jobs, which
//! any member sees and may cancel), or None for the person's own.

use super::{JobChoices, JobDetail, JobFilter, JobPage, JobStatus, JobView, JobsAtAGlance};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    crate::auth::User,
    crate::web::request::Caller,
    crate::workspace::access::{Need, Workspace},
};

/// The filters as the page's controls hold them: "" for any.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FilterForm {
    pub status: String,
    pub device: String,
    pub key_id: String,
    /// `YYYY-MM-DD`
    pub from: String,
    pub until: String,
}

impl FilterForm {
    /// The filter it means, or the field that is not a status or a date.
    pub fn parse(&self) -> Result<JobFilter, AppError> {
        let text = |t: &str| {
            let t = t.trim();
            (!t.is_empty()).then(|| t.to_string())
        };
        let status = match text(&self.status) {
            None => None,
            Some(s) => Some(
                JobStatus::parse(&s)
                    .ok_or_else(|| AppError::invalid("status", "Choose a status from the list."))?,
            ),
        };
        let day = |field: &str, value: &str, read: fn(&str) -> Option<i64>| match text(value) {
            None => Ok(None),
            Some(d) => read(&d)
                .map(Some)
                .ok_or_else(|| AppError::invalid(field, "Enter the date as YYYY-MM-DD.")),
        };
        let filter = JobFilter {
            status,
            device: text(&self.device).filter(|d| d.len() <= 4 * super::MAX_DEVICE_CHARS),
            key_id: text(&self.key_id).filter(|k| k.len() <= 64),
            from: day("from", &self.from, super::start_of_day)?,
            until: day("until", &self.until, super::end_of_day)?,
        };
        if let (Some(from), Some(until)) = (filter.from, filter.until) {
            if until <= from {
                return Err(AppError::invalid(
                    "until",
                    "Choose a date on or after the first.",
                ));
            }
        }
        Ok(filter)
    }
}

/// A page of jobs with what the filters offer and what is held now.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JobsOverview {
    pub page: JobPage,
    pub choices: JobChoices,
    pub glance: JobsAtAGlance,
}

#[server(endpoint = "list_jobs", input = leptos::server_fn::codec::Json, output = crate::infra::wire::Wire)]
pub async fn list_jobs(
    org: Option<String>,
    filter: FilterForm,
    before: Option<String>,
) -> Result<JobsOverview, AppError> {
    Caller::in_workspace(
        org,
        Need::Use,
        async |caller: &Caller, _user: User, space: Workspace| {
            let db = &caller.state.db;
            let filter = filter.parse()?;
            let before = before.as_deref().filter(|b| !b.is_empty() && b.len() <= 64);
            Ok(JobsOverview {
                page: super::store::list(db, &space.owner, &filter, before, super::PAGE_SIZE)
                    .await?,
                choices: super::store::choices(db, &space.owner).await?,
                glance: super::store::glance(db, &space.owner).await?,
            })
        },
    )
    .await
}

/// A job's timeline and ledger entries, for its expanded row.
#[server(endpoint = "read_job", output = crate::infra::wire::Wire)]
pub async fn read_job(org: Option<String>, id: String) -> Result<JobDetail, AppError> {
    Caller::in_workspace(
        org,
        Need::Use,
        async |caller: &Caller, _user: User, space: Workspace| {
            super::store::detail(&caller.state.db, &space.owner, &id).await
        },
    )
    .await
}

/// Asks the job service to cancel a queued or running job.
#[server(endpoint = "cancel_job", output = crate::infra::wire::Wire)]
pub async fn cancel_job(org: Option<String>, id: String) -> Result<JobView, AppError> {
    Caller::in_workspace(
        org,
        Need::Use,
        async |caller: &Caller, user: User, space: Workspace| {
            let state = &caller.state;
            super::cancel::request_cancel(&state.db, &space.owner, &id, &user.email, state.now_ms())
                .await
        },
    )
    .await
}
