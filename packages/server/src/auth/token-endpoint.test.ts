// SMART Backend Services: client_credentials with private_key_jwt (RFC 7523), ES384 and RS384 assertions,
// and every way an assertion can be wrong (each gets the specified error and no token).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, generateKeyPair, jwtVerify, SignJWT, type CryptoKey } from 'jose';
import { testApp, TEST_BASE_URL, FHIR_BASE, type TestApp } from '../test-support/app.ts';
import { clientAssertion, newClientKey, type ClientKey } from '../test-support/backend-client.ts';
import { registerClient, setClientStatus, updateClient } from './clients/client-store.ts';
import { jtiBatchStats } from './client-assertion.ts';
import { whileAuditRefuses } from '../test-support/audit-outage.ts';

const TOKEN_URL = `${TEST_BASE_URL}/auth/token`;
let t: TestApp;
const keys: Record<'ES384' | 'RS384', ClientKey & { clientId: string }> = {} as never;
let stranger: CryptoKey;

before(async () => {
  t = await testApp();
  for (const alg of ['ES384', 'RS384'] as const) {
    const key = await newClientKey(alg);
    const { client } = await registerClient(t.db, { name: `Analytics ${alg}`, type: 'backend-service', jwks: { keys: [key.publicJwk] }, scopes: ['system/Patient.rs', 'system/Observation.rs'] });
    keys[alg] = { ...key, clientId: client.clientId };
  }
  stranger = (await generateKeyPair('ES384')).privateKey;
});

interface AssertionOptions { alg?: 'ES384' | 'RS384'; key?: CryptoKey; aud?: string; exp?: number; jti?: string; iss?: string; kid?: string }

function assertion(o: AssertionOptions = {}): Promise<string> {
  const key = keys[o.alg ?? 'ES384'];
  return clientAssertion({ clientId: key.clientId, tokenUrl: TOKEN_URL, key, signWith: o.key, aud: o.aud, exp: o.exp, jti: o.jti, iss: o.iss, kid: o.kid });
}

async function token(fields: Record<string, string>) {
  const body = new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', scope: 'system/Patient.rs', ...fields });
  return t.request('POST', '/auth/token', body.toString(), { 'content-type': 'application/x-www-form-urlencoded' });
}

function assertError(res: { status: number; json: any; headers: Record<string, unknown> }, status: number, error: string, description?: RegExp) {
  assert.equal(res.status, status);
  assert.equal(res.json.error, error);
  if (description) assert.match(res.json.error_description, description);
  assert.equal(res.json.access_token, undefined);
  assert.equal(res.headers['cache-control'], 'no-store');
}

describe('client_credentials with private_key_jwt', () => {
  for (const alg of ['ES384', 'RS384'] as const) {
    it(`issues a short-lived ES256 access token for a valid ${alg} assertion`, async () => {
      const res = await token({ client_assertion: await assertion({ alg }), scope: 'system/Patient.rs system/Observation.rs' });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.equal(res.headers.pragma, 'no-cache');
      assert.deepEqual({ ...res.json, access_token: undefined }, { access_token: undefined, token_type: 'Bearer', expires_in: 300, scope: 'system/Patient.rs system/Observation.rs' });
      const jwks = createLocalJWKSet((await t.request('GET', '/.well-known/jwks.json')).json);
      const { payload, protectedHeader } = await jwtVerify(res.json.access_token, jwks, { issuer: TEST_BASE_URL, audience: FHIR_BASE });
      assert.equal(protectedHeader.typ, 'at+jwt');
      assert.equal(payload.client_id, keys[alg].clientId);
      assert.equal(payload.sub, keys[alg].clientId);
      assert.equal(payload.scope, 'system/Patient.rs system/Observation.rs');
      assert.equal(payload.exp! - payload.iat!, 300);
      assert.ok(payload.jti);
    });
  }

  it('a replayed assertion (same jti) is refused', async () => {
    const a = await assertion({ jti: 'once-only' });
    assert.equal((await token({ client_assertion: a })).status, 200);
    assertError(await token({ client_assertion: a }), 401, 'invalid_client', /jti has already been used/);
  });

  it('the jti insert commits without a disk flush in its own transaction only (every connection stays synchronous)', async () => {
    await Promise.all(Array.from({ length: 8 }, async () => assert.equal((await token({ client_assertion: await assertion() })).status, 200)));
    const settings = await Promise.all(Array.from({ length: 12 }, () => t.db.query<{ synchronous_commit: string }>('SHOW synchronous_commit')));
    assert.deepEqual(new Set(settings.map(([row]) => row!.synchronous_commit)), new Set(['on']));
  });

  it('a cached client\'s jti is committed with the token\'s AuditEvent, not by a statement of its own', async () => {
    const a = await assertion({ jti: `with-audit-${randomUUID()}` });
    assert.equal((await token({ client_assertion: await assertion() })).status, 200); // the client is cached now
    const before = jtiBatchStats(t.db)!;
    const res = await token({ client_assertion: a });
    assert.equal(res.status, 200, res.text);
    assert.equal(jtiBatchStats(t.db)!.items, before.items, 'no jti went through the separate jti batch');
    const { jti } = decodeJwt(a);
    const [{ n }] = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM client_assertion_jtis WHERE jti = $1', [jti]);
    assert.equal(n, 1);
    const [event] = await t.db.query<{ outcome: string }>(`SELECT resource->>'outcome' AS outcome FROM resources WHERE type = 'AuditEvent' AND id = $1`, [res.headers['x-request-id']]);
    assert.equal(event?.outcome, '0', 'the issued token\'s AuditEvent (X-Request-Id) is committed');
    const replayed = await token({ client_assertion: a });
    assertError(replayed, 401, 'invalid_client', /jti has already been used/);
    const [refusal] = await t.db.query<{ outcome: string }>(`SELECT resource->>'outcome' AS outcome FROM resources WHERE type = 'AuditEvent' AND id = $1`, [replayed.headers['x-request-id']]);
    assert.equal(refusal?.outcome, '4', 'the refusal is recorded under the request id (X-Request-Id) its unwritten record had');
  });

  it('a token whose AuditEvent cannot be committed is not sent, and its assertion was not used up', async () => {
    assert.equal((await token({ client_assertion: await assertion() })).status, 200); // the client is cached now
    const a = await assertion();
    await whileAuditRefuses(t.db, async () => {
      const res = await token({ client_assertion: a });
      assert.equal(res.status, 500);
      assert.deepEqual(res.json, { error: 'server_error', error_description: 'internal error' });
    });
    assert.equal((await token({ client_assertion: a })).status, 200, 'nothing was issued, so the assertion is still unused');
  });

  it('a request refused after a cached client\'s assertion was checked still uses up its jti', async () => {
    assert.equal((await token({ client_assertion: await assertion() })).status, 200); // the client is cached now
    const a = await assertion();
    assertError(await token({ client_assertion: a, scope: 'system/Nonsense.rs' }), 400, 'invalid_scope');
    assertError(await token({ client_assertion: a }), 401, 'invalid_client', /jti has already been used/);
    // A replay is refused as such, before its scope is looked at.
    assertError(await token({ client_assertion: a, scope: 'system/Nonsense.rs' }), 401, 'invalid_client', /jti has already been used/);
    const b = await assertion();
    assertError(await token({ client_assertion: b, client_id: 'someone-else' }), 401, 'invalid_client', /client_id does not match/);
    assertError(await token({ client_assertion: b }), 401, 'invalid_client', /jti has already been used/);
  });

  it('concurrent assertions, duplicates among them, are batched: exactly one request per client and jti succeeds', async () => {
    // Two fresh clients (the jti is unique per client: the same jti from each succeeds once for each).
    const clients = await Promise.all((['ES384', 'RS384'] as const).map(async (alg) => {
      const key = await newClientKey(alg);
      const { client } = await registerClient(t.db, { name: `Burst ${alg}`, type: 'backend-service', jwks: { keys: [key.publicJwk] }, scopes: ['system/Patient.rs'] });
      return { ...key, clientId: client.clientId };
    }));
    const jtis = Array.from({ length: 15 }, (_, i) => `burst-${i}-${randomUUID()}`);
    // Every jti 1–4 times per client, each copy signed separately (same jti, different signatures), all sent at once.
    const sends: { clientId: string; jti: string; assertion: string }[] = [];
    for (const key of clients) {
      for (const [i, jti] of jtis.entries()) {
        for (let copy = 0; copy <= i % 4; copy++) {
          sends.push({ clientId: key.clientId, jti, assertion: await clientAssertion({ clientId: key.clientId, tokenUrl: TOKEN_URL, key, jti }) });
        }
      }
    }
    sends.sort(() => Math.random() - 0.5);
    // Cached clients: their jtis travel with the AuditEvents, and a duplicate fails its audit batch's statement,
    // whose other requests must still be answered as if each had been alone.
    for (const key of clients) assert.equal((await token({ client_assertion: await clientAssertion({ clientId: key.clientId, tokenUrl: TOKEN_URL, key }) })).status, 200);
    const since = new Date().toISOString();
    const responses = await Promise.all(sends.map(async (s) => ({ ...s, res: await token({ client_assertion: s.assertion }) })));
    for (const key of clients) {
      for (const jti of jtis) {
        const mine = responses.filter((r) => r.clientId === key.clientId && r.jti === jti);
        const ok = mine.filter((r) => r.res.status === 200);
        assert.equal(ok.length, 1, `${key.alg} ${jti}: ${mine.map((r) => r.res.status).join(',')}`);
        assert.ok(typeof ok[0]!.res.json.access_token === 'string');
        for (const r of mine.filter((m) => m.res.status !== 200)) assertError(r.res, 401, 'invalid_client', /jti has already been used/);
      }
    }
    const [{ count }] = await t.db.query<{ count: number }>('SELECT count(*)::int AS count FROM client_assertion_jtis WHERE client_id = ANY($1::text[])', [clients.map((c) => c.clientId)]);
    assert.equal(count, 2 * (jtis.length + 1));
    // The trail: one success per client and jti (and the warm-up), one refusal per replay.
    for (const key of clients) {
      const [{ n }] = await t.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM resources WHERE type = 'AuditEvent' AND resource->>'outcome' = '0'
          AND resource::jsonb @> jsonb_build_object('agent', jsonb_build_array(jsonb_build_object('who', jsonb_build_object('identifier', jsonb_build_object('value', $1::text)))))`, [key.clientId]);
      assert.equal(n, jtis.length + 1);
    }
    const [{ replays }] = await t.db.query<{ replays: number }>(
      `SELECT count(*)::int AS replays FROM resources WHERE type = 'AuditEvent' AND last_updated >= $1::timestamptz AND resource->>'outcomeDesc' LIKE '%jti has already been used'`, [since]);
    assert.equal(replays, sends.length - 2 * jtis.length);
  });

  it('a client changed while cached is read again by every request of a concurrent burst', async () => {
    const key = await newClientKey('RS384');
    const { client } = await registerClient(t.db, { name: 'Changing', type: 'backend-service', jwks: { keys: [key.publicJwk] }, scopes: ['system/Patient.rs'] });
    const send = async (scope: string) => token({ client_assertion: await clientAssertion({ clientId: client.clientId, tokenUrl: TOKEN_URL, key }), scope });
    assert.equal((await send('system/Patient.rs')).status, 200); // cached now
    await updateClient(t.db, client.clientId, { scopes: ['system/Patient.rs', 'system/Observation.rs'] });
    const burst = await Promise.all(Array.from({ length: 12 }, () => send('system/Observation.rs')));
    assert.deepEqual(burst.map((r) => r.status), burst.map(() => 200), 'the new registration (scope) applies to every request');
    await setClientStatus(t.db, client.clientId, 'suspended');
    const refused = await Promise.all(Array.from({ length: 12 }, () => send('system/Patient.rs')));
    for (const r of refused) assertError(r, 401, 'invalid_client', /suspended/);
  });

  it('refuses a jti that could not be stored, without failing the other requests of its batch', async () => {
    const key = keys.RS384;
    const bad = clientAssertion({ clientId: key.clientId, tokenUrl: TOKEN_URL, key, jti: 'x'.repeat(5000) });
    const nul = clientAssertion({ clientId: key.clientId, tokenUrl: TOKEN_URL, key, jti: 'a\u0000b' });
    const [r1, r2, r3] = await Promise.all([bad, nul, assertion({ alg: 'RS384' })].map(async (a) => token({ client_assertion: await a })));
    assertError(r1, 401, 'invalid_client', /jti must be at most/);
    assertError(r2, 401, 'invalid_client', /jti must be at most/);
    assert.equal(r3.status, 200, r3.text);
  });

  it('refuses expired, far-future, wrongly-signed and wrong-audience assertions', async () => {
    const now = Math.floor(Date.now() / 1000);
    assertError(await token({ client_assertion: await assertion({ exp: now - 60 }) }), 401, 'invalid_client', /expired/);
    assertError(await token({ client_assertion: await assertion({ exp: now + 3600 }) }), 401, 'invalid_client', /five minutes/);
    assertError(await token({ client_assertion: await assertion({ key: stranger }) }), 401, 'invalid_client', /signature/);
    assertError(await token({ client_assertion: await assertion({ aud: `${TEST_BASE_URL}/other` }) }), 401, 'invalid_client', /aud/);
    assertError(await token({ client_assertion: await assertion({ iss: 'nobody' }) }), 401, 'invalid_client', /unknown client/);
    assertError(await token({ client_assertion: 'not.a.jwt' }), 401, 'invalid_client', /not a JWT/);
    assertError(await token({ client_assertion: await assertion(), client_assertion_type: 'password' }), 401, 'invalid_client', /client_assertion_type/);
    const hs = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer(keys.ES384.clientId).setSubject(keys.ES384.clientId)
      .setAudience(TOKEN_URL).setJti(randomUUID()).setExpirationTime('1m').sign(new TextEncoder().encode('x'.repeat(32)));
    assertError(await token({ client_assertion: hs }), 401, 'invalid_client', /alg HS256/);
    const withJku = await new SignJWT({}).setProtectedHeader({ alg: 'ES384', kid: 'ES384-1', jku: 'https://evil.example/jwks.json' })
      .setIssuer(keys.ES384.clientId).setSubject(keys.ES384.clientId).setAudience(TOKEN_URL).setJti(randomUUID()).setExpirationTime('1m').sign(keys.ES384.privateKey);
    assertError(await token({ client_assertion: withJku }), 401, 'invalid_client', /jku/);
  });

  it('checks every claim of an RS384 assertion (verified by node:crypto) as of an ES384 one (verified by jose)', async () => {
    for (const alg of ['RS384', 'ES384'] as const) {
      const key = keys[alg];
      const signed = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) => new SignJWT({ jti: randomUUID(), ...claims })
        .setProtectedHeader({ alg, kid: key.kid, ...header }).setIssuer(key.clientId).setSubject(String(claims.sub ?? key.clientId))
        .setAudience(TOKEN_URL).setExpirationTime('1m').sign(key.privateKey, { crit: { 'urn:example:x': true } });
      const now = Math.floor(Date.now() / 1000);
      assert.equal((await token({ client_assertion: await signed({ nbf: now, iat: now }) })).status, 200, `${alg}: nbf and iat now`);
      assertError(await token({ client_assertion: await signed({ nbf: now + 120 }) }), 401, 'invalid_client', /claim nbf/);
      assertError(await token({ client_assertion: await signed({ iat: 'yesterday' }) }), 401, 'invalid_client', /claim iat/);
      assertError(await token({ client_assertion: await signed({ jti: undefined }) }), 401, 'invalid_client', /claim jti/);
      assertError(await token({ client_assertion: await signed({ jti: 42 }) }), 401, 'invalid_client', /claim jti/);
      assertError(await token({ client_assertion: await signed({ sub: 'someone-else' }) }), 401, 'invalid_client', /iss and sub/);
      assertError(await token({ client_assertion: await signed({}, { crit: ['urn:example:x'], 'urn:example:x': 1 }) }), 401, 'invalid_client', /crit/);
      assertError(await token({ client_assertion: await signed({}, { kid: 'not-registered' }) }), 401, 'invalid_client', /signature/);
    }
  });

  it('refuses scopes that are missing, not system/, or not registered; never widens', async () => {
    assertError(await token({ client_assertion: await assertion(), scope: '' }), 400, 'invalid_scope', /required/);
    assertError(await token({ client_assertion: await assertion(), scope: 'patient/Patient.rs' }), 400, 'invalid_scope', /system\//);
    assertError(await token({ client_assertion: await assertion(), scope: 'system/*.*' }), 400, 'invalid_scope', /not registered/);
    assertError(await token({ client_assertion: await assertion(), scope: 'system/Observation.rs?code:bogus=1' }), 400, 'invalid_scope', /cannot enforce/);
  });

  it('refuses other grant types, malformed requests and suspended clients', async () => {
    assertError(await token({ grant_type: 'password' }), 400, 'unsupported_grant_type');
    assertError(await token({ grant_type: '' }), 400, 'invalid_request', /grant_type/);
    const json = await t.request('POST', '/auth/token', { grant_type: 'client_credentials' });
    assertError(json, 400, 'invalid_request', /x-www-form-urlencoded/);
    const repeated = await t.request('POST', '/auth/token', 'grant_type=client_credentials&scope=a&scope=b', { 'content-type': 'application/x-www-form-urlencoded' });
    assertError(repeated, 400, 'invalid_request', /repeated/);
    await setClientStatus(t.db, keys.RS384.clientId, 'suspended');
    assertError(await token({ client_assertion: await assertion({ alg: 'RS384' }) }), 401, 'invalid_client', /suspended/);
  });
});
