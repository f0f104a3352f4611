// Concurrent reads that run the same statement with different values, sent to the database as one statement.
// Every statement costs a round trip, and on a small machine the round trip costs more than the read: the database
// process is woken, takes a core from the server, and wakes the server again (a read of one resource cost the server
// and PostgreSQL about 0.15 ms each in its round trip, against a few µs for the index lookup; docs/benchmarks.md,
// 2026-12-06 17:40). The requests that arrive together (a closed loop of clients answered together by one audit
// commit) issue their reads in the same turn of the event loop; those with the same statement text go as one
// `UNION ALL` of their statements, each with its own values, and each caller gets the rows of its own.
//
// - Only statements whose text is identical are combined, so the combined texts are few (one per text and count)
//   and are prepared and planned like any other.
// - Only reads, and only on the database itself: a statement inside a transaction runs at once, alone.
// - If the combined statement fails, each statement is run again alone, so that a caller sees its own error and no
//   one else's.
// - A lone read waits for nothing but the end of the current turn (`setImmediate`).
import type { Database, Queryable } from './database.ts';
import type { Sql } from '../fhir/search/sql.ts';

const BATCHERS = new WeakMap<Database, StatementBatcher>();

/**
 * Runs a read statement: on a Database, with the others of the same text issued in this turn; in a transaction, at
 * once. Resolves with its own rows.
 */
export function batchedRead<R>(q: Queryable, statement: Sql): Promise<R[]> {
  if (!isDatabase(q)) {
    const { text, params } = statement.render();
    return q.query<R>(text, params);
  }
  let batcher = BATCHERS.get(q);
  if (!batcher) BATCHERS.set(q, (batcher = new StatementBatcher(q)));
  return batcher.query<R>(statement);
}

const isDatabase = (q: Queryable): q is Database => 'transaction' in q;

/** The column that tells whose row a row of the combined statement is. */
const ITEM = 'batch_item';

/** The most statements combined into one. */
const MAX_ITEMS = 16;

interface Waiting {
  statement: Sql;
  /** The statement rendered alone: its text is the group's key, and it runs as is when it has no company. */
  alone: { text: string; params: unknown[] };
  resolve: (rows: Record<string, unknown>[]) => void;
  reject: (err: unknown) => void;
}

class StatementBatcher {
  readonly #q: Queryable;
  /** Statements waiting for the end of the turn, by text. */
  #groups = new Map<string, Waiting[]>();
  #scheduled = false;

  constructor(q: Queryable) {
    this.#q = q;
  }

  /** Runs `statement` (one SELECT) with others of the same text issued in this turn; resolves with its own rows. */
  query<R>(statement: Sql): Promise<R[]> {
    return new Promise<Record<string, unknown>[]>((resolve, reject) => {
      const alone = statement.render();
      const waiting = { statement, alone, resolve, reject };
      const group = this.#groups.get(alone.text);
      if (group) group.push(waiting);
      else this.#groups.set(alone.text, [waiting]);
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    }) as Promise<R[]>;
  }

  #flush(): void {
    this.#scheduled = false;
    const groups = this.#groups;
    this.#groups = new Map();
    for (const group of groups.values()) {
      for (let i = 0; i < group.length; i += MAX_ITEMS) void this.#run(group.slice(i, i + MAX_ITEMS));
    }
  }

  async #run(batch: Waiting[]): Promise<void> {
    if (batch.length === 1) return this.#alone(batch[0]!);
    let rows: Record<string, unknown>[];
    try {
      const { text, params } = combined(batch.map((w) => w.statement));
      rows = await this.#q.query<Record<string, unknown>>(text, params);
    } catch {
      await Promise.all(batch.map((w) => this.#alone(w)));
      return;
    }
    const own: Record<string, unknown>[][] = batch.map(() => []);
    for (const row of rows) {
      const item = row[ITEM] as number;
      delete row[ITEM]; // the last column: V8 takes the row back to the shape it had without it
      own[item]!.push(row);
    }
    batch.forEach((w, i) => w.resolve(own[i]!));
  }

  async #alone(w: Waiting): Promise<void> {
    const { text, params } = w.alone;
    try {
      w.resolve(await this.#q.query<Record<string, unknown>>(text, params));
    } catch (err) {
      w.reject(err);
    }
  }
}

/**
 * `SELECT b.*, 0 AS batch_item FROM (<first>) b UNION ALL SELECT b.*, 1 FROM (<second>) b …`, every statement's
 * values numbered after those of the statements before it. Each statement is a subquery of its own, so its ORDER BY
 * and LIMIT stay its own.
 */
function combined(statements: readonly Sql[]): { text: string; params: unknown[] } {
  const params: unknown[] = [];
  const parts = statements.map((s, i) => {
    const { text, params: own } = s.render(params.length + 1);
    params.push(...own);
    return `SELECT b.*, ${i}${i === 0 ? ` AS ${ITEM}` : ''} FROM (${text}) b`;
  });
  return { text: parts.join(' UNION ALL '), params };
}
