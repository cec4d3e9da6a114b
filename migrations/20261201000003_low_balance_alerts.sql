-- Low-balance alerts. A wallet's owner chooses a threshold; low_balance_alerted is 1
-- while the balance is below it. The balance crossing it downward writes one row to
-- low_balance_alerts in the same transaction (an outbox), which a background task
-- turns into one email; crossing back up re-arms it.
ALTER TABLE wallets ADD COLUMN low_balance_threshold BIGINT;
ALTER TABLE wallets ADD COLUMN low_balance_alerted BIGINT NOT NULL DEFAULT 0;
CREATE TABLE low_balance_alerts (
    id         TEXT PRIMARY KEY,
    wallet_id  TEXT NOT NULL REFERENCES wallets(id),
    balance    BIGINT NOT NULL,
    threshold  BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at    BIGINT
);
CREATE INDEX low_balance_alerts_unsent ON low_balance_alerts(sent_at, created_at);
