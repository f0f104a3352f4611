-- Access tokens are self-contained JWTs; a revoked one is listed here (by `jti`) until it would have expired.
-- Every instance polls this table, so a revocation reaches all of them within a second.
CREATE TABLE revoked_access_tokens (
  jti        text        PRIMARY KEY,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX revoked_access_tokens_revoked_at ON revoked_access_tokens (revoked_at);

-- A grant: a user's authorization of a client (born with an authorization code). Its refresh tokens form one
-- rotation family; revoking the grant revokes the family and the access tokens issued from it.
CREATE TABLE grants (
  id          text        PRIMARY KEY,
  client_id   text        NOT NULL REFERENCES clients ON DELETE CASCADE,
  user_id     text        NOT NULL,
  scope       text        NOT NULL,
  context     jsonb       NOT NULL,          -- launch context and claims carried into tokens
  session_id  text,                          -- online_access: bound to this login session
  created_at  timestamptz NOT NULL,
  revoked_at  timestamptz
);
CREATE INDEX grants_client_user ON grants (client_id, user_id);

CREATE TABLE grant_access_tokens (
  jti        text        PRIMARY KEY,
  grant_id   text        NOT NULL REFERENCES grants ON DELETE CASCADE,
  expires_at timestamptz NOT NULL
);
CREATE INDEX grant_access_tokens_grant ON grant_access_tokens (grant_id);

-- Authorization codes and refresh tokens are stored only as SHA-256 hashes.
CREATE TABLE authorization_codes (
  code_hash      text        PRIMARY KEY,
  grant_id       text        NOT NULL REFERENCES grants ON DELETE CASCADE,
  client_id      text        NOT NULL,
  redirect_uri   text        NOT NULL,
  code_challenge text        NOT NULL,
  nonce          text,
  expires_at     timestamptz NOT NULL,
  used_at        timestamptz
);

CREATE TABLE refresh_tokens (
  token_hash text        PRIMARY KEY,
  grant_id   text        NOT NULL REFERENCES grants ON DELETE CASCADE,
  scope      text        NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at    timestamptz                     -- rotated: presenting it again revokes the whole grant
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);
