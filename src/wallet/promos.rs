//! Promo codes: what operators create (checked, listed, deactivated). Whether one
//! applies to an order, and its redemptions, are `redemptions`.

use super::{format_money, NewPromo, PromoCodeInfo};
use crate::error::{AppError, FieldError};
use crate::infra::{db::Db, random};

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
    let applies_to = match new.applies_to.trim() {
        "" | "both" => "both",
        "credits" => "credits",
        "subscriptions" => "subscriptions",
        _ => {
            errors.push(FieldError::new(
                "applies_to",
                "Choose credits, subscriptions or both.",
            ));
            "both"
        }
    };
    let duration = match new.duration.trim() {
        "" | "once" => "once",
        "repeating" => "repeating",
        "forever" => "forever",
        _ => {
            errors.push(FieldError::new(
                "duration",
                "Choose once, repeating or forever.",
            ));
            "once"
        }
    };
    match (duration, new.duration_months) {
        ("repeating", Some(months)) if (1..=MAX_MONTHS).contains(&months) => {}
        ("repeating", _) => errors.push(FieldError::new(
            "duration_months",
            format!("A repeating code lasts 1 to {MAX_MONTHS} months."),
        )),
        (_, Some(_)) => errors.push(FieldError::new(
            "duration_months",
            "Months are for a repeating code only.",
        )),
        _ => {}
    }
    let plans = plan_list(&new.plans);
    if plans.len() > 20
        || plans.iter().any(|plan| {
            plan.len() > 32
                || !plan
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
    {
        errors.push(FieldError::new(
            "plans",
            "Plans are plan ids (such as standard, pro), separated by commas.",
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
        applies_to: applies_to.into(),
        plans: plans.join(","),
        duration: duration.into(),
        duration_months: new.duration_months.filter(|_| duration == "repeating"),
        ..new.clone()
    })
}

/// The longest a repeating code lasts.
pub const MAX_MONTHS: i64 = 36;

/// Plan ids from a comma-separated list: trimmed, lower-case, without empties or repeats.
pub fn plan_list(text: &str) -> Vec<String> {
    let mut plans: Vec<String> = Vec::new();
    for plan in text.split(',').map(|p| p.trim().to_ascii_lowercase()) {
        if !plan.is_empty() && !plans.contains(&plan) {
            plans.push(plan);
        }
    }
    plans
}

/// A plan a new code names that the server does not have, as the error beside the field.
pub fn check_plans(
    new: &NewPromo,
    plans: &crate::infra::plans::PlanCatalog,
) -> Result<(), AppError> {
    match plan_list(&new.plans)
        .into_iter()
        .find(|id| plans.get(id).is_none())
    {
        Some(unknown) => Err(AppError::invalid(
            "plans",
            format!(
                "There is no plan {unknown:?}; the plans are {}.",
                plans
                    .all()
                    .iter()
                    .map(|p| p.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
        None => Ok(()),
    }
}

/// "once", "for 3 months" or "forever".
pub fn duration_label(duration: &str, months: Option<i64>) -> String {
    match (duration, months) {
        ("repeating", Some(1)) => "for 1 month".into(),
        ("repeating", Some(n)) => format!("for {n} months"),
        ("forever", _) => "forever".into(),
        _ => "once".into(),
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct PromoRow {
    pub(crate) id: String,
    pub(crate) code: String,
    pub(crate) percent_off: Option<i64>,
    pub(crate) amount_off_minor: Option<i64>,
    pub(crate) expires_at: Option<i64>,
    pub(crate) max_redemptions: Option<i64>,
    pub(crate) redeemed: i64,
    pub(crate) once_per_user: i64,
    pub(crate) min_purchase_minor: Option<i64>,
    pub(crate) first_purchase_only: i64,
    pub(crate) active: i64,
    pub(crate) note: Option<String>,
    pub(crate) created_at: i64,
    pub(crate) applies_to: String,
    pub(crate) plans: Option<String>,
    pub(crate) duration: String,
    pub(crate) duration_months: Option<i64>,
}

pub(crate) const PROMO_COLUMNS: &str =
    "id, code, percent_off, amount_off_minor, expires_at, max_redemptions, \
     redeemed, once_per_user, min_purchase_minor, first_purchase_only, active, note, created_at, \
     applies_to, plans, duration, duration_months";

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
            duration: duration_label(&self.duration, self.duration_months),
            applies_to: self.applies_to,
            plans: plan_list(self.plans.as_deref().unwrap_or_default()),
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
         once_per_user, min_purchase_minor, first_purchase_only, note, created_by, created_at, \
         applies_to, plans, duration, duration_months) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
         ON CONFLICT (code) DO NOTHING",
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
    .bind(&new.applies_to)
    .bind(Some(new.plans.as_str()).filter(|p| !p.is_empty()))
    .bind(&new.duration)
    .bind(new.duration_months)
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
