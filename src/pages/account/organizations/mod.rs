//! Account > Organizations: the person's organizations with their role, and a form to
//! create one. Each links to its Members page.

pub mod dashboard;
pub mod invitations;
pub mod members;
mod remove_member;

use crate::components::action_result::{form_level_message, on_action};
use crate::components::data_table::{Column, DataTable, Empty, Listing};
use crate::components::field::TextField;
use crate::error::AppError;
use crate::infra::wire::load;
use crate::orgs::api::{my_organizations, CreateOrganization};
use crate::orgs::{suggest_slug, OrgSummary};
use invitations::IncomingInvitations;
use leptos::prelude::*;
use leptos_meta::Title;

const NO_ORGANIZATIONS: Empty = Empty {
    title: "You are not in any organization yet",
    hint: "Create one below, or accept an invitation.",
};

fn organizations_table(list: Vec<OrgSummary>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|org| {
            vec![
                view! {
                    <a href=format!("/org/{}", org.slug)>{org.name.clone()}</a>
                    <span class="reference muted">{format!("/{}", org.slug)}</span>
                }
                .into_any(),
                org.role.label().into_any(),
                org.members.into_any(),
            ]
        })
        .collect();
    let columns = vec![
        Column::primary("Name"),
        Column::text("Your role"),
        Column::numeric("Members"),
    ];
    view! { <DataTable caption="Your organizations" flat=true columns rows /> }
}

#[component]
pub fn OrganizationsPage() -> impl IntoView {
    let orgs = load(|| (), |_| my_organizations());
    view! {
        <Title text="Organizations" />
        <header class="page-header">
            <div>
                <h1>"Organizations"</h1>
                <p class="muted">"Workspaces you share with others: their members, invitations and roles."</p>
            </div>
        </header>
        <IncomingInvitations />
        <section class="card" aria-labelledby="orgs-heading">
            <h2 id="orgs-heading">"Your organizations"</h2>
            <Listing resource=orgs loading="Loading…" in_card=true
                is_empty=Vec::is_empty empty=NO_ORGANIZATIONS show=organizations_table />
        </section>
        <CreateOrganizationForm />
    }
}

#[component]
fn CreateOrganizationForm() -> impl IntoView {
    let create = ServerAction::<CreateOrganization>::new();
    let name = RwSignal::new(String::new());
    let slug = RwSignal::new(String::new());
    let error = RwSignal::new(None::<AppError>);
    // The URL follows the name while it is what the previous name suggested (or empty);
    // one typed by hand, also before the page hydrated, is kept when the name changes.
    Effect::new(move |previous_name: Option<String>| {
        let current = name.get();
        let shown = slug.get_untracked();
        let follows = match &previous_name {
            Some(previous) => shown == suggest_slug(previous),
            None => shown.is_empty(),
        };
        if follows {
            slug.set(suggest_slug(&current));
        }
        current
    });
    on_action(
        create,
        move |org| crate::components::load_page(&format!("/org/{}/members", org.slug)),
        move |e| error.set(Some(e)),
    );
    let field = move |name: &'static str| {
        Signal::derive(move || error.with(|e| e.as_ref().and_then(|e| e.field_message(name))))
    };
    view! {
        <section class="card narrow-form" aria-labelledby="create-org-heading">
            <h2 id="create-org-heading">"Create an organization"</h2>
            <p class="muted card-text">"You become its Owner, and can invite others as Admins or Members."</p>
            <form novalidate on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                create.dispatch(CreateOrganization { name: name.get_untracked(), slug: slug.get_untracked() });
            }>
                <TextField label="Name" name="name" value=name error=field("name") max_chars=64
                    hint="For example Acme Research." />
                <TextField label="URL" name="slug" value=slug error=field("slug") max_chars=40
                    hint="Lowercase letters, digits and hyphens, e.g. acme-research. Links to the organization use it." />
                {move || form_level_message(error.get()).map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                <button type="submit" class="button button-primary" disabled=move || create.pending().get()>
                    {move || if create.pending().get() { "Creating…" } else { "Create organization" }}
                </button>
            </form>
        </section>
    }
}
