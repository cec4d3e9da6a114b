//! The one table every page uses: a caption for screen readers, a header of columns,
//! and rows whose cells carry their column's label, so the phone layout (`.stack-table`,
//! a card per row) can show "Joined: Dec 3" without the page repeating it. `Listing`
//! is the part around it: loading, the empty state, an error, from a resource.

use crate::error::AppError;
use crate::infra::wire::Loaded;
use leptos::prelude::*;

/// How a column's cells read and align.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    /// What the row is (a name, an email): the card's title on a phone, no label.
    Primary,
    /// Text, labelled on a phone.
    Text,
    /// A date or a short value that must not wrap.
    NoWrap,
    /// A number: right-aligned, tabular figures.
    Numeric,
    /// Buttons for the row: its header is only for screen readers, and no label.
    Actions,
}

/// One column: its heading and how its cells read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    pub label: &'static str,
    pub cell: Cell,
}

impl Column {
    pub const fn primary(label: &'static str) -> Self {
        Self {
            label,
            cell: Cell::Primary,
        }
    }
    pub const fn text(label: &'static str) -> Self {
        Self {
            label,
            cell: Cell::Text,
        }
    }
    pub const fn nowrap(label: &'static str) -> Self {
        Self {
            label,
            cell: Cell::NoWrap,
        }
    }
    pub const fn numeric(label: &'static str) -> Self {
        Self {
            label,
            cell: Cell::Numeric,
        }
    }
    pub const fn actions() -> Self {
        Self {
            label: "Actions",
            cell: Cell::Actions,
        }
    }

    fn header_class(self) -> &'static str {
        match self.cell {
            Cell::Numeric => "numeric",
            _ => "",
        }
    }

    fn cell_class(self) -> &'static str {
        match self.cell {
            Cell::Primary => "cell-primary",
            Cell::Text => "",
            Cell::NoWrap => "nowrap",
            Cell::Numeric => "numeric",
            Cell::Actions => "cell-actions",
        }
    }

    /// The label a phone shows before the value; none for the title and the buttons.
    fn phone_label(self) -> Option<&'static str> {
        match self.cell {
            Cell::Primary | Cell::Actions => None,
            _ => Some(self.label),
        }
    }
}

/// `<thead>` for `columns`; for a table that builds its own rows (the keys table).
#[component]
pub fn TableHead(columns: Vec<Column>) -> impl IntoView {
    view! {
        <thead>
            <tr>
                {columns.into_iter().map(|c| match c.cell {
                    Cell::Actions => view! {
                        <th scope="col"><span class="visually-hidden">{c.label}</span></th>
                    }.into_any(),
                    _ => view! { <th scope="col" class=c.header_class()>{c.label}</th> }.into_any(),
                }).collect_view()}
            </tr>
        </thead>
    }
}

/// A `<td>` for `column` around `content`.
pub fn cell(column: Column, content: AnyView) -> AnyView {
    view! {
        <td class=column.cell_class() data-label=column.phone_label()>{content}</td>
    }
    .into_any()
}

/// A table of `rows`, each a cell per column in order. `class` adds the page's own
/// class (`ledger-table`); `flat` drops the shadow when the table sits in a card;
/// `compact` is the small table inside an expanded row (no frame, no phone cards).
#[component]
pub fn DataTable(
    #[prop(into)] caption: String,
    columns: Vec<Column>,
    rows: Vec<Vec<AnyView>>,
    #[prop(optional)] class: &'static str,
    #[prop(optional)] flat: bool,
    #[prop(optional)] compact: bool,
) -> impl IntoView {
    let head = columns.clone();
    let table_class = if compact {
        format!("mini-table {class}")
    } else {
        format!("stack-table {class}")
    };
    let table = view! {
        <table class=table_class>
            <caption class="visually-hidden">{caption}</caption>
            <TableHead columns=head />
            <tbody>
                {rows.into_iter().map(|cells| view! {
                    <tr>
                        {cells.into_iter().zip(columns.iter().copied()).map(|(content, column)| cell(column, content)).collect_view()}
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    };
    match (compact, flat) {
        (true, _) => table.into_any(),
        (false, true) => view! { <div class="table-wrap flat">{table}</div> }.into_any(),
        (false, false) => view! { <div class="table-wrap">{table}</div> }.into_any(),
    }
}

/// What a list with nothing in it says: a title and what to do about it.
#[derive(Clone, Copy, Debug)]
pub struct Empty {
    pub title: &'static str,
    pub hint: &'static str,
}

impl Empty {
    /// The empty state inside a card that holds the list.
    pub fn in_card(self) -> AnyView {
        view! {
            <div class="empty-state in-card">
                <p><strong>{self.title}</strong></p>
                <p class="muted">{self.hint}</p>
            </div>
        }
        .into_any()
    }
}

/// A resource's list: a placeholder while it loads, `empty` when `is_empty` says so,
/// the error if it failed, else what `show` makes of it. `in_card` when the list sits
/// inside a card already (no card around the placeholder or the empty state).
#[component]
pub fn Listing<T, E, S, V>(
    resource: Loaded<Result<T, AppError>>,
    loading: &'static str,
    is_empty: E,
    empty: Empty,
    show: S,
    #[prop(optional)] in_card: bool,
) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    E: Fn(&T) -> bool + Copy + Send + Sync + 'static,
    S: Fn(T) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let (placeholder, empty_class) = if in_card {
        ("muted", "empty-state in-card")
    } else {
        ("card skeleton", "card empty-state")
    };
    view! {
        <Transition fallback=move || view! { <div class=placeholder aria-busy="true">{loading}</div> }>
            {move || {
                let show = show.clone();
                Suspend::new(async move {
                    match resource.await {
                        Ok(list) if is_empty(&list) => view! {
                            <div class=empty_class>
                                <p><strong>{empty.title}</strong></p>
                                <p class="muted">{empty.hint}</p>
                            </div>
                        }.into_any(),
                        Ok(list) => show(list).into_any(),
                        Err(e) => view! { <div class="banner banner-danger" role="alert">{e.to_string()}</div> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}
