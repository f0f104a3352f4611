// Child processes for the benchmark: start, wait until they answer HTTP, and always stop them
// (SIGTERM, then SIGKILL after a grace period). Every child is tracked so `stopAll` can clean up on failure.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export const HOST = '127.0.0.1';

export interface Child {
  name: string;
  proc: ChildProcess;
  /** The last lines the child wrote (stdout and stderr), for error messages. */
  log: () => string;
  exited: Promise<number | null>;
}

const running = new Set<Child>();

/** Starts `node --import tsx <args>` in the repository root; output is kept, not printed. */
export function startNode(name: string, args: string[], opts: { inherit?: boolean; nodeFlags?: string[] } = {}): Child {
  const proc = spawn(process.execPath, [...(opts.nodeFlags ?? []), '--import', 'tsx', ...args], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
    if (opts.inherit) process.stderr.write(chunk);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const child: Child = { name, proc, log: () => tail, exited };
  running.add(child);
  void exited.then(() => running.delete(child));
  return child;
}

/** A free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers 200, the child exits, or `timeoutMs` passes. */
export async function waitForHttp(child: Child, url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void child.exited.then((c) => (exitCode = c ?? -1));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`${child.name} exited (code ${exitCode}) before it was ready:\n${child.log()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`${child.name} did not answer ${url} within ${timeoutMs / 1000} s:\n${child.log()}`);
}

/** Waits for a child to finish by itself (with a time limit); rejects on a non-zero exit. */
export async function waitForExit(child: Child, timeoutMs: number): Promise<void> {
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
  const result = await Promise.race([child.exited, timer]);
  if (result === 'timeout') {
    await stop(child);
    throw new Error(`${child.name} did not finish within ${Math.round(timeoutMs / 60_000)} min`);
  }
  if (result !== 0) throw new Error(`${child.name} failed (exit code ${result}):\n${child.log()}`);
}

/** SIGTERM, then SIGKILL if the child is still there after `graceMs`. */
export async function stop(child: Child, graceMs = 5000): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGTERM');
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
  if ((await Promise.race([child.exited, timer])) === 'timeout') {
    child.proc.kill('SIGKILL');
    await child.exited;
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => stop(c)));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
