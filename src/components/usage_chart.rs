//! Thirty days of a daily count (requests, credits spent) as SVG bars; hovering a bar
//! shows the day's count.

use crate::time_fmt;
use crate::usage::DailyCount;
use leptos::prelude::*;

const BAR: f64 = 8.0;
const GAP: f64 = 2.0;
const HEIGHT: f64 = 64.0;

#[component]
pub fn UsageChart(
    days: Vec<DailyCount>,
    /// What is counted, as a title: "Requests", "Credits spent".
    #[prop(default = "Requests")]
    title: &'static str,
    #[prop(default = "request")] singular: &'static str,
    #[prop(default = "requests")] plural: &'static str,
) -> impl IntoView {
    let max = days.iter().map(|d| d.requests).max().unwrap_or(0).max(1) as f64;
    let total: i64 = days.iter().map(|d| d.requests).sum();
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
            let h = if day.requests <= 0 {
                2.0
            } else {
                (day.requests as f64 / max * (HEIGHT - 2.0)).max(3.0)
            };
            let noun = if day.requests == 1 { singular } else { plural };
            let tip = format!("{}: {} {noun}", time_fmt::date(day.day_start), day.requests);
            view! {
                <rect
                    class="bar"
                    class:zero=day.requests <= 0
                    x=i as f64 * (BAR + GAP)
                    y=HEIGHT - h
                    width=BAR
                    height=h
                    rx="1.5"
                    data-count=day.requests
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
