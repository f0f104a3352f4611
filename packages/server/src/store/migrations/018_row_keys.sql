-- Row keys: copies, on each resource's own row, of the search keys a search checks for every candidate row once
-- another condition has found the candidates (fhir/search/row-keys.ts).
--
-- A patient's chart search (`Observation?patient=…&category=vital-signs&_sort=-date`) finds the patient's
-- Observations through sp_reference, then, for each of them, looked its category up in sp_token and its date in
-- sp_date: two index descents per candidate on top of the row itself. Read from the row instead, the statement made
-- 282 buffer accesses instead of 583 and ran in about two thirds of the time (docs/benchmarks.md, 2026-12-06).
--
-- token_keys: for each stored token row with a code, `p␟code` and `p␟system␟code` (␟ = U+001F, which FHIR
--   strings cannot hold; an empty system for a coding without one), so that a token equality test is one array
--   overlap. Written with the index rows by store/repository.ts writeVersion, from the same values.
-- date_keys: for each date parameter, [earliest start, latest end] of its stored ranges, as `_sort` orders by them.
--
-- AuditEvents are written by the audit log (audit/audit-log.ts) without row keys: their searches use the index
-- tables (and the functions of migration 014) as before.
ALTER TABLE resources ADD COLUMN token_keys text[] NOT NULL DEFAULT '{}', ADD COLUMN date_keys jsonb;

UPDATE resources r SET
  token_keys = ARRAY(
    SELECT k FROM sp_token t, LATERAL (VALUES (t.p || chr(31) || t.code), (t.p || chr(31) || coalesce(t.system, '') || chr(31) || t.code)) AS v(k)
     WHERE t.rid = r.rid AND t.code IS NOT NULL),
  date_keys = (
    SELECT jsonb_object_agg(d.p, jsonb_build_array(d.lo, d.hi))
      FROM (SELECT p, min(lo) AS lo, max(hi) AS hi FROM sp_date WHERE sp_date.rid = r.rid GROUP BY p) AS d)
 WHERE r.type <> 'AuditEvent';
