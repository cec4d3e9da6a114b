//! Whether a promo code applies to an order, and its redemptions: reserved while the
//! order is open (counted by one conditional UPDATE, so the last one goes to exactly one
//! order), redeemed when it is paid, released when it is abandoned.

use super::format_money;
use super::promos::{normalize_code, PromoRow, PROMO_COLUMNS};
use crate::error::AppError;

type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// Why a code does not apply to an order. Each says exactly that.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    Unknown,
    Inactive,
    Expired,
    UsedUp,
    AlreadyUsed,
    MinimumNotMet(String),
    FirstPurchaseOnly,
    NotForCredits,
    NotForSubscriptions,
    /// The plans it is for, by name.
    NotForPlan(String),
}

impl Refusal {
    pub fn message(&self) -> String {
        match self {
            Refusal::Unknown => "There is no promotion code with that name.".into(),
            Refusal::Inactive => "This promotion code is no longer active.".into(),
            Refusal::Expired => "This promotion code has expired.".into(),
            Refusal::UsedUp => "This promotion code has been used up.".into(),
            Refusal::AlreadyUsed => "You have already used this promotion code.".into(),
            Refusal::MinimumNotMet(min) => {
                format!("This promotion code needs a purchase of at least {min}.")
            }
            Refusal::FirstPurchaseOnly => {
                "This promotion code is for a first purchase only.".into()
            }
            Refusal::NotForCredits => "This promotion code is for subscriptions only.".into(),
            Refusal::NotForSubscriptions => "This promotion code is for credits only.".into(),
            Refusal::NotForPlan(plans) => {
                format!("This promotion code is for the {plans} plan only.")
            }
        }
    }
}

impl PromoRow {
    /// Why the code is of no use to anyone at `now`: deactivated, or expired.
    pub fn unusable_at(&self, now: i64) -> Option<Refusal> {
        if self.active == 0 {
            Some(Refusal::Inactive)
        } else if self.expires_at.is_some_and(|at| at <= now) {
            Some(Refusal::Expired)
        } else {
            None
        }
    }
}

/// A code reserved for an order: what it takes off.
pub struct Reserved {
    pub promo_code_id: String,
    pub code: String,
    pub percent_off: Option<i64>,
    pub amount_off_minor: Option<i64>,
}

/// Reserves `code` for the order if every rule allows it. The last redemption goes to
/// exactly one order: the count is taken by one conditional UPDATE.
pub(super) async fn reserve(
    tx: &mut Tx<'_>,
    code: &str,
    user_id: &str,
    order_id: &str,
    subtotal_minor: i64,
    currency: &str,
    now: i64,
) -> Result<Result<Reserved, Refusal>, AppError> {
    let row: Option<PromoRow> = sqlx::query_as(&format!(
        "SELECT {PROMO_COLUMNS} FROM promo_codes WHERE code = $1"
    ))
    .bind(normalize_code(code))
    .fetch_optional(&mut **tx)
    .await?;
    let Some(promo) = row else {
        return Ok(Err(Refusal::Unknown));
    };
    if let Some(refused) = promo.unusable_at(now) {
        return Ok(Err(refused));
    }
    if promo.applies_to == "subscriptions" {
        return Ok(Err(Refusal::NotForCredits));
    }
    if let Some(min) = promo.min_purchase_minor.filter(|min| subtotal_minor < *min) {
        return Ok(Err(Refusal::MinimumNotMet(format_money(min, currency))));
    }
    if promo.first_purchase_only != 0 {
        let (paid,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM orders WHERE user_id = $1 AND status = 'paid'")
                .bind(user_id)
                .fetch_one(&mut **tx)
                .await?;
        if paid > 0 {
            return Ok(Err(Refusal::FirstPurchaseOnly));
        }
    }
    if promo.once_per_user != 0 {
        let used: Option<(String,)> = sqlx::query_as(
            "SELECT order_id FROM promo_redemptions WHERE promo_code_id = $1 AND user_id = $2 AND order_id <> $3 \
             UNION ALL SELECT id FROM subscription_discounts WHERE promo_code_id = $1 AND user_id = $2",
        )
        .bind(&promo.id)
        .bind(user_id)
        .bind(order_id)
        .fetch_optional(&mut **tx)
        .await?;
        if used.is_some() {
            return Ok(Err(Refusal::AlreadyUsed));
        }
    }
    let taken = sqlx::query(
        "UPDATE promo_codes SET redeemed = redeemed + 1 WHERE id = $1 AND active = 1 \
         AND (max_redemptions IS NULL OR redeemed < max_redemptions) \
         AND (expires_at IS NULL OR expires_at > $2)",
    )
    .bind(&promo.id)
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if taken == 0 {
        return Ok(Err(Refusal::UsedUp));
    }
    sqlx::query(
        "INSERT INTO promo_redemptions (promo_code_id, order_id, user_id, status, reserved_at) \
         VALUES ($1, $2, $3, 'reserved', $4)",
    )
    .bind(&promo.id)
    .bind(order_id)
    .bind(user_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(Ok(Reserved {
        promo_code_id: promo.id,
        code: promo.code,
        percent_off: promo.percent_off,
        amount_off_minor: promo.amount_off_minor,
    }))
}

/// Gives an order's reserved code back (a consumed one stays consumed).
pub(super) async fn release(tx: &mut Tx<'_>, order_id: &str) -> Result<(), AppError> {
    let released: Option<(String,)> = sqlx::query_as(
        "DELETE FROM promo_redemptions WHERE order_id = $1 AND status = 'reserved' RETURNING promo_code_id",
    )
    .bind(order_id)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some((promo_code_id,)) = released {
        sqlx::query("UPDATE promo_codes SET redeemed = redeemed - 1 WHERE id = $1")
            .bind(promo_code_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Redeems an order's code for good, re-checking every rule of the code in the
/// transaction that pays the order (or claims it for a card payment): active, expiry,
/// minimum, first purchase, once per person, total limit. The person's row is locked
/// first, so two of their orders are redeemed one after the other; "once per person" is
/// also held by a unique index on consumed redemptions. An order without a code, or
/// whose code is already consumed, answers `Ok(Ok(()))`.
pub(super) async fn redeem(
    tx: &mut Tx<'_>,
    order_id: &str,
    user_id: &str,
    subtotal_minor: i64,
    currency: &str,
    now: i64,
) -> Result<Result<(), Refusal>, AppError> {
    sqlx::query("UPDATE users SET id = id WHERE id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    let held: Option<(String,)> = sqlx::query_as(
        "SELECT promo_code_id FROM promo_redemptions WHERE order_id = $1 AND status = 'reserved'",
    )
    .bind(order_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some((promo_code_id,)) = held else {
        // No code held: either none was applied, or it was redeemed already (a card
        // payment's claim). An order priced with a code that is no longer held for it
        // (released meanwhile) is not paid at that price.
        let (priced_with, redeemed): (Option<String>, i64) = sqlx::query_as(
            "SELECT o.promo_code_id, (SELECT COUNT(*) FROM promo_redemptions r \
             WHERE r.order_id = o.id AND r.status = 'consumed') FROM orders o WHERE o.id = $1",
        )
        .bind(order_id)
        .fetch_one(&mut **tx)
        .await?;
        return Ok(match (priced_with, redeemed) {
            (Some(_), 0) => Err(Refusal::Expired),
            _ => Ok(()),
        });
    };
    let promo: PromoRow = sqlx::query_as(&format!(
        "SELECT {PROMO_COLUMNS} FROM promo_codes WHERE id = $1"
    ))
    .bind(&promo_code_id)
    .fetch_one(&mut **tx)
    .await?;
    if let Some(refused) = promo.unusable_at(now) {
        return Ok(Err(refused));
    }
    if promo
        .max_redemptions
        .is_some_and(|max| promo.redeemed > max)
    {
        return Ok(Err(Refusal::UsedUp));
    }
    if let Some(min) = promo.min_purchase_minor.filter(|min| subtotal_minor < *min) {
        return Ok(Err(Refusal::MinimumNotMet(format_money(min, currency))));
    }
    if promo.first_purchase_only != 0 {
        // A card payment under way counts: it is redeemed when it is claimed.
        let (earlier,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM orders WHERE user_id = $1 AND id <> $2 \
             AND status IN ('paid', 'processing')",
        )
        .bind(user_id)
        .bind(order_id)
        .fetch_one(&mut **tx)
        .await?;
        if earlier > 0 {
            return Ok(Err(Refusal::FirstPurchaseOnly));
        }
    }
    if promo.once_per_user != 0 {
        let (used,): (i64,) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM promo_redemptions WHERE promo_code_id = $1 AND user_id = $2 \
             AND order_id <> $3 AND status = 'consumed') + (SELECT COUNT(*) FROM subscription_discounts \
             WHERE promo_code_id = $1 AND user_id = $2)",
        )
        .bind(&promo.id)
        .bind(user_id)
        .bind(order_id)
        .fetch_one(&mut **tx)
        .await?;
        if used > 0 {
            return Ok(Err(Refusal::AlreadyUsed));
        }
    }
    let consumed = sqlx::query(
        "UPDATE promo_redemptions SET status = 'consumed', once_per_user = $1 \
         WHERE order_id = $2 AND status = 'reserved'",
    )
    .bind(promo.once_per_user.min(1))
    .bind(order_id)
    .execute(&mut **tx)
    .await;
    match consumed {
        Ok(done) if done.rows_affected() == 1 => Ok(Ok(())),
        Ok(_) => Ok(Err(Refusal::Expired)),
        Err(error) if is_unique_violation(&error) => Ok(Err(Refusal::AlreadyUsed)),
        Err(error) => Err(error.into()),
    }
}

/// Holds a redeemed code for its order again (its card payment failed, so the person may
/// try another card, or take the code off).
pub(super) async fn unredeem(tx: &mut Tx<'_>, order_id: &str, now: i64) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE promo_redemptions SET status = 'reserved', once_per_user = 0, reserved_at = $1 \
         WHERE order_id = $2 AND status = 'consumed' \
         AND EXISTS (SELECT 1 FROM orders o WHERE o.id = $2 AND o.status <> 'paid')",
    )
    .bind(now)
    .bind(order_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|e| e.is_unique_violation())
}
