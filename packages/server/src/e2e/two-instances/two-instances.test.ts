// Two Firekeeper servers on one PostgreSQL behave as one: no state that matters lives in a process.
// Real HTTP on loopback; runs in the PostgreSQL pass of the suite.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../app.ts';
import { loadConfig } from '../../config.ts';
import { openDatabase, type Database } from '../../store/database.ts';
import { testDatabase, TEST_ENGINE } from '../../test-support/database.ts';
import { issueAccessToken } from '../../auth/access-token.ts';
import { KeyRing } from '../../auth/key-ring.ts';
import { verifyAuditTrail } from '../../audit/audit-verify.ts';

const skip = TEST_ENGINE !== 'postgres' ? 'needs a PostgreSQL server: runs in the postgres pass of npm test' : false;

describe('two instances on one PostgreSQL', { skip }, () => {
  const servers: { app: FastifyInstance; db: Database; url: string }[] = [];
  const base = 'http://127.0.0.1:1'; // the public base URL both instances share (behind one load balancer)
  let authorization = '';

  before(async () => {
    const shared = await testDatabase(); // creates and migrates the schema; both instances get their own pool on it
    for (let i = 0; i < 2; i++) {
      const db = await openDatabase({ url: shared.url, schema: shared.schema, poolSize: 5 });
      const app = await buildApp({ config: loadConfig({ baseUrl: base, logLevel: 'silent' }, {}), db });
      const address = await app.listen({ host: '127.0.0.1', port: 0 });
      servers.push({ app, db, url: `${address}/fhir` });
    }
    // One token, signed with the shared keys, is accepted by both instances.
    const { token } = await issueAccessToken(new KeyRing(shared), { issuer: base, audience: `${base}/fhir`, clientId: 'c', subject: 'c', scope: 'system/*.*', lifetimeSeconds: 600 });
    authorization = `Bearer ${token}`;
  });
  after(async () => {
    for (const s of servers) {
      await s.app.close();
      await s.db.close();
    }
  });

  const call = async (i: number, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${servers[i]!.url}${path}`, {
      method,
      headers: { 'content-type': 'application/fhir+json', authorization, ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };

  it('a resource written through one instance is read, updated and deleted through the other', async () => {
    const created = await call(0, 'POST', '/Patient', { resourceType: 'Patient', gender: 'female' });
    assert.equal(created.status, 201);
    const id = created.json.id;
    assert.equal((await call(1, 'GET', `/Patient/${id}`)).json.gender, 'female');
    assert.equal((await call(1, 'PUT', `/Patient/${id}`, { resourceType: 'Patient', id, gender: 'male' }, { 'if-match': 'W/"1"' })).status, 200);
    assert.equal((await call(0, 'GET', `/Patient/${id}`)).json.meta.versionId, '2');
    assert.equal((await call(0, 'DELETE', `/Patient/${id}`)).status, 204);
    assert.equal((await call(1, 'GET', `/Patient/${id}`)).status, 410);
  });

  it('concurrent updates with the same If-Match on both instances: exactly one succeeds', async () => {
    const id = (await call(0, 'POST', '/Patient', { resourceType: 'Patient' })).json.id;
    const attempts = await Promise.all([0, 1, 0, 1].map((i, n) => call(i, 'PUT', `/Patient/${id}`, { resourceType: 'Patient', id, birthDate: `200${n}-01-01` }, { 'if-match': 'W/"1"' })));
    assert.deepEqual(attempts.map((a) => a.status).sort(), [200, 412, 412, 412]);
    assert.equal((await call(1, 'GET', `/Patient/${id}`)).json.meta.versionId, '2');
  });

  it('concurrent conditional creates on both instances create the resource once', async () => {
    const body = { resourceType: 'Organization', name: 'Once', identifier: [{ system: 'urn:org', value: 'once' }] };
    const results = await Promise.all([0, 1, 0, 1, 0, 1].map((i) => call(i, 'POST', '/Organization', body, { 'if-none-exist': 'identifier=urn:org|once' })));
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 201]);
    assert.equal(new Set(results.map((r) => r.json.id)).size, 1);
  });

  it('concurrent transactions with the same ifNoneExist on both instances create the resource once', async () => {
    const bundle = {
      resourceType: 'Bundle', type: 'transaction', entry: [
        { fullUrl: 'urn:uuid:0b0d7c2e-6d1f-4b7a-9d7e-000000000001', resource: { resourceType: 'Patient', identifier: [{ system: 'urn:tx', value: 'once' }] }, request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=urn:tx|once' } },
        { resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'urn:uuid:0b0d7c2e-6d1f-4b7a-9d7e-000000000001' } }, request: { method: 'POST', url: 'Observation' } },
      ],
    };
    const results = await Promise.all([0, 1, 0, 1].map((i) => call(i, 'POST', '', bundle)));
    assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200]);
    const patientIds = new Set(results.map((r) => r.json.entry[0].resource.id));
    assert.equal(patientIds.size, 1);
    assert.ok(results.every((r) => r.json.entry[1].resource.subject.reference === `Patient/${[...patientIds][0]}`));
  });

  it('concurrent creates-on-update of the same id on both instances: one 201, the rest 200, versions in order', async () => {
    const results = await Promise.all([0, 1, 0, 1].map((i) => call(i, 'PUT', '/Patient/same-id', { resourceType: 'Patient', id: 'same-id' })));
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 200, 200, 201]);
    assert.deepEqual(results.map((r) => r.json.meta.versionId).sort(), ['1', '2', '3', '4']);
  });

  it('a search page fetched from one instance continues on the other', async () => {
    for (let i = 0; i < 5; i++) await call(i % 2, 'POST', '/Patient', { resourceType: 'Patient', identifier: [{ system: 'urn:page', value: 'p' }] });
    const first = await call(0, 'GET', '/Patient?identifier=urn:page|p&_count=2');
    const ids = first.json.entry.map((e: any) => e.resource.id);
    let next = first.json.link.find((l: any) => l.relation === 'next')?.url as string | undefined;
    while (next) {
      const page = await call(1, 'GET', next.slice(next.indexOf('/fhir') + 5));
      ids.push(...page.json.entry.map((e: any) => e.resource.id));
      next = page.json.link.find((l: any) => l.relation === 'next')?.url;
    }
    assert.equal(ids.length, 5);
    assert.equal(new Set(ids).size, 5);
  });

  it('both instances under concurrent load append every response\'s AuditEvent to one chain, which verifies', async () => {
    const id = (await call(0, 'POST', '/Patient', { resourceType: 'Patient' })).json.id;
    const responses: { status: number; requestId: string | null }[] = [];
    const worker = async (w: number) => {
      for (let i = 0; i < 25; i++) {
        const res = await fetch(`${servers[(w + i) % 2]!.url}/Patient/${id}`, { headers: { authorization } });
        await res.arrayBuffer();
        responses.push({ status: res.status, requestId: res.headers.get('x-request-id') });
      }
    };
    await Promise.all(Array.from({ length: 16 }, (_, w) => worker(w)));
    assert.deepEqual(responses.filter((r) => r.status !== 200), []);
    const chained = await servers[0]!.db.query<{ id: string }>('SELECT event_id AS id FROM audit_chain WHERE event_id = ANY($1::text[])', [responses.map((r) => r.requestId)]);
    assert.equal(chained.length, responses.length, 'every response has its link');
    const verified = await verifyAuditTrail(servers[1]!.db);
    assert.ok(verified.ok, JSON.stringify(verified));
  });
});
