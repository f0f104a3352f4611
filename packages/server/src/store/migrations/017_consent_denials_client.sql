-- The access filter first asks, once per statement, whether any privacy rule is in force for the requesting app
-- (fhir/search/access-filter.ts, consentRows): this index answers that from the app's own rules and the rules for
-- every app (client_id NULL), however many rules other apps have.
CREATE INDEX consent_denials_client ON consent_denials (client_id);
