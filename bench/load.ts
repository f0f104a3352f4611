// One measurement with autocannon: a warm-up run (discarded), then the measured run. Latencies are
// recorded from autocannon's per-response event (sub-millisecond, all responses, whatever their status),
// and every non-2xx response or connection error makes the measurement fail.
import autocannon from 'autocannon';
import { postgresPids, snapshot, split, type CpuSplit } from './cpu.ts';
import { PG_ADMIN_URL } from './datasets.ts';
import { pgCounters, perRequest, type PgWork } from './pg-work.ts';

export interface LoadSpec {
  /** Full URL of the first request (host and default path). */
  url: string;
  /** The request sequence; each connection cycles through it. */
  requests: autocannon.Request[];
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  /** The server under test, to measure its CPU time. */
  serverPid?: number;
  /** The database it uses, to measure the CPU time of the PostgreSQL processes serving it. */
  database?: string;
}

export interface Measurement {
  requests: number;
  seconds: number;
  rps: number;
  latencyMs: { p50: number; p90: number; p99: number; mean: number; max: number };
  statusCodes: Record<string, number>;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** CPU time per request by process (Linux only). */
  cpu?: CpuSplit;
  /** PostgreSQL's work per request for `database` (pg-work.ts). */
  pgWork?: PgWork;
  ok: boolean;
}

async function fire(spec: LoadSpec, seconds: number, onLatency?: (ms: number) => void): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url: spec.url, connections: spec.connections, duration: seconds, requests: spec.requests, timeout: 10 },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
    if (onLatency) instance.on('response', (_client, _status, _bytes, ms) => onLatency(ms));
  });
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function measure(spec: LoadSpec): Promise<Measurement> {
  if (spec.warmupSeconds > 0) await fire(spec, spec.warmupSeconds);
  let latencies = new Float64Array(1 << 16);
  let n = 0;
  const pgPids = await postgresPids(PG_ADMIN_URL, spec.database); // the server's pool is connected after the warm-up
  const countersBefore = spec.database === undefined ? undefined : await pgCounters(PG_ADMIN_URL, spec.database);
  const before = snapshot(spec.serverPid, pgPids);
  const result = await fire(spec, spec.durationSeconds, (ms) => {
    if (n === latencies.length) {
      const grown = new Float64Array(n * 2);
      grown.set(latencies);
      latencies = grown;
    }
    latencies[n++] = ms;
  });
  const cpu = split(before, snapshot(spec.serverPid, pgPids), n);
  const countersAfter = spec.database === undefined ? undefined : await pgCounters(PG_ADMIN_URL, spec.database);
  const sorted = latencies.slice(0, n).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return {
    requests: n,
    seconds: result.duration,
    rps: Math.round((n / result.duration) * 10) / 10,
    latencyMs: {
      p50: round(percentile(sorted, 50)),
      p90: round(percentile(sorted, 90)),
      p99: round(percentile(sorted, 99)),
      mean: round(n ? sum / n : NaN),
      max: round(n ? sorted[n - 1]! : NaN),
    },
    statusCodes,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    cpu,
    pgWork: perRequest(countersBefore, countersAfter, n),
    ok: n > 0 && result.non2xx === 0 && result.errors === 0,
  };
}
