CREATE TABLE api_keys (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    preview        TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    active         BIGINT NOT NULL DEFAULT 1,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT,
    -- Days a value lives when (re)generated; NULL for "never" or a fixed date.
    ttl_days       BIGINT,
    regenerated_at BIGINT,
    last_used_at   BIGINT,
    UNIQUE (user_id, name)
);
CREATE INDEX api_keys_user ON api_keys(user_id, created_at);

-- SHA-256 digests of key values. The current value has retires_at NULL; a value
-- replaced with a grace period keeps working until retires_at.
CREATE TABLE key_secrets (
    digest     TEXT PRIMARY KEY,
    key_id     TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    retires_at BIGINT
);
CREATE UNIQUE INDEX key_secrets_one_current ON key_secrets(key_id) WHERE retires_at IS NULL;
CREATE INDEX key_secrets_key ON key_secrets(key_id);

-- Lifecycle events outlive the key they describe, so no foreign key.
CREATE TABLE key_events (
    id          TEXT PRIMARY KEY,
    key_id      TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key_name    TEXT NOT NULL,
    event       TEXT NOT NULL,
    actor       TEXT NOT NULL,
    client_addr TEXT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX key_events_key ON key_events(key_id, at);
CREATE INDEX key_events_user ON key_events(user_id, at);
