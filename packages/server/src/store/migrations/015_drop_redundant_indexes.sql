-- Two indexes that every write maintained and no statement needs.
--
-- sp_reference_target (target_type, target_id): every statement that looks a reference up by its target also names
-- the parameter (`_has`, `_revinclude`, chaining, the access policies), and sp_reference_lookup (p, target_id,
-- target_type) serves all of them. Each stored reference paid for a second entry, and an audited request writes
-- three references (its AuditEvent's agent, entity and patient).
--
-- audit_chain_event_id_key (UNIQUE event_id): a link's event id is its AuditEvent's id, already unique through
-- resources (type, id); `firekeeper audit verify` reads links by their number and joins the event by rid.
--
-- Measured with R (docs/benchmarks.md, 2026-12-05 17:30–18:00 UTC): 2,486 and 2,780 reads/s with 0.235 and 0.198 ms
-- of PostgreSQL per read before; 2,782 and 3,044 with 0.208 and 0.171 ms after.
DROP INDEX sp_reference_target;
ALTER TABLE audit_chain DROP CONSTRAINT audit_chain_event_id_key;
