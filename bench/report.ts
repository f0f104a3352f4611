// Ratios, targets and the printed table; the JSON result file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Measurement } from './load.ts';

export interface Row {
  /** 'hello-world', 'minimal-read', 'R', 'S', 'C', 'T', 'K', 'X', 'S@100', 'S@10000', 'hello-world (end)' */
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

export function evaluateTargets(rows: Row[]): Target[] {
  const get = (name: string) => rows.find((r) => r.scenario === name);
  const hello = get('hello-world');
  const minimal = get('minimal-read');
  const throughput = (name: string, base: Row | undefined, baseName: string, min: number): Target | undefined => {
    const row = get(name);
    if (!row) return undefined;
    const r = ratio(row, base);
    const status = r === undefined ? (ok(base) ? 'FAIL' : 'n/a') : r >= min ? 'PASS' : 'FAIL';
    return { name: `${name} vs ${baseName}`, goal: `≥ ${min.toFixed(2)}×`, measured: r === undefined ? (row.failure ?? 'no valid measurement') : `${r.toFixed(3)}×`, status };
  };
  const targets = [
    throughput('R', minimal, 'minimal-read', 0.6),
    // Issue 4: R and S run with full enforcement and the durable audit trail; these replace issue 2's 0.15 and 0.07.
    throughput('R', hello, 'hello-world', 0.12),
    throughput('S', hello, 'hello-world', 0.06),
    throughput('C', hello, 'hello-world', 0.05),
    throughput('K', hello, 'hello-world', 0.09),
  ];
  // X (authorization-code exchange) has no target: its ratio is reported.
  const x = get('X');
  if (x) {
    const r = ratio(x, hello);
    targets.push({ name: 'X vs hello-world', goal: 'none (reported)', measured: r === undefined ? (x.failure ?? 'no valid measurement') : `${r.toFixed(3)}×`, status: 'n/a' });
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

export function formatResults(rows: Row[]): string {
  const hello = rows.find((r) => r.scenario === 'hello-world');
  const minimal = rows.find((r) => r.scenario === 'minimal-read');
  const fmt = (v: number | undefined, digits: number) => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(digits));
  return table(
    ['scenario', 'patients', 'req/s', 'p50 ms', 'p99 ms', '× hello', '× min-read', 'result'],
    rows.map((r) => {
      const m = r.measurement;
      const result = r.failure ? `FAILED: ${r.failure.split('\n')[0]!.slice(0, 80)}` : 'ok';
      return [r.scenario, r.patients ? String(r.patients) : '–', fmt(m?.rps, 0), fmt(m?.latencyMs.p50, 2), fmt(m?.latencyMs.p99, 2), fmt(ratio(r, hello), 3), fmt(ratio(r, minimal), 3), result];
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

/** The label of the second hello-world, measured at the end of the run. */
export const HELLO_END = 'hello-world (end)';
/** How far the end-of-run hello-world may differ from the first before the ratios are flagged as unreliable. */
const MAX_DRIFT = 0.1;

/** A warning when the machine's speed changed during the run (the two hello-world measurements disagree), else ''. */
export function formatDrift(rows: Row[]): string {
  const first = rows.find((r) => r.scenario === 'hello-world');
  const end = rows.find((r) => r.scenario === HELLO_END);
  const r = ratio(end, first);
  if (r === undefined || Math.abs(r - 1) <= MAX_DRIFT) return '';
  return `WARNING: hello-world ran at ${Math.round(first!.measurement!.rps)} req/s at the start and ${Math.round(end!.measurement!.rps)} req/s at the end `
    + `(${r > 1 ? '+' : ''}${Math.round((r - 1) * 100)}%): the machine's speed changed during the run, so the ratios (and targets) above are unreliable; run again.`;
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
