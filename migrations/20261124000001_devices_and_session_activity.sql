-- Sessions know when they were last used (idle timeout) and from where (the Security page).
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN client_addr TEXT NOT NULL DEFAULT '';
UPDATE sessions SET last_seen_at = created_at;

-- Browsers that signed in to an account (OWASP "device cookies"): failed sign-ins from
-- elsewhere never hold them back. Only the SHA-256 of the cookie's token is stored.
CREATE TABLE trusted_devices (
    token_digest TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX trusted_devices_user ON trusted_devices(user_id);
