//! The workspace switcher at the top of the sidebar: Personal, then each organization
//! with the person's role. A disclosure of links, so each workspace has a URL.

use super::workspace::use_org_slug;
use crate::components::icons::ChevronIcon;
use crate::infra::wire::load;
use crate::orgs::api::my_organizations;
use leptos::prelude::*;

#[component]
pub fn WorkspaceSwitcher() -> impl IntoView {
    let orgs = load(|| (), |_| my_organizations());
    let current = use_org_slug();
    let open = RwSignal::new(false);
    let button = NodeRef::<leptos::html::Button>::new();
    // Any navigation closes it.
    let pathname = leptos_router::hooks::use_location().pathname;
    Effect::new(move |_| {
        pathname.track();
        open.set(false);
    });
    view! {
        <div class="workspace-switcher" on:keydown=move |ev: leptos::ev::KeyboardEvent| {
            if ev.key() == "Escape" && open.get_untracked() {
                ev.stop_propagation();
                open.set(false);
                if let Some(button) = button.get_untracked() {
                    let _ = button.focus();
                }
            }
        }>
            <button type="button" class="workspace-button" node_ref=button aria-expanded=move || open.get().to_string()
                aria-controls="workspace-list" on:click=move |_| open.update(|o| *o = !*o)>
                <span class="workspace-label">"Workspace"</span>
                <span class="workspace-name">
                    <Transition fallback=move || current.get().unwrap_or_else(|| "Personal".to_string())>
                        {move || Suspend::new(async move {
                            let list = orgs.await.unwrap_or_default();
                            match current.get() {
                                None => "Personal".to_string(),
                                Some(slug) => list.into_iter().find(|o| o.slug == slug).map_or(slug, |o| o.name),
                            }
                        })}
                    </Transition>
                </span>
                <ChevronIcon />
            </button>
            <Show when=move || open.get()>
            <ul id="workspace-list" class="workspace-list" on:click=move |_| open.set(false)>
                <li>
                    <a href="/account" aria-current=move || current.get().is_none().then_some("true")>
                        <span>"Personal"</span>
                    </a>
                </li>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        orgs.await.unwrap_or_default().into_iter().map(|org| {
                            let slug = org.slug.clone();
                            view! {
                                <li>
                                    <a href=format!("/org/{}", org.slug)
                                        aria-current=move || (current.get().as_deref() == Some(slug.as_str())).then_some("true")>
                                        <span>{org.name.clone()}</span>
                                        <span class="workspace-role">{org.role.label()}</span>
                                    </a>
                                </li>
                            }
                        }).collect_view()
                    })}
                </Transition>
                <li class="workspace-manage"><a href="/account/organizations">"Manage organizations"</a></li>
            </ul>
            </Show>
        </div>
    }
}
