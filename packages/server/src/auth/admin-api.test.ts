// The admin API: one bearer credential compared in constant time, the client registry over JSON, initial access
// tokens; every error path answers with the exact OAuth error and changes nothing; secrets are shown once only.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { testApp, type TestApp, type TestResponse } from '../test-support/app.ts';
import { SANDBOX_ADMIN_TOKEN } from '../config.ts';
import type { Database } from '../store/database.ts';
import { AuditLog } from '../audit/audit-log.ts';
import { adminApi, ADMIN_API_PREFIX } from './admin-api.ts';
import { verifySecret } from './secret-hash.ts';
import { clientSecretHash, getClient, listClients } from './clients/client-store.ts';

/** The audit options of an admin API registered on its own (outside buildApp, which also makes request ids UUIDs: they are AuditEvent ids). */
const auditTo = (db: Database) => ({ audit: new AuditLog(db, { source: { baseUrl: 'http://firekeeper.test' } }), fhirBase: 'http://firekeeper.test/fhir' });

let t: TestApp;
before(async () => {
  t = await testApp();
});

const API = ADMIN_API_PREFIX;
const PUBLIC_APP = { name: 'Growth chart', type: 'public', redirectUris: ['https://gc.example/cb'], launchUrl: 'https://gc.example/launch', scopes: ['launch', 'patient/*.rs'] };
const SYMMETRIC_APP = { name: 'Chart review', type: 'confidential-symmetric', redirectUris: ['https://cr.example/cb'] };

/** An admin API call: JSON body (raw when a string), the sandbox admin token unless another is given. */
function admin(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, token: string | null = SANDBOX_ADMIN_TOKEN, contentType = 'application/json'): Promise<TestResponse> {
  // test-support sends an access token unless told otherwise: `undefined` sends no Authorization header.
  const headers: Record<string, string | undefined> = { authorization: token === null ? undefined : `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = contentType;
  return t.request(method, `${API}${url}`, body, headers);
}

function assertError(res: TestResponse, status: number, error: string, description: string | RegExp) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json.error, error);
  if (typeof description === 'string') assert.equal(res.json.error_description, description);
  else assert.match(res.json.error_description, description);
  assert.deepEqual(Object.keys(res.json).sort(), ['error', 'error_description']);
  assert.equal(res.headers['cache-control'], 'no-store');
}

const clientCount = async () => (await listClients(t.db)).length;

describe('admin API authentication', () => {
  it('RFC 6750 §3.1: a request without credentials gets 401 and a challenge without an error code', async () => {
    for (const headers of [{ authorization: undefined }, { authorization: 'Basic YWRtaW46YWRtaW4=' }]) {
      const res = await t.request('GET', `${API}/clients`, undefined, headers);
      assertError(res, 401, 'invalid_token', 'the admin API needs Authorization: Bearer <admin token>');
      assert.equal(res.headers['www-authenticate'], 'Bearer realm="firekeeper-admin"');
    }
  });

  it('a wrong, truncated, extended or empty token gets 401 with error="invalid_token"', async () => {
    for (const token of ['wrong', SANDBOX_ADMIN_TOKEN.slice(0, -1), `${SANDBOX_ADMIN_TOKEN}x`, SANDBOX_ADMIN_TOKEN.toUpperCase(), '']) {
      const res = await admin('GET', '/clients', undefined, token);
      assertError(res, 401, 'invalid_token', 'the admin token is not valid');
      assert.equal(res.headers['www-authenticate'], 'Bearer realm="firekeeper-admin", error="invalid_token"');
    }
  });

  it('an unauthenticated write changes nothing, and unknown paths are hidden behind authentication', async () => {
    const before = await clientCount();
    assertError(await admin('POST', '/clients', PUBLIC_APP, 'wrong'), 401, 'invalid_token', 'the admin token is not valid');
    assertError(await admin('POST', '/initial-access-tokens', {}, null), 401, 'invalid_token', /needs Authorization/);
    assert.equal(await clientCount(), before);
    assertError(await admin('GET', '/nothing-here', undefined, null), 401, 'invalid_token', /needs Authorization/);
    assertError(await admin('GET', '/nothing-here'), 404, 'invalid_request', 'no such admin API endpoint');
  });

  it('accepts the bearer scheme case-insensitively (RFC 7235 §2.1)', async () => {
    const res = await t.request('GET', `${API}/clients`, undefined, { authorization: `bearer ${SANDBOX_ADMIN_TOKEN}` });
    assert.equal(res.status, 200);
  });

  it('a configured token replaces the development one', async () => {
    const token = 'c0nfigured-admin-token-0123456789abcdef';
    const app = Fastify({ genReqId: () => randomUUID() });
    await app.register(adminApi, { prefix: API, db: t.db, adminToken: token, ...auditTo(t.db) });
    const get = (tok: string) => app.inject({ method: 'GET', url: `${API}/clients`, headers: { authorization: `Bearer ${tok}` } });
    assert.equal((await get(token)).statusCode, 200);
    assert.equal((await get(SANDBOX_ADMIN_TOKEN)).statusCode, 401);
    await app.close();
  });
});

describe('admin API: clients', () => {
  it('registers a confidential-symmetric client and shows its secret once: never in GET or the list', async () => {
    const res = await admin('POST', '/clients', SYMMETRIC_APP);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.headers['cache-control'], 'no-store');
    const { clientSecret, ...client } = res.json;
    assert.match(clientSecret, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(client.hasSecret, true);
    assert.equal(client.status, 'active');
    assert.equal(client.authMethod, 'client_secret_basic');
    assert.equal(await verifySecret(clientSecret, (await clientSecretHash(t.db, client.clientId))!), true);
    const shown = await admin('GET', `/clients/${client.clientId}`);
    assert.equal(shown.status, 200);
    assert.deepEqual(shown.json, client);
    const list = await admin('GET', '/clients');
    assert.ok(list.json.clients.some((c: { clientId: string }) => c.clientId === client.clientId));
    for (const text of [shown.text, list.text]) {
      assert.equal(text.includes(clientSecret), false);
      assert.equal(text.includes('"clientSecret"'), false, 'no secret field at all');
    }
  });

  it('a public client gets no secret', async () => {
    const res = await admin('POST', '/clients', { ...PUBLIC_APP, status: 'pending' });
    assert.equal(res.status, 201);
    assert.equal(res.json.clientSecret, undefined);
    assert.equal(res.json.hasSecret, false);
    assert.equal(res.json.status, 'pending');
    assert.deepEqual(res.json.scopes, ['launch', 'patient/*.rs']);
  });

  it('refuses bad bodies with the exact error and creates nothing', async () => {
    const before = await clientCount();
    const cases: [unknown, number, string, string | RegExp, string?][] = [
      ['[1,2]', 400, 'invalid_request', 'the request body must be a JSON object'],
      ['"text"', 400, 'invalid_request', 'the request body must be a JSON object'],
      ['null', 400, 'invalid_request', 'the request body must be a JSON object'],
      ['{"name": ', 400, 'invalid_request', 'the request body must be a JSON object'],
      [undefined, 400, 'invalid_request', 'the request body must be a JSON object'],
      ['name=x', 415, 'invalid_request', 'the request body must be application/json', 'application/x-www-form-urlencoded'],
      [{ type: 'public', redirectUris: ['https://a.example/cb'] }, 400, 'invalid_client_metadata', 'name is required'],
      [{ name: 'X', redirectUris: ['https://a.example/cb'] }, 400, 'invalid_client_metadata', /^type is required/],
      [{ name: 'X', type: 'toString' }, 400, 'invalid_client_metadata', /^type must be one of public, /],
      [{ ...PUBLIC_APP, name: 5 }, 400, 'invalid_client_metadata', 'name must be a string'],
      [{ ...PUBLIC_APP, redirectUris: 'https://a.example/cb' }, 400, 'invalid_redirect_uri', 'redirectUris must be an array of strings'],
      [{ ...PUBLIC_APP, redirectUris: ['http://evil.example/cb'] }, 400, 'invalid_redirect_uri', /must use https/],
      [{ ...PUBLIC_APP, redirectUris: [] }, 400, 'invalid_redirect_uri', 'at least one redirect URI is required'],
      [{ ...PUBLIC_APP, scopes: ['patient/*.rs', 'bad"scope'] }, 400, 'invalid_client_metadata', /invalid scope 'bad"scope'/],
      [{ ...PUBLIC_APP, status: 'approved' }, 400, 'invalid_client_metadata', 'status must be one of pending, active, suspended'],
      [{ ...PUBLIC_APP, accessTokenLifetime: 1.5 }, 400, 'invalid_client_metadata', 'accessTokenLifetime must be a whole number'],
      [{ ...PUBLIC_APP, jwks: { keys: 'none' } }, 400, 'invalid_client_metadata', /jwks must be a JWK Set/],
      [{ ...PUBLIC_APP, clientSecret: 'chosen' }, 400, 'invalid_client_metadata', 'unknown field clientSecret'],
      ['{"name": "X", "type": "public", "__proto__": {"status": "active"}}', 400, 'invalid_request', 'the request body must be a JSON object'],
    ];
    for (const [body, status, error, description, contentType] of cases) {
      const payload = typeof body === 'string' || body === undefined ? body : JSON.stringify(body);
      assertError(await admin('POST', '/clients', payload ?? '', SANDBOX_ADMIN_TOKEN, contentType), status, error, description);
    }
    assert.equal(await clientCount(), before);
  });

  it('unknown and malformed client ids: 404 invalid_client / 400 invalid_request, for every client endpoint', async () => {
    const unknown = '7d5c2f9e-0000-4000-8000-000000000000';
    const calls: ['GET' | 'POST' | 'PATCH' | 'DELETE', string, unknown?][] = [
      ['GET', ''], ['PATCH', '', { name: 'Y' }], ['DELETE', ''], ['POST', '/rotate-secret'], ['POST', '/approve'], ['POST', '/suspend'], ['POST', '/activate'],
    ];
    for (const [method, suffix, body] of calls) {
      assertError(await admin(method, `/clients/${unknown}${suffix}`, body), 404, 'invalid_client', `unknown client ${unknown}`);
      for (const bad of ['a%20b', 'x'.repeat(129), '%3Cscript%3E']) {
        assertError(await admin(method, `/clients/${bad}${suffix}`, body), 400, 'invalid_request', 'a client id is 1 to 128 letters, digits or . _ ~ -');
      }
    }
  });

  it('PATCH changes settings, clears one with null, and refuses a type change or invalid values without changing anything', async () => {
    const { clientId } = (await admin('POST', '/clients', PUBLIC_APP)).json;
    const res = await admin('PATCH', `/clients/${clientId}`, { name: 'Growth chart 2', redirectUris: ['https://gc.example/cb2'], launchUrl: null });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.name, 'Growth chart 2');
    assert.deepEqual(res.json.redirectUris, ['https://gc.example/cb2']);
    assert.equal(res.json.launchUrl, null);
    assert.deepEqual(res.json.scopes, ['launch', 'patient/*.rs'], 'fields left out keep their value');
    assertError(await admin('PATCH', `/clients/${clientId}`, { type: 'confidential-symmetric' }), 400, 'invalid_client_metadata', 'the client type cannot change; register a new client');
    assertError(await admin('PATCH', `/clients/${clientId}`, { redirectUris: ['https://gc.example/a#frag'] }), 400, 'invalid_redirect_uri', /must not have a fragment/);
    assertError(await admin('PATCH', `/clients/${clientId}`, { name: null }), 400, 'invalid_client_metadata', 'name must be a string');
    assertError(await admin('PATCH', `/clients/${clientId}`, {}), 400, 'invalid_client_metadata', 'the patch changes nothing');
    assertError(await admin('PATCH', `/clients/${clientId}`, '[]'), 400, 'invalid_request', 'the request body must be a JSON object');
    assert.deepEqual((await admin('GET', `/clients/${clientId}`)).json, res.json);
  });

  it('DELETE removes a client: 204, then 404', async () => {
    const { clientId } = (await admin('POST', '/clients', PUBLIC_APP)).json;
    const res = await admin('DELETE', `/clients/${clientId}`);
    assert.equal(res.status, 204);
    assert.equal(res.text, '');
    assert.equal(await getClient(t.db, clientId), undefined);
    assertError(await admin('GET', `/clients/${clientId}`), 404, 'invalid_client', `unknown client ${clientId}`);
    assertError(await admin('DELETE', `/clients/${clientId}`), 404, 'invalid_client', `unknown client ${clientId}`);
  });

  it('rotate-secret returns the new secret once; the old one stops working; a public client has none', async () => {
    const created = (await admin('POST', '/clients', SYMMETRIC_APP)).json;
    const res = await admin('POST', `/clients/${created.clientId}/rotate-secret`);
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.json).sort(), ['clientId', 'clientSecret']);
    assert.notEqual(res.json.clientSecret, created.clientSecret);
    const hash = (await clientSecretHash(t.db, created.clientId))!;
    assert.equal(await verifySecret(res.json.clientSecret, hash), true);
    assert.equal(await verifySecret(created.clientSecret, hash), false);
    assert.equal((await admin('GET', `/clients/${created.clientId}`)).text.includes(res.json.clientSecret), false);
    const pub = (await admin('POST', '/clients', PUBLIC_APP)).json;
    assertError(await admin('POST', `/clients/${pub.clientId}/rotate-secret`), 400, 'invalid_request', 'a public client has no secret');
  });

  it('approve moves pending to active only; suspend and activate', async () => {
    const { clientId } = (await admin('POST', '/clients', { ...PUBLIC_APP, status: 'pending' })).json;
    const approved = await admin('POST', `/clients/${clientId}/approve`);
    assert.equal(approved.status, 200);
    assert.equal(approved.json.status, 'active');
    assertError(await admin('POST', `/clients/${clientId}/approve`), 409, 'invalid_request', `client ${clientId} is not pending (status: active)`);
    assert.equal((await admin('POST', `/clients/${clientId}/suspend`)).json.status, 'suspended');
    assertError(await admin('POST', `/clients/${clientId}/approve`), 409, 'invalid_request', `client ${clientId} is not pending (status: suspended)`);
    assert.equal((await admin('POST', `/clients/${clientId}/activate`)).json.status, 'active');
    assert.equal((await getClient(t.db, clientId))!.status, 'active');
  });
});

describe('admin API: initial access tokens', () => {
  const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');

  it('issues a 256-bit token once, valid for a day by default, stored only as its SHA-256 hash', async () => {
    const before = Date.now();
    const res = await admin('POST', '/initial-access-tokens', { description: 'Acme onboarding' });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.deepEqual(Object.keys(res.json).sort(), ['expiresAt', 'token']);
    assert.match(res.json.token, /^[A-Za-z0-9_-]{43}$/);
    const expiresAt = Date.parse(res.json.expiresAt);
    assert.ok(expiresAt >= before + 86_400_000 && expiresAt <= Date.now() + 86_400_000, res.json.expiresAt);
    const rows = await t.db.query<{ row: string; token_hash: string }>('SELECT row_to_json(t)::text AS row, token_hash FROM initial_access_tokens t');
    assert.ok(rows.some((r) => r.token_hash === sha256(res.json.token)));
    assert.equal(rows.some((r) => r.row.includes(res.json.token)), false);
  });

  it('accepts no body, and lifetimes up to 30 days', async () => {
    assert.equal((await admin('POST', '/initial-access-tokens')).status, 201);
    const res = await admin('POST', '/initial-access-tokens', { expiresInSeconds: 30 * 86400 });
    assert.equal(res.status, 201);
    assert.ok(Date.parse(res.json.expiresAt) - Date.now() > 30 * 86400_000 - 10_000);
  });

  it('refuses bad bodies and issues nothing', async () => {
    const count = async () => (await t.db.query('SELECT 1 FROM initial_access_tokens')).length;
    const before = await count();
    const range = 'expiresInSeconds must be a whole number from 60 to 2592000 (30 days)';
    const cases: [unknown, string, string][] = [
      [{ expiresInSeconds: 30 * 86400 + 1 }, 'invalid_request', range],
      [{ expiresInSeconds: 0 }, 'invalid_request', range],
      [{ expiresInSeconds: -60 }, 'invalid_request', range],
      [{ expiresInSeconds: 90.5 }, 'invalid_request', range],
      [{ expiresInSeconds: '3600' }, 'invalid_request', range],
      [{ expiresInSeconds: null }, 'invalid_request', range],
      [{ description: 42 }, 'invalid_request', 'description must be a string of at most 500 characters'],
      [{ description: 'x'.repeat(501) }, 'invalid_request', 'description must be a string of at most 500 characters'],
      [{ scope: 'everything' }, 'invalid_request', 'unknown field scope'],
      ['[]', 'invalid_request', 'the request body must be a JSON object'],
      ['7', 'invalid_request', 'the request body must be a JSON object'],
    ];
    for (const [body, error, description] of cases) assertError(await admin('POST', '/initial-access-tokens', body), 400, error, description);
    assert.equal(await count(), before);
  });
});

describe('admin API: failures reveal nothing', () => {
  it('a 500 is a bare server_error, without the message or a stack trace', async () => {
    const broken: Database = {
      engine: 'pglite', close: async () => {}, transaction: () => Promise.reject(new Error('boom: connection to 10.0.0.5 lost')),
      query: () => Promise.reject(new Error('boom: connection to 10.0.0.5 lost')),
    };
    const app = Fastify({ genReqId: () => randomUUID() });
    await app.register(adminApi, { prefix: API, db: broken, adminToken: SANDBOX_ADMIN_TOKEN, ...auditTo(broken) });
    const res = await app.inject({ method: 'GET', url: `${API}/clients`, headers: { authorization: `Bearer ${SANDBOX_ADMIN_TOKEN}` } });
    assert.equal(res.statusCode, 500);
    assert.deepEqual(res.json(), { error: 'server_error', error_description: 'internal error' });
    await app.close();
  });

  it('neither the admin token nor a client secret reaches the log, even at debug level', async () => {
    let log = '';
    const stream = new Writable({ write(chunk, _enc, done) { log += String(chunk); done(); } });
    const app: FastifyInstance = Fastify({ logger: { level: 'debug', stream }, genReqId: () => randomUUID() }) as unknown as FastifyInstance;
    await app.register(adminApi, { prefix: API, db: t.db, adminToken: SANDBOX_ADMIN_TOKEN, ...auditTo(t.db) });
    const headers = { authorization: `Bearer ${SANDBOX_ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const created = (await app.inject({ method: 'POST', url: `${API}/clients`, headers, payload: JSON.stringify(SYMMETRIC_APP) })).json();
    const rotated = (await app.inject({ method: 'POST', url: `${API}/clients/${created.clientId}/rotate-secret`, headers: { authorization: headers.authorization } })).json();
    const iat = (await app.inject({ method: 'POST', url: `${API}/initial-access-tokens`, headers, payload: '{}' })).json();
    await app.inject({ method: 'GET', url: `${API}/clients`, headers: { authorization: 'Bearer a-wrong-guess' } });
    await app.close();
    assert.match(log, /client registered/);
    for (const secret of [SANDBOX_ADMIN_TOKEN, 'a-wrong-guess', created.clientSecret, rotated.clientSecret, iat.token]) {
      assert.equal(log.includes(secret), false, `the log shows ${secret}`);
    }
  });
});
