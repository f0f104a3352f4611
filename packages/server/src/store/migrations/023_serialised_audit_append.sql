-- The audit chain appended by the database, one batch at a time across every instance (docs/architecture: "let the
-- database give it: a sequence and a serialised append").
--
-- Before, each instance numbered and hashed its next batch from the last link it had committed itself, and a batch
-- whose numbers another instance had taken failed on `audit_chain`'s primary key and was renumbered. With one
-- instance that never happened; with two under load it happened to nearly every batch, each failure after waiting
-- for the other's commit: two instances served 357–558 searches a second between them where one served about 1,600,
-- and now and then a batch ran out of tries and its requests failed (docs/benchmarks.md, 2026-12-07).
--
-- Now one call appends a batch in one round trip: it takes the chain's lock (held until its transaction ends, so
-- the next appender reads the head this one leaves), reads the head, hashes each event from it in order and inserts
-- the events and their links. Each link: hash = hex(sha256(previous hash || the event's canonical JSON text)), as
-- audit/audit-chain.ts chainHash computes it when `firekeeper audit verify` checks the chain.
--
-- events: the events' canonical JSON, as one JSON array in chain order (each element's text is what is stored and
-- hashed); meta: [id, recorded, compartments] of each, as one JSON array. Returns how many events were appended.
-- An event's `resources.last_updated` is its `recorded` time, which is also its meta.lastUpdated.
--
-- The function plans the read of the head once per connection and keeps the plan; planned while the chain was
-- short (a new database, or the benchmark's cleared one) it was a scan of the whole table and a sort, on every batch
-- for as long as the connection lived. Sequential scans are off for its statements, so that read is always the
-- primary key's index walked backwards, whatever the table's size was when it was planned.
CREATE FUNCTION audit_append(events text, meta text) RETURNS integer
  LANGUAGE plpgsql
  SET enable_seqscan = off
AS $$
DECLARE
  head_seq bigint;
  head_hash text;
  docs json[];
  event_doc json;
  hashes text[] := '{}';
  appended integer;
BEGIN
  -- 7250933: "firekeeper audit chain" (the migrations and the signing keys use 7250931 and 7250932).
  PERFORM pg_advisory_xact_lock(7250933);
  -- A statement of its own, so that its snapshot is taken once the lock is held.
  SELECT c.seq, c.hash INTO head_seq, head_hash FROM audit_chain c ORDER BY c.seq DESC LIMIT 1;
  IF NOT FOUND THEN
    head_seq := 0;
    head_hash := repeat('0', 64);
  END IF;
  SELECT array_agg(e.doc ORDER BY e.n) INTO docs FROM json_array_elements(events::json) WITH ORDINALITY AS e(doc, n);
  FOREACH event_doc IN ARRAY docs LOOP
    head_hash := encode(sha256(convert_to(head_hash || event_doc::text, 'UTF8')), 'hex');
    hashes := hashes || head_hash;
  END LOOP;
  WITH ev AS (
    SELECT d.n::int AS n, d.doc, d.hash, m.x->>0 AS id, m.x->>1 AS recorded, m.x->2 AS compartments
      FROM unnest(docs, hashes) WITH ORDINALITY AS d(doc, hash, n)
      JOIN json_array_elements(meta::json) WITH ORDINALITY AS m(x, n) USING (n)),
  ins AS (
    INSERT INTO resources (type, id, version, last_updated, deleted, resource, compartments)
    SELECT 'AuditEvent', ev.id, 1, ev.recorded::timestamptz, false, ev.doc, ARRAY(SELECT json_array_elements_text(ev.compartments))
      FROM ev
    RETURNING rid, id),
  chain AS (INSERT INTO audit_chain (seq, rid, event_id, hash)
    SELECT head_seq + ev.n, ins.rid, ev.id, ev.hash FROM ev JOIN ins ON ins.id = ev.id)
  SELECT count(*)::int INTO appended FROM ins;
  RETURN appended;
END
$$;
