//! Timestamps are Unix milliseconds (UTC) everywhere; these turn them into words.

use time::{macros::format_description, OffsetDateTime};

pub const DAY_MS: i64 = 86_400_000;
pub const HOUR_MS: i64 = 3_600_000;

/// Milliseconds since the Unix epoch, from the system clock (server) or `Date.now()` (browser).
pub fn now_ms() -> i64 {
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

fn datetime(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

/// The calendar month (UTC) of `ms` as YYYYMM, e.g. 202612, and when it began.
pub fn month_of(ms: i64) -> (i64, i64) {
    match datetime(ms) {
        Some(d) => {
            let start = d
                .replace_day(1)
                .map(|d| d.replace_time(time::Time::MIDNIGHT))
                .map(|d| d.unix_timestamp() * 1000)
                .unwrap_or(ms);
            (
                i64::from(d.year()) * 100 + i64::from(u8::from(d.month())),
                start,
            )
        }
        None => (0, ms),
    }
}

/// "Nov 23, 2026"
pub fn date(ms: i64) -> String {
    let format = format_description!("[month repr:short] [day padding:none], [year]");
    datetime(ms)
        .and_then(|d| d.format(format).ok())
        .unwrap_or_default()
}

/// "2026-11-23 14:05:09 UTC", for tooltips and detail panes.
pub fn exact(ms: i64) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    datetime(ms)
        .and_then(|d| d.format(format).ok())
        .unwrap_or_default()
}

/// "2026-11-23", the value a date input expects.
pub fn iso_date(ms: i64) -> String {
    let format = format_description!("[year]-[month]-[day]");
    datetime(ms)
        .and_then(|d| d.format(format).ok())
        .unwrap_or_default()
}

/// The Unix milliseconds at which a "2026-11-23" date ends (midnight UTC after it), so
/// that something expiring "on" that date works through all of it.
pub fn end_of_iso_date(text: &str) -> Option<i64> {
    let format = format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(text.trim(), format).ok()?;
    let start = date.midnight().assume_utc().unix_timestamp();
    Some((start + 86_400) * 1000)
}

/// "just now", "5 minutes ago", "3 days ago", "in 2 days".
pub fn relative(ms: i64, now: i64) -> String {
    let delta = now - ms;
    let future = delta < 0;
    let secs = delta.unsigned_abs() / 1000;
    if secs < 45 {
        return "just now".to_string();
    }
    let words = duration_words(secs);
    if future {
        format!("in {words}")
    } else {
        format!("{words} ago")
    }
}

/// "1 second", "5 minutes", "2 hours", "3 days", rounded down to the largest unit.
pub fn duration_words(secs: u64) -> String {
    let (n, unit) = match secs {
        0..=59 => (secs, "second"),
        60..=3_599 => (secs / 60, "minute"),
        3_600..=86_399 => (secs / 3_600, "hour"),
        86_400..=2_591_999 => (secs / 86_400, "day"),
        2_592_000..=31_535_999 => (secs / 2_592_000, "month"),
        _ => (secs / 31_536_000, "year"),
    };
    let n = n.max(1);
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert_eq!(duration_words(1), "1 second");
        assert_eq!(duration_words(125), "2 minutes");
        assert_eq!(duration_words(7_200), "2 hours");
        assert_eq!(relative(0, 10_000), "just now");
        assert_eq!(relative(0, 3 * DAY_MS), "3 days ago");
        assert_eq!(relative(2 * DAY_MS + 1000, 0), "in 2 days");
        assert_eq!(exact(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(date(1_795_392_000_000), "Nov 23, 2026");
    }
}
