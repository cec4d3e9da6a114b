-- Promotion codes for subscriptions. `applies_to`: credits, subscriptions or both (codes
-- made before keep working for both); `plans`: the plan ids it is for, comma-separated
-- (NULL: every plan); `duration` (Stripe's coupon semantics): once, repeating (for
-- `duration_months`) or forever.
ALTER TABLE promo_codes ADD COLUMN applies_to TEXT NOT NULL DEFAULT 'both';
ALTER TABLE promo_codes ADD COLUMN plans TEXT;
ALTER TABLE promo_codes ADD COLUMN duration TEXT NOT NULL DEFAULT 'once';
ALTER TABLE promo_codes ADD COLUMN duration_months BIGINT;

-- A code applied to a subscription: reserved while the subscribe call is under way (the
-- code's count is taken then), active once the subscription exists, ended when its
-- periods are used. `periods`: how many of the subscription's invoices it discounts
-- (NULL: every one). Each discount is an invoice item of minus the discount left
-- pending at the provider for the next invoice (`pending_item`, of `pending_minor`).
CREATE TABLE subscription_discounts (
    id               TEXT PRIMARY KEY,
    promo_code_id    TEXT NOT NULL REFERENCES promo_codes(id),
    code             TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    owner_kind       TEXT NOT NULL,
    owner_id         TEXT NOT NULL,
    subscription_id  TEXT UNIQUE,
    percent_off      BIGINT,
    amount_off_minor BIGINT,
    periods          BIGINT,
    status           TEXT NOT NULL,
    pending_item     TEXT,
    pending_minor    BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL
);
CREATE INDEX subscription_discounts_code_user ON subscription_discounts(promo_code_id, user_id);
