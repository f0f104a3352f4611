// Ratios, targets and the printed table; the JSON result file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Measurement } from './load.ts';

export interface Row {
  /** 'hello-world', 'minimal-read', 'R', 'S', 'C', 'T', 'K', 'X', 'S@100', 'S@10000', 'hello-world (after R)', … */
  scenario: string;
  description: string;
  patients?: number;
  measurement?: Measurement;
  /** Cores other processes kept busy just before the measurement (Linux). */
  backgroundCores?: number;
  /** Why the scenario did not produce a valid measurement (preflight failure, non-2xx, errors). */
  failure?: string;
}

export interface Target {
  name: string;
  goal: string;
  measured: string;
  status: 'PASS' | 'FAIL' | 'n/a';
}

const ok = (r: Row | undefined): r is Row & { measurement: Measurement } => !!r?.measurement?.ok && !r.failure;

export function ratio(a: Row | undefined, b: Row | undefined): number | undefined {
  return ok(a) && ok(b) ? a.measurement.rps / b.measurement.rps : undefined;
}

/** The run's hello-world measurements: the first, then one after every other measurement (run.ts). */
export const isHello = (r: Row): boolean => r.scenario.startsWith('hello-world');

/** The valid hello-world measurements nearest before and after `row` in the run. */
export function bracketingHello(rows: Row[], row: Row): { before?: Row; after?: Row } {
  const i = rows.indexOf(row);
  const valid = (r: Row) => isHello(r) && ok(r);
  return { before: rows.slice(0, i).reverse().find(valid), after: rows.slice(i + 1).find(valid) };
}

/**
 * A scenario's throughput over the hello-world ceiling measured around it: the mean of the nearest measurements before
 * and after it (either alone when the other is missing). This VM's speed drifts by tens of percent within minutes, so
 * a ceiling measured minutes away can move a ratio by as much (docs/benchmarks.md, "Running it").
 */
export function helloRatio(rows: Row[], row: Row): number | undefined {
  const { before, after } = bracketingHello(rows, row);
  const hellos = [before, after].filter(ok);
  if (!ok(row) || hellos.length === 0) return undefined;
  return row.measurement.rps / (hellos.reduce((sum, h) => sum + h.measurement.rps, 0) / hellos.length);
}

/** How much hello-world changed across `row` (after / before − 1), when it was measured on both sides. */
export function helloDrift(rows: Row[], row: Row): number | undefined {
  const { before, after } = bracketingHello(rows, row);
  const r = ratio(after, before);
  return r === undefined ? undefined : r - 1;
}

export function evaluateTargets(rows: Row[]): Target[] {
  const get = (name: string) => rows.find((r) => r.scenario === name);
  const minimal = get('minimal-read');
  const measured = (row: Row, r: number | undefined) => {
    if (r === undefined) return row.failure ?? 'no valid measurement';
    const drift = helloDrift(rows, row);
    return drift !== undefined && Math.abs(drift) > MAX_DRIFT ? `${r.toFixed(3)}× (unreliable: ${formatDriftPercent(drift)})` : `${r.toFixed(3)}×`;
  };
  const throughput = (name: string, min: number, against: 'hello-world' | 'minimal-read' = 'hello-world'): Target | undefined => {
    const row = get(name);
    if (!row) return undefined;
    const r = against === 'minimal-read' ? ratio(row, minimal) : helloRatio(rows, row);
    const baseValid = against === 'minimal-read' ? ok(minimal) : Object.values(bracketingHello(rows, row)).some(ok);
    const status = r === undefined ? (baseValid ? 'FAIL' : 'n/a') : r >= min ? 'PASS' : 'FAIL';
    return { name: `${name} vs ${against}`, goal: `≥ ${min.toFixed(2)}×`, measured: measured(row, r), status };
  };
  const targets = [
    throughput('R', 0.6, 'minimal-read'),
    // Issue 4: R and S run with full enforcement and the durable audit trail; these replace issue 2's 0.15 and 0.07.
    throughput('R', 0.12),
    throughput('S', 0.06),
    throughput('C', 0.05),
    throughput('K', 0.09),
  ];
  // X (authorization-code exchange) has no target: its ratio is reported.
  const x = get('X');
  if (x) targets.push({ name: 'X vs hello-world', goal: 'none (reported)', measured: measured(x, helloRatio(rows, x)), status: 'n/a' });
  // What S keeps of its search statement run bare, without and with the same audit (bench/servers/minimal-search.ts).
  const s = get('S');
  for (const ceiling of ['minimal-search', 'minimal-search+audit']) {
    const c = get(ceiling);
    if (s && c) targets.push({ name: `S vs ${ceiling}`, goal: 'none (reported)', measured: ok(s) && ok(c) ? `${ratio(s, c)!.toFixed(3)}×` : 'no valid measurement', status: 'n/a' });
  }
  const small = get('S@100');
  const large = get('S@10000');
  if (small || large) {
    const status = ok(small) && ok(large) ? (large.measurement.latencyMs.p50 <= 1.5 * small.measurement.latencyMs.p50 ? 'PASS' : 'FAIL') : 'n/a';
    const measured = ok(small) && ok(large)
      ? `${(large.measurement.latencyMs.p50 / small.measurement.latencyMs.p50).toFixed(2)}× (${large.measurement.latencyMs.p50} ms vs ${small.measurement.latencyMs.p50} ms)`
      : 'not measured (both S@100 and S@10000 are needed)';
    targets.push({ name: 'S p50 @10,000 vs @100 patients', goal: '≤ 1.50×', measured, status: status as Target['status'] });
  }
  return targets.filter((t): t is Target => t !== undefined);
}

/** A Markdown table; the first and last columns are left-aligned, the others (numbers) right-aligned. */
function table(header: string[], body: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const left = (i: number) => i === 0 || i === header.length - 1;
  const line = (cells: string[]) => `| ${cells.map((c, i) => (left(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(header), `|${widths.map((w, i) => '-'.repeat(w + 1) + (left(i) ? '-' : ':')).join('|')}|`, ...body.map(line)].join('\n');
}

/**
 * The results table. '× hello' is a scenario's ratio to the hello-world measured around it (helloRatio), and a
 * hello-world's to the first one; 'hello drift' is how much hello-world changed across the scenario.
 */
export function formatResults(rows: Row[]): string {
  const first = rows.find(isHello);
  const minimal = rows.find((r) => r.scenario === 'minimal-read');
  const fmt = (v: number | undefined, digits: number) => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(digits));
  return table(
    ['scenario', 'patients', 'req/s', 'p50 ms', 'p99 ms', '× hello', 'hello drift', '× min-read', 'result'],
    rows.map((r) => {
      const m = r.measurement;
      const result = r.failure ? `FAILED: ${r.failure.split('\n')[0]!.slice(0, 80)}` : 'ok';
      const drift = isHello(r) ? undefined : helloDrift(rows, r);
      return [r.scenario, r.patients ? String(r.patients) : '–', fmt(m?.rps, 0), fmt(m?.latencyMs.p50, 2), fmt(m?.latencyMs.p99, 2),
        fmt(isHello(r) ? ratio(r, first) : helloRatio(rows, r), 3), drift === undefined ? '–' : formatDriftPercent(drift), fmt(ratio(r, minimal), 3), result];
    }),
  );
}

/** CPU milliseconds per request by process, and how busy the rest of the machine was. */
export function formatCpu(rows: Row[]): string {
  const fmt = (v: number | undefined, d = 3) => (v === undefined ? '–' : v.toFixed(d));
  return table(
    ['scenario', 'server ms/req', 'postgres ms/req', 'load gen ms/req', 'server main thread: running / waiting', 'other procs before (cores)', 'other procs during (cores)'],
    rows.map((r) => {
      const c = r.measurement?.cpu;
      const thread = c?.serverThread ? `${fmt(c.serverThread.running, 2)} / ${fmt(c.serverThread.waiting, 2)}` : '–';
      return [r.scenario, fmt(c?.serverMsPerRequest), fmt(c?.postgresMsPerRequest), fmt(c?.loadGeneratorMsPerRequest), thread, fmt(r.backgroundCores, 2), fmt(c?.otherCoresBusy, 2)];
    }),
  );
}

/**
 * PostgreSQL's work per request (pg-work.ts), for the scenarios that use the database: counts that do not drift with
 * the machine's speed, to compare runs by. '' when no scenario has them.
 */
export function formatPgWork(rows: Row[]): string {
  const measured = rows.filter((r) => r.measurement?.pgWork);
  if (measured.length === 0) return '';
  return 'PostgreSQL work per request (counts: they do not drift with the machine\'s speed)\n' + table(
    ['scenario', 'commits', 'buffers hit', 'pages read', 'rows fetched', 'WAL bytes'],
    measured.map((r) => {
      const w = r.measurement!.pgWork!;
      return [r.scenario, w.commits.toFixed(2), w.blocksHit.toFixed(1), w.blocksRead.toFixed(2), w.rowsFetched.toFixed(1), String(w.walBytes)];
    }),
  );
}

/** How far hello-world may change across a scenario before its ratio is flagged as unreliable. */
const MAX_DRIFT = 0.1;

const formatDriftPercent = (drift: number): string => `${drift >= 0 ? '+' : ''}${Math.round(drift * 100)}%`;

/** A warning naming the scenarios across which hello-world changed by more than MAX_DRIFT, else ''. */
export function formatDrift(rows: Row[]): string {
  const drifted = rows.flatMap((r) => {
    const drift = isHello(r) ? undefined : helloDrift(rows, r);
    return drift !== undefined && Math.abs(drift) > MAX_DRIFT ? [`${r.scenario} (${formatDriftPercent(drift)})`] : [];
  });
  if (drifted.length === 0) return '';
  return `WARNING: hello-world changed by more than ${MAX_DRIFT * 100}% across ${drifted.join(', ')}: the machine's speed changed `
    + 'during those measurements, so their ratios (and targets) are unreliable; run again.';
}

export function formatTargets(targets: Target[]): string {
  return table(['target', 'goal', 'measured', 'status'], targets.map((t) => [t.name, t.goal, t.measured, t.status]));
}

/** Writes bench/results/<timestamp>.json and returns its path. */
export function writeResults(data: Record<string, unknown>, startedAt: Date): string {
  const dir = join(process.cwd(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
  return file;
}
