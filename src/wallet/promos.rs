//! Promo codes: what operators create, and the rules that decide whether one applies.

use super::{format_money, NewPromo, PromoCodeInfo};
use crate::error::{AppError, FieldError};
use crate::infra::{db::Db, random};

type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// An applied code is held for its order this long; then it is released.
pub const RESERVATION_MS: i64 = 30 * 60 * 1000;
pub const MAX_CODE_CHARS: usize = 32;
pub const MAX_NOTE_CHARS: usize = 200;
/// The largest fixed discount or minimum purchase, in minor units.
pub const MAX_MONEY_MINOR: i64 = 100_000_000;

/// Codes are case-insensitive: stored and compared upper-case.
pub fn normalize_code(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

/// "20% off" or "$5.00 off".
pub fn discount_label(
    percent_off: Option<i64>,
    amount_off_minor: Option<i64>,
    currency: &str,
) -> String {
    match (percent_off, amount_off_minor) {
        (Some(percent), _) => format!("{percent}% off"),
        (None, Some(amount)) => format!("{} off", format_money(amount, currency)),
        (None, None) => String::new(),
    }
}

/// The discount a code gives on a subtotal: never more than the subtotal.
pub fn discount_on(
    subtotal_minor: i64,
    percent_off: Option<i64>,
    amount_off_minor: Option<i64>,
) -> i64 {
    let discount = match (percent_off, amount_off_minor) {
        (Some(percent), _) => subtotal_minor.saturating_mul(percent.clamp(0, 100)) / 100,
        (None, Some(amount)) => amount.max(0),
        (None, None) => 0,
    };
    discount.min(subtotal_minor)
}

/// Checks an operator's new code; every problem is named by its field.
pub fn validate(new: &NewPromo, now: i64) -> Result<NewPromo, AppError> {
    let mut errors = Vec::new();
    let code = normalize_code(&new.code);
    if code.len() < 3
        || code.len() > MAX_CODE_CHARS
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        errors.push(FieldError::new(
            "code",
            format!("A code is 3 to {MAX_CODE_CHARS} letters, digits, '-' or '_'."),
        ));
    }
    match (new.percent_off, new.amount_off_minor) {
        (Some(percent), None) if (1..=100).contains(&percent) => {}
        (Some(_), None) => errors.push(FieldError::new(
            "percent_off",
            "A percentage is a whole number from 1 to 100.",
        )),
        (None, Some(amount)) if (1..=MAX_MONEY_MINOR).contains(&amount) => {}
        (None, Some(_)) => errors.push(FieldError::new(
            "amount_off",
            "A fixed discount is more than zero and at most 1,000,000.00.",
        )),
        _ => errors.push(FieldError::new(
            "discount",
            "Give either a percentage or a fixed amount off.",
        )),
    }
    if new.expires_at.is_some_and(|at| at <= now) {
        errors.push(FieldError::new(
            "expires_at",
            "The expiry date must be in the future.",
        ));
    }
    if new.max_redemptions.is_some_and(|n| n < 1) {
        errors.push(FieldError::new(
            "max_redemptions",
            "The redemption limit is at least 1 (leave it empty for no limit).",
        ));
    }
    if new
        .min_purchase_minor
        .is_some_and(|m| !(0..=MAX_MONEY_MINOR).contains(&m))
    {
        errors.push(FieldError::new(
            "min_purchase",
            "The minimum purchase is between 0 and 1,000,000.00.",
        ));
    }
    let note = new
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    if note
        .as_deref()
        .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
    {
        errors.push(FieldError::new(
            "note",
            format!("A note is at most {MAX_NOTE_CHARS} characters."),
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    Ok(NewPromo {
        code,
        note,
        ..new.clone()
    })
}

#[derive(sqlx::FromRow)]
struct PromoRow {
    id: String,
    code: String,
    percent_off: Option<i64>,
    amount_off_minor: Option<i64>,
    expires_at: Option<i64>,
    max_redemptions: Option<i64>,
    redeemed: i64,
    once_per_user: i64,
    min_purchase_minor: Option<i64>,
    first_purchase_only: i64,
    active: i64,
    note: Option<String>,
    created_at: i64,
}

const PROMO_COLUMNS: &str =
    "id, code, percent_off, amount_off_minor, expires_at, max_redemptions, \
     redeemed, once_per_user, min_purchase_minor, first_purchase_only, active, note, created_at";

impl PromoRow {
    fn into_info(self, currency: &str) -> PromoCodeInfo {
        PromoCodeInfo {
            discount: discount_label(self.percent_off, self.amount_off_minor, currency),
            id: self.id,
            code: self.code,
            expires_at: self.expires_at,
            max_redemptions: self.max_redemptions,
            redeemed: self.redeemed,
            once_per_user: self.once_per_user != 0,
            min_purchase_minor: self.min_purchase_minor,
            first_purchase_only: self.first_purchase_only != 0,
            active: self.active != 0,
            note: self.note,
            created_at: self.created_at,
            currency: currency.to_string(),
        }
    }
}

/// Creates a code (validated by [`validate`] first).
pub async fn create(
    db: &Db,
    new: &NewPromo,
    created_by: &str,
    currency: &str,
    now: i64,
) -> Result<PromoCodeInfo, AppError> {
    let new = validate(new, now)?;
    let id = random::id("prm")?;
    let inserted = sqlx::query(
        "INSERT INTO promo_codes (id, code, percent_off, amount_off_minor, expires_at, max_redemptions, \
         once_per_user, min_purchase_minor, first_purchase_only, note, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (code) DO NOTHING",
    )
    .bind(&id)
    .bind(&new.code)
    .bind(new.percent_off)
    .bind(new.amount_off_minor)
    .bind(new.expires_at)
    .bind(new.max_redemptions)
    .bind(i64::from(new.once_per_user))
    .bind(new.min_purchase_minor)
    .bind(i64::from(new.first_purchase_only))
    .bind(new.note.as_deref())
    .bind(created_by)
    .bind(now)
    .execute(&db.pool)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Err(AppError::Validation(vec![FieldError::new(
            "code",
            "A code with this name already exists.",
        )]));
    }
    let row: PromoRow = sqlx::query_as(&format!(
        "SELECT {PROMO_COLUMNS} FROM promo_codes WHERE id = $1"
    ))
    .bind(&id)
    .fetch_one(&db.pool)
    .await?;
    Ok(row.into_info(currency))
}

/// Every code, newest first.
pub async fn list(db: &Db, currency: &str) -> Result<Vec<PromoCodeInfo>, AppError> {
    let rows: Vec<PromoRow> = sqlx::query_as(&format!(
        "SELECT {PROMO_COLUMNS} FROM promo_codes ORDER BY created_at DESC, code"
    ))
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(|r| r.into_info(currency)).collect())
}

/// Stops a code applying to new orders; false when no code has this name.
pub async fn deactivate(db: &Db, code: &str) -> Result<bool, AppError> {
    let changed = sqlx::query("UPDATE promo_codes SET active = 0 WHERE code = $1")
        .bind(normalize_code(code))
        .execute(&db.pool)
        .await?
        .rows_affected();
    Ok(changed > 0)
}

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
    if promo.active == 0 {
        return Ok(Err(Refusal::Inactive));
    }
    if promo.expires_at.is_some_and(|at| at <= now) {
        return Ok(Err(Refusal::Expired));
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
            "SELECT order_id FROM promo_redemptions WHERE promo_code_id = $1 AND user_id = $2 AND order_id <> $3",
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
    if promo.active == 0 {
        return Ok(Err(Refusal::Inactive));
    }
    if promo.expires_at.is_some_and(|at| at <= now) {
        return Ok(Err(Refusal::Expired));
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
            "SELECT COUNT(*) FROM promo_redemptions WHERE promo_code_id = $1 AND user_id = $2 \
             AND order_id <> $3 AND status = 'consumed'",
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
