-- sp_reference_lookup (p, target_id, target_type) also carries `rid` and `url`, so a reference condition is answered
-- from the index alone (an index-only scan) instead of visiting one sp_reference heap row per match.
--
-- A patient's search (`Observation?patient=X…`, and every compartment, `_has`, chaining and `_revinclude` lookup by
-- target) reads the rids of the rows that point at X. Each match's heap row was read only to get its rid and check its
-- `url`; for a patient with 60 Observations that is 7–10 heap pages per search, and the table (30 MB in the
-- 1,000-patient bench dataset) competed with the resources themselves for shared buffers: under S, 4 of the 18 pages
-- each search had to read from outside shared buffers were sp_reference's (docs/benchmarks.md, 2026-12-06,
-- 08:45–11:00 UTC).
CREATE INDEX sp_reference_lookup_covering ON sp_reference (p, target_id, target_type) INCLUDE (rid, url);
DROP INDEX sp_reference_lookup;
ALTER INDEX sp_reference_lookup_covering RENAME TO sp_reference_lookup;
