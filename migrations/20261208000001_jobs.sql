-- Jobs: work people's keys submit to the operator's job service, with credits held on
-- the owner's wallet while the job runs. Times are Unix milliseconds.

-- Credits held for jobs that have not ended. `balance` is what can be spent; a hold
-- moves credits from it to `held` through a `hold` ledger entry, and a `release` entry
-- moves them back, so balance = sum of entries still holds.
ALTER TABLE wallets ADD COLUMN held BIGINT NOT NULL DEFAULT 0;

-- One row per job. `held`: the credits still held for it (0 once it has ended);
-- `held_included`: how much of the hold came from included credits (given back to
-- them on release); `owed`: a final cost beyond the hold that the wallet could not
-- cover. The key's name is kept as it was at submission, so a deleted key still names
-- its jobs. `hold_month`: the month (YYYYMM) whose key spending counted the hold, when
-- the key had a monthly limit at submission (NULL otherwise): settling undoes exactly
-- that. Idempotency keys are the job service's, per owner.
CREATE TABLE jobs (
    id                  TEXT PRIMARY KEY,
    owner_kind          TEXT NOT NULL,
    owner_id            TEXT NOT NULL,
    key_id              TEXT NOT NULL,
    key_name            TEXT NOT NULL,
    name                TEXT NOT NULL,
    device              TEXT NOT NULL,
    shots               BIGINT,
    status              TEXT NOT NULL,
    status_message      TEXT,
    queue_position      BIGINT,
    estimated_cost      BIGINT NOT NULL,
    held                BIGINT NOT NULL,
    held_included       BIGINT NOT NULL DEFAULT 0,
    final_cost          BIGINT,
    charged             BIGINT NOT NULL DEFAULT 0,
    owed                BIGINT NOT NULL DEFAULT 0,
    metadata            TEXT,
    hold_month          BIGINT,
    idempotency_key     TEXT NOT NULL,
    submitted_at        BIGINT NOT NULL,
    started_at          BIGINT,
    ended_at            BIGINT,
    updated_at          BIGINT NOT NULL
);
CREATE UNIQUE INDEX jobs_idempotency ON jobs(owner_kind, owner_id, idempotency_key);
CREATE INDEX jobs_owner ON jobs(owner_kind, owner_id, submitted_at);
CREATE INDEX jobs_holding ON jobs(updated_at) WHERE held > 0;

-- A job's timeline: each status it took, when, and with what message.
CREATE TABLE job_events (
    id         TEXT PRIMARY KEY,
    job_id     TEXT NOT NULL,
    status     TEXT NOT NULL,
    message    TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX job_events_job ON job_events(job_id, created_at);

-- Outbound webhooks to the operator's services: endpoints with their signing secret
-- (kept, not a digest: it signs every delivery), and the outbox of deliveries, written
-- in the transaction of the event it carries so none is lost across a restart.
CREATE TABLE webhook_endpoints (
    id          TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    events      TEXT NOT NULL,
    secret      TEXT NOT NULL,
    active      BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    endpoint_id     TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_status     BIGINT,
    last_error      TEXT,
    claimed_until   BIGINT,
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_recent ON webhook_deliveries(created_at);

-- Low-balance alerts are an outbox already (written with the charge that crossed the
-- threshold); `webhook_queued_at` says the alert's `credits.low_balance` webhook was
-- queued. Alerts from before webhooks existed count as queued.
ALTER TABLE low_balance_alerts ADD COLUMN webhook_queued_at BIGINT;
UPDATE low_balance_alerts SET webhook_queued_at = created_at;
