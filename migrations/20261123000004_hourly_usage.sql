-- Requests per key per UTC hour (hour = Unix hours), for "last 24 hours" without
-- depending on the (capped, pruned) request log. Pruned after two days.
CREATE TABLE key_usage_hourly (
    key_id   TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    hour     BIGINT NOT NULL,
    requests BIGINT NOT NULL,
    PRIMARY KEY (key_id, hour)
);
