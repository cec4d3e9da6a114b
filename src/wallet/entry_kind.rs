//! The kinds of ledger entry: why a balance changed.

use serde::{Deserialize, Serialize};

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
    /// Credits an organization gave a member (or took back when they left).
    Allocation,
    /// Credits a plan includes with a paid period; they expire at its end.
    IncludedGrant,
    /// What was left of included credits when their period ended.
    Expiry,
    /// Credits set aside for a job while it runs (`POST /api/v1/jobs`).
    Hold,
    /// A job's hold given back when it ended; its cost, if any, is a charge.
    Release,
}

impl EntryKind {
    pub const ALL: [EntryKind; 11] = [
        EntryKind::Purchase,
        EntryKind::PromoGrant,
        EntryKind::OperatorGrant,
        EntryKind::IncludedGrant,
        EntryKind::Charge,
        EntryKind::Refund,
        EntryKind::Adjustment,
        EntryKind::Allocation,
        EntryKind::Expiry,
        EntryKind::Hold,
        EntryKind::Release,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Purchase => "purchase",
            EntryKind::PromoGrant => "promo_grant",
            EntryKind::OperatorGrant => "operator_grant",
            EntryKind::Charge => "charge",
            EntryKind::Refund => "refund",
            EntryKind::Adjustment => "adjustment",
            EntryKind::Allocation => "allocation",
            EntryKind::IncludedGrant => "included_grant",
            EntryKind::Expiry => "expiry",
            EntryKind::Hold => "hold",
            EntryKind::Release => "release",
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
            EntryKind::Allocation => "Allocation",
            EntryKind::IncludedGrant => "Included",
            EntryKind::Expiry => "Expired",
            EntryKind::Hold => "Hold",
            EntryKind::Release => "Released",
        }
    }
}
