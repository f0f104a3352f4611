-- An authorization request in progress (login, pickers, consent), carried across pages by its random id.
CREATE TABLE authorization_requests (
  id         text        PRIMARY KEY,
  client_id  text        NOT NULL REFERENCES clients ON DELETE CASCADE,
  params     jsonb       NOT NULL,             -- the validated request (redirect_uri, scope, state, PKCE, nonce, …)
  progress   jsonb       NOT NULL DEFAULT '{}',-- choices made so far (patient, encounter)
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);

-- A user's remembered approval of a client's scopes, until revoked.
CREATE TABLE approvals (
  user_id    text        NOT NULL REFERENCES users ON DELETE CASCADE,
  client_id  text        NOT NULL REFERENCES clients ON DELETE CASCADE,
  scope      text        NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (user_id, client_id)
);

-- EHR launch records: the context an app gets when launched with `launch=<id>`.
CREATE TABLE launches (
  id         text        PRIMARY KEY,
  client_id  text        NOT NULL REFERENCES clients ON DELETE CASCADE,
  user_id    text        REFERENCES users ON DELETE CASCADE,
  context    jsonb       NOT NULL,             -- patient, encounter, fhirContext, intent, UI hints, tenant
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
