//! Settings for running Keyward: how long a job's hold lasts without news from the job
//! service, how long a stopping process lets requests finish, and the log format.

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// For a person reading a terminal.
    #[default]
    Text,
    /// One JSON object per line, with the request's span (its `request_id`).
    Json,
}

impl LogFormat {
    /// `KEYWARD_LOG_FORMAT`: `text` (default) or `json`.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var("KEYWARD_LOG_FORMAT")
            .ok()
            .as_deref()
            .map(str::trim)
        {
            None | Some("") | Some("text") => Ok(LogFormat::Text),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => Err(format!("KEYWARD_LOG_FORMAT={other:?} is text or json")),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operations {
    /// Hours a job's hold lasts without an update from the job service.
    pub job_hold_hours: i64,
    /// Seconds a stopping process gives requests under way to finish.
    pub shutdown_grace_secs: u64,
    pub log_format: LogFormat,
}

impl Default for Operations {
    fn default() -> Self {
        Self {
            job_hold_hours: 24,
            shutdown_grace_secs: 20,
            log_format: LogFormat::Text,
        }
    }
}

impl Operations {
    pub fn from_env() -> Result<Self, String> {
        let defaults = Self::default();
        let number =
            |name: &str, default: i64, range: std::ops::RangeInclusive<i64>| match std::env::var(
                name,
            )
            .ok()
            .filter(|v| !v.trim().is_empty())
            {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|n| range.contains(n))
                    .ok_or_else(|| {
                        format!(
                            "{name}={v:?} is not a whole number from {} to {}",
                            range.start(),
                            range.end()
                        )
                    }),
            };
        Ok(Self {
            job_hold_hours: number(
                "KEYWARD_JOB_HOLD_HOURS",
                defaults.job_hold_hours,
                1..=24 * 365,
            )?,
            shutdown_grace_secs: number(
                "KEYWARD_SHUTDOWN_GRACE_SECS",
                defaults.shutdown_grace_secs as i64,
                0..=3600,
            )? as u64,
            log_format: LogFormat::from_env()?,
        })
    }
}
