//! Credits: a wallet per owner, changed only through ledger entries.
//!
//! Credits are whole numbers; money is kept in minor units (cents), never floats.
//! Every change of a balance is one append-only entry, written in the same transaction
//! as the balance, with a unique idempotency key so that a retry never doubles it.

#[cfg(feature = "ssr")]
pub mod charges;
#[cfg(feature = "ssr")]
pub mod ledger;

use serde::{Deserialize, Serialize};

/// Who a wallet belongs to. Today a person's own workspace; organizations come next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Owner {
    User(String),
}

impl Owner {
    pub fn kind(&self) -> &'static str {
        match self {
            Owner::User(_) => "user",
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Owner::User(id) => id,
        }
    }
}

/// Why a balance changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// Credits bought by card (or with a code covering the whole price).
    Purchase,
    /// Credits a promo code gave.
    PromoGrant,
    /// Credits an operator granted or deducted, with a reason.
    OperatorGrant,
    /// Credits a service spent for work (`POST /api/v1/verify` with a cost).
    Charge,
    /// A charge given back.
    Refund,
    /// A correction by an operator.
    Adjustment,
}

impl EntryKind {
    pub const ALL: [EntryKind; 6] = [
        EntryKind::Purchase,
        EntryKind::PromoGrant,
        EntryKind::OperatorGrant,
        EntryKind::Charge,
        EntryKind::Refund,
        EntryKind::Adjustment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Purchase => "purchase",
            EntryKind::PromoGrant => "promo_grant",
            EntryKind::OperatorGrant => "operator_grant",
            EntryKind::Charge => "charge",
            EntryKind::Refund => "refund",
            EntryKind::Adjustment => "adjustment",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            EntryKind::Purchase => "Purchase",
            EntryKind::PromoGrant => "Promo code",
            EntryKind::OperatorGrant => "Grant",
            EntryKind::Charge => "Charge",
            EntryKind::Refund => "Refund",
            EntryKind::Adjustment => "Adjustment",
        }
    }
}

/// One ledger entry as the owner sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LedgerEntry {
    pub id: String,
    /// Signed: positive adds credits, negative spends them.
    pub amount: i64,
    pub kind: EntryKind,
    /// The order, charge or grant this entry belongs to.
    pub reference: Option<String>,
    pub description: String,
    /// Who caused it: a person's email, "API key kid_…", "service", "operator".
    pub actor: String,
    /// The key a charge was made with.
    pub key_id: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// A page of the ledger, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LedgerPage {
    pub entries: Vec<LedgerEntry>,
    /// Pass as `before` to get the next (older) page; absent on the last page.
    pub next_before: Option<String>,
}

/// How many entries a ledger page holds at most.
pub const LEDGER_PAGE_SIZE: usize = 50;
