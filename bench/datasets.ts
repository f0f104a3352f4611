// Benchmark datasets: one PostgreSQL database per patient count (fk_bench_<N>), seeded with the
// `firekeeper seed` command and reused across runs. A marker table records a completed seed and the
// ids of the seeded patients, so writes made by the benchmark itself never change which ids are read.
import pg from 'pg';
import { HOST, startNode, waitForExit } from './processes.ts';

export const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? `postgres://postgres@${HOST}:5432/postgres`;
export const SEED = 'bench';

/** Seeding speed assumed before this run has measured one (patients per second). */
const DEFAULT_SEED_RATE = 20;

export interface Dataset {
  patients: number;
  dbName: string;
  url: string;
  /** Ids of the seeded Patients, in a fixed order. */
  patientIds: string[];
  /** Seconds spent seeding in this run; undefined when the cached database was reused. */
  seededSeconds?: number;
}

export function databaseUrl(dbName: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${dbName}`;
  return url.toString();
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function postgresVersion(): Promise<string> {
  return withClient(PG_ADMIN_URL, async (c) => (await c.query<{ v: string }>('SELECT version() AS v')).rows[0]!.v);
}

/** The seeded patient ids when `dbName` holds a completed seed of `patients` patients, else undefined. */
async function cachedIds(dbName: string, patients: number): Promise<string[] | undefined> {
  const exists = await withClient(PG_ADMIN_URL, async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName])).rowCount === 1);
  if (!exists) return undefined;
  return withClient(databaseUrl(dbName), async (c) => {
    const marker = await c.query<{ patients: number; seed: string }>(
      `SELECT patients, seed FROM bench_marker WHERE to_regclass('bench_marker') IS NOT NULL`,
    ).catch(() => undefined);
    const row = marker?.rows[0];
    if (!row || row.patients !== patients || row.seed !== SEED) return undefined;
    const ids = await c.query<{ id: string }>('SELECT id FROM bench_patients ORDER BY ord');
    return ids.rows.length === patients ? ids.rows.map((r) => r.id) : undefined;
  });
}

let observedRate: number | undefined;

/**
 * Every request the read scenarios (R, S) send is audited: its AuditEvent is written into the cached dataset. These
 * are removed when the dataset is reused, so that every run starts from the state the seed left (a growing audit
 * trail would make runs incomparable). The write scenarios run on a throw-away copy (cloneDataset).
 */
const INDEX_TABLES = ['sp_token', 'sp_string', 'sp_reference', 'sp_date', 'sp_number', 'sp_quantity', 'sp_uri'];

async function clearAuditTrail(dbName: string): Promise<void> {
  const removed = await withClient(databaseUrl(dbName), async (c) => {
    await c.query('BEGIN');
    await c.query(`CREATE TEMP TABLE gone ON COMMIT DROP AS SELECT rid FROM resources WHERE type = 'AuditEvent'`);
    for (const table of [...INDEX_TABLES, 'audit_chain']) {
      await c.query(`DELETE FROM ${table} WHERE rid IN (SELECT rid FROM gone)`);
    }
    const { rowCount } = await c.query(`DELETE FROM resources WHERE rid IN (SELECT rid FROM gone)`);
    await c.query('COMMIT');
    // Rewritten, not only vacuumed: the deleted rows' index entries would otherwise stay as bloat (sp_token's rid index
    // had grown fourfold after a dozen runs, and R's PostgreSQL time with it).
    const tables = `resources, audit_chain, ${INDEX_TABLES.join(', ')}`;
    if (rowCount) await c.query(`VACUUM (FULL, ANALYZE) ${tables}`);
    // A rewrite (VACUUM FULL, or a migration that changes a column's type) leaves the visibility map empty, and then
    // no scan can be index-only: S's patient lookup read sp_reference's heap (a bitmap heap scan, and that table in the
    // working set) where the covering index alone serves it, and read 11-14 pages per search from outside shared
    // buffers instead of 2-4 (docs/benchmarks.md, 2026-12-06, 11:40). A running database has autovacuum set the map; a
    // plain VACUUM sets it here (quick when the map is already set).
    await c.query(`VACUUM ${tables}`);
    // The rewrite writes about 500 MB of WAL and new table files. Without a checkpoint here, PostgreSQL and the kernel
    // write them out during the first measurements (hello-world at 4,300 req/s with 0.7 cores busy elsewhere, and
    // minimal-read at a fifth of its rate: docs/benchmarks.md, 2026-12-06, 23:16).
    if (rowCount) await c.query('CHECKPOINT');
    return rowCount ?? 0;
  });
  if (removed > 0) console.log(`dataset ${dbName}: removed ${removed} AuditEvents left by earlier runs`);
}

/** Returns the dataset, seeding a fresh database unless a complete one exists (or `fresh` is set). */
export async function ensureDataset(patients: number, fresh: boolean): Promise<Dataset> {
  const dbName = `fk_bench_${patients}`;
  const url = databaseUrl(dbName);
  if (!fresh) {
    const ids = await cachedIds(dbName, patients);
    if (ids) {
      console.log(`dataset ${dbName}: reusing the cached database (${patients} patients; --fresh to reseed)`);
      await clearAuditTrail(dbName);
      return { patients, dbName, url, patientIds: ids };
    }
  }
  const rate = observedRate ?? DEFAULT_SEED_RATE;
  console.log(`dataset ${dbName}: creating and seeding ${patients} patients (estimate: ${formatDuration(patients / rate)}${observedRate ? '' : ', a guess'})`);
  await withClient(PG_ADMIN_URL, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${dbName}`);
  });
  const started = Date.now();
  const seeder = startNode(`seed ${dbName}`, [
    'packages/server/src/cli/main.ts', 'seed', '--patients', String(patients), '--seed', SEED, '--database', url, '--log-level', 'warn',
  ], { inherit: true });
  // Bounded: ten times the estimate, at least 20 minutes.
  await waitForExit(seeder, Math.max(20 * 60_000, (10 * 1000 * patients) / rate));
  const seededSeconds = (Date.now() - started) / 1000;
  observedRate = patients / seededSeconds;
  console.log(`dataset ${dbName}: seeded in ${formatDuration(seededSeconds)} (${observedRate.toFixed(1)} patients/s); VACUUM ANALYZE…`);
  const patientIds = await withClient(url, async (c) => {
    await c.query('VACUUM ANALYZE');
    await c.query('CHECKPOINT');
    await c.query(`CREATE TABLE bench_patients AS
      SELECT row_number() OVER (ORDER BY rid) AS ord, id FROM resources WHERE type = 'Patient' AND NOT deleted`);
    const ids = (await c.query<{ id: string }>('SELECT id FROM bench_patients ORDER BY ord')).rows.map((r) => r.id);
    if (ids.length !== patients) throw new Error(`${dbName}: expected ${patients} patients after seeding, found ${ids.length}`);
    await c.query('CREATE TABLE bench_marker (patients integer NOT NULL, seed text NOT NULL, seeded_at timestamptz NOT NULL DEFAULT now(), seconds real)');
    await c.query('INSERT INTO bench_marker (patients, seed, seconds) VALUES ($1, $2, $3)', [patients, SEED, seededSeconds]);
    return ids;
  });
  return { patients, dbName, url, patientIds, seededSeconds };
}

/**
 * A throw-away copy of a dataset for the write scenarios, so what they write never changes the cached dataset
 * (and every run writes into the same starting state). No one may be connected to `ds` while it is copied.
 */
export async function cloneDataset(ds: Dataset): Promise<Dataset> {
  const dbName = `${ds.dbName}_writes`;
  await withClient(PG_ADMIN_URL, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${dbName} TEMPLATE ${ds.dbName}`);
  });
  return { ...ds, dbName, url: databaseUrl(dbName), seededSeconds: undefined };
}

export async function dropDataset(ds: Dataset): Promise<void> {
  await withClient(PG_ADMIN_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${ds.dbName} WITH (FORCE)`));
}

/** Row counts per resource type, for the report. */
export async function resourceCounts(ds: Dataset): Promise<Record<string, number>> {
  return withClient(ds.url, async (c) => {
    const rows = await c.query<{ type: string; n: number }>('SELECT type, count(*)::int AS n FROM resources GROUP BY type ORDER BY type');
    return Object.fromEntries(rows.rows.map((r) => [r.type, r.n]));
  });
}

export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
