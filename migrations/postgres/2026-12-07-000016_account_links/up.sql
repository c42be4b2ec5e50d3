-- One-time links with which a person whose account an administrator made chooses their own
-- password: the administrator never knows it. Only a SHA-256 digest of the token is stored,
-- as for setup links and sessions. A link is spent (used_at) when the password is set, or when
-- the administrator makes a newer one.
CREATE TABLE account_links (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX account_links_user_id ON account_links (user_id);
