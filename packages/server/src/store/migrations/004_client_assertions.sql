-- jti values of accepted client assertions, kept until the assertion expires (RFC 7523 §3: replay protection).
CREATE TABLE client_assertion_jtis (
  client_id  text        NOT NULL,
  jti        text        NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (client_id, jti)
);
CREATE INDEX client_assertion_jtis_expiry ON client_assertion_jtis (expires_at);
