//! The provider prices Keyward bills plans with. A price's id says what it is
//! (`keyward-standard-month-2000-usd`), so any process finds the same price, a price
//! change in the plans file makes a new one (subscribers keep theirs until they change
//! plan), and a subscription read back from the provider names its plan.

use crate::infra::billing::PriceSpec;
use crate::infra::plans::PlanSpec;

const PREFIX: &str = "keyward-";

/// `month` or `year`.
pub fn is_interval(text: &str) -> bool {
    matches!(text, "month" | "year")
}

/// The price of `plan` paid each `interval`, or None when the plan is free or has no
/// price for that interval.
pub fn price_of(plan: &PlanSpec, interval: &str, currency: &str) -> Option<PriceSpec> {
    let amount_minor = match interval {
        "month" => plan.monthly_price_minor,
        "year" => plan.yearly_price_minor?,
        _ => return None,
    };
    if amount_minor <= 0 {
        return None;
    }
    let currency = currency.to_ascii_lowercase();
    Some(PriceSpec {
        id: price_id(&plan.id, interval, amount_minor, &currency),
        name: format!("{} ({}ly)", plan.name, interval),
        amount_minor,
        currency,
        interval: interval.to_string(),
    })
}

/// The id of Keyward's price for `plan` at `amount_minor` each `interval`.
pub fn price_id(plan: &str, interval: &str, amount_minor: i64, currency: &str) -> String {
    format!(
        "{PREFIX}{plan}-{interval}-{amount_minor}-{}",
        currency.to_ascii_lowercase()
    )
}

/// What a price id of Keyward's names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceParts {
    pub plan: String,
    pub interval: String,
    pub amount_minor: i64,
    pub currency: String,
}

pub fn price_parts(price: &str) -> Option<PriceParts> {
    let rest = price.strip_prefix(PREFIX)?;
    let mut parts = rest.rsplitn(4, '-');
    let currency = parts.next()?;
    let amount_minor = parts.next()?.parse::<i64>().ok().filter(|a| *a > 0)?;
    let interval = parts.next()?;
    let plan = parts.next()?;
    (is_interval(interval) && !plan.is_empty() && !currency.is_empty()).then(|| PriceParts {
        plan: plan.to_string(),
        interval: interval.to_string(),
        amount_minor,
        currency: currency.to_string(),
    })
}

/// The plan id and interval a price id of Keyward's names.
pub fn plan_of_price(price: &str) -> Option<(String, String)> {
    price_parts(price).map(|parts| (parts.plan, parts.interval))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(id: &str, monthly: i64, yearly: Option<i64>) -> PlanSpec {
        PlanSpec {
            id: id.into(),
            name: "Team Plus".into(),
            monthly_price_minor: monthly,
            yearly_price_minor: yearly,
            included_credits: 0,
            lab_hours: 0,
            features: vec![],
        }
    }

    #[test]
    fn a_price_id_names_its_plan_and_interval_back() {
        let price = price_of(&plan("team-plus", 2000, Some(20000)), "year", "USD").unwrap();
        assert_eq!(price.id, "keyward-team-plus-year-20000-usd");
        assert_eq!(price.amount_minor, 20000);
        assert_eq!(
            plan_of_price(&price.id),
            Some(("team-plus".into(), "year".into()))
        );
        let parts = price_parts(&price.id).unwrap();
        assert_eq!(
            (parts.amount_minor, parts.currency.as_str()),
            (20000, "usd")
        );
        assert_eq!(plan_of_price("price_123"), None);
        assert_eq!(plan_of_price("keyward-pro-month-0-usd"), None);
        assert_eq!(plan_of_price("keyward-pro-week-1-usd"), None);
        assert_eq!(plan_of_price("keyward--month-1-usd"), None);
    }

    #[test]
    fn free_plans_and_missing_intervals_have_no_price() {
        assert_eq!(price_of(&plan("free", 0, None), "month", "usd"), None);
        assert_eq!(price_of(&plan("standard", 2000, None), "year", "usd"), None);
        assert_eq!(price_of(&plan("standard", 2000, None), "week", "usd"), None);
    }
}
