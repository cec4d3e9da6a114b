//! Short confirmations ("Key deleted") announced to screen readers, gone after a few seconds.

use leptos::prelude::*;

#[derive(Clone, Debug, PartialEq)]
pub struct Toast {
    pub id: u64,
    pub message: String,
    pub is_error: bool,
}

/// A handle pages keep in context to show toasts.
#[derive(Clone, Copy)]
pub struct Toasts {
    items: RwSignal<Vec<Toast>>,
    next_id: StoredValue<u64>,
}

impl Toasts {
    pub fn new() -> Self {
        Self {
            items: RwSignal::new(Vec::new()),
            next_id: StoredValue::new(0),
        }
    }

    pub fn success(&self, message: impl Into<String>) {
        self.push(message.into(), false);
    }

    pub fn error(&self, message: impl Into<String>) {
        self.push(message.into(), true);
    }

    fn push(&self, message: String, is_error: bool) {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        self.items.update(|items| {
            items.push(Toast {
                id,
                message,
                is_error,
            })
        });
        #[cfg(feature = "hydrate")]
        {
            let items = self.items;
            let millis = if is_error { 8_000 } else { 4_000 };
            gloo_timers::callback::Timeout::new(millis, move || {
                items.try_update(|items| items.retain(|t| t.id != id));
            })
            .forget();
        }
    }
}

impl Default for Toasts {
    fn default() -> Self {
        Self::new()
    }
}

#[component]
pub fn ToastRegion(toasts: Toasts) -> impl IntoView {
    view! {
        <div class="toast-region" role="status" aria-live="polite">
            <For each=move || toasts.items.get() key=|t| t.id let:toast>
                <div class="toast" class:toast-error=toast.is_error>{toast.message}</div>
            </For>
        </div>
    }
}
