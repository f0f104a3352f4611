// SMART Backend Services: client_credentials with private_key_jwt (RFC 7523), ES384 and RS384 assertions,
// and every way an assertion can be wrong (each gets the specified error and no token).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, generateKeyPair, jwtVerify, SignJWT, type CryptoKey } from 'jose';
import { testApp, TEST_BASE_URL, FHIR_BASE, type TestApp } from '../test-support/app.ts';
import { clientAssertion, newClientKey, type ClientKey } from '../test-support/backend-client.ts';
import { registerClient, setClientStatus } from './clients/client-store.ts';

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

  it('refuses scopes that are missing, not system/, or not registered; never widens', async () => {
    assertError(await token({ client_assertion: await assertion(), scope: '' }), 400, 'invalid_scope', /required/);
    assertError(await token({ client_assertion: await assertion(), scope: 'patient/Patient.rs' }), 400, 'invalid_scope', /system\//);
    assertError(await token({ client_assertion: await assertion(), scope: 'system/*.*' }), 400, 'invalid_scope', /not registered/);
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
