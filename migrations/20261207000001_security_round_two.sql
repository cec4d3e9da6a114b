-- A "once per person" code is consumed at most once per person, by construction: the
-- redemption carries the code's rule, and a partial unique index refuses a second
-- consumed row for the same code and person, whatever the isolation level.
ALTER TABLE promo_redemptions ADD COLUMN once_per_user INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX promo_redemptions_consumed_once
    ON promo_redemptions(promo_code_id, user_id) WHERE status = 'consumed' AND once_per_user = 1;
