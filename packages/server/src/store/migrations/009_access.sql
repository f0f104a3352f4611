-- Access control data computed at write time (issue 4).

-- Patient privacy preferences: the deny rules of each active patient-privacy Consent (access/consent-rules.ts),
-- replaced in the same statement as the Consent's index rows. The access filter refuses every row a rule matches.
CREATE TABLE consent_denials (
  rid           bigint      NOT NULL,  -- the Consent
  patient       text        NOT NULL,  -- 'Patient/123'
  client_id     text,                  -- NULL: every app
  resource_type text,                  -- NULL: every type
  label_system  text,
  label_code    text,                  -- NULL: any data, labelled or not
  lo            timestamptz NOT NULL,  -- in force during [lo, hi)
  hi            timestamptz NOT NULL
);
CREATE INDEX consent_denials_patient ON consent_denials (patient);
CREATE INDEX consent_denials_rid ON consent_denials (rid);
