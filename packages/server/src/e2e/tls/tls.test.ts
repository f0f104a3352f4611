// --tls-cert/--tls-key: the server speaks TLS 1.2 or newer only (real sockets, a certificate made by openssl).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../app.ts';
import { loadConfig } from '../../config.ts';
import { testDatabase } from '../../test-support/database.ts';

const dir = mkdtempSync(join(tmpdir(), 'fk-tls-'));
let app: FastifyInstance;
let port: number;

before(async () => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const config = loadConfig({ tlsCert: join(dir, 'cert.pem'), tlsKey: join(dir, 'key.pem'), logLevel: 'silent', baseUrl: 'https://localhost' }, {});
  app = await buildApp({ config, db: await testDatabase() });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as { port: number }).port;
});
after(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

function get(path: string, maxVersion: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'): Promise<{ status: number; protocol: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, rejectUnauthorized: false, maxVersion, minVersion: 'TLSv1' }, (res) => {
      const protocol = (res.socket as TLSSocket).getProtocol() ?? '';
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, protocol }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTPS', () => {
  it('serves the FHIR API over TLS 1.3 and 1.2', async () => {
    assert.deepEqual(await get('/fhir/metadata', 'TLSv1.3'), { status: 200, protocol: 'TLSv1.3' });
    assert.deepEqual(await get('/fhir/metadata', 'TLSv1.2'), { status: 200, protocol: 'TLSv1.2' });
  });

  it('refuses a client limited to TLS 1.1', async () => {
    await assert.rejects(get('/fhir/metadata', 'TLSv1.1'));
  });
});
