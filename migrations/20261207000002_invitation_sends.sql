-- Every invitation email sent, kept apart from the invitations (which deleting an
-- organization removes), so that deleting and re-creating organizations cannot reset
-- the sending limits. Rows older than two days are swept as invitations are sent.
CREATE TABLE invitation_sends (
    org_id  TEXT NOT NULL,
    email   TEXT NOT NULL,
    sent_at BIGINT NOT NULL
);
CREATE INDEX invitation_sends_email ON invitation_sends(email, sent_at);
CREATE INDEX invitation_sends_org ON invitation_sends(org_id, sent_at);
CREATE INDEX invitation_sends_at ON invitation_sends(sent_at);
