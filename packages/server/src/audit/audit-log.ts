// The audit trail's single writer (docs/architecture: "The audit trail is written in batches but never lost").
// Concurrent requests add their AuditEvents to one BatchWriter; each batch is appended by one statement (its own
// transaction: the resource rows and their chain links) in one round trip. A caller's promise resolves
// only after its batch has committed, so a response that waits for it is never sent for an interaction the trail
// does not hold.
//
// The chain's order is given by the database: `audit_append` (migration 023) takes the chain's lock, reads the last
// link, and numbers and hashes the batch from it, so any number of instances append to one chain, one batch after
// another, each batch in one round trip.
import type { Database, Queryable } from '../store/database.ts';
import { BatchWriter, type BatchWriterStats } from '../store/batch-writer.ts';
import { buildAuditEvent, type AuditRecord, type AuditSource } from './audit-event.ts';
import { auditCompartments } from './audit-index.ts';
import { jtiInsertCtes, jtiJson, recordJtis, type JtiItem } from '../auth/assertion-jtis.ts';

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

  constructor(db: Database, opts: AuditLogOptions) {
    this.#db = db;
    this.#source = opts.source;
    this.#writer = new BatchWriter<PreparedEvent, AppendResult>({
      maxItems: opts.maxItems ?? 200,
      maxDelayMs: opts.maxDelayMs ?? 0,
      maxConcurrent: 1, // batches in the order their events were recorded
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
      await appendAuditEvents(this.#db, items);
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
    if (kept.length > 0) await appendAuditEvents(this.#db, kept);
    return results;
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

/**
 * Appends events to the chain, in order, with one statement (one transaction). Fails with SQLSTATE FKJ01 when a jti
 * of the events is not recorded (then nothing is written).
 */
async function appendAuditEvents(q: Queryable, events: readonly PreparedEvent[]): Promise<void> {
  // $1: the events (a JSON array, in chain order); $2: [id, recorded, compartments] of each, as one JSON text (the
  // driver would escape every element of a text[] parameter in JavaScript). An AuditEvent has no index rows: its
  // search parameters are computed when searched, and found by the keys in its compartments (migrations 014, 022).
  const params = [`[${events.map((e) => e.canonical).join(',')}]`, JSON.stringify(events.map((e) => [e.id, e.recorded, e.compartments]))];
  const jtis = events.flatMap((e) => (e.jti ? [e.jti] : []));
  const [{ n }] = jtis.length === 0
    ? await q.query<{ n: number }>(APPEND_SQL, params)
    : await q.query<{ n: number }>(APPEND_WITH_JTIS_SQL, [...params, jtiJson(jtis)]);
  if (n !== events.length) throw new Error(`audit append wrote ${n} of ${events.length} events`);
}

const APPEND_SQL = 'SELECT audit_append($1, $2) AS n';

/** The SQLSTATE of `audit_jtis_recorded` (migration 016) when a jti of the batch was not recorded. */
const JTI_GUARD_SQLSTATE = 'FKJ01';

// The same, with the events' jtis ($3: jtiJson): the batch is appended only once every jti is recorded, and the
// guard fails the whole statement otherwise (a one-time filter, evaluated before the append).
const APPEND_WITH_JTIS_SQL = `WITH ${jtiInsertCtes('$3')}
  SELECT audit_append($1, $2) AS n
   WHERE audit_jtis_recorded((SELECT count(*) FROM jti_recorded), (SELECT count(*) FROM jti_in))`;
