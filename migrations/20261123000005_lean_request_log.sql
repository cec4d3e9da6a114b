-- The request log takes a row per API request, so each index costs on every one.
-- Rows are found by key (the page's recent requests) and pruned by key and age, so
-- one (key_id, at, seq) index serves both; the text primary key and the index on
-- `at` alone are dropped. `seq` orders requests of one key within a millisecond.
CREATE TABLE key_requests_lean (
    key_id      TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    at          BIGINT NOT NULL,
    seq         BIGINT NOT NULL,
    method      TEXT NOT NULL,
    path        TEXT NOT NULL,
    status      BIGINT NOT NULL,
    client_addr TEXT NOT NULL,
    user_agent  TEXT NOT NULL
);
INSERT INTO key_requests_lean (key_id, at, seq, method, path, status, client_addr, user_agent)
    SELECT key_id, at, 0, method, path, status, client_addr, user_agent FROM key_requests;
DROP TABLE key_requests;
ALTER TABLE key_requests_lean RENAME TO key_requests;
CREATE INDEX key_requests_key ON key_requests(key_id, at, seq);
