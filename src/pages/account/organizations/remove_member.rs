//! The dialog that confirms a member's removal and decides what happens to the
//! organization keys they created or last regenerated (whose values they may have
//! kept): revoked by default, or kept working.

use crate::components::action_result::on_action;
use crate::components::modal::Modal;
use crate::components::toast::Toasts;
use crate::orgs::api::{MemberKeys, RemoveMember};
use crate::orgs::Member;
use leptos::prelude::*;
use leptos::web_sys::SubmitEvent;

#[component]
pub fn RemoveMemberDialog(
    member: Member,
    slug: String,
    open: RwSignal<bool>,
    toasts: Toasts,
    reload: Callback<()>,
) -> impl IntoView {
    let keys = ServerAction::<MemberKeys>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let keep = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let email = member.email.clone();
    {
        let (slug, user_id) = (slug.clone(), member.user_id.clone());
        // Each opening asks afresh which keys they made, and starts at "Revoke".
        Effect::new(move |_| {
            if open.get() {
                keep.set(false);
                error.set(None);
                keys.dispatch(MemberKeys {
                    slug: slug.clone(),
                    user_id: user_id.clone(),
                });
            }
        });
    }
    {
        let email = email.clone();
        on_action(
            remove,
            move |()| {
                remove.value().set(None);
                open.set(false);
                let kept = keep.get_untracked();
                let made = keys.value().with_untracked(|v| match v {
                    Some(Ok(list)) => list.len(),
                    _ => 0,
                });
                toasts.success(match (made, kept) {
                    (0, _) => format!("{email} removed."),
                    (_, true) => format!("{email} removed; their keys keep working."),
                    (n, false) => format!(
                        "{email} removed; {n} key{} revoked.",
                        if n == 1 { "" } else { "s" }
                    ),
                });
                reload.run(());
            },
            move |e| error.set(Some(e.to_string())),
        );
    }
    let (slug_submit, id_submit) = (slug, member.user_id.clone());
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if !remove.pending().get_untracked() {
            remove.dispatch(RemoveMember {
                slug: slug_submit.clone(),
                user_id: id_submit.clone(),
                keep_keys: Some(keep.get_untracked()),
            });
        }
    };
    let title = format!("Remove {email}?");
    let button = format!("Remove {email}");
    view! {
        <Modal open=open on_close=Callback::new(move |_| open.set(false)) labelled_by="remove-member-title">
            <form on:submit=on_submit.clone()>
                <div class="dialog-body">
                    <h2 id="remove-member-title">{title.clone()}</h2>
                    <p class="muted">"They lose access at once. Credits given to them and not spent go back to the organization."</p>
                    {move || match keys.value().get() {
                        None => view! { <p class="hint">"Looking for keys they made…"</p> }.into_any(),
                        Some(Err(e)) => view! { <p class="field-error" role="alert">{e.to_string()}</p> }.into_any(),
                        Some(Ok(list)) if list.is_empty() => view! {
                            <p>"They made no keys for this organization."</p>
                        }.into_any(),
                        Some(Ok(list)) => view! {
                            <p>"They created or last regenerated these organization keys, so they may still know their values:"</p>
                            <ul class="plain-list" aria-label="Keys they made">
                                {list.into_iter().map(|k| view! { <li><code>{k.name}</code></li> }).collect_view()}
                            </ul>
                            <fieldset>
                                <legend>"Their keys"</legend>
                                <label class="choice">
                                    <input type="radio" name="member-keys" prop:checked=move || !keep.get() on:change=move |_| keep.set(false) />
                                    <span>"Revoke them (recommended): services using them stop working"</span>
                                </label>
                                <label class="choice">
                                    <input type="radio" name="member-keys" prop:checked=move || keep.get() on:change=move |_| keep.set(true) />
                                    <span>"Keep them working"</span>
                                </label>
                            </fieldset>
                        }.into_any(),
                    }}
                    {move || error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
                </div>
                <div class="dialog-footer">
                    <button type="button" class="button" on:click=move |_| open.set(false)>"Cancel"</button>
                    <button type="submit" class="button button-danger"
                        disabled=move || remove.pending().get() || keys.pending().get()>
                        {button.clone()}
                    </button>
                </div>
            </form>
        </Modal>
    }
}
