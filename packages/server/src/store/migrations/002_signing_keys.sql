-- The authorization server's signing keys (RS256 for id_tokens, ES256 for access tokens).
-- A key is `active` (signs) or `retiring` (still published for verification until `retire_at`).
CREATE TABLE signing_keys (
  kid         text        PRIMARY KEY,     -- RFC 7638 JWK thumbprint
  alg         text        NOT NULL,
  public_jwk  jsonb       NOT NULL,
  private_jwk jsonb       NOT NULL,
  status      text        NOT NULL CHECK (status IN ('active', 'retiring')),
  created_at  timestamptz NOT NULL,
  retire_at   timestamptz
);
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (alg) WHERE status = 'active';
