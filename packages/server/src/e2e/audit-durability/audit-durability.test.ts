// Issue 4, "Done when": killing the server (SIGKILL) in the middle of load loses no audit record of any response that
// was received, and `firekeeper audit verify` passes afterwards and fails once a record is edited in the database.
// The real `firekeeper serve` runs as a child process on the embedded data folder (or its own PostgreSQL database);
// concurrent clients read, search and create with a real access token from `firekeeper token`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI_MAIN, cliDatabase } from '../../test-support/cli-database.ts';
import { freePort } from '../../test-support/listening-app.ts';
import { openDatabase } from '../../store/database.ts';

const cli = cliDatabase('audit');
const { firekeeper } = cli;
const LOAD_WORKERS = 24;
const KILL_AFTER_RESPONSES = 400;
const LOAD_LIMIT_MS = 30_000;

async function startServer(port: number): Promise<{ child: ChildProcess; fhirBase: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, 'serve', '--database', cli.database, '--port', String(port), '--mode', 'production', '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FIREKEEPER_ADMIN_TOKEN: randomBytes(32).toString('hex') } });
  let out = '';
  const fhirBase = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /FHIR base:\s+(\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
  });
  return { child, fhirBase };
}

/** Committed AuditEvent ids among `ids`, read straight from the database after the kill. */
async function committed(ids: string[]): Promise<Set<string>> {
  const db = await openDatabase({ url: cli.database });
  try {
    const rows = await db.query<{ id: string }>(`SELECT id FROM resources WHERE type = 'AuditEvent' AND id = ANY($1::text[])`, [ids]);
    return new Set(rows.map((r) => r.id));
  } finally {
    await db.close();
  }
}

describe('the audit trail survives SIGKILL under load', () => {
  it('every response received has its AuditEvent committed, and the chain verifies (then breaks when edited)', async () => {
    const port = await freePort();
    const printed = firekeeper('token', '--scope', 'system/*.cruds', '--port', String(port), '--lifetime', '600');
    assert.equal(printed.status, 0, printed.stderr);
    const headers = { authorization: `Bearer ${printed.stdout.trim()}`, 'content-type': 'application/fhir+json' };
    const { child, fhirBase } = await startServer(port);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const received: { status: number; id: string }[] = [];
    let failures = 0;
    try {
      const patient = await (await fetch(`${fhirBase}/Patient`, { method: 'POST', headers, body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Durable' }] }) })).json();
      const requests: (() => Promise<Response>)[] = [
        () => fetch(`${fhirBase}/Patient/${patient.id}`, { headers }),
        () => fetch(`${fhirBase}/Observation?patient=${patient.id}&_count=5`, { headers }),
        () => fetch(`${fhirBase}/Observation`, { method: 'POST', headers, body: JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'pulse' }, subject: { reference: `Patient/${patient.id}` } }) }),
        () => fetch(`${fhirBase}/Patient/does-not-exist`, { headers }),
      ];
      const started = Date.now();
      let stop = false;
      const worker = async (w: number) => {
        for (let i = w; !stop && Date.now() - started < LOAD_LIMIT_MS; i++) {
          try {
            const res = await requests[i % requests.length]!();
            received.push({ status: res.status, id: res.headers.get('x-request-id')! }); // headers came: the response left
            await res.arrayBuffer().catch(() => undefined);
          } catch {
            failures++; // the server is gone
            if (child.exitCode !== null || child.signalCode !== null) return;
          }
        }
      };
      const load = Array.from({ length: LOAD_WORKERS }, (_, w) => worker(w));
      while (received.length < KILL_AFTER_RESPONSES && Date.now() - started < LOAD_LIMIT_MS) await sleep(5);
      child.kill('SIGKILL'); // mid-load: requests are in flight, batches are being written
      await exited;
      stop = true;
      await Promise.all(load);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    console.log(`killed after ${received.length} responses (${failures} requests cut off)`);
    assert.ok(received.length >= KILL_AFTER_RESPONSES, `load reached ${received.length} responses`);
    assert.ok(failures > 0, 'some requests were cut off by the kill');
    assert.ok(received.every((r) => /^[0-9a-f-]{36}$/.test(r.id)), 'every response carried its X-Request-Id');
    const ids = received.map((r) => r.id);
    const found = await committed(ids);
    const lost = received.filter((r) => !found.has(r.id));
    assert.deepEqual(lost, [], `${lost.length} of ${received.length} received responses have no committed AuditEvent`);

    const verified = firekeeper('audit', 'verify');
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /^audit trail intact: \d+ records/);

    const victim = ids[Math.floor(ids.length / 2)]!;
    const db = await openDatabase({ url: cli.database });
    await db.query(`UPDATE resources SET resource = jsonb_set(resource::jsonb, '{outcome}', '"8"')::json WHERE type = 'AuditEvent' AND id = $1`, [victim]);
    await db.close();
    const broken = firekeeper('audit', 'verify');
    assert.equal(broken.status, 1, broken.stdout + broken.stderr);
    assert.match(broken.stdout, new RegExp(`^audit trail broken at link \\d+ \\(AuditEvent/${victim}\\): hash mismatch`));
  });
});
