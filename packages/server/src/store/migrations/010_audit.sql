-- The audit trail's hash chain. AuditEvents themselves are ordinary rows of `resources` (with their search index
-- rows, so AuditEvent searches and the Patient compartment work), but not of `resource_versions`: they are written
-- once and never change. Each link: hash = sha256(previous hash || RFC 8785 canonical JSON of the event), in `seq`
-- order; `seq` being the primary key, two instances can never both append the same link (audit/audit-log.ts).
CREATE TABLE audit_chain (
  seq      bigint PRIMARY KEY,           -- 1, 2, 3, … assigned under the lock: the chain's order
  rid      bigint NOT NULL UNIQUE,       -- resources.rid of the AuditEvent
  event_id text   NOT NULL UNIQUE,       -- its id, to name a link whose record is missing
  hash     text   NOT NULL               -- hex sha256
);
