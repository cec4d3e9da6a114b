//! Presentational pieces shared by pages. No data access here.

pub mod action_result;
pub mod copy_button;
pub mod field;
pub mod icons;
pub mod modal;
pub mod toast;
pub mod usage_chart;

/// A full page load, so the server renders the next page with the new session cookie.
pub fn load_page(path: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = leptos::prelude::window().location().set_href(path);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}
