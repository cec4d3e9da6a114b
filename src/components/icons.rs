//! Inline SVG icons (Lucide-style strokes). Decorative: the buttons carry the names.

use leptos::prelude::*;

fn svg(path: &'static str) -> impl IntoView {
    view! {
        <svg
            class="icon"
            viewBox="0 0 24 24"
            width="16"
            height="16"
            fill="none"
            stroke="currentColor"
            stroke-width="2"
            stroke-linecap="round"
            stroke-linejoin="round"
            aria-hidden="true"
            focusable="false"
            inner_html=path
        ></svg>
    }
}

#[component]
pub fn LogoIcon() -> impl IntoView {
    svg(
        r#"<circle cx="7.5" cy="15.5" r="5.5"/><path d="m21 2-9.6 9.6"/><path d="m15.5 7.5 3 3L22 7l-3-3"/>"#,
    )
}

#[component]
pub fn HomeIcon() -> impl IntoView {
    svg(
        r#"<rect width="7" height="9" x="3" y="3" rx="1"/><rect width="7" height="5" x="14" y="3" rx="1"/><rect width="7" height="9" x="14" y="12" rx="1"/><rect width="7" height="5" x="3" y="16" rx="1"/>"#,
    )
}

#[component]
pub fn KeyIcon() -> impl IntoView {
    svg(
        r#"<path d="M2.586 17.414A2 2 0 0 0 2 18.828V21a1 1 0 0 0 1 1h3a1 1 0 0 0 1-1v-1a1 1 0 0 1 1-1h1a1 1 0 0 0 1-1v-1a1 1 0 0 1 1-1h.172a2 2 0 0 0 1.414-.586l.814-.814a6.5 6.5 0 1 0-4-4z"/><circle cx="16.5" cy="7.5" r=".5" fill="currentColor"/>"#,
    )
}

#[component]
pub fn CopyIcon() -> impl IntoView {
    svg(
        r#"<rect width="14" height="14" x="8" y="8" rx="2" ry="2"/><path d="M4 16c-1.1 0-2-.9-2-2V4c0-1.1.9-2 2-2h10c1.1 0 2 .9 2 2"/>"#,
    )
}

#[component]
pub fn CheckIcon() -> impl IntoView {
    svg(r#"<path d="M20 6 9 17l-5-5"/>"#)
}

#[component]
pub fn RefreshIcon() -> impl IntoView {
    svg(
        r#"<path d="M3 12a9 9 0 0 1 9-9 9.75 9.75 0 0 1 6.74 2.74L21 8"/><path d="M21 3v5h-5"/><path d="M21 12a9 9 0 0 1-9 9 9.75 9.75 0 0 1-6.74-2.74L3 16"/><path d="M8 16H3v5"/>"#,
    )
}

#[component]
pub fn TrashIcon() -> impl IntoView {
    svg(
        r#"<path d="M3 6h18"/><path d="M19 6v14c0 1-1 2-2 2H7c-1 0-2-1-2-2V6"/><path d="M8 6V4c0-1 1-2 2-2h4c1 0 2 1 2 2v2"/><line x1="10" x2="10" y1="11" y2="17"/><line x1="14" x2="14" y1="11" y2="17"/>"#,
    )
}

#[component]
pub fn ChevronIcon() -> impl IntoView {
    svg(r#"<path d="m9 18 6-6-6-6"/>"#)
}

#[component]
pub fn EyeIcon() -> impl IntoView {
    svg(
        r#"<path d="M2.062 12.348a1 1 0 0 1 0-.696 10.75 10.75 0 0 1 19.876 0 1 1 0 0 1 0 .696 10.75 10.75 0 0 1-19.876 0"/><circle cx="12" cy="12" r="3"/>"#,
    )
}

#[component]
pub fn EyeOffIcon() -> impl IntoView {
    svg(
        r#"<path d="M10.733 5.076a10.744 10.744 0 0 1 11.205 6.575 1 1 0 0 1 0 .696 10.747 10.747 0 0 1-1.444 2.49"/><path d="M14.084 14.158a3 3 0 0 1-4.242-4.242"/><path d="M17.479 17.499a10.75 10.75 0 0 1-15.417-5.151 1 1 0 0 1 0-.696 10.75 10.75 0 0 1 4.446-5.143"/><path d="m2 2 20 20"/>"#,
    )
}

#[component]
pub fn SearchIcon() -> impl IntoView {
    svg(r#"<circle cx="11" cy="11" r="8"/><path d="m21 21-4.3-4.3"/>"#)
}

#[component]
pub fn PlusIcon() -> impl IntoView {
    svg(r#"<path d="M5 12h14"/><path d="M12 5v14"/>"#)
}

#[component]
pub fn AlertIcon() -> impl IntoView {
    svg(
        r#"<path d="m21.73 18-8-14a2 2 0 0 0-3.48 0l-8 14A2 2 0 0 0 4 21h16a2 2 0 0 0 1.73-3"/><path d="M12 9v4"/><path d="M12 17h.01"/>"#,
    )
}

#[component]
pub fn ShieldIcon() -> impl IntoView {
    svg(
        r#"<path d="M20 13c0 5-3.5 7.5-7.66 8.95a1 1 0 0 1-.67-.01C7.5 20.5 4 18 4 13V6a1 1 0 0 1 1-1c2 0 4.5-1.2 6.24-2.72a1.17 1.17 0 0 1 1.52 0C14.51 3.81 17 5 19 5a1 1 0 0 1 1 1z"/>"#,
    )
}

#[component]
pub fn SignOutIcon() -> impl IntoView {
    svg(
        r#"<path d="M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4"/><polyline points="16 17 21 12 16 7"/><line x1="21" x2="9" y1="12" y2="12"/>"#,
    )
}

#[component]
pub fn MenuIcon() -> impl IntoView {
    svg(r#"<path d="M4 6h16"/><path d="M4 12h16"/><path d="M4 18h16"/>"#)
}

#[component]
pub fn WalletIcon() -> impl IntoView {
    svg(
        r#"<path d="M19 7V4a1 1 0 0 0-1-1H5a2 2 0 0 0 0 4h15a1 1 0 0 1 1 1v4h-3a2 2 0 0 0 0 4h3a1 1 0 0 0 1-1v-2a1 1 0 0 0-1-1"/><path d="M3 5v14a2 2 0 0 0 2 2h15a1 1 0 0 0 1-1v-4"/>"#,
    )
}

#[component]
pub fn CardIcon() -> impl IntoView {
    svg(r#"<rect width="20" height="14" x="2" y="5" rx="2"/><path d="M2 10h20"/>"#)
}

#[component]
pub fn DownloadIcon() -> impl IntoView {
    svg(
        r#"<path d="M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4"/><path d="m7 10 5 5 5-5"/><path d="M12 15V3"/>"#,
    )
}

#[component]
pub fn TagIcon() -> impl IntoView {
    svg(
        r#"<path d="M12.586 2.586A2 2 0 0 0 11.172 2H4a2 2 0 0 0-2 2v7.172a2 2 0 0 0 .586 1.414l8.704 8.704a2.426 2.426 0 0 0 3.42 0l6.58-6.58a2.426 2.426 0 0 0 0-3.42z"/><circle cx="7.5" cy="7.5" r=".5" fill="currentColor"/>"#,
    )
}

#[component]
pub fn CoinsIcon() -> impl IntoView {
    svg(
        r#"<circle cx="8" cy="8" r="6"/><path d="M18.09 10.37A6 6 0 1 1 10.34 18"/><path d="M7 6h1v4"/><path d="m16.71 13.88.7.71-2.82 2.82"/>"#,
    )
}

/// A flask: Lab.
#[component]
pub fn FlaskIcon() -> impl IntoView {
    svg(
        r#"<path d="M10 2v7.53a2 2 0 0 1-.27 1L4.27 20a1.33 1.33 0 0 0 1.15 2h13.16a1.33 1.33 0 0 0 1.15-2l-5.46-9.47a2 2 0 0 1-.27-1V2"/><path d="M8.5 2h7"/><path d="M7 16h10"/>"#,
    )
}

/// A square: stop.
#[component]
pub fn StopIcon() -> impl IntoView {
    svg(r#"<rect x="6" y="6" width="12" height="12" rx="2"/>"#)
}

/// Servers: Lab servers in the Admin section.
#[component]
pub fn ServerIcon() -> impl IntoView {
    svg(
        r#"<rect x="3" y="3" width="18" height="8" rx="2"/><rect x="3" y="13" width="18" height="8" rx="2"/><path d="M7 7h.01"/><path d="M7 17h.01"/>"#,
    )
}

/// People: organizations.
#[component]
pub fn UsersIcon() -> impl IntoView {
    svg(
        r#"<path d="M16 21v-2a4 4 0 0 0-4-4H6a4 4 0 0 0-4 4v2"/><circle cx="9" cy="7" r="4"/><path d="M22 21v-2a4 4 0 0 0-3-3.87"/><path d="M16 3.13a4 4 0 0 1 0 7.75"/>"#,
    )
}

/// A pulse line: jobs.
#[component]
pub fn ActivityIcon() -> impl IntoView {
    svg(r#"<path d="M22 12h-4l-3 9L9 3l-3 9H2"/>"#)
}

/// A paper plane: webhooks sent to the operator.
#[component]
pub fn SendIcon() -> impl IntoView {
    svg(r#"<path d="m22 2-7 20-4-9-9-4Z"/><path d="M22 2 11 13"/>"#)
}
