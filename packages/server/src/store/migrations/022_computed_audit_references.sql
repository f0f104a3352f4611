-- An AuditEvent's references (agent, entity, patient) and its agents' and entities' identifiers (`:identifier`, the
-- app's client id) are computed from the stored event when a search needs them, as migration 014 did for its codes
-- and time, instead of being written as sp_reference and sp_token rows with every event; and what a search looks
-- them up by is kept on the event's own row, in its `compartments` array, whose GIN index finds the candidates.
--
-- Every audited request writes an AuditEvent, and these rows (three references and the app's identifier on a read)
-- were most of what was left of that write's cost: each was a heap tuple and two or three index entries. Appending
-- R's events with 5 writers at a time (tmp harness, 6 alternating rounds, 2026-12-06): 110 µs of PostgreSQL per
-- event with the rows, 79 without them, 82 with these keys in the GIN array instead; R itself read 20.8–22.3 buffers
-- per request instead of 38–39.5, and wrote 2.6–2.9 kB of WAL instead of 3.5–3.7 (docs/benchmarks.md).
--
-- The keys (fhir/search/audit-keys.ts writes the same ones; a key is the parameter, U+001F, then the value):
-- - `AuditEvent.agent␟Practitioner/7` for a reference with a type and id, relative or absolute,
-- - `AuditEvent.agent␟https://…` for an absolute reference, by its URL,
-- - `AuditEvent.agent␟urn:firekeeper:client-id|app` for an identifier (`|app` without a system).
-- `Type/id` (the Patient compartments the array otherwise holds) never contains U+001F, so a key cannot be mistaken
-- for a compartment. A key only narrows the candidates: every match is then checked against the computed rows.

-- A Reference.reference as fhir/index-extract.ts parseReference reads it: a relative `Type/id` (no url), an
-- absolute URL ending in `Type/id` (its type and id, and the url), or anything else (the url alone); no row for ''
-- and `#…` (contained). The type must be an R4 resource type (search-parameters.ts RESOURCE_TYPES).
CREATE FUNCTION fhir_reference_parts(ref text, OUT target_type text, OUT target_id text, OUT url text)
  RETURNS SETOF record
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN k.rel THEN k.r[1] WHEN k.abs THEN k.a[1] END,
         CASE WHEN k.rel THEN k.r[2] WHEN k.abs THEN k.a[2] END,
         CASE WHEN k.rel THEN NULL ELSE ref END
    -- OFFSET 0: each match is made once per reference, not once per use (the planner would inline them everywhere).
    -- The id's length is tested apart: a bounded repetition in a capture ({1,64}) made each match cost ~30 µs.
    FROM (SELECT m.r, m.a, coalesce(length(m.r[2]) <= 64 AND m.r[1] = ANY (t.types), false) AS rel,
                 coalesce(length(m.a[2]) <= 64 AND m.a[1] = ANY (t.types), false) AS abs
            FROM (SELECT regexp_match(ref, '^([A-Z][A-Za-z]+)/([A-Za-z0-9.-]+)(?:/_history/[^/]+)?$') AS r,
                         regexp_match(ref, '^https?://.+/([A-Z][A-Za-z]+)/([A-Za-z0-9.-]+)(?:/_history/[^/]+)?$') AS a OFFSET 0) AS m,
                 (SELECT ARRAY[
                      'Account', 'ActivityDefinition', 'AdverseEvent', 'AllergyIntolerance', 'Appointment', 'AppointmentResponse',
                      'AuditEvent', 'Basic', 'Binary', 'BiologicallyDerivedProduct', 'BodyStructure', 'Bundle', 'CapabilityStatement',
                      'CarePlan', 'CareTeam', 'CatalogEntry', 'ChargeItem', 'ChargeItemDefinition', 'Claim', 'ClaimResponse',
                      'ClinicalImpression', 'CodeSystem', 'Communication', 'CommunicationRequest', 'CompartmentDefinition',
                      'Composition', 'ConceptMap', 'Condition', 'Consent', 'Contract', 'Coverage', 'CoverageEligibilityRequest',
                      'CoverageEligibilityResponse', 'DetectedIssue', 'Device', 'DeviceDefinition', 'DeviceMetric', 'DeviceRequest',
                      'DeviceUseStatement', 'DiagnosticReport', 'DocumentManifest', 'DocumentReference', 'EffectEvidenceSynthesis',
                      'Encounter', 'Endpoint', 'EnrollmentRequest', 'EnrollmentResponse', 'EpisodeOfCare', 'EventDefinition',
                      'Evidence', 'EvidenceVariable', 'ExampleScenario', 'ExplanationOfBenefit', 'FamilyMemberHistory', 'Flag', 'Goal',
                      'GraphDefinition', 'Group', 'GuidanceResponse', 'HealthcareService', 'ImagingStudy', 'Immunization',
                      'ImmunizationEvaluation', 'ImmunizationRecommendation', 'ImplementationGuide', 'InsurancePlan', 'Invoice',
                      'Library', 'Linkage', 'List', 'Location', 'Measure', 'MeasureReport', 'Media', 'Medication',
                      'MedicationAdministration', 'MedicationDispense', 'MedicationKnowledge', 'MedicationRequest',
                      'MedicationStatement', 'MedicinalProduct', 'MedicinalProductAuthorization', 'MedicinalProductContraindication',
                      'MedicinalProductIndication', 'MedicinalProductIngredient', 'MedicinalProductInteraction',
                      'MedicinalProductManufactured', 'MedicinalProductPackaged', 'MedicinalProductPharmaceutical',
                      'MedicinalProductUndesirableEffect', 'MessageDefinition', 'MessageHeader', 'MolecularSequence', 'NamingSystem',
                      'NutritionOrder', 'Observation', 'ObservationDefinition', 'OperationDefinition', 'OperationOutcome',
                      'Organization', 'OrganizationAffiliation', 'Parameters', 'Patient', 'PaymentNotice', 'PaymentReconciliation',
                      'Person', 'PlanDefinition', 'Practitioner', 'PractitionerRole', 'Procedure', 'Provenance', 'Questionnaire',
                      'QuestionnaireResponse', 'RelatedPerson', 'RequestGroup', 'ResearchDefinition', 'ResearchElementDefinition',
                      'ResearchStudy', 'ResearchSubject', 'RiskAssessment', 'RiskEvidenceSynthesis', 'Schedule', 'SearchParameter',
                      'ServiceRequest', 'Slot', 'Specimen', 'SpecimenDefinition', 'StructureDefinition', 'StructureMap', 'Subscription',
                      'Substance', 'SubstanceNucleicAcid', 'SubstancePolymer', 'SubstanceProtein', 'SubstanceReferenceInformation',
                      'SubstanceSourceMaterial', 'SubstanceSpecification', 'SupplyDelivery', 'SupplyRequest', 'Task',
                      'TerminologyCapabilities', 'TestReport', 'TestScript', 'ValueSet', 'VerificationResult', 'VisionPrescription'
                    ]::text[] AS types) AS t
          OFFSET 0) AS k
   WHERE ref <> '' AND left(ref, 1) <> '#'
$$;

-- The agents' `who` and the entities' `what`, under their parameter's key.
CREATE FUNCTION audit_event_parties(doc jsonb, OUT p text, OUT party jsonb)
  RETURNS SETOF record
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT 'AuditEvent.agent', a->'who' FROM jsonb_array_elements(CASE WHEN jsonb_typeof(doc->'agent') = 'array' THEN doc->'agent' ELSE '[]' END) AS a
   WHERE jsonb_typeof(a->'who') = 'object'
  UNION ALL
  SELECT 'AuditEvent.entity', e->'what' FROM jsonb_array_elements(CASE WHEN jsonb_typeof(doc->'entity') = 'array' THEN doc->'entity' ELSE '[]' END) AS e
   WHERE jsonb_typeof(e->'what') = 'object'
$$;

-- agent, entity (Reference) and patient (the agents and entities that are Patients), as sp_reference rows.
CREATE FUNCTION audit_event_references(rid bigint, doc jsonb)
  RETURNS TABLE (rid bigint, p text, target_type text, target_id text, url text)
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT DISTINCT rid, k.p, x.target_type, x.target_id, x.url
    FROM audit_event_parties(doc) AS w,
         LATERAL fhir_reference_parts(w.party->>'reference') AS x,
         LATERAL (SELECT w.p UNION ALL SELECT 'AuditEvent.patient' WHERE x.target_type = 'Patient') AS k(p)
   WHERE jsonb_typeof(w.party->'reference') = 'string'
$$;

-- Migration 014's tokens (the codes), and now the agents' and entities' identifiers (search-parameters.ts
-- indexesReferenceIdentifier: not the BALP X-Request-Id, which is the event's own id, nor one named by URL, which
-- is this server on every event).
ALTER FUNCTION audit_event_tokens(bigint, jsonb) RENAME TO audit_event_codes;
CREATE FUNCTION audit_event_tokens(rid bigint, doc jsonb)
  RETURNS TABLE (rid bigint, p text, system text, code text, text text)
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT * FROM audit_event_codes(rid, doc)
  UNION
  SELECT rid, w.p, nullif(w.party->'identifier'->>'system', ''), w.party->'identifier'->>'value', NULL
    FROM audit_event_parties(doc) AS w
   WHERE jsonb_typeof(w.party->'identifier'->'value') = 'string' AND w.party->'identifier'->>'value' <> ''
     AND coalesce(w.party->'identifier'->>'system', '') <> 'urn:ietf:rfc:3986'
     AND NOT coalesce(w.party->'identifier'->'type'->'coding' @> '[{"system": "https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType", "code": "XrequestId"}]', false)
$$;

-- The keys of an event (fhir/search/audit-keys.ts auditSearchKeys computes the same ones from the same rows). Its
-- absolute references under its own server's FHIR base (its source observer's base URL, and /fhir) are local.
CREATE FUNCTION audit_event_keys(doc jsonb) RETURNS text[]
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT ARRAY(
    SELECT s.p || chr(31) || s.target_type || '/' || s.target_id FROM audit_event_references(0, doc) AS s
     WHERE s.target_type IS NOT NULL
       AND (s.url IS NULL OR starts_with(s.url, (doc->'source'->'observer'->'identifier'->>'value') || '/fhir/'))
    UNION
    SELECT s.p || chr(31) || s.url FROM audit_event_references(0, doc) AS s WHERE s.url IS NOT NULL
    UNION
    SELECT t.p || chr(31) || coalesce(t.system, '') || '|' || t.code FROM audit_event_tokens(0, doc) AS t
     WHERE t.p IN ('AuditEvent.agent', 'AuditEvent.entity'))
$$;

-- The events already stored get their keys, and lose the rows no search reads any more.
UPDATE resources SET compartments = compartments || audit_event_keys(resource::jsonb) WHERE type = 'AuditEvent';
DELETE FROM sp_reference WHERE p IN ('AuditEvent.agent', 'AuditEvent.entity', 'AuditEvent.patient');
DELETE FROM sp_token WHERE p IN ('AuditEvent.agent', 'AuditEvent.entity');

-- One link per event is the audit log's own doing (audit-log.ts numbers a new row's rid), and `firekeeper audit
-- verify` finds an event without a link by an anti-join: the unique index was an entry more on every event (about
-- 8 µs of PostgreSQL per event in the same harness).
ALTER TABLE audit_chain DROP CONSTRAINT audit_chain_rid_key;
