//! Admin > Subscriptions: the subscriptions that have not ended, monthly recurring
//! revenue, and the plans operators gave.

use super::store::{self, GIVES_PLAN};
use super::{AdminSubscriptionRow, AdminSubscriptions};
use crate::error::AppError;
use crate::infra::db::Db;
use crate::infra::money::format_money;
use crate::infra::plans::PlanCatalog;

/// What a subscription brings in each month, in minor units: the price it is billed
/// (its plan's price when it was made), a yearly one spread over twelve months (rounded
/// down).
fn monthly_minor(price_minor: i64, interval: &str) -> i64 {
    match interval {
        "year" => price_minor / 12,
        _ => price_minor,
    }
}

pub async fn admin_report(
    db: &Db,
    plans: &PlanCatalog,
    currency: &str,
) -> Result<AdminSubscriptions, AppError> {
    let live = store::all_live(db).await?;
    let mut mrr = 0i64;
    let (mut active, mut past_due) = (0i64, 0i64);
    let mut subscriptions = Vec::with_capacity(live.len());
    for (row, who) in live {
        // A trial brings nothing yet; active and past-due subscriptions are billed.
        let paying = matches!(row.status.as_str(), "active" | "past_due");
        let monthly = if paying && row.price_currency == currency {
            monthly_minor(row.price_minor, &row.interval)
        } else {
            0
        };
        mrr = mrr.saturating_add(monthly);
        match row.status.as_str() {
            "past_due" => past_due += 1,
            status if GIVES_PLAN.contains(&status) => active += 1,
            _ => {}
        }
        subscriptions.push(AdminSubscriptionRow {
            who,
            organization: matches!(row.owner, crate::workspace::Owner::Org(_)),
            plan_name: plans.or_free(&row.plan).name.clone(),
            interval: row.interval.clone(),
            status: row.status.clone(),
            cancel_at_period_end: row.cancel_at_period_end,
            current_period_end: row.current_period_end,
            monthly_value: format_money(monthly, currency),
        });
    }
    let complimentary = store::complimentary(db)
        .await?
        .into_iter()
        .filter_map(|(email, plan)| {
            let plan = plans.get(&plan)?;
            (!plan.is_free()).then(|| (email, plan.name.clone()))
        })
        .collect();
    Ok(AdminSubscriptions {
        mrr: format_money(mrr, currency),
        active,
        past_due,
        subscriptions,
        complimentary,
    })
}

#[cfg(test)]
mod tests {
    use super::monthly_minor;

    #[test]
    fn a_yearly_price_counts_a_twelfth_each_month() {
        assert_eq!(monthly_minor(2000, "month"), 2000);
        assert_eq!(monthly_minor(20000, "year"), 1666);
    }
}
