//! Thirty days of a daily count (requests, credits spent) as SVG bars; hovering a bar
//! shows the day's count.

use crate::time_fmt;
use crate::usage::DailyCount;
use crate::wallet::DailySpend;
use leptos::prelude::*;

/// One bar: the start of its UTC day (Unix ms) and its count.
pub struct ChartDay {
    pub day_start: i64,
    pub count: i64,
}

/// The bars, oldest first: a key's requests per day or a wallet's credits spent.
pub struct ChartDays(Vec<ChartDay>);

impl From<Vec<DailyCount>> for ChartDays {
    fn from(days: Vec<DailyCount>) -> Self {
        Self(
            days.into_iter()
                .map(|d| ChartDay {
                    day_start: d.day_start,
                    count: d.requests,
                })
                .collect(),
        )
    }
}

impl From<Vec<DailySpend>> for ChartDays {
    fn from(days: Vec<DailySpend>) -> Self {
        Self(
            days.into_iter()
                .map(|d| ChartDay {
                    day_start: d.day_start,
                    count: d.credits,
                })
                .collect(),
        )
    }
}

const BAR: f64 = 8.0;
const GAP: f64 = 2.0;
const HEIGHT: f64 = 64.0;

#[component]
pub fn UsageChart(
    #[prop(into)] days: ChartDays,
    /// What is counted, as a title: "Requests", "Credits spent".
    #[prop(default = "Requests")]
    title: &'static str,
    #[prop(default = "request")] singular: &'static str,
    #[prop(default = "requests")] plural: &'static str,
) -> impl IntoView {
    let ChartDays(days) = days;
    let max = days.iter().map(|d| d.count).max().unwrap_or(0).max(1) as f64;
    let total: i64 = days.iter().map(|d| d.count).sum();
    let width = days.len() as f64 * (BAR + GAP) - GAP;
    let first = days
        .first()
        .map(|d| time_fmt::date(d.day_start))
        .unwrap_or_default();
    let summary = format!("{title} per day over the last 30 days: {total} in total.");
    let bars = days
        .into_iter()
        .enumerate()
        .map(|(i, day)| {
            let h = if day.count <= 0 {
                2.0
            } else {
                (day.count as f64 / max * (HEIGHT - 2.0)).max(3.0)
            };
            let noun = if day.count == 1 { singular } else { plural };
            let tip = format!("{}: {} {noun}", time_fmt::date(day.day_start), day.count);
            view! {
                <rect
                    class="bar"
                    class:zero=day.count <= 0
                    x=i as f64 * (BAR + GAP)
                    y=HEIGHT - h
                    width=BAR
                    height=h
                    rx="1.5"
                    data-count=day.count
                >
                    <title>{tip}</title>
                </rect>
            }
        })
        .collect_view();
    view! {
        <svg class="usage-chart" viewBox=format!("0 0 {width} {HEIGHT}") preserveAspectRatio="none" role="img" aria-label=summary>
            {bars}
        </svg>
        <div class="chart-axis" aria-hidden="true">
            <span>{first}</span>
            <span>"Today"</span>
        </div>
    }
}
