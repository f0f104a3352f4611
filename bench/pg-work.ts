// PostgreSQL's work per request, from its cumulative statistics: commits, buffer accesses (found in shared buffers,
// or read from outside them), rows fetched, and WAL written. CPU time and throughput move with this VM's speed by tens
// of percent within minutes; these counts do not, so two runs of the same code agree on them, and a change that makes
// a statement touch fewer pages shows here even when its throughput is lost in the noise (the empty visibility map
// of docs/benchmarks.md, 2026-12-06, 11:40, was found this way: 11-14 pages read per search instead of 2-4).
//
// PostgreSQL 15 backends publish their counts at most once a second, so each snapshot misses up to about a second of
// the work just before it. For a steady load the two misses roughly cancel (the warm-up's tail is counted in the
// run, the run's tail is not); over a 10 s run the counts are good to a few percent, not exactly. WAL is counted for
// the whole server (pg_stat_wal), so nothing else may write meanwhile, as for the CPU figures.
import pg from 'pg';

interface Counters {
  commits: number;
  blocksHit: number;
  blocksRead: number;
  rowsFetched: number;
  walBytes: number;
}

/** Per request, in the same units. */
export type PgWork = Counters;

/** The cumulative counters of `database` (and the server's WAL), or undefined when they cannot be read. */
export async function pgCounters(adminUrl: string, database: string): Promise<Counters | undefined> {
  const client = new pg.Client({ connectionString: adminUrl });
  try {
    await client.connect();
    const { rows: [row] } = await client.query<Record<keyof Counters, string>>(`
      SELECT d.xact_commit AS "commits", d.blks_hit AS "blocksHit", d.blks_read AS "blocksRead",
             d.tup_fetched AS "rowsFetched", w.wal_bytes AS "walBytes"
        FROM pg_stat_database d, pg_stat_wal w WHERE d.datname = $1`, [database]);
    if (!row) return undefined;
    return { commits: Number(row.commits), blocksHit: Number(row.blocksHit), blocksRead: Number(row.blocksRead), rowsFetched: Number(row.rowsFetched), walBytes: Number(row.walBytes) };
  } catch {
    return undefined; // no statistics access: the figures are left out, the measurement stands
  } finally {
    await client.end().catch(() => {});
  }
}

/** The work between two snapshots, per request (rounded to 2 decimals; WAL to whole bytes). */
export function perRequest(a: Counters | undefined, b: Counters | undefined, requests: number): PgWork | undefined {
  if (!a || !b || requests === 0) return undefined;
  const per = (k: keyof Counters, digits = 2) => Number(((b[k] - a[k]) / requests).toFixed(digits));
  return { commits: per('commits'), blocksHit: per('blocksHit'), blocksRead: per('blocksRead'), rowsFetched: per('rowsFetched'), walBytes: per('walBytes', 0) };
}
