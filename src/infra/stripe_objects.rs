//! Reading Stripe's objects (subscriptions, invoices, cards) from its answers and
//! webhooks: only the fields Keyward uses, from either API shape.

use super::billing::{CardOnFile, ProviderInvoice, ProviderInvoiceLine, ProviderSubscription};
use super::provider_error::ProviderError;
use serde_json::Value;

pub(super) fn unreadable(what: &str) -> ProviderError {
    ProviderError::Unavailable(format!("an answer without a usable {what}"))
}

pub(super) fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

/// An id field, whether the answer holds the id or the expanded object.
pub(super) fn id_of(value: &Value) -> Option<String> {
    value
        .as_str()
        .or_else(|| value["id"].as_str())
        .map(str::to_string)
}

pub(super) fn card(object: &Value) -> Result<CardOnFile, ProviderError> {
    // A card source, or a payment method with its card inside.
    let card = if object["card"].is_object() {
        &object["card"]
    } else {
        object
    };
    let last4 = text(&card["last4"]);
    if last4.is_empty() {
        return Err(unreadable("card"));
    }
    Ok(CardOnFile {
        brand: text(&card["brand"]),
        last4,
        exp_month: card["exp_month"].as_i64().unwrap_or(0),
        exp_year: card["exp_year"].as_i64().unwrap_or(0),
    })
}

pub(super) fn subscription(object: &Value) -> Result<ProviderSubscription, ProviderError> {
    let id = object["id"]
        .as_str()
        .filter(|id| id.starts_with("sub_"))
        .ok_or_else(|| unreadable("subscription id"))?;
    let item = &object["items"]["data"][0];
    let price = id_of(&item["price"])
        .or_else(|| id_of(&item["plan"]))
        .or_else(|| id_of(&object["plan"]))
        .ok_or_else(|| unreadable("subscription price"))?;
    // Newer API versions keep the period on the item, older ones on the subscription.
    let period = |name: &str| object[name].as_i64().or_else(|| item[name].as_i64());
    Ok(ProviderSubscription {
        id: id.to_string(),
        customer: id_of(&object["customer"]).ok_or_else(|| unreadable("customer"))?,
        status: text(&object["status"]),
        price,
        item: text(&item["id"]),
        current_period_start: period("current_period_start").unwrap_or(0),
        current_period_end: period("current_period_end").unwrap_or(0),
        cancel_at_period_end: object["cancel_at_period_end"].as_bool().unwrap_or(false),
        latest_invoice: id_of(&object["latest_invoice"]),
    })
}

pub(super) fn invoice(object: &Value) -> Result<ProviderInvoice, ProviderError> {
    let id = object["id"]
        .as_str()
        .filter(|id| !id.is_empty())
        .map(str::to_string)
        .unwrap_or_default();
    let lines: Vec<ProviderInvoiceLine> = object["lines"]["data"]
        .as_array()
        .map(|lines| {
            lines
                .iter()
                .map(|line| ProviderInvoiceLine {
                    description: text(&line["description"]).chars().take(200).collect(),
                    amount_minor: line["amount"].as_i64().unwrap_or(0),
                })
                .collect()
        })
        .unwrap_or_default();
    // A subscription invoice's own period can be a point in time; the line whose period
    // ends last (the plan's, not a one-off item's) is what was paid for.
    let line_period = object["lines"]["data"]
        .as_array()
        .and_then(|lines| {
            lines
                .iter()
                .map(|line| &line["period"])
                .max_by_key(|period| period["end"].as_i64().unwrap_or(0))
        })
        .unwrap_or(&Value::Null);
    let period = |name: &str| {
        line_period[name]
            .as_i64()
            .or_else(|| object[format!("period_{name}").as_str()].as_i64())
            .unwrap_or(0)
    };
    let subscription = id_of(&object["subscription"])
        .or_else(|| id_of(&object["parent"]["subscription_details"]["subscription"]));
    let number = object["number"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| id.clone());
    Ok(ProviderInvoice {
        customer: id_of(&object["customer"]).ok_or_else(|| unreadable("customer"))?,
        subscription,
        number,
        status: text(&object["status"]),
        total_minor: object["total"].as_i64().unwrap_or(0),
        currency: text(&object["currency"]),
        period_start: period("start"),
        period_end: period("end"),
        created: object["created"]
            .as_i64()
            .or_else(|| object["date"].as_i64())
            .unwrap_or(0),
        lines,
        id,
    })
}

/// Whether an unusable answer was the provider saying "no such object".
pub(super) fn is_missing(error: &ProviderError) -> bool {
    matches!(error, ProviderError::Unavailable(message) if message.starts_with("404"))
}

/// Reads a provider object from a webhook event's `data.object`.
pub fn subscription_of_event(object: &Value) -> Option<ProviderSubscription> {
    subscription(object).ok()
}

/// Reads an invoice from a webhook event's `data.object`.
pub fn invoice_of_event(object: &Value) -> Option<ProviderInvoice> {
    invoice(object)
        .ok()
        .filter(|invoice| !invoice.id.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_subscription_from_either_api_shape() {
        let old = json!({"id": "sub_1", "customer": "cus_1", "status": "active",
            "plan": {"id": "keyward-pro-month"}, "current_period_start": 10,
            "current_period_end": 20, "cancel_at_period_end": true, "latest_invoice": "in_1",
            "items": {"data": [{"id": "si_1", "plan": {"id": "keyward-pro-month"}}]}});
        let read = subscription(&old).unwrap();
        assert_eq!(read.price, "keyward-pro-month");
        assert_eq!(
            (read.current_period_start, read.current_period_end),
            (10, 20)
        );
        assert!(read.cancel_at_period_end);
        let new = json!({"id": "sub_2", "customer": {"id": "cus_2"}, "status": "past_due",
            "items": {"data": [{"price": {"id": "price_9"}, "current_period_start": 1,
            "current_period_end": 2}]}});
        let read = subscription(&new).unwrap();
        assert_eq!(
            (read.price.as_str(), read.customer.as_str()),
            ("price_9", "cus_2")
        );
        assert_eq!(read.current_period_end, 2);
        assert!(subscription(&json!({"id": "in_1"})).is_err());
    }

    #[test]
    fn an_invoice_takes_its_period_from_its_first_line() {
        let object = json!({"id": "in_1", "customer": "cus_1", "subscription": "sub_1",
            "status": "paid", "total": 2000, "currency": "usd", "period_start": 5,
            "period_end": 5, "date": 7, "lines": {"data": [{"description": "Standard",
            "amount": 2000, "period": {"start": 100, "end": 200}}]}});
        let read = invoice_of_event(&object).unwrap();
        assert_eq!(
            (read.period_start, read.period_end, read.created),
            (100, 200, 7)
        );
        assert_eq!(read.number, "in_1");
        assert_eq!(read.lines[0].amount_minor, 2000);
        assert!(invoice_of_event(&json!({"customer": "cus_1"})).is_none());
    }
}
