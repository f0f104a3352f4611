-- Resources are stored as `json` (their text, exactly as written) instead of `jsonb`.
--
-- No statement looks inside a stored resource except the AuditEvent codes and date computed when searched (migration
-- 014), which convert it to jsonb once per row (fhir/search/where.ts indexSource). Every read sends the stored text:
-- from jsonb, PostgreSQL had to serialise the binary form back to text for every row served, about 4.7 µs for a
-- 0.9 kB Observation, about 100 µs of each 20-row search page (docs/benchmarks.md, 2026-12-06, 08:45–11:00 UTC);
-- from json the text is already there. Writes validate the JSON instead of converting it, and rows are smaller (an Observation's
-- text is 12% smaller than its jsonb, more when written compactly by the server), so more of them fit in memory.
--
-- Rows written before keep the text jsonb gave them (keys reordered, a space after each `:` and `,`); new ones keep
-- the server's own serialisation.
ALTER TABLE resources ALTER COLUMN resource TYPE json USING resource::json;
ALTER TABLE resource_versions ALTER COLUMN resource TYPE json USING resource::json;
