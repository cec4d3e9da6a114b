-- Promo codes. `code` is stored upper-case: codes are case-insensitive.
-- Exactly one of percent_off (1-100) and amount_off_minor (money, minor units) is set.
-- `redeemed` counts reservations and completed redemptions together, so that one
-- conditional UPDATE decides who gets the last one.
CREATE TABLE promo_codes (
    id                  TEXT PRIMARY KEY,
    code                TEXT NOT NULL UNIQUE,
    percent_off         BIGINT,
    amount_off_minor    BIGINT,
    expires_at          BIGINT,
    max_redemptions     BIGINT,
    redeemed            BIGINT NOT NULL DEFAULT 0,
    once_per_user       BIGINT NOT NULL DEFAULT 1,
    min_purchase_minor  BIGINT,
    first_purchase_only BIGINT NOT NULL DEFAULT 0,
    active              BIGINT NOT NULL DEFAULT 1,
    note                TEXT,
    created_by          TEXT NOT NULL,
    created_at          BIGINT NOT NULL
);

-- An order for credits. status: open, processing (card payment under way), paid,
-- failed (the card was declined; the reason is kept), canceled.
CREATE TABLE orders (
    id                TEXT PRIMARY KEY,
    user_id           TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    credits           BIGINT NOT NULL,
    subtotal_minor    BIGINT NOT NULL,
    discount_minor    BIGINT NOT NULL DEFAULT 0,
    total_minor       BIGINT NOT NULL,
    currency          TEXT NOT NULL,
    promo_code_id     TEXT REFERENCES promo_codes(id),
    status            TEXT NOT NULL,
    failure_reason    TEXT,
    payment_intent_id TEXT UNIQUE,
    created_at        BIGINT NOT NULL,
    paid_at           BIGINT
);
CREATE INDEX orders_user ON orders(user_id, created_at);

-- A code applied to an order: reserved until the order is paid (then consumed) or
-- abandoned for 30 minutes (then released, and `redeemed` goes back down).
CREATE TABLE promo_redemptions (
    promo_code_id TEXT NOT NULL REFERENCES promo_codes(id),
    order_id      TEXT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL,
    status        TEXT NOT NULL,
    reserved_at   BIGINT NOT NULL,
    PRIMARY KEY (order_id)
);
CREATE INDEX promo_redemptions_code_user ON promo_redemptions(promo_code_id, user_id);
CREATE INDEX promo_redemptions_reserved ON promo_redemptions(status, reserved_at);
