-- Lab servers: a person's plan and hub name, their sessions, compute used per month,
-- and the lease that lets one Keyward process (of several on one Postgres) meter them.

CREATE TABLE lab_accounts (
    user_id               TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    -- The person's name on the hub, derived from the user id (never the email).
    hub_name              TEXT NOT NULL UNIQUE,
    -- free, standard or pro: the monthly compute-hour limit.
    plan                  TEXT NOT NULL DEFAULT 'free',
    -- Past the limit, each further CPU hour is charged to the wallet (1) or the server stops (0).
    continue_with_credits BIGINT NOT NULL DEFAULT 0,
    created_at            BIGINT NOT NULL
);

-- One row per time a server ran. An open session has no stopped_at; a person has at
-- most one.
CREATE TABLE lab_sessions (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    started_at    BIGINT NOT NULL,
    -- Running time up to here has been counted into cpu_ms and lab_usage.
    metered_until BIGINT NOT NULL,
    -- CPU-milliseconds: vCPUs x running time.
    cpu_ms        BIGINT NOT NULL DEFAULT 0,
    stopped_at    BIGINT,
    -- user, idle, limit, credits, operator, hub (stopped outside Keyward).
    stop_reason   TEXT,
    -- Set when Keyward asks the hub to stop the server, before the hub has.
    stop_requested TEXT,
    -- Whether the person has seen why it stopped (idle, limit, credits, operator).
    notice_seen   BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX lab_sessions_one_open ON lab_sessions (user_id) WHERE stopped_at IS NULL;
CREATE INDEX lab_sessions_by_user ON lab_sessions (user_id, started_at);

-- Compute used per person per calendar month (UTC, 'YYYY-MM'), and how much of what
-- went past the plan's limit has been paid for with credits.
CREATE TABLE lab_usage (
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    month       TEXT NOT NULL,
    cpu_ms      BIGINT NOT NULL DEFAULT 0,
    -- CPU hours bought with credits this month.
    paid_hours  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, month)
);

-- The metering task runs in whichever process holds this lease.
CREATE TABLE lab_runner_lease (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
