//! The API Keys page's shared state: which dialog is open, what is revealed, how the
//! list is filtered. Provided through context so rows and dialogs stay small.

use crate::components::toast::Toasts;
use crate::keys::{KeySummary, RevealedKey, ScopeInfo};
use leptos::prelude::*;

/// Which dialog is open over the page.
#[derive(Clone, Debug, PartialEq)]
pub enum KeyDialog {
    Create,
    Regenerate(KeySummary),
    Delete(KeySummary),
}

/// A value on its one showing, with what produced it.
#[derive(Clone, Debug, PartialEq)]
pub struct Revealed {
    pub key: RevealedKey,
    pub regenerated: bool,
    /// When a regenerated key's previous value stops working (None: already stopped).
    pub old_value_until: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortBy {
    Newest,
    Name,
    LastUsed,
}

impl SortBy {
    /// The order an option of the sort menu names (`created`, `name`, `last_used`).
    pub fn from_option(value: &str) -> Self {
        match value {
            "name" => Self::Name,
            "last_used" => Self::LastUsed,
            _ => Self::Newest,
        }
    }
}

/// Page-wide state, shared through context so rows and dialogs stay small.
#[derive(Clone, Copy)]
pub struct KeysUi {
    /// Bumped after every change; the list and open details reload.
    pub refresh: RwSignal<u32>,
    pub expanded: RwSignal<Option<String>>,
    pub dialog: RwSignal<Option<KeyDialog>>,
    pub revealed: RwSignal<Option<Revealed>>,
    pub catalog: RwSignal<Vec<ScopeInfo>>,
    pub search: RwSignal<String>,
    pub sort: RwSignal<SortBy>,
    pub page: RwSignal<usize>,
    pub toasts: Toasts,
    /// The organization whose keys these are (from the URL), or None for the person's own.
    pub org: Memo<Option<String>>,
    /// False for an organization's Members: the page shows the keys without the controls.
    pub can_manage: RwSignal<bool>,
}

impl KeysUi {
    pub fn new() -> Self {
        Self {
            refresh: RwSignal::new(0),
            expanded: RwSignal::new(None),
            dialog: RwSignal::new(None),
            revealed: RwSignal::new(None),
            catalog: RwSignal::new(Vec::new()),
            search: RwSignal::new(String::new()),
            sort: RwSignal::new(SortBy::Newest),
            page: RwSignal::new(0),
            toasts: Toasts::new(),
            org: crate::pages::account::workspace::use_org_slug(),
            can_manage: RwSignal::new(true),
        }
    }

    pub fn reload(&self) {
        self.refresh.update(|n| *n += 1);
    }

    pub fn open(&self, dialog: KeyDialog) {
        self.dialog.set(Some(dialog));
    }

    pub fn close_dialog(&self) {
        self.dialog.set(None);
    }
}

pub fn use_keys_ui() -> KeysUi {
    expect_context::<KeysUi>()
}
