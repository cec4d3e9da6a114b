-- Requests per key per UTC day (day = Unix days); kept for the key's lifetime.
CREATE TABLE key_usage_daily (
    key_id   TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    day      BIGINT NOT NULL,
    requests BIGINT NOT NULL,
    PRIMARY KEY (key_id, day)
);

-- The recent request log, pruned after KEYWARD_REQUEST_LOG_DAYS.
CREATE TABLE key_requests (
    id          TEXT PRIMARY KEY,
    key_id      TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    at          BIGINT NOT NULL,
    method      TEXT NOT NULL,
    path        TEXT NOT NULL,
    status      BIGINT NOT NULL,
    client_addr TEXT NOT NULL,
    user_agent  TEXT NOT NULL
);
CREATE INDEX key_requests_key ON key_requests(key_id, at);
CREATE INDEX key_requests_at ON key_requests(at);
