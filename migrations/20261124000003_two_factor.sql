-- Two-factor sign-in with TOTP. The secret must be kept to compute codes (base32);
-- a pending one waits for its first code during set-up. `totp_last_step` makes each
-- code work once. Recovery codes are stored as SHA-256 digests and used once each.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending_secret TEXT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;

CREATE TABLE recovery_codes (
    code_digest TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    used_at     BIGINT
);
CREATE INDEX recovery_codes_user ON recovery_codes(user_id);
