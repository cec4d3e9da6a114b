-- Changing plan. An upgrade takes effect at once and bills the prorated difference on
-- an invoice of its own; a downgrade moves the provider's price at once (so the renewal
-- bills the new one) but keeps the plan paid for until the period ends: `prior_price`
-- is the price whose plan the owner keeps until `prior_until` (Unix ms).
ALTER TABLE subscriptions ADD COLUMN prior_price TEXT;
ALTER TABLE subscriptions ADD COLUMN prior_until BIGINT;

-- Each change asked for, as quoted to the person: the amount charged now and the
-- included credits the change's invoice grants (looked up by `invoice_id` when it is
-- paid, in place of a full period's).
CREATE TABLE subscription_changes (
    id              TEXT PRIMARY KEY,
    subscription_id TEXT NOT NULL,
    from_price      TEXT NOT NULL,
    to_price        TEXT NOT NULL,
    kind            TEXT NOT NULL,
    amount_minor    BIGINT NOT NULL,
    credits         BIGINT NOT NULL,
    invoice_id      TEXT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX subscription_changes_subscription ON subscription_changes(subscription_id, created_at);
CREATE UNIQUE INDEX subscription_changes_invoice ON subscription_changes(invoice_id);
