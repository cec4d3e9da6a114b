-- Card payments. Each attempt to pay an order is one payment at the provider (a Stripe
-- PaymentIntent); the order keeps the latest in payment_intent_id, and every attempt is
-- kept here so that a late confirmation of an earlier one still finds its order.
ALTER TABLE orders ADD COLUMN payment_attempts BIGINT NOT NULL DEFAULT 0;
CREATE TABLE order_payments (
    payment_id   TEXT PRIMARY KEY,
    order_id     TEXT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    amount_minor BIGINT NOT NULL,
    currency     TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX order_payments_order ON order_payments(order_id);

-- Provider events already handled, written in the same transaction as their effect:
-- a redelivered event finds its row and changes nothing.
CREATE TABLE webhook_events (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
