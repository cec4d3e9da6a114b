//! What the provider says of subscriptions and invoices, in its answers and in its
//! webhooks, applied to Keyward's tables: the subscription's status and period, the
//! invoice, and the included credits a paid invoice grants (once per invoice).

use super::customers;
use super::prices::plan_of_price;
use super::store::{self, SubscriptionRow};
use crate::error::AppError;
use crate::infra::billing::{BillingProvider, ProviderInvoice, ProviderSubscription};
use crate::infra::db::Db;
use crate::infra::payments::{PaymentEvent, PaymentEventKind};
use crate::infra::plans::PlanCatalog;
use crate::wallet::included::{self, IncludedGrant};
use crate::wallet::order_history::first_delivery;

type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// Who the grants are written as, in the ledger.
const ACTOR: &str = "subscription";

/// Writes a subscription's state, in the caller's transaction. The owner is the one
/// Keyward already has for it, else the one whose customer it bills; a subscription
/// of nobody Keyward knows (or to a price it did not make) is logged and left.
pub async fn subscription_in(
    tx: &mut Tx<'_>,
    provider: &ProviderSubscription,
    now: i64,
) -> Result<Option<SubscriptionRow>, AppError> {
    let owner = match store::by_id(&mut **tx, &provider.id).await? {
        Some(known) => Some(known.owner),
        None => customers::owner_of_customer(&mut **tx, &provider.customer).await?,
    };
    let (Some(owner), Some((plan, interval))) = (owner, plan_of_price(&provider.price)) else {
        tracing::warn!(subscription = %provider.id, "a subscription Keyward did not make; left alone");
        return Ok(None);
    };
    store::upsert(tx, &owner, &plan, &interval, provider, now).await
}

pub async fn subscription(
    db: &Db,
    provider: &ProviderSubscription,
    now: i64,
) -> Result<Option<SubscriptionRow>, AppError> {
    let mut tx = db.begin_write().await?;
    let row = subscription_in(&mut tx, provider, now).await?;
    tx.commit().await?;
    Ok(row)
}

/// Writes an invoice of a subscription and, when it is paid, grants the plan's included
/// credits for its period (once: the grant's idempotency key is the invoice). A failed
/// payment makes an active subscription past due.
pub async fn invoice_in(
    tx: &mut Tx<'_>,
    plans: &PlanCatalog,
    invoice: &ProviderInvoice,
    failed: bool,
    now: i64,
) -> Result<Option<SubscriptionRow>, AppError> {
    let Some(subscription_id) = &invoice.subscription else {
        return Ok(None);
    };
    let Some(subscription) = store::by_id(&mut **tx, subscription_id).await? else {
        tracing::warn!(invoice = %invoice.id, "an invoice of a subscription Keyward does not know");
        return Ok(None);
    };
    let lines = serde_json::to_string(
        &invoice
            .lines
            .iter()
            .map(|line| (line.description.as_str(), line.amount_minor))
            .collect::<Vec<_>>(),
    )
    .unwrap_or_else(|_| "[]".into());
    let status = if failed && invoice.status != "paid" {
        "failed"
    } else {
        invoice.status.as_str()
    };
    sqlx::query(
        "INSERT INTO subscription_invoices (id, subscription_id, owner_kind, owner_id, number, \
         status, total_minor, currency, period_start, period_end, lines, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
         total_minor = excluded.total_minor, lines = excluded.lines, \
         updated_at = excluded.updated_at WHERE subscription_invoices.status <> 'paid'",
    )
    .bind(&invoice.id)
    .bind(&subscription.id)
    .bind(subscription.owner.kind())
    .bind(subscription.owner.id())
    .bind(invoice.number.chars().take(64).collect::<String>())
    .bind(status)
    .bind(invoice.total_minor)
    .bind(&invoice.currency)
    .bind(invoice.period_start.saturating_mul(1000))
    .bind(invoice.period_end.saturating_mul(1000))
    .bind(lines)
    .bind(invoice.created.saturating_mul(1000))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    if invoice.status == "paid" {
        grant_for(tx, plans, &subscription, invoice, now).await?;
    } else if failed && subscription.gives_plan() {
        // Each failed attempt is told (the person may act between retries), whether the
        // provider's own `past_due` update came first or not.
        sqlx::query(
            "UPDATE subscriptions SET status = 'past_due', updated_at = $1 \
             WHERE id = $2 AND status = 'active' AND ended_at IS NULL",
        )
        .bind(now)
        .bind(&subscription.id)
        .execute(&mut **tx)
        .await?;
        return Ok(Some(subscription));
    }
    Ok(None)
}

/// The included credits of a paid invoice, expiring at the end of the period it paid
/// for. None for a plan that includes none, or a period already over.
async fn grant_for(
    tx: &mut Tx<'_>,
    plans: &PlanCatalog,
    subscription: &SubscriptionRow,
    invoice: &ProviderInvoice,
    now: i64,
) -> Result<(), AppError> {
    let Some(plan) = plans.get(&subscription.plan) else {
        return Ok(());
    };
    // An invoice of a plan change grants what the change added (for the rest of the
    // period, as the person was shown), not a full period's.
    let change: Option<(i64,)> =
        sqlx::query_as("SELECT credits FROM subscription_changes WHERE invoice_id = $1")
            .bind(&invoice.id)
            .fetch_optional(&mut **tx)
            .await?;
    let (credits, expires_at) = match change {
        Some((credits,)) => (credits, subscription.current_period_end),
        None => (
            plan.included_credits,
            invoice.period_end.saturating_mul(1000),
        ),
    };
    if credits <= 0 || expires_at <= now {
        return Ok(());
    }
    let (granted,): (i64,) =
        sqlx::query_as("SELECT credits_granted FROM subscription_invoices WHERE id = $1")
            .bind(&invoice.id)
            .fetch_one(&mut **tx)
            .await?;
    if granted > 0 {
        return Ok(());
    }
    // Grants are kept in the order they expire; one live grant may expire after this
    // period (an operator's, or a longer period's): this one then lasts as long, rather
    // than paid credits being withheld.
    let (latest,): (Option<i64>,) = sqlx::query_as(
        "SELECT MAX(expires_at) FROM credit_grants WHERE wallet_id = $1 AND expired_at IS NULL",
    )
    .bind(crate::wallet::wallet_id(&subscription.owner))
    .fetch_one(&mut **tx)
    .await?;
    let expires_at = latest.map_or(expires_at, |latest| latest.max(expires_at));
    let grant = IncludedGrant {
        owner: subscription.owner.clone(),
        credits,
        expires_at,
        description: format!(
            "{} plan, included with invoice {}",
            plan.name, invoice.number
        ),
        actor: ACTOR.into(),
        reference: Some(invoice.id.clone()),
        idempotency_key: format!("invoice:{}", invoice.id),
    };
    match included::grant_in(tx, &grant, now).await {
        Ok(_) => {}
        // A grant that cannot be kept in expiry order (a period ending before one
        // already granted) is logged; the invoice stays paid.
        Err(AppError::Validation(errors)) => {
            tracing::warn!(invoice = %invoice.id, ?errors, "included credits not granted");
            return Ok(());
        }
        Err(other) => return Err(other),
    }
    sqlx::query("UPDATE subscription_invoices SET credits_granted = $1 WHERE id = $2")
        .bind(credits)
        .bind(&invoice.id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// An invoice from an answer (not a webhook), in its own transaction.
pub async fn invoice(
    db: &Db,
    plans: &PlanCatalog,
    invoice: &ProviderInvoice,
    now: i64,
) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    invoice_in(&mut tx, plans, invoice, false, now).await?;
    tx.commit().await?;
    Ok(())
}

/// What applying a notification changed that someone must be told about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    Nothing,
    /// A renewal failed: the subscription is past due.
    PastDue(Box<SubscriptionRow>),
}

/// The subscription as the provider has it now.
async fn ask(billing: &dyn BillingProvider, id: &str) -> Result<ProviderSubscription, AppError> {
    billing.subscription(id).await.map_err(|error| {
        tracing::warn!(subscription = %id, ?error, "could not ask the provider; the event will come again");
        AppError::Unavailable("The billing provider did not answer.".into())
    })
}

/// The subscription a billing notification is about, if it names one.
pub fn subscription_of(event: &PaymentEvent) -> Option<&str> {
    match &event.kind {
        PaymentEventKind::SubscriptionChanged(s) | PaymentEventKind::SubscriptionEnded(s) => {
            Some(&s.id)
        }
        PaymentEventKind::InvoicePaid(i) | PaymentEventKind::InvoiceFailed(i) => {
            i.subscription.as_deref()
        }
        _ => None,
    }
}

/// Whether a provider notification is about billing (for `apply`).
pub fn is_billing(event: &PaymentEvent) -> bool {
    matches!(
        event.kind,
        PaymentEventKind::SubscriptionChanged(_)
            | PaymentEventKind::SubscriptionEnded(_)
            | PaymentEventKind::InvoicePaid(_)
            | PaymentEventKind::InvoiceFailed(_)
    )
}

/// A provider notification about billing, applied once: its id is written in the same
/// transaction as its effect. An invoice of a subscription Keyward has not written yet
/// (its webhook came before the answer to the subscribe call) has the subscription
/// asked for first.
pub async fn apply(
    db: &Db,
    plans: &PlanCatalog,
    billing: &dyn BillingProvider,
    event: &PaymentEvent,
    now: i64,
) -> Result<Applied, AppError> {
    let (type_name, object_id) = match &event.kind {
        PaymentEventKind::SubscriptionChanged(s) => ("customer.subscription.updated", &s.id),
        PaymentEventKind::SubscriptionEnded(s) => ("customer.subscription.deleted", &s.id),
        PaymentEventKind::InvoicePaid(i) => ("invoice.paid", &i.id),
        PaymentEventKind::InvoiceFailed(i) => ("invoice.payment_failed", &i.id),
        _ => return Ok(Applied::Nothing),
    };
    // A subscription's events may arrive in any order, so its state is asked of the
    // provider rather than taken from the event; an invoice of a subscription not
    // written yet (its webhook came before the subscribe call's answer) has the
    // subscription asked for first. If the provider cannot answer, the event is not
    // recorded and the error makes the provider deliver it again later.
    let fresh = match &event.kind {
        PaymentEventKind::SubscriptionChanged(s) | PaymentEventKind::SubscriptionEnded(s) => {
            Some(ask(billing, &s.id).await?)
        }
        PaymentEventKind::InvoicePaid(invoice) | PaymentEventKind::InvoiceFailed(invoice) => {
            if let Some(id) = &invoice.subscription {
                if store::by_id(&db.pool, id).await?.is_none() {
                    subscription(db, &ask(billing, id).await?, now).await?;
                }
            }
            None
        }
        _ => None,
    };
    let mut tx = db.begin_write().await?;
    if !first_delivery(&mut tx, &event.id, type_name, object_id, now).await? {
        tracing::info!(event_id = %event.id, "webhook event delivered again; already handled");
        return Ok(Applied::Nothing);
    }
    let applied = match &event.kind {
        PaymentEventKind::SubscriptionChanged(provider)
        | PaymentEventKind::SubscriptionEnded(provider) => {
            subscription_in(&mut tx, fresh.as_ref().unwrap_or(provider), now).await?;
            Applied::Nothing
        }
        PaymentEventKind::InvoicePaid(invoice) => {
            invoice_in(&mut tx, plans, invoice, false, now).await?;
            Applied::Nothing
        }
        PaymentEventKind::InvoiceFailed(invoice) => {
            match invoice_in(&mut tx, plans, invoice, true, now).await? {
                Some(row) => Applied::PastDue(Box::new(row)),
                None => Applied::Nothing,
            }
        }
        _ => Applied::Nothing,
    };
    tx.commit().await?;
    Ok(applied)
}
