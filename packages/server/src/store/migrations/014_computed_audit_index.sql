-- AuditEvent search parameters whose index rows are computed from the stored event when a search needs them,
-- instead of being written with every event: `action`, `outcome`, `type`, `subtype` (tokens) and `date`.
--
-- Every audited request writes an AuditEvent, and its index rows were most of that write's cost: with these five
-- stored, R (a patient's read, audited) made 1,317 reads/s with 0.544 ms of PostgreSQL per read; computed, 1,940 with
-- 0.357 ms (docs/benchmarks.md, 2026-12-05 15:00 UTC). These five are low-cardinality filters (a handful of codes) and
-- the event time, which investigations combine with the parameters that stay stored and indexed (patient, agent,
-- entity, and the app's identifier); `fhir/search/where.ts` reads the functions below in place of sp_token and sp_date
-- for exactly these keys (`COMPUTED_INDEX_KEYS` in fhir/search-parameters.ts), with the same columns, so every
-- token and date rule (system|code, :not, :missing, :text, prefixes, _sort) applies unchanged.
--
-- Each function yields the rows fhir/index-extract.ts would store for the event: audit-index.test.ts checks that for
-- every kind of event the audit builder makes. Both are inlined into the search statement by the planner.

-- action, outcome (code); type (Coding); subtype (Coding[]). `text` is the display, normalised like index-extract.ts
-- normalizeString: decomposed, combining diacritics removed, lower case, white space collapsed (the builder's displays
-- are plain English).
CREATE FUNCTION audit_event_tokens(rid bigint, doc jsonb)
  RETURNS TABLE (rid bigint, p text, system text, code text, text text)
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT rid, 'AuditEvent.' || t.param, nullif(t.c->>'system', ''), nullif(t.c->>'code', ''),
         nullif(btrim(regexp_replace(lower(regexp_replace(normalize(t.c->>'display', NFD), '[\u0300-\u036f]', '', 'g')), '\s+', ' ', 'g')), '')
    FROM (
      SELECT 'action' AS param, jsonb_build_object('code', doc->'action') AS c WHERE jsonb_typeof(doc->'action') = 'string'
      UNION ALL
      SELECT 'outcome', jsonb_build_object('code', doc->'outcome') WHERE jsonb_typeof(doc->'outcome') = 'string'
      UNION ALL
      SELECT 'type', doc->'type' WHERE jsonb_typeof(doc->'type') = 'object'
      UNION ALL
      SELECT 'subtype', s FROM jsonb_array_elements(CASE WHEN jsonb_typeof(doc->'subtype') = 'array' THEN doc->'subtype' ELSE '[]' END) AS s
    ) AS t
   WHERE coalesce(t.c->>'code', '') <> '' OR coalesce(t.c->>'system', '') <> ''
$$;

-- `recorded` (an instant) as the half-open range index-extract.ts dateRange gives it: [t, t + its precision).
CREATE FUNCTION audit_event_dates(rid bigint, doc jsonb)
  RETURNS TABLE (rid bigint, p text, lo timestamptz, hi timestamptz)
  LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT rid, 'AuditEvent.date', x.t,
         x.t + CASE WHEN x.frac IS NULL THEN interval '1 second' ELSE interval '1 millisecond' * 10 ^ greatest(0, 3 - length(x.frac)) END
    FROM (SELECT (doc->>'recorded')::timestamptz AS t, substring(doc->>'recorded' from '\.(\d+)') AS frac) AS x
   WHERE x.t IS NOT NULL
$$;

-- The rows earlier versions stored for these keys: no longer read.
DELETE FROM sp_token WHERE p IN ('AuditEvent.action', 'AuditEvent.outcome', 'AuditEvent.type', 'AuditEvent.subtype');
DELETE FROM sp_date WHERE p = 'AuditEvent.date';
