//! The Admin section's server functions.

use crate::error::AppError;
use crate::wallet::{NewPromo, PromoCodeInfo};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    crate::auth::{admin, User},
    crate::error::FieldError,
    crate::wallet::{ledger, promos, EntryKind},
    crate::web::request::Caller,
    crate::workspace::Owner,
};

/// Whether the person asking is an admin (the sidebar shows the Admin section).
#[server(endpoint = "admin_status", output = crate::infra::wire::Wire)]
pub async fn admin_status() -> Result<bool, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        admin::is_admin(&caller.state.db, &user.id).await
    })
    .await
}

/// The promo codes, and the currency their amounts (and new ones) are in.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PromoCodes {
    pub currency: String,
    pub codes: Vec<PromoCodeInfo>,
}

#[server(endpoint = "list_promo_codes", output = crate::infra::wire::Wire)]
pub async fn list_promo_codes() -> Result<PromoCodes, AppError> {
    Caller::admin(async |caller: &Caller, _user: User| {
        let currency = caller.state.config.currency.clone();
        let codes = promos::list(&caller.state.db, &currency).await?;
        Ok(PromoCodes { currency, codes })
    })
    .await
}

#[server(endpoint = "create_promo_code", input = leptos::server_fn::codec::Json, output = crate::infra::wire::Wire)]
pub async fn create_promo_code(promo: NewPromo) -> Result<PromoCodeInfo, AppError> {
    Caller::admin(async |caller: &Caller, user: User| {
        let state = &caller.state;
        promos::check_plans(&promo, &state.config.plans)?;
        let created = promos::create(
            &state.db,
            &promo,
            &user.email,
            &state.config.currency,
            state.now_ms(),
        )
        .await?;
        tracing::info!(code = %created.code, by = %user.id, "promo code created");
        Ok(created)
    })
    .await
}

#[server(endpoint = "deactivate_promo_code", output = crate::infra::wire::Wire)]
pub async fn deactivate_promo_code(code: String) -> Result<(), AppError> {
    Caller::admin(async |caller: &Caller, _user: User| {
        if promos::deactivate(&caller.state.db, &code).await? {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    })
    .await
}

/// Grants (or, negative, deducts) credits for the account with `email`. `request_id`
/// comes from the form, so a double submit grants once.
#[server(endpoint = "grant_credits", output = crate::infra::wire::Wire)]
pub async fn grant_credits(
    email: String,
    credits: i64,
    reason: String,
    request_id: String,
) -> Result<i64, AppError> {
    Caller::admin(async |caller: &Caller, user: User| {
        let state = &caller.state;
        let mut errors = Vec::new();
        let reason = reason.trim().to_string();
        if reason.is_empty() || reason.chars().count() > super::MAX_REASON_CHARS {
            errors.push(FieldError::new(
                "reason",
                format!(
                    "Give a reason of 1 to {} characters; the person sees it.",
                    super::MAX_REASON_CHARS
                ),
            ));
        }
        if credits == 0 || credits.unsigned_abs() > crate::wallet::charges::MAX_COST as u64 {
            errors.push(FieldError::new(
                "credits",
                "Enter a non-zero whole number of credits (negative deducts).",
            ));
        }
        let target = match admin::user_id_by_email(&state.db, &email).await {
            Ok(Some(id)) => Some(id),
            Ok(None) => {
                errors.push(FieldError::new("email", "No account has this email."));
                None
            }
            Err(AppError::Validation(fields)) => {
                errors.extend(fields);
                None
            }
            Err(other) => return Err(other),
        };
        if request_id.len() < 16 || request_id.len() > 64 {
            errors.push(FieldError::new("form", "Reload the page and try again."));
        }
        let Some(target) = target.filter(|_| errors.is_empty()) else {
            return Err(AppError::Validation(errors));
        };
        let posting = ledger::Posting {
            owner: Owner::User(target),
            amount: credits,
            kind: EntryKind::OperatorGrant,
            reference: None,
            description: reason,
            actor: format!("operator {}", user.email),
            key_id: None,
            metadata: None,
            idempotency_key: format!("grant:{}:{request_id}", user.id),
            may_overdraw: true,
        };
        match ledger::post(&state.db, &posting, state.now_ms()).await? {
            ledger::Posted::New { balance, .. } | ledger::Posted::Duplicate { balance, .. } => {
                Ok(balance)
            }
            ledger::Posted::Insufficient { balance } => Ok(balance),
        }
    })
    .await
}
