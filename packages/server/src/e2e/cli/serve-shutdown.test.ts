// Stopping `firekeeper serve` (Ctrl-C, SIGTERM) while a client, as `npm start`'s launcher does, holds a keep-alive
// connection with a request in flight and another connection it opened but has not used yet: the request is answered
// in full, and the server exits at once instead of waiting for those connections' keep-alive timeout (72 s).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { CLI_MAIN, cliDatabase } from '../../test-support/cli-database.ts';
import { freePort } from '../../test-support/listening-app.ts';
import { responseOf, within } from '../../test-support/waiting.ts';

const cli = cliDatabase('shutdown');
const EXIT_BOUND_MS = 10_000; // far below the 72 s keep-alive timeout that used to hold the process

describe('firekeeper serve: stopping', () => {
  it('answers the request in flight, then exits without waiting for the keep-alive or the unused connection', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, 'serve', '--database', cli.database, '--port', String(port), '--mode', 'production', '--log-level', 'warn'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FIREKEEPER_ADMIN_TOKEN: randomBytes(32).toString('hex') } });
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let unused: Socket | undefined;
    try {
      await listening(child);
      // Connected before the warm-up request, so the server has accepted it by the time that is answered.
      unused = await connected(port);
      const warmUp = await send(agent, port, 'GET', '/fhir/metadata');
      assert.equal(warmUp.res.statusCode, 200);

      // In flight: the headers are in and routed (Node answers `Expect: 100-continue` as it hands the request to
      // Fastify), the body is not, so the connection is busy when the server starts closing.
      const body = 'grant_type=nope';
      const inFlight = request({ agent, port, host: '127.0.0.1', method: 'POST', path: '/auth/token', headers: {
        'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), expect: '100-continue',
      } });
      const response = responseOf(inFlight);
      inFlight.flushHeaders();
      await once(inFlight, 'continue');
      assert.equal(inFlight.reusedSocket, true, 'the request rides the warmed-up keep-alive connection');

      child.kill('SIGINT');
      await stoppedListening(port);
      inFlight.end(body);
      const { res, text } = await response;
      assert.equal(res.statusCode, 400);
      assert.equal(JSON.parse(text).error, 'unsupported_grant_type');

      const [code, signal] = await within(exited, EXIT_BOUND_MS, 'the server process exits soon after its last response');
      assert.deepEqual({ code, signal }, { code: 0, signal: null });
    } finally {
      agent.destroy();
      unused?.destroy();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});

function listening(child: ChildProcess): Promise<void> {
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/FHIR base:/.test(out)) resolve();
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
  });
}


function send(agent: Agent, port: number, method: string, path: string): Promise<{ res: IncomingMessage; text: string }> {
  const req = request({ agent, port, host: '127.0.0.1', method, path });
  const response = responseOf(req);
  req.end();
  return response;
}

/** A connection that sends nothing. */
async function connected(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  return socket;
}

/** Resolves once the port refuses new connections: the server has begun closing. */
async function stoppedListening(port: number): Promise<void> {
  for (;;) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    if (refused) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

