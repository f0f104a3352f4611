-- Functional-dependency statistics for the search index lookups (PostgreSQL extended statistics; used once ANALYZE
-- or autovacuum has run). Search statements are named prepared statements, so after a few executions PostgreSQL
-- may plan them generically, without the parameter values. Without these, it estimates `p = $1 AND code = $2` on
-- sp_token (e.g. Observation category = vital-signs: a large share of all Observations) and
-- `p = $1 AND target_id = $2 AND target_type = $3` on sp_reference (one patient's Observations) at one row each,
-- and may drive a patient's search from the category and filter thousands of rows by patient: measured 15× slower
-- (S@100 in docs/benchmarks.md, 2026-11-22). Knowing that a code all but determines its parameter, the estimates
-- become realistic (60 vs 3 rows on the 100-patient bench dataset) and the patient drives.
CREATE STATISTICS sp_token_dependencies (dependencies) ON p, code FROM sp_token;
CREATE STATISTICS sp_reference_dependencies (dependencies) ON p, target_id, target_type FROM sp_reference;
-- Build them now rather than at the next autovacuum (ANALYZE reads a fixed-size sample: quick on any database).
ANALYZE sp_token;
ANALYZE sp_reference;
