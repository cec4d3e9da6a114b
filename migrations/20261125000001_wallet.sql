-- Credits. A wallet belongs to an owner: today a user's personal workspace
-- (owner_kind 'user'); organizations get their own kind. Its balance changes only
-- together with an append-only ledger entry, in one transaction, so
-- balance = SUM(ledger_entries.amount) for every wallet (`keyward ledger verify`).
CREATE TABLE wallets (
    id         TEXT PRIMARY KEY,
    owner_kind TEXT NOT NULL,
    owner_id   TEXT NOT NULL,
    balance    BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    UNIQUE (owner_kind, owner_id)
);

-- kind: purchase, promo_grant, operator_grant, charge, refund, adjustment.
-- idempotency_key is unique across the ledger: a retried grant, charge, refund or
-- webhook finds its first entry instead of writing a second.
CREATE TABLE ledger_entries (
    id              TEXT PRIMARY KEY,
    wallet_id       TEXT NOT NULL REFERENCES wallets(id),
    amount          BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    reference       TEXT,
    description     TEXT NOT NULL,
    actor           TEXT NOT NULL,
    key_id          TEXT,
    metadata        TEXT,
    idempotency_key TEXT NOT NULL UNIQUE,
    created_at      BIGINT NOT NULL
);
CREATE INDEX ledger_entries_wallet ON ledger_entries(wallet_id, created_at);
CREATE INDEX ledger_entries_reference ON ledger_entries(reference);

-- Operators: users with the admin role (`keyward admin grant EMAIL`).
ALTER TABLE users ADD COLUMN is_admin BIGINT NOT NULL DEFAULT 0;
