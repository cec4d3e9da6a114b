-- Subscriptions on Stripe Billing. Who pays (a person or an organization) is an owner
-- (kind, id), as for wallets. Times are Unix milliseconds.

-- The provider's customer for an owner, and the card it keeps for renewals (what the
-- page shows; the card itself stays with the provider). `claimed_at`: a subscribe call
-- to the provider is under way for this owner (one at a time).
CREATE TABLE billing_customers (
    owner_kind     TEXT NOT NULL,
    owner_id       TEXT NOT NULL,
    customer_id    TEXT NOT NULL UNIQUE,
    card_brand     TEXT,
    card_last4     TEXT,
    card_exp_month BIGINT,
    card_exp_year  BIGINT,
    claimed_at     BIGINT,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (owner_kind, owner_id)
);

-- A subscription as the provider last said (by an answer or a webhook). At most one
-- live (not ended) subscription per owner.
CREATE TABLE subscriptions (
    id                   TEXT PRIMARY KEY,
    owner_kind           TEXT NOT NULL,
    owner_id             TEXT NOT NULL,
    customer_id          TEXT NOT NULL,
    plan                 TEXT NOT NULL,
    billing_interval     TEXT NOT NULL,
    status               TEXT NOT NULL,
    current_period_start BIGINT NOT NULL,
    current_period_end   BIGINT NOT NULL,
    cancel_at_period_end BIGINT NOT NULL DEFAULT 0,
    cancel_reason        TEXT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    ended_at             BIGINT
);
CREATE UNIQUE INDEX subscriptions_live ON subscriptions(owner_kind, owner_id) WHERE ended_at IS NULL;
CREATE INDEX subscriptions_owner ON subscriptions(owner_kind, owner_id, created_at);

-- Invoices of subscriptions, as the provider said; `credits_granted`: the included
-- credits its payment granted (once per invoice: the ledger entry's idempotency key is
-- the invoice id).
CREATE TABLE subscription_invoices (
    id              TEXT PRIMARY KEY,
    subscription_id TEXT NOT NULL,
    owner_kind      TEXT NOT NULL,
    owner_id        TEXT NOT NULL,
    number          TEXT NOT NULL,
    status          TEXT NOT NULL,
    total_minor     BIGINT NOT NULL,
    currency        TEXT NOT NULL,
    period_start    BIGINT NOT NULL,
    period_end      BIGINT NOT NULL,
    lines           TEXT NOT NULL,
    credits_granted BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX subscription_invoices_owner ON subscription_invoices(owner_kind, owner_id, created_at);
