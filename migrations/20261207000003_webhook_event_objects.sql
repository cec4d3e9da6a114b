-- What a provider event was about (a PaymentIntent's id today; subscriptions and invoices
-- next), so an operator can see every event an order's payments received.
ALTER TABLE webhook_events ADD COLUMN object_id TEXT;
CREATE INDEX webhook_events_object ON webhook_events(object_id);
