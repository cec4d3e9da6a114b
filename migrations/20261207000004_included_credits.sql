-- Included credits: what a plan grants with each paid period, expiring at its end.
-- The wallet keeps how much of its balance is included (every spend takes those first);
-- each grant keeps a row until the sweep expires it, writing an `expiry` entry for what
-- was left of it.
ALTER TABLE wallets ADD COLUMN included BIGINT NOT NULL DEFAULT 0;
CREATE TABLE credit_grants (
    entry_id        TEXT PRIMARY KEY REFERENCES ledger_entries(id),
    wallet_id       TEXT NOT NULL REFERENCES wallets(id),
    amount          BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    expired_at      BIGINT,
    expired_amount  BIGINT,
    expiry_entry_id TEXT
);
CREATE INDEX credit_grants_due ON credit_grants(expires_at) WHERE expired_at IS NULL;
CREATE INDEX credit_grants_wallet ON credit_grants(wallet_id, expires_at);
