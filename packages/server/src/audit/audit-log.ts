// The audit trail's single writer (docs/architecture: "The audit trail is written in batches but never lost").
// Concurrent requests add their AuditEvents to one BatchWriter; each batch is appended in one transaction that takes
// the chain's advisory lock, reads the last link, hashes the batch's events in order and inserts them (resource rows,
// search index rows and chain links) with one statement. A caller's promise resolves only after its batch has
// committed, so a response that waits for it is never sent for an interaction the trail does not hold.
import type { Database, Queryable } from '../store/database.ts';
import type { IndexRows } from '../fhir/index-extract.ts';
import { BatchWriter, type BatchWriterStats } from '../store/batch-writer.ts';
import { buildAuditEvent, type AuditEventResource, type AuditRecord, type AuditSource } from './audit-event.ts';
import { auditIndexRows } from './audit-index.ts';
import { canonicalJson, chainHash, GENESIS_HASH } from './audit-chain.ts';

/** Serialises appends to the chain across connections and instances (arbitrary constant: "firekeeper audit chain"). */
export const AUDIT_CHAIN_LOCK = 7_250_932;

/** An event ready to be written: everything but its place in the chain, computed by the request that made it. */
export interface PreparedEvent {
  id: string;
  recorded: string;
  json: string;
  canonical: string;
  index: IndexRows;
}

export function prepareEvent(event: AuditEventResource): PreparedEvent {
  const canonical = canonicalJson(event);
  // The canonical text is also the stored text (it is JSON): one serialisation per event.
  return { id: event.id, recorded: event.recorded, json: canonical, canonical, index: auditIndexRows(event) };
}

export interface AuditLogOptions {
  source: AuditSource;
  /** Most events in one commit. Default 200. */
  maxItems?: number;
  /** How long the first event of a batch may wait for others, in ms. Default 0: a batch is whatever arrived while
   * the previous one was being committed (group commit), so a lone request never waits for company. */
  maxDelayMs?: number;
}

export class AuditLog {
  readonly #writer: BatchWriter<PreparedEvent, void>;
  readonly #source: AuditSource;

  constructor(db: Database, opts: AuditLogOptions) {
    this.#source = opts.source;
    this.#writer = new BatchWriter<PreparedEvent, void>({
      maxItems: opts.maxItems ?? 200,
      maxDelayMs: opts.maxDelayMs ?? 0,
      maxConcurrent: 1, // the chain is a total order: one batch at a time
      write: async (items) => {
        await appendAuditEvents(db, items);
        return items.map(() => undefined);
      },
    });
  }

  /** Builds the record's AuditEvent and resolves once it is committed; rejects if its batch could not be. */
  record(record: AuditRecord): Promise<void> {
    return this.append(buildAuditEvent(record, this.#source));
  }

  append(event: AuditEventResource): Promise<void> {
    let prepared: PreparedEvent;
    try {
      prepared = prepareEvent(event);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#writer.add(prepared);
  }

  get stats(): Readonly<BatchWriterStats> {
    return this.#writer.stats;
  }

  /** Writes what is waiting and refuses new events. */
  close(): Promise<void> {
    return this.#writer.close();
  }
}

/** Appends events to the chain, in order, in one transaction. */
export async function appendAuditEvents(db: Database, events: readonly PreparedEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_CHAIN_LOCK]);
    // A statement of its own, so that its snapshot is taken after the lock is granted (READ COMMITTED).
    const head = await lastLink(tx);
    let previous = head.hash;
    const seqs: string[] = [];
    const hashes: string[] = [];
    events.forEach((e, i) => {
      previous = chainHash(previous, e.canonical);
      seqs.push(String(BigInt(head.seq) + BigInt(i + 1)));
      hashes.push(previous);
    });
    const [{ n }] = await tx.query<{ n: number }>(INSERT_SQL, insertParams(events, seqs, hashes));
    if (n !== events.length) throw new Error(`audit append wrote ${n} of ${events.length} events`);
  });
}

async function lastLink(q: Queryable): Promise<{ seq: string; hash: string }> {
  const rows = await q.query<{ seq: string; hash: string }>('SELECT c.seq::text AS seq, c.hash FROM audit_chain c ORDER BY c.seq DESC LIMIT 1');
  return rows[0] ?? { seq: '0', hash: GENESIS_HASH };
}

function insertParams(events: readonly PreparedEvent[], seqs: string[], hashes: string[]): unknown[] {
  type Table = Exclude<keyof IndexRows, 'compartments'>;
  const flat = <K extends Table>(table: K) => events.flatMap((e) => (e.index[table] as IndexRows[K][number][]).map((row) => ({ eid: e.id, row })));
  const token = flat('token');
  const string = flat('string');
  const reference = flat('reference');
  const date = flat('date');
  const uri = flat('uri');
  return [
    events.map((e) => e.id), events.map((e) => e.recorded), events.map((e) => e.json), events.map((e) => JSON.stringify(e.index.compartments)),
    token.map((t) => t.eid), token.map((t) => t.row.p), token.map((t) => t.row.system), token.map((t) => t.row.code), token.map((t) => t.row.text),
    string.map((t) => t.eid), string.map((t) => t.row.p), string.map((t) => t.row.norm), string.map((t) => t.row.exact),
    reference.map((t) => t.eid), reference.map((t) => t.row.p), reference.map((t) => t.row.targetType), reference.map((t) => t.row.targetId), reference.map((t) => t.row.url),
    date.map((t) => t.eid), date.map((t) => t.row.p), date.map((t) => t.row.lo), date.map((t) => t.row.hi),
    uri.map((t) => t.eid), uri.map((t) => t.row.p), uri.map((t) => t.row.value),
    seqs, hashes,
  ];
}

// One statement per batch: the resource rows, their index rows (AuditEvents have no number or quantity parameters)
// and the chain links. `resources.last_updated` is the event's `recorded` time, which is also its meta.lastUpdated.
const INSERT_SQL = `
  WITH ins AS (
    INSERT INTO resources (type, id, version, last_updated, deleted, resource, compartments)
    SELECT 'AuditEvent', u.id, 1, u.lu::timestamptz, false, u.body::jsonb, ARRAY(SELECT jsonb_array_elements_text(u.comp::jsonb))
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(id, lu, body, comp)
    RETURNING rid, id),
  i_token AS (INSERT INTO sp_token (rid, p, system, code, text)
    SELECT ins.rid, u.p, u.s, u.c, u.t FROM unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) AS u(eid, p, s, c, t) JOIN ins ON ins.id = u.eid),
  i_string AS (INSERT INTO sp_string (rid, p, norm, exact)
    SELECT ins.rid, u.p, u.n, u.x FROM unnest($10::text[], $11::text[], $12::text[], $13::text[]) AS u(eid, p, n, x) JOIN ins ON ins.id = u.eid),
  i_reference AS (INSERT INTO sp_reference (rid, p, target_type, target_id, url)
    SELECT ins.rid, u.p, u.tt, u.ti, u.url FROM unnest($14::text[], $15::text[], $16::text[], $17::text[], $18::text[]) AS u(eid, p, tt, ti, url) JOIN ins ON ins.id = u.eid),
  i_date AS (INSERT INTO sp_date (rid, p, lo, hi)
    SELECT ins.rid, u.p, u.lo::timestamptz, u.hi::timestamptz FROM unnest($19::text[], $20::text[], $21::text[], $22::text[]) AS u(eid, p, lo, hi) JOIN ins ON ins.id = u.eid),
  i_uri AS (INSERT INTO sp_uri (rid, p, value)
    SELECT ins.rid, u.p, u.v FROM unnest($23::text[], $24::text[], $25::text[]) AS u(eid, p, v) JOIN ins ON ins.id = u.eid),
  chain AS (INSERT INTO audit_chain (seq, rid, event_id, hash)
    SELECT u.seq, ins.rid, u.eid, u.hash FROM unnest($26::bigint[], $1::text[], $27::text[]) AS u(seq, eid, hash) JOIN ins ON ins.id = u.eid)
  SELECT count(*)::int AS n FROM ins`;
