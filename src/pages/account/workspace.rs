//! Which workspace a page shows: the URL says it (`/org/{slug}/api-keys` for an
//! organization's, `/account/api-keys` for the person's own), so links can be shared.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// The organization slug in a path, or None for a personal page.
pub fn org_slug_of(path: &str) -> Option<String> {
    path.strip_prefix("/org/")?
        .split('/')
        .next()
        .filter(|slug| !slug.is_empty())
        .map(str::to_string)
}

/// The organization the current URL names, or None in the personal workspace.
pub fn use_org_slug() -> Memo<Option<String>> {
    let pathname = use_location().pathname;
    Memo::new(move |_| pathname.with(|path| org_slug_of(path)))
}

/// Where a workspace's page lives: `page` is "" (its dashboard), "api-keys", "wallet"...
pub fn workspace_href(org: Option<&str>, page: &str) -> String {
    let base = match org {
        Some(slug) => format!("/org/{slug}"),
        None => "/account".to_string(),
    };
    if page.is_empty() {
        base
    } else {
        format!("{base}/{page}")
    }
}

/// What an organization's page shows to someone who is not (or no longer) a member,
/// exactly as for an organization that does not exist.
#[component]
pub fn OrgNotFound() -> impl IntoView {
    view! {
        <leptos_meta::Title text="Organization not found" />
        <div class="card empty-state">
            <h1>"Organization not found"</h1>
            <p class="muted">"It does not exist, or you are not a member of it."</p>
            <a class="button" href="/account/organizations">"Your organizations"</a>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_their_workspace() {
        assert_eq!(org_slug_of("/org/acme/api-keys").as_deref(), Some("acme"));
        assert_eq!(org_slug_of("/org/acme").as_deref(), Some("acme"));
        assert_eq!(org_slug_of("/org/"), None);
        assert_eq!(org_slug_of("/account/api-keys"), None);
        assert_eq!(workspace_href(Some("acme"), "wallet"), "/org/acme/wallet");
        assert_eq!(workspace_href(None, ""), "/account");
    }
}
