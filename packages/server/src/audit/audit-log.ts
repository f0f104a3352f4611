// The audit trail's single writer (docs/architecture: "The audit trail is written in batches but never lost").
// Concurrent requests add their AuditEvents to one BatchWriter; each batch is appended by one INSERT statement (its
// own transaction: resource rows, search index rows and chain links) in one round trip. A caller's promise resolves
// only after its batch has committed, so a response that waits for it is never sent for an interaction the trail
// does not hold.
//
// The chain's order is enforced by the database, not by a lock: links are numbered 1, 2, 3, … and `audit_chain.seq`
// is its primary key. The log remembers the last link it committed and numbers and hashes the next batch from it;
// if another instance appended in between, the insert of an already taken number fails (unique violation, after
// waiting for that instance's transaction), and the batch is numbered and hashed again from the chain's real head.
import type { Database, Queryable } from '../store/database.ts';
import { isUniqueViolation } from '../store/database.ts';
import { BatchWriter, type BatchWriterStats } from '../store/batch-writer.ts';
import { buildAuditEvent, type AuditRecord, type AuditSource } from './audit-event.ts';
import { auditCompartments } from './audit-index.ts';
import { chainHash, GENESIS_HASH } from './audit-chain.ts';
import { jtiInsertCtes, jtiJson, recordJtis, type JtiItem } from '../auth/assertion-jtis.ts';

/** How many times a batch is renumbered after other instances took its links' numbers. */
const MAX_APPEND_ATTEMPTS = 20;

/** An event ready to be written: everything but its place in the chain, computed by the request that made it. */
export interface PreparedEvent {
  /** RFC 8785 canonical JSON: what the chain hashes, and also the text stored (one serialisation per event). */
  canonical: string;
  /** The event's id and `recorded` time, sent beside it so that the statement need not parse the event for them. */
  id: string;
  recorded: string;
  /** Its Patient compartments and search keys (audit-index.ts), for `resources.compartments`. */
  compartments: string[];
  /** A client assertion's jti, committed with the event or the event is not written (auth/assertion-jtis.ts). */
  jti?: JtiItem;
}

/** The event was not written because its jti was not recorded: used before, or its client changed. */
export class JtiNotRecorded extends Error {
  constructor(readonly outcome: 'replay' | 'changed') {
    super(`the client assertion jti was not recorded (${outcome})`);
    this.name = 'JtiNotRecorded';
  }
}

/** Per event of a batch: written (undefined), or not, because its jti was not recorded. */
type AppendResult = JtiNotRecorded['outcome'] | undefined;

/** The last link of the chain: its number and hash. */
interface ChainHead {
  seq: bigint;
  hash: string;
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
  readonly #writer: BatchWriter<PreparedEvent, AppendResult>;
  readonly #source: AuditSource;
  readonly #db: Database;
  /** The last link this log committed; undefined when it must be read (at start, after a failed batch). */
  #head: ChainHead | undefined;

  constructor(db: Database, opts: AuditLogOptions) {
    this.#db = db;
    this.#source = opts.source;
    this.#writer = new BatchWriter<PreparedEvent, AppendResult>({
      maxItems: opts.maxItems ?? 200,
      maxDelayMs: opts.maxDelayMs ?? 0,
      maxConcurrent: 1, // each batch is numbered and hashed from the one before
      write: (items) => this.#write(items),
    });
  }

  /**
   * One statement for the batch, jtis included. When one of its jtis is not recorded (rare: a replay, or a client
   * changed since its assertion was checked), that statement fails as a whole; then the jtis are recorded on their
   * own, each with its outcome, and the events that still hold are appended.
   */
  async #write(items: readonly PreparedEvent[]): Promise<AppendResult[]> {
    try {
      await this.#append(items);
      return items.map(() => undefined);
    } catch (err) {
      if ((err as { code?: unknown }).code !== JTI_GUARD_SQLSTATE) throw err;
    }
    const withJti = items.filter((e) => e.jti);
    const recorded = await recordJtis(this.#db, withJti.map((e) => e.jti!));
    const outcomes = new Map(withJti.map((e, i) => [e, recorded[i]]));
    const results = items.map((e): AppendResult => {
      const outcome = outcomes.get(e);
      return outcome === 'replay' || outcome === 'changed' ? outcome : undefined;
    });
    const kept = items.filter((_, i) => results[i] === undefined).map(({ jti: _recorded, ...e }) => e);
    if (kept.length > 0) await this.#append(kept);
    return results;
  }

  async #append(events: readonly PreparedEvent[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const head = this.#head ?? (await readChainHead(this.#db));
      this.#head = undefined;
      try {
        this.#head = await appendAuditEvents(this.#db, events, head);
        return;
      } catch (err) {
        if (!isUniqueViolation(err, 'audit_chain_pkey') || attempt === MAX_APPEND_ATTEMPTS) throw err;
      }
    }
  }

  /**
   * Builds the record's AuditEvent and resolves once it is committed; rejects if its batch could not be, and with
   * JtiNotRecorded when `jti` was not recorded (then the event is not written).
   */
  async record(record: AuditRecord, jti?: JtiItem): Promise<void> {
    const event = buildAuditEvent(record, this.#source);
    // The builder lists every key in canonical order (audit-chain.test.ts checks each kind of event), so the plain
    // serialisation is already the canonical one, without the sorted copy audit-chain.ts canonicalJson makes.
    const result = await this.#writer.add({
      canonical: JSON.stringify(event), id: event.id, recorded: event.recorded, compartments: auditCompartments(event), ...(jti ? { jti } : {}),
    });
    if (result !== undefined) throw new JtiNotRecorded(result);
  }

  get stats(): Readonly<BatchWriterStats> {
    return this.#writer.stats;
  }

  /** Writes what is waiting and refuses new events. */
  close(): Promise<void> {
    return this.#writer.close();
  }
}

/** The chain's last committed link (the genesis hash at number 0 for an empty chain). */
async function readChainHead(q: Queryable): Promise<ChainHead> {
  const [row] = await q.query<{ seq: string; hash: string }>('SELECT c.seq::text AS seq, c.hash FROM audit_chain c ORDER BY c.seq DESC LIMIT 1');
  return row ? { seq: BigInt(row.seq), hash: row.hash } : { seq: 0n, hash: GENESIS_HASH };
}

/**
 * Appends events after `head`, in order, with one statement (one transaction), and returns the new head. Fails with
 * a unique violation of `audit_chain_pkey` when `head` is no longer the chain's last link, and with SQLSTATE FKJ01
 * when a jti of the events is not recorded (then nothing is written).
 */
async function appendAuditEvents(q: Queryable, events: readonly PreparedEvent[], head: ChainHead): Promise<ChainHead> {
  const hashes: string[] = [];
  let previous = head.hash;
  for (const e of events) {
    previous = chainHash(previous, e.canonical);
    hashes.push(previous);
  }
  const params = [`[${events.map((e) => e.canonical).join(',')}]`, JSON.stringify(events.map((e) => [e.id, e.recorded, e.compartments])), String(head.seq), hashes];
  const jtis = events.flatMap((e) => (e.jti ? [e.jti] : []));
  const [{ n }] = jtis.length === 0
    ? await q.query<{ n: number }>(INSERT_SQL, params)
    : await q.query<{ n: number }>(INSERT_WITH_JTIS_SQL, [...params, jtiJson(jtis)]);
  if (n !== events.length) throw new Error(`audit append wrote ${n} of ${events.length} events`);
  return { seq: head.seq + BigInt(events.length), hash: previous };
}

// One statement per batch: the resource rows and the chain links. An AuditEvent has no index rows: its search
// parameters are computed when searched, and found by the keys in its compartments (migrations 014 and 022).
// `resources.last_updated` is the event's `recorded` time, which is also its meta.lastUpdated.
// $1: the events (a JSON array, in chain order); $2: [id, recorded, compartments] of each, as one JSON text (the
// driver would escape every element of a text[] parameter in JavaScript); $3: the head's number; $4: the links' hashes.
const INSERT_CTES = `
  WITH ev AS (
    SELECT e.n::int AS n, e.doc, x->>0 AS id, x->>1 AS recorded, x->2 AS compartments
      FROM json_array_elements($1::text::json) WITH ORDINALITY AS e(doc, n)
      JOIN json_array_elements($2::text::json) WITH ORDINALITY AS m(x, n) USING (n)),
  ins AS (
    INSERT INTO resources (type, id, version, last_updated, deleted, resource, compartments)
    SELECT 'AuditEvent', ev.id, 1, ev.recorded::timestamptz, false, ev.doc, ARRAY(SELECT json_array_elements_text(ev.compartments))
      FROM ev
    RETURNING rid, id),
  rids AS (SELECT ev.n, ev.id, ins.rid FROM ev JOIN ins ON ins.id = ev.id),
  chain AS (INSERT INTO audit_chain (seq, rid, event_id, hash)
    SELECT $3::bigint + rids.n, rids.rid, rids.id, ($4::text[])[rids.n] FROM rids)`;
const INSERT_SQL = `${INSERT_CTES}
  SELECT count(*)::int AS n FROM ins`;

/** The SQLSTATE of `audit_jtis_recorded` (migration 016) when a jti of the batch was not recorded. */
const JTI_GUARD_SQLSTATE = 'FKJ01';

// The same, with the events' jtis ($5: jtiJson): the count is returned only once every jti is recorded, and the
// guard fails the whole statement otherwise (the guard is evaluated first, as a one-time filter).
const INSERT_WITH_JTIS_SQL = `${INSERT_CTES},
  ${jtiInsertCtes('$5')}
  SELECT count(*)::int AS n FROM ins
   WHERE audit_jtis_recorded((SELECT count(*) FROM jti_recorded), (SELECT count(*) FROM jti_in))`;
