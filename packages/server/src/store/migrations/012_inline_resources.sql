-- Keep resources of up to about 4 kB inline and uncompressed (the default compresses any row over about 2 kB).
-- Every audited request writes a 2.5–3 kB AuditEvent, and compressing it cost about 40 µs of PostgreSQL CPU per
-- event, 15% of the event's whole cost (docs/benchmarks.md, 2026-11-22, 23:00 UTC); reads of such resources no longer
-- decompress them either. Larger resources are still compressed and moved out of line as before.
ALTER TABLE resources SET (toast_tuple_target = 4080);
