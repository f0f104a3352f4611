// Where the CPU goes during a measurement (Linux /proc): the server under test, the PostgreSQL processes,
// the load generator (this process) and everything else on the machine. Elsewhere these are undefined.
import { readFileSync } from 'node:fs';
import pg from 'pg';

const TICK_MS = 10; // USER_HZ is 100 on Linux

export interface CpuSnapshot {
  at: number;
  server: number;
  /** The server's main (JavaScript) thread: ns on a core and ns runnable but waiting for one. */
  serverThread?: { running: number; waiting: number };
  postgres: Map<number, number>;
  self: number;
  machineBusy: number;
}

/** CPU milliseconds per request, by consumer; `otherBusy` is the rest of the machine (other processes). */
export interface CpuSplit {
  serverMsPerRequest: number;
  postgresMsPerRequest: number;
  loadGeneratorMsPerRequest: number;
  otherCoresBusy: number;
  /**
   * The share of the measurement the server's main thread spent on a core, and runnable but waiting for one
   * (`/proc/<pid>/task/<pid>/schedstat`). Together near 1: the one JavaScript thread sets the pace, whatever the
   * machine's idle time says.
   */
  serverThread?: { running: number; waiting: number };
}

function procTicks(pid: number | string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return undefined;
  }
}

function threadSchedule(pid: number): CpuSnapshot['serverThread'] {
  try {
    const [running, waiting] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
    return running === undefined || waiting === undefined ? undefined : { running, waiting };
  } catch {
    return undefined; // no schedstats in this kernel
  }
}

function postgresTicks(pids: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    const t = procTicks(pid);
    if (t !== undefined) out.set(pid, t);
  }
  return out;
}

/**
 * The PostgreSQL processes that work for `database`: its backends plus the shared background processes
 * (checkpointer, WAL writer…). Backends of other databases (other people's tests) are left out.
 */
export async function postgresPids(adminUrl: string, database: string | undefined): Promise<number[]> {
  if (process.platform !== 'linux' || database === undefined) return [];
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE (datname = $1 OR datname IS NULL) AND pid <> pg_backend_pid()', [database]);
    return rows.map((r) => r.pid);
  } finally {
    await client.end();
  }
}

function machineBusyTicks(): number {
  const [cpu] = readFileSync('/proc/stat', 'utf8').split('\n');
  const v = cpu!.trim().split(/\s+/).slice(1).map(Number);
  return v.reduce((a, b) => a + b, 0) - v[3]! - (v[4] ?? 0); // all but idle and iowait
}

export function snapshot(serverPid: number | undefined, pgPids: readonly number[]): CpuSnapshot | undefined {
  if (process.platform !== 'linux') return undefined;
  const u = process.cpuUsage();
  return {
    at: Date.now(),
    server: serverPid === undefined ? 0 : (procTicks(serverPid) ?? 0) * TICK_MS,
    serverThread: serverPid === undefined ? undefined : threadSchedule(serverPid),
    postgres: postgresTicks(pgPids),
    self: (u.user + u.system) / 1000,
    machineBusy: machineBusyTicks() * TICK_MS,
  };
}

export function split(a: CpuSnapshot | undefined, b: CpuSnapshot | undefined, requests: number): CpuSplit | undefined {
  if (!a || !b || requests === 0) return undefined;
  let pg = 0;
  for (const [pid, t] of b.postgres) pg += (t - (a.postgres.get(pid) ?? 0)) * TICK_MS;
  const server = b.server - a.server;
  const self = b.self - a.self;
  const other = Math.max(0, b.machineBusy - a.machineBusy - server - pg - self);
  const round = (v: number) => Math.round(v * 1000) / 1000;
  const wallNs = (b.at - a.at) * 1e6;
  const share = (x: number, y: number) => Math.round(((y - x) / wallNs) * 100) / 100;
  return {
    ...(a.serverThread && b.serverThread
      ? { serverThread: { running: share(a.serverThread.running, b.serverThread.running), waiting: share(a.serverThread.waiting, b.serverThread.waiting) } }
      : {}),
    serverMsPerRequest: round(server / requests),
    postgresMsPerRequest: round(pg / requests),
    loadGeneratorMsPerRequest: round(self / requests),
    otherCoresBusy: Math.round((other / (b.at - a.at)) * 100) / 100,
  };
}

/** Cores kept busy by the rest of the machine over `ms` (sampled while our servers are idle). */
export async function backgroundLoad(ms = 1000): Promise<number | undefined> {
  if (process.platform !== 'linux') return undefined;
  const a = machineBusyTicks();
  const self0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, ms));
  const self = process.cpuUsage(self0);
  const busy = (machineBusyTicks() - a) * TICK_MS - (self.user + self.system) / 1000;
  return Math.round((Math.max(0, busy) / ms) * 100) / 100;
}
