-- Registered SMART apps (OAuth clients). Secrets are stored only as scrypt hashes.
CREATE TABLE clients (
  client_id              text        PRIMARY KEY,
  name                   text        NOT NULL,
  type                   text        NOT NULL CHECK (type IN ('public', 'confidential-symmetric', 'confidential-asymmetric', 'backend-service')),
  auth_method            text        NOT NULL,
  secret_hash            text,
  jwks                   jsonb,
  jwks_uri               text,
  redirect_uris          text[]      NOT NULL DEFAULT '{}',
  launch_url             text,
  scopes                 text[]      NOT NULL DEFAULT '{}',
  grant_types            text[]      NOT NULL,
  access_token_lifetime  integer     NOT NULL,
  refresh_token_lifetime integer     NOT NULL,
  cors_origins           text[]      NOT NULL DEFAULT '{}',
  status                 text        NOT NULL CHECK (status IN ('pending', 'active', 'suspended')),
  created_at             timestamptz NOT NULL,
  updated_at             timestamptz NOT NULL
);
