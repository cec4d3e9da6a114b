//! Presentational pieces shared by pages. No data access here.

pub mod action_result;
pub mod card_form;
pub mod copy_button;
pub mod data_table;
pub mod field;
pub mod icons;
pub mod kept;
pub mod modal;
pub mod pager;
pub mod toast;
pub mod usage_chart;

/// Marks `<html data-hydrated>` once the page it ends has hydrated, so tests (and people
/// debugging) can tell when the WebAssembly has taken over. Every page ends with one;
/// layouts do not, since their page hydrates after them.
#[leptos::component]
pub fn HydrationMark() -> impl leptos::IntoView {
    leptos::prelude::Effect::new(|_| {
        #[cfg(feature = "hydrate")]
        if let Some(root) = leptos::prelude::document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });
}

/// A full page load, so the server renders the next page with the new session cookie.
pub fn load_page(path: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = leptos::prelude::window().location().set_href(path);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

/// An id for one submission of a form, so that a double submit acts once.
pub fn request_id() -> String {
    #[cfg(feature = "hydrate")]
    {
        (0..4)
            .map(|_| {
                format!(
                    "{:08x}",
                    (js_sys::Math::random() * f64::from(u32::MAX)) as u32
                )
            })
            .collect()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        String::new()
    }
}
