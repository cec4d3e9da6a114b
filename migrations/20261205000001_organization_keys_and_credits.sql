-- Organization keys, the organization's orders, allocations and credit requests.

-- A key with an org_id belongs to that organization; user_id is then the person who
-- created it (keys outlive their creator's membership).
ALTER TABLE api_keys ADD COLUMN org_id TEXT REFERENCES organizations(id) ON DELETE CASCADE;
CREATE INDEX api_keys_org ON api_keys(org_id, created_at);
CREATE UNIQUE INDEX api_keys_org_name ON api_keys(org_id, name) WHERE org_id IS NOT NULL;

-- An order with an org_id buys credits for that organization's wallet; user_id is
-- the Owner or Admin who placed it. No foreign key: an order is a financial record
-- and outlives the organization (whose wallet it paid into).
ALTER TABLE orders ADD COLUMN org_id TEXT;

-- Credits given by an organization to a member, kept per member so that removal can
-- return what is left of them (never credits the member bought or already spent).
CREATE TABLE org_allocations (
    org_id       TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- Allocated and not yet returned; spending counts against it first.
    outstanding  BIGINT NOT NULL DEFAULT 0,
    total        BIGINT NOT NULL DEFAULT 0,
    -- When outstanding last went from zero to positive: spending since counts.
    since        BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);

-- A member asks the organization for credits; an Admin approves (allocates) or declines.
CREATE TABLE org_credit_requests (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    credits     BIGINT NOT NULL,
    note        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    -- approved or declined, once; NULL while pending.
    outcome     TEXT,
    decided_by  TEXT,
    decided_at  BIGINT,
    -- Until the member dismisses the answer on their dashboard.
    seen        BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX org_credit_requests_by_org ON org_credit_requests(org_id, created_at);
CREATE INDEX org_credit_requests_by_user ON org_credit_requests(user_id, created_at);
