-- Per-key spending limit: credits a key may charge per calendar month (UTC), NULL for
-- none. key_spending counts what each key charged per month (YYYYMM), written in the
-- same transaction as the charges, so the limit holds however charges are grouped.
ALTER TABLE api_keys ADD COLUMN monthly_spend_limit BIGINT;
CREATE TABLE key_spending (
    key_id TEXT NOT NULL,
    month  BIGINT NOT NULL,
    spent  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, month)
);
