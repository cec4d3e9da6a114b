//! Promotion codes on subscriptions. A code is checked (every rule of the code, inside
//! the transaction that takes its count) and reserved while the subscribe call is under
//! way, then belongs to the subscription. Each invoice it discounts gets an invoice item
//! of minus the discount, left pending at the provider for that invoice: the first one
//! before the subscription is made, each next one after the invoice before it is paid
//! (`sync`), until its periods are used (once, N months, or forever).

use crate::error::AppError;
use crate::infra::db::Db;
use crate::infra::plans::PlanSpec;
use crate::wallet::format_money;
use crate::wallet::promos::{
    discount_on, duration_label, normalize_code, plan_list, PromoRow, PROMO_COLUMNS,
};
use crate::wallet::redemptions::Refusal;
use crate::workspace::Owner;

type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// A code applied to a subscription (or reserved for one being made).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Discount {
    pub id: String,
    pub code: String,
    pub percent_off: Option<i64>,
    pub amount_off_minor: Option<i64>,
    /// How many invoices it discounts; None: every one.
    pub periods: Option<i64>,
    pub pending_item: Option<String>,
    pub pending_minor: i64,
}

const DISCOUNT_COLUMNS: &str =
    "id, code, percent_off, amount_off_minor, periods, pending_item, pending_minor";

impl Discount {
    /// What it takes off an invoice of `price_minor`.
    pub fn on(&self, price_minor: i64) -> i64 {
        discount_on(price_minor, self.percent_off, self.amount_off_minor)
    }

    /// The invoice line that says so.
    pub fn description(&self) -> String {
        match (self.percent_off, self.amount_off_minor) {
            (Some(percent), _) => format!("Promotion code {}: {percent}% off", self.code),
            _ => format!("Promotion code {}", self.code),
        }
    }
}

/// How many invoices a code discounts on a subscription paid each `interval`: a
/// repeating code covers the invoices whose period starts within its months.
pub fn periods(duration: &str, months: Option<i64>, interval: &str) -> Option<i64> {
    match (duration, months) {
        ("forever", _) => None,
        ("repeating", Some(months)) if interval == "year" => Some((months + 11) / 12),
        ("repeating", Some(months)) => Some(months.max(1)),
        _ => Some(1),
    }
}

/// What is asked: `user_id` applies `code` to `owner`'s subscription to `plan`.
pub struct Asked<'a> {
    pub code: &'a str,
    pub user_id: &'a str,
    pub owner: &'a Owner,
    pub plan: &'a PlanSpec,
    pub interval: &'a str,
    pub price_minor: i64,
    pub currency: &'a str,
}

/// Why the code does not apply, read in the caller's transaction.
async fn refusal(
    tx: &mut Tx<'_>,
    promo: &PromoRow,
    asked: &Asked<'_>,
    now: i64,
) -> Result<Option<Refusal>, AppError> {
    if let Some(refused) = promo.unusable_at(now) {
        return Ok(Some(refused));
    }
    if promo.applies_to == "credits" {
        return Ok(Some(Refusal::NotForSubscriptions));
    }
    let plans = plan_list(promo.plans.as_deref().unwrap_or_default());
    if !plans.is_empty() && !plans.contains(&asked.plan.id) {
        return Ok(Some(Refusal::NotForPlan(plans.join(" or "))));
    }
    if let Some(min) = promo
        .min_purchase_minor
        .filter(|min| asked.price_minor < *min)
    {
        return Ok(Some(Refusal::MinimumNotMet(format_money(
            min,
            asked.currency,
        ))));
    }
    if promo.first_purchase_only != 0 {
        let (before,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM subscriptions WHERE owner_kind = $1 AND owner_id = $2",
        )
        .bind(asked.owner.kind())
        .bind(asked.owner.id())
        .fetch_one(&mut **tx)
        .await?;
        if before > 0 {
            return Ok(Some(Refusal::FirstPurchaseOnly));
        }
    }
    if promo.once_per_user != 0 {
        let (used,): (i64,) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM promo_redemptions WHERE promo_code_id = $1 AND user_id = $2) \
             + (SELECT COUNT(*) FROM subscription_discounts WHERE promo_code_id = $1 AND user_id = $2)",
        )
        .bind(&promo.id)
        .bind(asked.user_id)
        .fetch_one(&mut **tx)
        .await?;
        if used > 0 {
            return Ok(Some(Refusal::AlreadyUsed));
        }
    }
    if promo
        .max_redemptions
        .is_some_and(|max| promo.redeemed >= max)
    {
        return Ok(Some(Refusal::UsedUp));
    }
    Ok(None)
}

async fn promo_named(tx: &mut Tx<'_>, code: &str) -> Result<Option<PromoRow>, AppError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {PROMO_COLUMNS} FROM promo_codes WHERE code = $1"
    ))
    .bind(normalize_code(code))
    .fetch_optional(&mut **tx)
    .await?)
}

/// What the code would take off, for the subscribe form; nothing is reserved.
pub async fn quote(
    db: &Db,
    asked: &Asked<'_>,
    now: i64,
) -> Result<Result<super::CodeQuote, Refusal>, AppError> {
    let mut tx = db.pool.begin().await?;
    let Some(promo) = promo_named(&mut tx, asked.code).await? else {
        return Ok(Err(Refusal::Unknown));
    };
    if let Some(refused) = refusal(&mut tx, &promo, asked, now).await? {
        return Ok(Err(refused));
    }
    tx.rollback().await?;
    let discount = discount_on(asked.price_minor, promo.percent_off, promo.amount_off_minor);
    let label = format!(
        "{} {}",
        crate::wallet::promos::discount_label(
            promo.percent_off,
            promo.amount_off_minor,
            asked.currency
        ),
        duration_label(&promo.duration, promo.duration_months)
    );
    Ok(Ok(super::CodeQuote {
        code: promo.code,
        label,
        discount: format_money(discount, asked.currency),
        first_invoice: format_money(asked.price_minor - discount, asked.currency),
        pays_every_invoice: promo.duration == "forever" && discount >= asked.price_minor,
    }))
}

/// Reserves the code for the subscription about to be made, checking every rule in the
/// transaction that takes its count (the person's row is locked first, so their two
/// tabs are served one after the other).
pub async fn reserve(
    db: &Db,
    asked: &Asked<'_>,
    now: i64,
) -> Result<Result<Discount, Refusal>, AppError> {
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE users SET id = id WHERE id = $1")
        .bind(asked.user_id)
        .execute(&mut *tx)
        .await?;
    let Some(promo) = promo_named(&mut tx, asked.code).await? else {
        return Ok(Err(Refusal::Unknown));
    };
    if let Some(refused) = refusal(&mut tx, &promo, asked, now).await? {
        return Ok(Err(refused));
    }
    let taken = sqlx::query(
        "UPDATE promo_codes SET redeemed = redeemed + 1 WHERE id = $1 AND active = 1 \
         AND (max_redemptions IS NULL OR redeemed < max_redemptions) \
         AND (expires_at IS NULL OR expires_at > $2)",
    )
    .bind(&promo.id)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if taken == 0 {
        return Ok(Err(Refusal::UsedUp));
    }
    let discount = Discount {
        id: crate::infra::random::id("dsc")?,
        code: promo.code.clone(),
        percent_off: promo.percent_off,
        amount_off_minor: promo.amount_off_minor,
        periods: periods(&promo.duration, promo.duration_months, asked.interval),
        pending_item: None,
        pending_minor: 0,
    };
    sqlx::query(
        "INSERT INTO subscription_discounts (id, promo_code_id, code, user_id, owner_kind, owner_id, \
         percent_off, amount_off_minor, periods, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'reserved', $10)",
    )
    .bind(&discount.id)
    .bind(&promo.id)
    .bind(&discount.code)
    .bind(asked.user_id)
    .bind(asked.owner.kind())
    .bind(asked.owner.id())
    .bind(discount.percent_off)
    .bind(discount.amount_off_minor)
    .bind(discount.periods)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Ok(discount))
}

/// Gives a reservation back (the subscribe call failed).
pub async fn release(db: &Db, id: &str) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let released: Option<(String,)> = sqlx::query_as(
        "DELETE FROM subscription_discounts WHERE id = $1 AND status = 'reserved' RETURNING promo_code_id",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((promo_code_id,)) = released {
        sqlx::query("UPDATE promo_codes SET redeemed = redeemed - 1 WHERE id = $1")
            .bind(promo_code_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The provider's item waiting for the next invoice with this discount (of `amount`),
/// or none.
pub async fn set_pending(
    db: &Db,
    id: &str,
    item: Option<&str>,
    amount: i64,
) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE subscription_discounts SET pending_item = $1, pending_minor = $2 WHERE id = $3",
    )
    .bind(item)
    .bind(amount)
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// The reservation now belongs to `subscription`.
pub async fn activate(db: &Db, id: &str, subscription: &str) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE subscription_discounts SET subscription_id = $1, status = 'active' WHERE id = $2",
    )
    .bind(subscription)
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// The code applied to a subscription, while it still discounts invoices.
pub async fn of_subscription(db: &Db, subscription: &str) -> Result<Option<Discount>, AppError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {DISCOUNT_COLUMNS} FROM subscription_discounts \
         WHERE subscription_id = $1 AND status = 'active'"
    ))
    .bind(subscription)
    .fetch_optional(&db.pool)
    .await?)
}

/// Gives back codes reserved for a subscribe call that never finished (the process
/// stopped during it): older than an order's reservation. Answers how many.
pub async fn release_stale(db: &Db, now: i64) -> Result<usize, AppError> {
    let stale: Vec<(String,)> = sqlx::query_as(
        "SELECT id FROM subscription_discounts WHERE status = 'reserved' AND created_at < $1",
    )
    .bind(now - crate::wallet::promos::RESERVATION_MS)
    .fetch_all(&db.pool)
    .await?;
    for (id,) in &stale {
        release(db, id).await?;
    }
    Ok(stale.len())
}
