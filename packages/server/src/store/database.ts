// The storage driver interface: one PostgreSQL dialect, two engines.
// PGlite (embedded WASM PostgreSQL, the zero-setup default) and a PostgreSQL server through `pg`.
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';

export interface Queryable {
  /** Runs one statement with bound parameters and returns its rows. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}

export interface Database extends Queryable {
  readonly engine: 'pglite' | 'postgres';
  /** Runs `fn` inside one database transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** `postgres://…` for a server; a folder path (or `memory://`) for embedded PGlite. */
  url: string;
  /** PostgreSQL schema to use (created if missing); tests use one per file. */
  schema?: string;
  /** Connections to a PostgreSQL server (default DEFAULT_POOL_SIZE); PGlite has one. */
  poolSize?: number;
}

/**
 * Twice this machine's cores, at least 4: PostgreSQL does its work in one process per connection, and more busy
 * connections than it has cores for only make them take turns. With 10 on a 2-core machine, a patient's search took
 * 2.0 ms of PostgreSQL CPU against 1.6 with 4, on average over eight runs each (docs/benchmarks.md, 2026-12-05, 22:41 UTC).
 */
export const DEFAULT_POOL_SIZE = Math.max(4, 2 * availableParallelism());

/** A unique_violation (SQLSTATE 23505) of the named constraint, from either engine (both report `code` and `constraint`). */
export function isUniqueViolation(err: unknown, constraint: string): boolean {
  const e = err as { code?: unknown; constraint?: unknown } | null;
  return typeof e === 'object' && e !== null && e.code === '23505' && e.constraint === constraint;
}

export function isPostgresUrl(url: string): boolean {
  return url.startsWith('postgres://') || url.startsWith('postgresql://');
}

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(opts.schema)) {
    throw new TypeError(`invalid schema name: ${opts.schema}`);
  }
  return isPostgresUrl(opts.url) ? openPostgres(opts) : openPglite(opts);
}

// json, jsonb, timestamptz, timestamp, date, numeric, int8: passed through as text.
const RAW_OIDS = new Set([114, 3802, 1184, 1114, 1082, 1700, 20]);
const raw = (v: string) => v;

/**
 * Named prepared statements for the PostgreSQL driver: each distinct SQL text is parsed and planned once per
 * connection instead of on every call (search statements differ only in their bound values, so the number of
 * distinct texts stays small). Bounded, so an unusual stream of query shapes cannot grow server memory.
 */
const MAX_PREPARED = 2000;
function preparedStatements(): (sql: string) => string | undefined {
  const names = new Map<string, string>();
  return (sql) => {
    let name = names.get(sql);
    if (name === undefined && names.size < MAX_PREPARED && /^\s*(SELECT|WITH|INSERT|UPDATE|DELETE)\b/i.test(sql)) {
      name = `fk_${createHash('sha256').update(sql).digest('base64url').slice(0, 22)}`;
      names.set(sql, name);
    }
    return name;
  };
}

// Every statement that reads after taking a lock (repository.ts lockCurrent, the audit chain's `audit_append`) needs
// the snapshot READ COMMITTED takes after the lock is granted; under a database or role whose default is REPEATABLE
// READ or SERIALIZABLE, such a read would see what was there before it waited. So the connections ask for it.
const READ_COMMITTED = '-c default_transaction_isolation=read\\ committed';

async function openPostgres(opts: DatabaseOptions): Promise<Database> {
  const { default: pg } = await import('pg');
  // Dates and numerics stay strings: the server serves stored JSON text and never re-parses timestamps.
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolSize ?? DEFAULT_POOL_SIZE,
    options: [READ_COMMITTED, ...(opts.schema ? [`-c search_path=${opts.schema}`] : [])].join(' '),
    types: { getTypeParser: (oid: number, format?: string) => (RAW_OIDS.has(oid) ? raw : pg.types.getTypeParser(oid, format as never)) } as never,
  });
  if (opts.schema) {
    const client = await pool.connect();
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${opts.schema}`);
    } finally {
      client.release();
    }
  }
  const statementName = preparedStatements();
  const config = (text: string, values?: readonly unknown[]) => ({ name: statementName(text), text, values: values as unknown[] });
  return {
    engine: 'postgres',
    async query<R>(sql: string, params?: readonly unknown[]) {
      const res = await pool.query(config(sql, params));
      return res.rows as R[];
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const tx: Queryable = {
          async query<R>(sql: string, params?: readonly unknown[]) {
            return (await client.query(config(sql, params))).rows as R[];
          },
        };
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/** The embedded database's folder is open in another process (or already in this one). */
export class DatabaseInUseError extends Error {
  constructor(readonly folder: string, readonly pid: number) {
    super(`the embedded database at ${folder} is in use by process ${pid} (a running Firekeeper?). PGlite serves one process: `
      + 'stop that process first, or, while it runs, use its admin API or admin console');
    this.name = 'DatabaseInUseError';
  }
}

const LOCK_FILE = 'firekeeper.lock';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, owned by someone else
  }
}

/**
 * PGlite is one process's database: two processes writing one folder would corrupt it, and neither would see the
 * other's writes. A lock file holding the owner's pid is taken before opening (exclusive create); a lock whose process
 * is gone (killed) is stale and taken over. Returns the release, for close().
 */
function lockFolder(folder: string): () => void {
  const path = join(folder, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      return () => {
        try {
          if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
        } catch { /* already gone */ }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let holder = 0;
      try {
        holder = Number(readFileSync(path, 'utf8').trim());
      } catch { /* removed meanwhile: try again */ }
      if (holder > 0 && processAlive(holder)) throw new DatabaseInUseError(folder, holder);
      try {
        unlinkSync(path); // stale: its process is gone
      } catch { /* another opener took it over first */ }
    }
  }
  throw new Error(`could not lock the embedded database at ${folder}`);
}

async function openPglite(opts: DatabaseOptions): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const inMemory = opts.url === 'memory://' || opts.url === '';
  if (!inMemory) mkdirSync(opts.url, { recursive: true });
  const release = inMemory ? () => undefined : lockFolder(opts.url);
  const parsers = Object.fromEntries([...RAW_OIDS].map((oid) => [oid, raw]));
  const db = await PGlite.create(inMemory ? undefined : opts.url, { parsers }).catch((err: unknown) => {
    release();
    throw err;
  });
  if (opts.schema) {
    await db.exec(`CREATE SCHEMA IF NOT EXISTS ${opts.schema}; SET search_path TO ${opts.schema}`);
  }
  return {
    engine: 'pglite',
    async query<R>(sql: string, params?: readonly unknown[]) {
      return (await db.query<R>(sql, params as unknown[])).rows;
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>) {
      return db.transaction(async (t) =>
        fn({
          async query<R>(sql: string, params?: readonly unknown[]) {
            return (await t.query<R>(sql, params as unknown[])).rows;
          },
        }),
      );
    },
    close: async () => {
      await db.close();
      release();
    },
  };
}
