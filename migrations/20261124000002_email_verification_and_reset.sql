-- Verified email addresses, and the single-use links that verify them or reset a password.
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;

-- Only the SHA-256 of a link's token is stored; `used_at` makes each link single-use.
CREATE TABLE email_tokens (
    token_digest TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose      TEXT NOT NULL,
    email        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT
);
CREATE INDEX email_tokens_user ON email_tokens(user_id);
