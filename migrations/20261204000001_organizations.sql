-- Organizations: shared workspaces with members, roles and invitations. Each has its
-- own wallet (wallets.owner_kind = 'org').

CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    -- Lowercase letters, digits and '-'; in URLs (/org/{slug}/...).
    slug       TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- owner (exactly one per organization), admin or member.
CREATE TABLE org_members (
    org_id         TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role           TEXT NOT NULL,
    joined_at      BIGINT NOT NULL,
    last_active_at BIGINT,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX org_members_by_user ON org_members (user_id);
CREATE UNIQUE INDEX org_members_one_owner ON org_members (org_id) WHERE role = 'owner';

-- Only the SHA-256 of an invitation's token is stored; the token is in the emailed link.
CREATE TABLE org_invitations (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    role         TEXT NOT NULL,
    token_digest TEXT NOT NULL UNIQUE,
    invited_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    -- accepted, declined or revoked, once; NULL while pending.
    outcome      TEXT,
    decided_at   BIGINT
);
CREATE INDEX org_invitations_by_email ON org_invitations (email);
CREATE INDEX org_invitations_by_org ON org_invitations (org_id);
