-- Keyward as an OAuth 2.0 authorization server for the JupyterHub (Lab single sign-on).
-- Codes and access tokens are stored as SHA-256 digests only.
CREATE TABLE oauth_codes (
    digest         TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id      TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    scope          TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    -- Set by the one exchange that may use the code.
    used_at        BIGINT
);

CREATE TABLE oauth_tokens (
    digest      TEXT PRIMARY KEY,
    -- The code it was bought with: a second use of that code revokes it.
    code_digest TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id   TEXT NOT NULL,
    scope       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX oauth_tokens_by_code ON oauth_tokens (code_digest);
