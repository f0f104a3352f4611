// `npm run bench`: Firekeeper on PostgreSQL against its ceilings (bare node:http; node:http + pg running the
// server's read, and, when S runs, its search with and without the audit), on loopback, each server a separate
// child process. See docs/benchmarks.md.
//
//   --fresh            reseed the datasets even when a cached database exists
//   --skip-10k         skip the 10,000-patient dataset (its seed takes long)
//   --only=R,S         run only these scenarios (R read, S search, C create, T transaction, K token issuance,
//                      X authorization-code exchange)
//   --duration=15 --warmup=3 --connections=10
//   --rounds=3         measure each Firekeeper scenario this many times, each with hello-world after it; a target is
//                      the median of its rounds' ratios (report.ts), steadier than one run on a VM whose speed drifts
//   --cpu-prof         profile the server (a folder of .cpuprofile files per scenario in bench/results/profiles/)
//   --prepare          only create (or check) the datasets, measure nothing
//   --wait-idle=60     before each scenario, wait up to this many seconds for other processes to go quiet
//   --k-alg=RS384      K: the client's key algorithm (RS384, the default; ES384, ES256, RS256)
//   --k-rate=6000      K: pre-sign assertions for at most this many requests per second (see bench/auth.ts)
//   --x-rate=3000      X: create authorization codes for this many requests per second
import { parseArgs } from 'node:util';
import { cpus, totalmem, release, platform } from 'node:os';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { cloneDataset, dropDataset, ensureDataset, formatDuration, postgresVersion, resourceCounts, type Dataset } from './datasets.ts';
import { measure } from './load.ts';
import { backgroundLoad } from './cpu.ts';
import { freePort, HOST, startNode, stop, stopAll, waitForHttp, type Child } from './processes.ts';
import { evaluateTargets, formatCpu, formatDrift, formatPgWork, formatResults, formatTargets, roundLabel, writeResults, type Row } from './report.ts';
import { ALL_SCENARIOS, codeExchangeScenario, fhirScenario, helloScenario, minimalReadScenario, minimalSearchScenario, preflight, tokenScenario, type Scenario, type ScenarioName } from './scenarios.ts';
import { WRITER_PATIENTS } from './fixtures.ts';
import { MAX_K_RUN_SECONDS, mintAccessToken, mintPatientTokens, prepareAuthorizationCodes, presignAssertions, TOKEN_PATH, verifyRate } from './auth.ts';
import type { AssertionAlg } from '../packages/server/src/test-support/backend-client.ts';

const { values } = parseArgs({
  options: {
    fresh: { type: 'boolean', default: false },
    'skip-10k': { type: 'boolean', default: false },
    only: { type: 'string' },
    duration: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '1' },
    'cpu-prof': { type: 'boolean', default: false },
    'wait-idle': { type: 'string', default: '0' },
    prepare: { type: 'boolean', default: false },
    // SMART Backend Services servers must accept RS384 and ES384; RS384 is what clients most often use.
    'k-alg': { type: 'string', default: 'RS384' },
    // Sized above the best rates measured on 2 vCPUs (K 3,500/s, X 930/s); a larger pool only takes longer to prepare.
    'k-rate': { type: 'string', default: '6000' },
    'x-rate': { type: 'string', default: '3000' },
  },
});
const only = (values.only?.split(',').map((s) => s.trim().toUpperCase()) ?? ALL_SCENARIOS) as ScenarioName[];
for (const s of only) if (!ALL_SCENARIOS.includes(s)) throw new Error(`--only: unknown scenario '${s}' (expected ${ALL_SCENARIOS.join(',')})`);
const load = {
  durationSeconds: bounded('duration', values.duration!, 1, 300),
  warmupSeconds: bounded('warmup', values.warmup!, 0, 60),
  connections: bounded('connections', values.connections!, 1, 200),
};
const rounds = bounded('rounds', values.rounds!, 1, 20);
const waitIdleSeconds = bounded('wait-idle', values['wait-idle']!, 0, 3600);
const K_ALGS: AssertionAlg[] = ['RS384', 'ES384', 'ES256', 'RS256'];
const kAlg = values['k-alg']!.toUpperCase() as AssertionAlg;
if (!K_ALGS.includes(kAlg)) throw new Error(`--k-alg must be one of ${K_ALGS.join(', ')}`);
const kRate = bounded('k-rate', values['k-rate']!, 100, 100_000);
const xRate = bounded('x-rate', values['x-rate']!, 100, 100_000);
const PROFILE_DIR = join('bench', 'results', 'profiles');

function bounded(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number from ${min} to ${max}`);
  return n;
}

function machineInfo(pgVersion: string) {
  const cpu = cpus();
  const req = createRequire(import.meta.url);
  return {
    cpuModel: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: `${platform()} ${release()}`,
    node: process.version,
    postgres: pgVersion,
    autocannon: (req('autocannon/package.json') as { version: string }).version,
  };
}

/** Starts a server child and waits until `readyPath` answers 200. */
async function startServer(name: string, args: string[], readyPath: string, nodeFlags: string[] = []): Promise<{ child: Child; base: string }> {
  const port = await freePort();
  const child = startNode(name, [...args, '--port', String(port)], { nodeFlags });
  const base = `http://${HOST}:${port}`;
  await waitForHttp(child, base + readyPath);
  return { child, base };
}

/** A Firekeeper server on `ds`, and an access token for it (its issuer is the `--base-url` the child gets). */
async function startFirekeeper(ds: Dataset, profileName?: string): Promise<{ child: Child; base: string; token: string }> {
  // One folder per scenario: V8 writes a profile per thread (tsx's loader runs in a thread of its own).
  const flags = profileName ? ['--cpu-prof', '--cpu-prof-dir', join(PROFILE_DIR, profileName)] : [];
  const port = await freePort();
  const base = `http://${HOST}:${port}`;
  const child = startNode(`firekeeper (${ds.dbName})`, [
    'packages/server/src/cli/main.ts', 'serve', '--database', ds.url, '--host', HOST, '--port', String(port), '--base-url', base,
    // Production mode requires an admin token (unused here); `=` form, since a random one may start with '-'.
    '--log-level', 'warn', '--mode', 'production', `--admin-token=${randomBytes(24).toString('base64url')}`,
  ], { nodeFlags: flags });
  await waitForHttp(child, `${base}/fhir/metadata`); // the server has migrated the database and created its signing keys
  return { child, base, token: await mintAccessToken(ds.url, base) };
}

/** Cores kept busy by other processes; waits (up to --wait-idle seconds) for it to drop below a quarter core. */
async function quietMachine(label: string): Promise<number | undefined> {
  const deadline = Date.now() + waitIdleSeconds * 1000;
  let load = await backgroundLoad();
  while (load !== undefined && load > 0.25 && Date.now() < deadline) load = await backgroundLoad();
  if (load !== undefined && load > 0.25) console.log(`[${label}] warning: other processes keep ${load} cores busy; figures will be low and noisy`);
  return load;
}

/** Runs `fn` against a ceiling server started for it, and stops the server afterwards. */
async function withServer<T>(name: string, args: string[], fn: (base: string, child: Child) => Promise<T>): Promise<T> {
  const { child, base } = await startServer(name, args, '/');
  try {
    return await fn(base, child);
  } finally {
    await stop(child);
  }
}

interface ScenarioRun { label: string; server: Child; patients?: number; database?: string; round?: Row['round'] }

async function runScenario(base: string, scenario: Scenario, { label: name, server, patients, database, round }: ScenarioRun): Promise<Row> {
  const row: Row = { scenario: name, description: scenario.description, patients, ...(round ? { round } : {}) };
  const label = roundLabel(name, round);
  console.log(`[${label}] ${scenario.description}: ${load.warmupSeconds} s warm-up + ${load.durationSeconds} s, ${load.connections} connections`);
  row.backgroundCores = await quietMachine(label);
  const problem = await preflight(base, scenario); // throws when the credentials are refused (401)
  if (problem) {
    row.failure = `preflight: ${problem}`;
    console.log(`[${label}] FAILED ${row.failure}`);
    return row;
  }
  const m = await measure({ url: base, requests: scenario.requests, serverPid: server.proc.pid, database, ...load });
  row.measurement = m;
  if (!m.ok) row.failure = `${m.non2xx} non-2xx responses ${JSON.stringify(m.statusCodes)}, ${m.errors} connection errors (${m.timeouts} timeouts)`;
  const afterRun = scenario.afterRun?.();
  if (afterRun) row.failure = row.failure ? `${afterRun}; ${row.failure}` : afterRun;
  const cpu = m.cpu ? ` | CPU ms/request: server ${m.cpu.serverMsPerRequest}, postgres ${m.cpu.postgresMsPerRequest}, load generator ${m.cpu.loadGeneratorMsPerRequest}; other processes ${m.cpu.otherCoresBusy} cores${m.cpu.serverThread ? `; server main thread running ${m.cpu.serverThread.running}, waiting for a core ${m.cpu.serverThread.waiting}` : ''}` : '';
  console.log(`[${label}] ${m.rps} req/s, p50 ${m.latencyMs.p50} ms, p99 ${m.latencyMs.p99} ms${cpu}${row.failure ? ` — FAILED: ${row.failure}` : ''}`);
  return row;
}

/** The Patients the write scenarios reference (PUT, so creating them again changes nothing that matters). */
async function ensureWriterPatients(base: string, token: string): Promise<void> {
  for (const p of WRITER_PATIENTS) {
    const res = await fetch(`${base}/fhir/Patient/${p.id}`, {
      method: 'PUT', headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${token}` }, body: JSON.stringify(p), signal: AbortSignal.timeout(30_000),
    });
    if (!res.ok) throw new Error(`PUT Patient/${p.id}: HTTP ${res.status} ${await res.text()}`);
  }
}

/**
 * K: registers a backend-service client in `ds` and signs its assertions before the load starts, enough for the
 * whole run (warm-up included) at the smaller of --k-rate and what this machine's cores could verify (+25% for noise).
 */
async function kScenario(ds: Dataset, base: string): Promise<Scenario> {
  if (load.warmupSeconds + load.durationSeconds > MAX_K_RUN_SECONDS) {
    throw new Error(`K: --warmup + --duration must not exceed ${MAX_K_RUN_SECONDS} s (client assertions are valid for at most 5 minutes and are all signed first)`);
  }
  const cores = cpus().length;
  const perCore = verifyRate(kAlg);
  const rate = Math.round(Math.min(kRate, 1.25 * cores * perCore));
  const count = Math.ceil((load.warmupSeconds + load.durationSeconds) * rate) + 10;
  console.log(`[K] signing ${count} ${kAlg} client assertions for ${rate} req/s (${load.warmupSeconds + load.durationSeconds} s; one core verifies ${Math.round(perCore)}/s)…`);
  const pool = await presignAssertions(ds.url, `${base}${TOKEN_PATH}`, kAlg, count, rate);
  console.log(`[K] signed in ${pool.signSeconds.toFixed(1)} s (client ${pool.clientId})`);
  const validFor = (pool.firstExpiry - Date.now()) / 1000;
  // The assertions must outlast the hello-world measured just before K (runFirekeeper) and K itself.
  if (validFor < 2 * (load.warmupSeconds + load.durationSeconds) + 15) {
    throw new Error(`K: the assertions expire in ${Math.round(validFor)} s, before the run ends: use a shorter --duration/--warmup (or a lower --k-rate)`);
  }
  return tokenScenario(pool, kAlg);
}

/**
 * X: creates a public app, a user and enough grants with authorization codes (PKCE) in `ds` for the whole run
 * (warm-up included) at --x-rate requests per second.
 */
async function xScenario(ds: Dataset, base: string): Promise<Scenario> {
  const count = Math.ceil((load.warmupSeconds + load.durationSeconds) * xRate) + 10;
  console.log(`[X] creating ${count} grants with authorization codes for ${xRate} req/s…`);
  // The codes must outlive the wait for a quiet machine, the warm-up and the run (see prepareAuthorizationCodes).
  const lifetime = waitIdleSeconds + load.warmupSeconds + load.durationSeconds + 300;
  const codes = await prepareAuthorizationCodes(ds.url, base, ds.patientIds, count, xRate, lifetime);
  console.log(`[X] created in ${codes.prepareSeconds.toFixed(1)} s (client ${codes.clientId}; codes valid for ${lifetime} s)`);
  return codeExchangeScenario(codes);
}

/**
 * hello-world again after every other measurement: each scenario's ratio divides by the mean of the hello-world
 * measured just before and just after it (report.ts helloRatio), and is flagged when the two disagree.
 */
type Checkpoint = (when: string) => Promise<Row>;

/** Runs scenarios against a Firekeeper server on `ds` (a server per scenario when profiling), each followed by a checkpoint. */
async function runFirekeeper(ds: Dataset, names: ScenarioName[], label: (n: ScenarioName) => string, checkpoint: Checkpoint): Promise<Row[]> {
  const rows: Row[] = [];
  const groups = values['cpu-prof'] ? names.map((n) => [n]) : [names];
  for (const group of groups) {
    const { child, base, token } = await startFirekeeper(ds, values['cpu-prof'] ? `${label(group[0]!)}-${Date.now()}` : undefined);
    let tokens: Map<string, string> | undefined;
    const launchTokens = async () => (tokens ??= await mintPatientTokens(ds.url, base, ds.patientIds));
    try {
      if (group.some((n) => n === 'C' || n === 'T')) await ensureWriterPatients(base, token);
      for (const name of group) {
        for (let n = 1; n <= rounds; n++) {
          const round = rounds > 1 ? { n, of: rounds } : undefined;
          const scenario = name === 'K' ? await kScenario(ds, base) : name === 'X' ? await xScenario(ds, base)
            : fhirScenario(name, ds.patientIds, name === 'R' || name === 'S' ? await launchTokens() : token);
          const named = roundLabel(label(name), round);
          // K and X prepare for a minute or more (signing, codes): measure the ceiling again just before them.
          if (name === 'K' || name === 'X') rows.push(await checkpoint(`before ${named}`));
          rows.push(await runScenario(base, scenario, { label: label(name), server: child, patients: ds.patients, database: ds.dbName, round }));
          rows.push(await checkpoint(`after ${named}`));
        }
      }
    } finally {
      await stop(child, 15_000); // a profile is written on exit
    }
  }
  return rows;
}

/** The read scenarios run on the dataset itself; the write scenarios (K and X register clients) on a copy that is dropped afterwards. */
async function runAll(ds: Dataset, names: ScenarioName[], label: (n: ScenarioName) => string, checkpoint: Checkpoint): Promise<Row[]> {
  const reads = names.filter((n) => n === 'R' || n === 'S');
  const writes = names.filter((n) => n === 'C' || n === 'T' || n === 'K' || n === 'X');
  const rows = reads.length ? await runFirekeeper(ds, reads, label, checkpoint) : [];
  if (writes.length) {
    console.log(`copying ${ds.dbName} for the write scenarios…`);
    const copy = await cloneDataset(ds);
    try {
      rows.push(...(await runFirekeeper(copy, writes, label, checkpoint)));
    } finally {
      await stopAll();
      await dropDataset(copy);
    }
  }
  return rows;
}

async function main(): Promise<number> {
  const startedAt = new Date();
  const rows: Row[] = [];
  const datasets: Record<string, unknown>[] = [];
  let error: string | undefined;
  const pgVersion = await postgresVersion();
  const machine = machineInfo(pgVersion);
  console.log(`machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}, ${pgVersion.split(' on ')[0]}`);
  const scaleSizes = only.includes('S') ? (values['skip-10k'] ? [100] : [100, 10_000]) : [];
  try {
    // Seed (or reuse) every dataset first, so nothing else runs on the machine while measuring.
    const bySize = new Map<number, Dataset>();
    for (const n of [...new Set([100, 1000, 10_000].filter((n) => n === 1000 || scaleSizes.includes(n)))]) {
      const ds = await ensureDataset(n, values.fresh!);
      bySize.set(n, ds);
      datasets.push({ patients: n, database: ds.dbName, seededSeconds: ds.seededSeconds, resources: await resourceCounts(ds) });
    }
    const primary = bySize.get(1000)!;
    if (values.prepare) return 0;

    // hello-world first, then after every other measurement (a server of its own each time: the write scenarios stop
    // every child when they drop their copy of the dataset).
    const measureHello = (label: string) => withServer('hello-world', ['bench/servers/hello.ts'], (base, child) => runScenario(base, helloScenario(), { label, server: child }));
    const checkpoint: Checkpoint = (when) => measureHello(`hello-world (${when})`);

    console.log('\n== ceilings ==');
    rows.push(await measureHello('hello-world'));
    // The bare ceilings: minimal-read, then with R minimal-read+audit, and with S minimal-search and its +audit.
    const ceilings: [Scenario, string][] = [[minimalReadScenario(primary.patientIds, false), 'bench/servers/minimal-read.ts']];
    if (only.includes('R')) ceilings.push([minimalReadScenario(primary.patientIds, true), 'bench/servers/minimal-read.ts']);
    if (only.includes('S')) for (const audited of [false, true]) ceilings.push([minimalSearchScenario(primary.patientIds, audited), 'bench/servers/minimal-search.ts']);
    for (const [scenario, script] of ceilings) {
      const args = [script, '--database', primary.url, ...(scenario.name.endsWith('+audit') ? ['--audit'] : [])];
      rows.push(await withServer(scenario.name, args, (base, child) =>
        runScenario(base, scenario, { label: scenario.name, server: child, patients: primary.patients, database: primary.dbName })));
      rows.push(await checkpoint(`after ${scenario.name}`));
    }

    console.log(`\n== Firekeeper, ${primary.patients} patients ==`);
    rows.push(...(await runAll(primary, only, (n) => n, checkpoint)));

    for (const n of scaleSizes) {
      console.log(`\n== Firekeeper, ${n} patients (search scaling) ==`);
      rows.push(...(await runAll(bySize.get(n)!, ['S'], () => `S@${n}`, checkpoint)));
    }
  } catch (err) {
    error = (err as Error).stack ?? String(err);
    console.error(`bench: ${error}\n(writing the results measured so far)`);
  } finally {
    await stopAll();
  }
  const targets = evaluateTargets(rows);
  const finishedAt = new Date();
  const file = writeResults({ startedAt, finishedAt, machine, options: { ...load, rounds, waitIdleSeconds, only, skip10k: values['skip-10k'], fresh: values.fresh, kAlg, kRate, xRate }, datasets, results: rows, targets, error }, startedAt);
  const drift = formatDrift(rows);
  const pgWork = formatPgWork(rows);
  console.log(`\n${formatResults(rows)}\n\n${formatCpu(rows)}${pgWork ? `\n\n${pgWork}` : ''}\n\n${formatTargets(targets)}${drift ? `\n\n${drift}` : ''}\n\nresults: ${file} (${formatDuration((finishedAt.getTime() - startedAt.getTime()) / 1000)})`);
  return error || rows.some((r) => r.failure) ? 1 : 0;
}

const interrupted = () => {
  console.error('\ninterrupted: stopping child processes');
  void stopAll().finally(() => process.exit(130));
};
process.once('SIGINT', interrupted);
process.once('SIGTERM', interrupted);

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`bench: ${err.stack ?? err.message}`);
    void stopAll().finally(() => process.exit(1));
  },
);
