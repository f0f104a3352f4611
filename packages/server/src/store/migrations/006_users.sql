-- People who sign in: clinicians, patients and administrators. Passwords are stored only as scrypt hashes.
CREATE TABLE users (
  id            text        PRIMARY KEY,
  username      text        NOT NULL UNIQUE,   -- lower-cased
  password_hash text        NOT NULL,
  name          text        NOT NULL,
  email         text,
  role          text        NOT NULL CHECK (role IN ('clinician', 'patient', 'admin')),
  fhir_user     text,                          -- Practitioner/…, Patient/…, RelatedPerson/… (OpenID fhirUser)
  access_policy jsonb       NOT NULL,          -- what the user may see, whatever the scope (enforced by the access layer)
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL
);

-- Failed sign-ins per username (known or not, so the back-off reveals nothing about which accounts exist).
CREATE TABLE login_failures (
  username     text        PRIMARY KEY,
  failures     integer     NOT NULL,
  locked_until timestamptz
);

-- Browser sessions; the cookie holds a random id, the table only its SHA-256.
CREATE TABLE sessions (
  id_hash    text        PRIMARY KEY,
  user_id    text        NOT NULL REFERENCES users ON DELETE CASCADE,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  ended_at   timestamptz
);
CREATE INDEX sessions_user ON sessions (user_id);
