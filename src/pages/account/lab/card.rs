//! The dashboard's Lab card: the server's state with Stop (or Launch), the plan and
//! its compute hours.

use super::controls::{
    status_line, use_lab, ComputeBar, LaunchButton, StopButton, StopNoticeBanner,
};
use crate::lab::Availability;
use leptos::prelude::*;

#[component]
pub fn DashboardLabCard() -> impl IntoView {
    let lab = use_lab();
    view! {
        <Transition fallback=|| view! { <section class="card skeleton" aria-busy="true">"Loading Lab…"</section> }>
            {move || Suspend::new(async move {
                let overview = match lab.overview.await {
                    Ok(overview) => overview,
                    Err(e) => return view! { <div class="banner banner-danger" role="alert">{e.to_string()}</div> }.into_any(),
                };
                let body = match overview.availability.clone() {
                    Availability::NotSetUp => view! {
                        <p class="muted">"Lab is not set up on this server."</p>
                    }.into_any(),
                    Availability::Unavailable => view! {
                        <p class="muted" role="status">"Lab is unavailable right now."</p>
                    }.into_any(),
                    Availability::Available(status) => {
                        let (line, badge, badge_class) = status_line(&status);
                        let action = if status.is_active() {
                            view! { <StopButton /> }.into_any()
                        } else {
                            view! { <LaunchButton /> }.into_any()
                        };
                        view! {
                            <div class="card-cta">
                                <p><span class=format!("badge {badge_class}")>{badge}</span>" "<span class="muted">{line}</span></p>
                                <div class="actions">{action}</div>
                            </div>
                        }.into_any()
                    }
                };
                let notice = overview.notice.clone()
                    .map(|notice| view! { <StopNoticeBanner notice idle_minutes=overview.idle_minutes /> });
                let compute = overview.compute.clone().map(|compute| view! { <ComputeBar compute /> });
                view! {
                    {notice}
                    <section class="card" aria-labelledby="lab-card-heading">
                        <div class="card-title-row">
                            <h2 id="lab-card-heading">"Lab"</h2>
                            <a href="/account/lab">"Lab details"</a>
                        </div>
                        {body}
                        {compute}
                    </section>
                }.into_any()
            })}
        </Transition>
    }
}
