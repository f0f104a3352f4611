-- RFC 7591 §3 initial access tokens, issued through the admin API. Only the SHA-256 hash of a token is stored.
-- A token registers one client: `used_at` and `client_id` are set in the transaction that creates it.
CREATE TABLE initial_access_tokens (
  token_hash  text        PRIMARY KEY,     -- base64url SHA-256 of the token
  description text,
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  client_id   text        REFERENCES clients ON DELETE SET NULL
);
CREATE INDEX initial_access_tokens_expiry ON initial_access_tokens (expires_at);
