//! The Wallet page's low-balance alert: a threshold, the banner while the balance is
//! below it, and one email each time the balance crosses it downward.

use crate::components::action_result::on_action;
use crate::components::kept::keep_typed;
use crate::wallet::api::SetLowBalanceAlert;
use crate::wallet::format_credits;
use leptos::prelude::*;

#[component]
pub fn LowBalanceAlert(threshold: Option<i64>, balance: i64) -> impl IntoView {
    let current = RwSignal::new(threshold);
    let value = RwSignal::new(threshold.map(|t| t.to_string()).unwrap_or_default());
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(None::<String>);
    let save = ServerAction::<SetLowBalanceAlert>::new();
    on_action(
        save,
        move |now| {
            error.set(None);
            current.set(now);
            value.set(now.map(|t| t.to_string()).unwrap_or_default());
            saved.set(Some(match now {
                Some(t) => format!(
                    "Saved. You will get an email when your balance drops below {} credits.",
                    format_credits(t)
                ),
                None => "Saved. The low-balance alert is off.".to_string(),
            }));
        },
        move |e| {
            saved.set(None);
            error.set(Some(
                e.field_message("threshold")
                    .unwrap_or_else(|| e.to_string()),
            ));
        },
    );
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if !save.pending().get_untracked() {
            save.dispatch(SetLowBalanceAlert {
                threshold: value.get_untracked(),
            });
        }
    };
    view! {
        <section class="card" aria-labelledby="alert-heading">
            <h2 id="alert-heading">"Low-balance alert"</h2>
            <p class="muted">"Get one email each time your balance drops below the amount you choose; the dashboard shows a banner while it stays below."</p>
            {move || current.get().filter(|t| balance < *t).map(|t| view! {
                <div class="banner banner-warning" role="status">
                    {format!("Your balance, {} credits, is below your alert at {} credits.", format_credits(balance), format_credits(t))}
                </div>
            })}
            <form class="inline-form" on:submit=on_submit novalidate>
                <div class="field" class:field-invalid=move || error.get().is_some()>
                    <label for="field-threshold">"Alert me below (credits)"</label>
                    <input id="field-threshold" name="threshold" type="text" inputmode="numeric" autocomplete="off"
                        maxlength=16 placeholder="Off"
                        use:keep_typed=value
                        prop:value=move || value.get()
                        on:input=move |ev| value.set(event_target_value(&ev))
                        aria-invalid=move || error.get().is_some().to_string()
                        aria-describedby=move || if error.get().is_some() { "field-threshold-message" } else { "" } />
                    {move || error.get().map(|m| view! { <p class="field-error" id="field-threshold-message">{m}</p> })}
                </div>
                <button type="submit" class="button" disabled=move || save.pending().get()>"Save alert"</button>
                {move || current.get().is_some().then(|| view! {
                    <button type="button" class="button button-ghost" disabled=move || save.pending().get()
                        on:click=move |_| { save.dispatch(SetLowBalanceAlert { threshold: String::new() }); }>
                        "Turn off"
                    </button>
                })}
            </form>
            {move || saved.get().map(|m| view! { <p class="field-success" role="status">{m}</p> })}
        </section>
    }
}
