// Ratios, targets and the printed table; the JSON result file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Measurement } from './load.ts';

export interface Row {
  /** 'hello-world', 'minimal-read', 'R', 'S', 'C', 'T', 'K', 'X', 'S@100', 'S@10000', 'hello-world (after R)', … */
  scenario: string;
  description: string;
  patients?: number;
  /** Which round of the scenario this is, when it ran more than once (run.ts --rounds). */
  round?: { n: number; of: number };
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

/** A scenario's name, with its round when it ran more than once: "S (round 2 of 3)". */
export const roundLabel = (scenario: string, round: Row['round']): string => (round ? `${scenario} (round ${round.n} of ${round.of})` : scenario);
const rowLabel = (r: Row): string => roundLabel(r.scenario, r.round);

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

/** The middle value (the mean of the two middle ones for an even count); undefined for none. */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Why none of a scenario's rounds gave a valid measurement. */
const failureOf = (runs: Row[]): string => runs.find((r) => r.failure)?.failure ?? 'no valid measurement';

/**
 * A scenario's ratio to hello-world over its rounds (run.ts --rounds): the median of the rounds whose hello-world held
 * steady, or, when none did, of all of them, marked unreliable. One round is its own ratio, as before.
 */
function roundsRatio(rows: Row[], runs: Row[]): { value?: number; text: string } {
  const measured = runs.flatMap((row) => {
    const value = helloRatio(rows, row);
    const drift = helloDrift(rows, row);
    return value === undefined ? [] : [{ value, drift: drift !== undefined && Math.abs(drift) > MAX_DRIFT ? drift : undefined }];
  });
  if (measured.length === 0) return { text: failureOf(runs) };
  const steady = measured.filter((m) => m.drift === undefined);
  const value = median((steady.length > 0 ? steady : measured).map((m) => m.value))!;
  if (measured.length === 1) {
    const { drift } = measured[0]!;
    return { value, text: drift === undefined ? `${value.toFixed(3)}×` : `${value.toFixed(3)}× (unreliable: ${formatDriftPercent(drift)})` };
  }
  const each = measured.map((m) => `${m.value.toFixed(3)}${m.drift === undefined ? '' : ` (${formatDriftPercent(m.drift)})`}`);
  const basis = steady.length > 0 ? `median of ${steady.length} steady round${steady.length > 1 ? 's' : ''}` : 'unreliable: hello-world drifted in every round';
  return { value, text: `${value.toFixed(3)}× (${basis}; rounds: ${each.join(', ')})` };
}

/** The median throughput of a scenario's valid rounds. */
const medianRps = (runs: Row[]): number | undefined => median(runs.filter(ok).map((r) => r.measurement.rps));

export function evaluateTargets(rows: Row[]): Target[] {
  const all = (name: string) => rows.filter((r) => r.scenario === name);
  const minimalRps = medianRps(all('minimal-read'));
  const throughput = (name: string, min: number, against: 'hello-world' | 'minimal-read' = 'hello-world'): Target | undefined => {
    const runs = all(name);
    if (runs.length === 0) return undefined;
    const goal = `≥ ${min.toFixed(2)}×`;
    if (against === 'minimal-read') {
      const rps = medianRps(runs);
      const r = rps === undefined || minimalRps === undefined ? undefined : rps / minimalRps;
      const status = r === undefined ? (minimalRps === undefined ? 'n/a' : 'FAIL') : r >= min ? 'PASS' : 'FAIL';
      return { name: `${name} vs minimal-read`, goal, measured: r === undefined ? failureOf(runs) : `${r.toFixed(3)}×`, status };
    }
    const { value, text } = roundsRatio(rows, runs);
    const baseValid = runs.some((row) => Object.values(bracketingHello(rows, row)).some(ok));
    const status = value === undefined ? (baseValid ? 'FAIL' : 'n/a') : value >= min ? 'PASS' : 'FAIL';
    return { name: `${name} vs hello-world`, goal, measured: text, status };
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
  const x = all('X');
  if (x.length > 0) targets.push({ name: 'X vs hello-world', goal: 'none (reported)', measured: roundsRatio(rows, x).text, status: 'n/a' });
  // What R and S keep of their statement run bare with the same durable audit (bench/servers/minimal-read.ts and
  // minimal-search.ts with --audit), and S of its statement without it.
  for (const [name, ceiling] of [['R', 'minimal-read+audit'], ['S', 'minimal-search'], ['S', 'minimal-search+audit']] as const) {
    const [runs, c] = [all(name), all(ceiling)];
    if (runs.length === 0 || c.length === 0) continue;
    const [rps, cRps] = [medianRps(runs), medianRps(c)];
    targets.push({ name: `${name} vs ${ceiling}`, goal: 'none (reported)', measured: rps !== undefined && cRps !== undefined ? `${(rps / cRps).toFixed(3)}×` : 'no valid measurement', status: 'n/a' });
  }
  const p50 = (runs: Row[]) => median(runs.filter(ok).map((r) => r.measurement.latencyMs.p50));
  const small = p50(all('S@100'));
  const large = p50(all('S@10000'));
  if (all('S@100').length > 0 || all('S@10000').length > 0) {
    const status = small !== undefined && large !== undefined ? (large <= 1.5 * small ? 'PASS' : 'FAIL') : 'n/a';
    const measured = small !== undefined && large !== undefined
      ? `${(large / small).toFixed(2)}× (${large} ms vs ${small} ms)`
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
      return [rowLabel(r), r.patients ? String(r.patients) : '–', fmt(m?.rps, 0), fmt(m?.latencyMs.p50, 2), fmt(m?.latencyMs.p99, 2),
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
      return [rowLabel(r), fmt(c?.serverMsPerRequest), fmt(c?.postgresMsPerRequest), fmt(c?.loadGeneratorMsPerRequest), thread, fmt(r.backgroundCores, 2), fmt(c?.otherCoresBusy, 2)];
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
      return [rowLabel(r), w.commits.toFixed(2), w.blocksHit.toFixed(1), w.blocksRead.toFixed(2), w.rowsFetched.toFixed(1), String(w.walBytes)];
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
    return drift !== undefined && Math.abs(drift) > MAX_DRIFT ? [`${rowLabel(r)} (${formatDriftPercent(drift)})`] : [];
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
