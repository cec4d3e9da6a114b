//! Stripe Billing: customers with a default card, plans (recurring prices) and
//! subscriptions, over the same REST client as payments (`infra::stripe`); answers are
//! read by `infra::stripe_objects`.

use super::billing::{
    BillingProvider, CardOnFile, PriceSpec, ProviderInvoice, ProviderSubscription,
};
use super::provider_error::ProviderFuture;
use super::stripe::Stripe;
use super::stripe_objects::{card, id_of, invoice, is_missing, subscription, text, unreadable};

impl BillingProvider for Stripe {
    fn create_customer<'a>(
        &'a self,
        reference: &'a str,
        email: &'a str,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, String> {
        Box::pin(async move {
            let created = self
                .post(
                    &["v1", "customers"],
                    &[("email", email), ("metadata[keyward_owner]", reference)],
                    idempotency_key,
                )
                .await?;
            created["id"]
                .as_str()
                .filter(|id| id.starts_with("cus_"))
                .map(str::to_string)
                .ok_or_else(|| unreadable("customer id"))
        })
    }

    fn set_card<'a>(
        &'a self,
        customer: &'a str,
        token: &'a str,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, CardOnFile> {
        Box::pin(async move {
            let source = self
                .post(
                    &["v1", "customers", customer, "sources"],
                    &[("source", token)],
                    idempotency_key,
                )
                .await?;
            let card_id = text(&source["id"]);
            if card_id.is_empty() {
                return Err(unreadable("card id"));
            }
            // The newest card is the one invoices are paid with.
            self.post(
                &["v1", "customers", customer],
                &[("default_source", &card_id)],
                &format!("{idempotency_key}:default"),
            )
            .await?;
            card(&source)
        })
    }

    fn ensure_price<'a>(&'a self, spec: &'a PriceSpec) -> ProviderFuture<'a, String> {
        Box::pin(async move {
            match self.get(&["v1", "plans", &spec.id]).await {
                Ok(found) => return id_of(&found["id"]).ok_or_else(|| unreadable("plan id")),
                Err(error) if is_missing(&error) => {}
                Err(error) => return Err(error),
            }
            let amount = spec.amount_minor.to_string();
            let created = self
                .post(
                    &["v1", "plans"],
                    &[
                        ("id", &spec.id),
                        ("amount", &amount),
                        ("currency", &spec.currency),
                        ("interval", &spec.interval),
                        ("product[name]", &spec.name),
                    ],
                    &format!("plan:{}", spec.id),
                )
                .await;
            match created {
                Ok(created) => id_of(&created["id"]).ok_or_else(|| unreadable("plan id")),
                // Another process created it first.
                Err(_) => {
                    let found = self.get(&["v1", "plans", &spec.id]).await?;
                    id_of(&found["id"]).ok_or_else(|| unreadable("plan id"))
                }
            }
        })
    }

    fn subscribe<'a>(
        &'a self,
        customer: &'a str,
        price: &'a str,
        reference: &'a str,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, ProviderSubscription> {
        Box::pin(async move {
            let created = self
                .post(
                    &["v1", "subscriptions"],
                    &[
                        ("customer", customer),
                        ("items[0][plan]", price),
                        ("metadata[keyward_owner]", reference),
                        // A declined first payment is an error, not an incomplete
                        // subscription left behind.
                        ("payment_behavior", "error_if_incomplete"),
                    ],
                    idempotency_key,
                )
                .await?;
            subscription(&created)
        })
    }

    fn subscription<'a>(&'a self, id: &'a str) -> ProviderFuture<'a, ProviderSubscription> {
        Box::pin(async move { subscription(&self.get(&["v1", "subscriptions", id]).await?) })
    }

    fn cancel_at_period_end<'a>(
        &'a self,
        id: &'a str,
        cancel: bool,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, ProviderSubscription> {
        Box::pin(async move {
            let value = if cancel { "true" } else { "false" };
            let updated = self
                .post(
                    &["v1", "subscriptions", id],
                    &[("cancel_at_period_end", value)],
                    idempotency_key,
                )
                .await?;
            subscription(&updated)
        })
    }

    fn cancel_now<'a>(&'a self, id: &'a str) -> ProviderFuture<'a, ProviderSubscription> {
        Box::pin(async move { subscription(&self.delete(&["v1", "subscriptions", id]).await?) })
    }

    fn invoice<'a>(&'a self, id: &'a str) -> ProviderFuture<'a, ProviderInvoice> {
        Box::pin(async move { invoice(&self.get(&["v1", "invoices", id]).await?) })
    }

    fn upcoming_invoice<'a>(
        &'a self,
        customer: &'a str,
        subscription: &'a str,
    ) -> ProviderFuture<'a, Option<ProviderInvoice>> {
        Box::pin(async move {
            let query = [("customer", customer), ("subscription", subscription)];
            match self.get_with(&["v1", "invoices", "upcoming"], &query).await {
                Ok(upcoming) => Ok(Some(invoice(&upcoming)?)),
                Err(error) if is_missing(&error) => Ok(None),
                Err(error) => Err(error),
            }
        })
    }

    fn change_price<'a>(
        &'a self,
        subscription: &'a ProviderSubscription,
        price: &'a str,
        proration_date: i64,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, ProviderSubscription> {
        Box::pin(async move {
            let proration_date = proration_date.to_string();
            let updated = self
                .post(
                    &["v1", "subscriptions", &subscription.id],
                    &[
                        ("items[0][id]", &subscription.item),
                        ("items[0][plan]", price),
                        ("proration_date", &proration_date),
                    ],
                    idempotency_key,
                )
                .await?;
            super::stripe_objects::subscription(&updated)
        })
    }

    fn drop_prorations<'a>(
        &'a self,
        customer: &'a str,
        subscription: &'a str,
    ) -> ProviderFuture<'a, usize> {
        Box::pin(async move {
            // Pending items are those on no invoice yet; the list is asked without
            // `pending=true`, which not every Stripe-compatible server takes.
            let listed = self
                .get_with(
                    &["v1", "invoiceitems"],
                    &[("customer", customer), ("limit", "100")],
                )
                .await?;
            let mut dropped = 0;
            for item in listed["data"].as_array().into_iter().flatten() {
                let pending = item["invoice"].is_null();
                let ours = id_of(&item["subscription"]).as_deref() == Some(subscription);
                let proration = item["proration"].as_bool().unwrap_or(false);
                if let (true, true, true, Some(id)) =
                    (pending, ours, proration, item["id"].as_str())
                {
                    self.delete(&["v1", "invoiceitems", id]).await?;
                    dropped += 1;
                }
            }
            Ok(dropped)
        })
    }

    fn invoice_pending<'a>(
        &'a self,
        customer: &'a str,
        subscription: &'a str,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, ProviderInvoice> {
        Box::pin(async move {
            let created = self
                .post(
                    &["v1", "invoices"],
                    &[
                        ("customer", customer),
                        ("subscription", subscription),
                        ("pending_invoice_items_behavior", "include"),
                    ],
                    idempotency_key,
                )
                .await?;
            let created = invoice(&created)?;
            if created.id.is_empty() {
                return Err(unreadable("invoice id"));
            }
            Ok(created)
        })
    }

    fn pay_invoice<'a>(
        &'a self,
        id: &'a str,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, ProviderInvoice> {
        Box::pin(async move {
            invoice(
                &self
                    .post(&["v1", "invoices", id, "pay"], &[], idempotency_key)
                    .await?,
            )
        })
    }

    fn add_invoice_item<'a>(
        &'a self,
        customer: &'a str,
        subscription: Option<&'a str>,
        amount_minor: i64,
        currency: &'a str,
        description: &'a str,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, String> {
        Box::pin(async move {
            let amount = amount_minor.to_string();
            let mut form = vec![
                ("customer", customer),
                ("amount", amount.as_str()),
                ("currency", currency),
                ("description", description),
            ];
            if let Some(subscription) = subscription {
                form.push(("subscription", subscription));
            }
            let created = self
                .post(&["v1", "invoiceitems"], &form, idempotency_key)
                .await?;
            created["id"]
                .as_str()
                .filter(|id| !id.is_empty())
                .map(str::to_string)
                .ok_or_else(|| unreadable("invoice item id"))
        })
    }

    fn invoice_item_pending<'a>(&'a self, id: &'a str) -> ProviderFuture<'a, bool> {
        Box::pin(async move {
            match self.get(&["v1", "invoiceitems", id]).await {
                Ok(item) => Ok(item["invoice"].is_null() && item["deleted"] != true),
                Err(error) if is_missing(&error) => Ok(false),
                Err(error) => Err(error),
            }
        })
    }

    fn delete_invoice_item<'a>(&'a self, id: &'a str) -> ProviderFuture<'a, ()> {
        Box::pin(async move {
            match self.delete(&["v1", "invoiceitems", id]).await {
                Ok(_) => Ok(()),
                Err(error) if is_missing(&error) => Ok(()),
                Err(error) => Err(error),
            }
        })
    }
}
