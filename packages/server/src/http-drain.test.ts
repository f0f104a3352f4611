// Closing answers the requests in flight in full and then lets go of every connection, on real loopback sockets.
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, get, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import Fastify, { type FastifyInstance } from 'fastify';
import { drainConnectionsOnClose } from './http-drain.ts';
import { responseOf, within as withinMs } from './test-support/waiting.ts';

const BOUND_MS = 5_000; // far below the 72 s keep-alive timeout that close() used to wait for
const BIG = 64 * 1024 * 1024; // more than the loopback socket buffers hold, so it is still being written out
const within = <T>(promise: Promise<T>, what: string) => withinMs(promise, BOUND_MS, what);
const body = async (req: ReturnType<typeof get>) => (await responseOf(req)).text;

describe('drainConnectionsOnClose', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fk-drain-'));
  let tls: { key: Buffer; cert: Buffer };
  before(() => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    tls = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('answers a request in flight on a keep-alive connection in full, then ends that connection', { timeout: 20_000 }, async (t) => {
    const server = await testServer(t);
    const agent = new Agent({ keepAlive: true });
    try {
      const response = body(get({ agent, port: server.port, host: '127.0.0.1', path: '/held/1' }));
      await server.held(1).started;
      const { closed } = await beginClose(server.app);
      server.held(1).release();
      assert.equal(await response, 'answer 1');
      await within(closed, 'close() resolves once the last response is sent');
    } finally {
      agent.destroy();
    }
  });

  it('answers a request pipelined behind the one in flight before ending the connection', { timeout: 20_000 }, async (t) => {
    const server = await testServer(t);
    const { socket, received, ended } = rawConnection(server.port);
    socket.write('GET /held/1 HTTP/1.1\r\nHost: test\r\n\r\nGET /held/2 HTTP/1.1\r\nHost: test\r\n\r\n');
    await Promise.all([server.held(1).started, server.held(2).started]);
    const { closed } = await beginClose(server.app);
    server.held(1).release();
    await until(() => received().includes('answer 1'));
    server.held(2).release();
    await within(ended, 'the server ends the connection after the second response');
    assert.match(received(), /^HTTP\/1\.1 200 [\s\S]*answer 1HTTP\/1\.1 200 [\s\S]*answer 2$/);
    await within(closed, 'close() resolves');
  });

  it('does not cut short a large response still being written out on another connection', { timeout: 30_000 }, async (t) => {
    const server = await testServer(t);
    const agent = new Agent({ keepAlive: true });
    try {
      const small = body(get({ agent, port: server.port, host: '127.0.0.1', path: '/held/1' }));
      // Its reader reads nothing until told, as a slow client would.
      const big = new Promise<IncomingMessage>((resolve) => get({ agent, port: server.port, host: '127.0.0.1', path: '/big' }, (res) => resolve(res.pause())));
      await Promise.all([server.held(1).started, server.held(2).started]);
      const { closed } = await beginClose(server.app);
      server.held(2).release();
      const bigResponse = await big;
      await until(() => server.bigRaw?.writableEnded === true);
      assert.equal(server.bigRaw!.writableFinished, false, 'precondition: the large response is still being written out');
      server.held(1).release();
      assert.equal(await small, 'answer 1');
      let length = 0;
      bigResponse.on('data', (chunk: Buffer) => (length += chunk.length)).resume();
      await within(new Promise((resolve, reject) => bigResponse.once('end', resolve).once('error', () => reject(new Error(`cut short after ${length} bytes`)))), 'the large response ends');
      assert.equal(length, BIG);
      await within(closed, 'close() resolves');
    } finally {
      agent.destroy();
    }
  });
  for (const scheme of ['http', 'https'] as const) {
    it(`closes a connection that has not sent a byte yet as close() begins (${scheme})`, { timeout: 20_000 }, async (t) => {
      const server = await testServer(t, scheme === 'https' ? tls : undefined);
      const accepted = new Promise((resolve) => server.app.server.once(scheme === 'https' ? 'secureConnection' : 'connection', resolve));
      const socket: Socket = scheme === 'https'
        ? tlsConnect({ port: server.port, host: '127.0.0.1', rejectUnauthorized: false })
        : connect(server.port, '127.0.0.1');
      const dropped = new Promise((resolve) => socket.once('close', resolve));
      socket.on('error', () => {});
      await accepted;
      const { closed } = await beginClose(server.app);
      await within(dropped, 'the unused connection is closed');
      await within(closed, 'close() resolves');
    });
  }

  it('answers a first request that had begun to arrive, with 503 and Connection: close', { timeout: 20_000 }, async (t) => {
    const server = await testServer(t);
    const { socket, received, ended } = rawConnection(server.port);
    socket.write('GET /held/1 HT');
    await until(() => [...server.sockets].some((s) => s.bytesRead > 0));
    const { closed } = await beginClose(server.app);
    socket.write('TP/1.1\r\nHost: test\r\n\r\n');
    await within(ended, 'the server ends the connection after its answer');
    assert.match(received(), /^HTTP\/1\.1 503 [\s\S]*\r\nConnection: close\r\n/i);
    await within(closed, 'close() resolves');
  });
});

interface Held {
  started: Promise<void>;
  release(): void;
}

interface TestServer {
  app: FastifyInstance;
  port: number;
  held(n: number): Held;
  /** The response of `/big`, once its handler has been released. */
  bigRaw?: ServerResponse;
  /** The server's sockets, as accepted. */
  sockets: Set<Socket>;
}

/** Fastify with the drain, listening on loopback: `/held/:n` answers `answer n` once released; `/big` (held as 2) sends BIG bytes. */
async function testServer(t: TestContext, https?: { key: Buffer; cert: Buffer }): Promise<TestServer> {
  const app = (https ? Fastify({ https }) : Fastify()) as unknown as FastifyInstance;
  drainConnectionsOnClose(app);
  const sockets = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => sockets.add(socket));
  // Should a test fail with connections still open, they must not keep close() (and the test run) waiting.
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await app.close();
  });
  const helds = new Map<number, Held & { released: Promise<void>; start(): void }>();
  const held = (n: number) => {
    if (!helds.has(n)) {
      let start!: () => void;
      let release!: () => void;
      const started = new Promise<void>((resolve) => (start = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      helds.set(n, { started, release, released, start });
    }
    return helds.get(n)!;
  };
  const server: TestServer = { app, port: 0, held, sockets };
  app.get<{ Params: { n: string } }>('/held/:n', async (request) => {
    const n = Number(request.params.n);
    held(n).start();
    await held(n).released;
    return `answer ${n}`;
  });
  app.get('/big', async (_request, reply) => {
    held(2).start();
    await held(2).released;
    server.bigRaw = reply.raw;
    return reply.type('application/octet-stream').send(Buffer.alloc(BIG, 'x'));
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  server.port = (app.server.address() as { port: number }).port;
  return server;
}

/** A plain TCP connection for hand-written HTTP: what it has received so far, and its end (the server's FIN). */
function rawConnection(port: number): { socket: Socket; received: () => string; ended: Promise<unknown> } {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
  return { socket, received: () => received, ended: new Promise((resolve) => socket.once('end', resolve)) };
}

/** Starts `close()`; resolves, with close()'s own promise, once the server has stopped accepting connections. */
async function beginClose(app: FastifyInstance): Promise<{ closed: Promise<undefined> }> {
  const closed = app.close();
  await until(() => !app.server.listening);
  return { closed };
}


async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

