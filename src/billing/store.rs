//! The subscriptions table: an owner's live subscription as the provider last said,
//! and which plan an owner is on. Customers are `customers`, invoices `invoices`.

use crate::error::AppError;
use crate::infra::billing::ProviderSubscription;
use crate::infra::db::Db;
use crate::infra::plans::PlanCatalog;
use crate::workspace::Owner;

/// Statuses in which a subscription gives its plan (past due: the provider is still
/// trying the card, and the plan stays until it gives up and ends the subscription).
pub const GIVES_PLAN: [&str; 3] = ["active", "past_due", "trialing"];

/// An owner's live subscription as Keyward last heard of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionRow {
    pub id: String,
    pub owner: Owner,
    pub customer_id: String,
    pub plan: String,
    pub interval: String,
    pub status: String,
    pub current_period_start: i64,
    pub current_period_end: i64,
    pub cancel_at_period_end: bool,
    /// What each period is billed (its price's amount), in `price_currency`.
    pub price_minor: i64,
    pub price_currency: String,
    /// After a downgrade: the price whose plan is kept until `prior_until` (Unix ms),
    /// the end of the period paid for at that price.
    pub prior_price: Option<String>,
    pub prior_until: Option<i64>,
}

impl SubscriptionRow {
    pub fn gives_plan(&self) -> bool {
        GIVES_PLAN.contains(&self.status.as_str())
    }

    /// The provider's id of the price it bills.
    pub fn price_id(&self) -> String {
        super::prices::price_id(
            &self.plan,
            &self.interval,
            self.price_minor,
            &self.price_currency,
        )
    }

    /// A downgrade not in effect yet at `now`: the plan kept until when.
    pub fn kept_plan(&self, now: i64) -> Option<(String, i64)> {
        let until = self.prior_until.filter(|until| *until > now)?;
        let (plan, _) = super::prices::plan_of_price(self.prior_price.as_deref()?)?;
        Some((plan, until))
    }

    /// The plan it gives at `now`: the one kept until a downgrade takes effect, else
    /// the one it bills.
    pub fn plan_at(&self, now: i64) -> String {
        self.kept_plan(now)
            .map_or_else(|| self.plan.clone(), |(plan, _)| plan)
    }
}

type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    String,
    Option<String>,
    Option<i64>,
);

const COLUMNS: &str = "id, owner_kind, owner_id, customer_id, plan, billing_interval, status, \
     current_period_start, current_period_end, cancel_at_period_end, price_minor, price_currency, \
     prior_price, prior_until";

fn from_row(row: Row) -> Option<SubscriptionRow> {
    let (
        id,
        kind,
        owner_id,
        customer_id,
        plan,
        interval,
        status,
        start,
        end,
        cancel,
        price,
        currency,
        prior_price,
        prior_until,
    ) = row;
    Some(SubscriptionRow {
        id,
        owner: Owner::from_parts(&kind, owner_id)?,
        customer_id,
        plan,
        interval,
        status,
        current_period_start: start,
        current_period_end: end,
        cancel_at_period_end: cancel != 0,
        price_minor: price,
        price_currency: currency,
        prior_price,
        prior_until,
    })
}

/// The owner's subscription that has not ended, if any.
pub async fn live<'e, E>(executor: E, owner: &Owner) -> Result<Option<SubscriptionRow>, AppError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM subscriptions \
         WHERE owner_kind = $1 AND owner_id = $2 AND ended_at IS NULL"
    ))
    .bind(owner.kind())
    .bind(owner.id())
    .fetch_optional(executor)
    .await?;
    Ok(row.and_then(from_row))
}

pub async fn by_id<'e, E>(executor: E, id: &str) -> Result<Option<SubscriptionRow>, AppError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM subscriptions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(executor)
    .await?;
    Ok(row.and_then(from_row))
}

/// Where an owner's plan comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanSource {
    Free,
    /// An operator's gift (`keyward plan set`).
    Complimentary,
    Subscription(Box<SubscriptionRow>),
}

impl PlanSource {
    pub fn as_str(&self) -> &'static str {
        match self {
            PlanSource::Free => "free",
            PlanSource::Complimentary => "complimentary",
            PlanSource::Subscription(_) => "subscription",
        }
    }
}

/// The plan an owner is on, and why: a subscription that gives its plan, else (for a
/// person) the plan an operator set, else the free plan. A plan the catalog no longer
/// has counts as the free plan. A downgrade gives the new plan from the end of the
/// period paid for (`now`: Unix ms).
pub async fn plan_of(
    db: &Db,
    plans: &PlanCatalog,
    owner: &Owner,
    now: i64,
) -> Result<(String, PlanSource), AppError> {
    if let Some(subscription) = live(&db.pool, owner).await? {
        let plan = subscription.plan_at(now);
        if subscription.gives_plan() && plans.get(&plan).is_some() {
            return Ok((plan, PlanSource::Subscription(Box::new(subscription))));
        }
    }
    if let Owner::User(user_id) = owner {
        let set: Option<(String,)> =
            sqlx::query_as("SELECT plan FROM lab_accounts WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(&db.pool)
                .await?;
        if let Some((plan,)) = set {
            let plan = plans.or_free(&plan);
            if !plan.is_free() {
                return Ok((plan.id.clone(), PlanSource::Complimentary));
            }
        }
    }
    Ok((plans.free().id.clone(), PlanSource::Free))
}

/// Writes what the provider said of a subscription. A subscription Keyward has not
/// seen is added for `owner` with `plan` and `interval` (read from its price); one it
/// has is updated, unless it already ended. Answers the row as it now stands.
#[allow(clippy::too_many_arguments)]
pub async fn upsert(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    owner: &Owner,
    plan: &str,
    interval: &str,
    provider: &ProviderSubscription,
    now: i64,
) -> Result<Option<SubscriptionRow>, AppError> {
    let parts = super::prices::price_parts(&provider.price);
    let price = parts.as_ref();
    let ended = matches!(provider.status.as_str(), "canceled" | "incomplete_expired");
    // One live subscription per owner: a new one the provider reports replaces an older
    // row still open here (one that stopped giving its plan), which is logged to check.
    if !ended {
        let replaced = sqlx::query(
            "UPDATE subscriptions SET ended_at = $1, updated_at = $1 \
             WHERE owner_kind = $2 AND owner_id = $3 AND ended_at IS NULL AND id <> $4",
        )
        .bind(now)
        .bind(owner.kind())
        .bind(owner.id())
        .bind(&provider.id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if replaced > 0 && by_id(&mut **tx, &provider.id).await?.is_none() {
            tracing::warn!(
                subscription = %provider.id,
                owner = %owner.id(),
                "a new subscription replaced one still open; check the older one at the provider"
            );
        }
    }
    sqlx::query(
        "INSERT INTO subscriptions (id, owner_kind, owner_id, customer_id, plan, billing_interval, \
         status, current_period_start, current_period_end, cancel_at_period_end, created_at, \
         updated_at, ended_at, price_minor, price_currency) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13, $14) \
         ON CONFLICT (id) DO UPDATE SET plan = excluded.plan, \
         price_minor = excluded.price_minor, price_currency = excluded.price_currency, \
         billing_interval = excluded.billing_interval, status = excluded.status, \
         current_period_start = excluded.current_period_start, \
         current_period_end = excluded.current_period_end, \
         cancel_at_period_end = excluded.cancel_at_period_end, updated_at = excluded.updated_at, \
         ended_at = excluded.ended_at WHERE subscriptions.ended_at IS NULL",
    )
    .bind(&provider.id)
    .bind(owner.kind())
    .bind(owner.id())
    .bind(&provider.customer)
    .bind(plan)
    .bind(interval)
    .bind(&provider.status)
    .bind(provider.current_period_start.saturating_mul(1000))
    .bind(provider.current_period_end.saturating_mul(1000))
    .bind(i64::from(provider.cancel_at_period_end))
    .bind(now)
    .bind(ended.then_some(now))
    .bind(price.map_or(0, |p| p.amount_minor))
    .bind(price.map_or("", |p| p.currency.as_str()))
    .execute(&mut **tx)
    .await?;
    by_id(&mut **tx, &provider.id).await
}

pub async fn set_cancel_reason(db: &Db, id: &str, reason: Option<&str>) -> Result<(), AppError> {
    sqlx::query("UPDATE subscriptions SET cancel_reason = $1 WHERE id = $2")
        .bind(reason)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Every subscription that has not ended, with who it is for (a person's email, an
/// organization's name), newest first.
pub async fn all_live(db: &Db) -> Result<Vec<(SubscriptionRow, String)>, AppError> {
    type LabelledRow = (
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        i64,
        i64,
        i64,
        i64,
        String,
        Option<String>,
        Option<i64>,
        String,
    );
    let rows: Vec<LabelledRow> = sqlx::query_as(
        "SELECT s.id, s.owner_kind, s.owner_id, s.customer_id, s.plan, s.billing_interval, \
         s.status, s.current_period_start, s.current_period_end, s.cancel_at_period_end, \
         s.price_minor, s.price_currency, s.prior_price, s.prior_until, \
         COALESCE(u.email, o.name, s.owner_id) \
         FROM subscriptions s \
         LEFT JOIN users u ON s.owner_kind = 'user' AND u.id = s.owner_id \
         LEFT JOIN organizations o ON s.owner_kind = 'org' AND o.id = s.owner_id \
         WHERE s.ended_at IS NULL ORDER BY s.created_at DESC, s.id",
    )
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(a, b, c, d, e, f, g, h, i, j, k, l, m, n, label)| {
            from_row((a, b, c, d, e, f, g, h, i, j, k, l, m, n)).map(|row| (row, label))
        })
        .collect())
}

/// People on a plan an operator set (`keyward plan set`): (email, plan id).
pub async fn complimentary(db: &Db) -> Result<Vec<(String, String)>, AppError> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT u.email, l.plan FROM lab_accounts l JOIN users u ON u.id = l.user_id \
         WHERE l.plan <> 'free' ORDER BY u.email",
    )
    .fetch_all(&db.pool)
    .await?;
    Ok(rows)
}
