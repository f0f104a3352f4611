// SMART Backend Services over real HTTP: a backend-service client registered with an ES384 and an RS384 key gets a
// client_credentials token with an assertion signed by each (endpoint found through smart-configuration), reads FHIR
// with it, and a replayed assertion (same jti) is refused.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { registerClient } from '../../auth/clients/client-store.ts';
import { clientAssertion, clientCredentialsForm, JWT_BEARER, newClientKey, type ClientKey } from '../../test-support/backend-client.ts';
import { startFirekeeper, type RunningFirekeeper } from './support.ts';

describe('SMART Backend Services over HTTP (ES384 and RS384 assertions)', () => {
  let fk: RunningFirekeeper;
  let clientId: string;
  let tokenUrl: string;
  const keys: ClientKey[] = [];

  before(async () => {
    fk = await startFirekeeper();
    await fk.put({ resourceType: 'Patient', id: 'bs-pat-1', gender: 'female', name: [{ family: 'Backend' }] });
    keys.push(await newClientKey('ES384', 'bs-es384'), await newClientKey('RS384', 'bs-rs384'));
    const { client } = await registerClient(fk.db, {
      name: 'Nightly export', type: 'backend-service', jwks: { keys: keys.map((k) => k.publicJwk) }, scopes: ['system/Patient.rs', 'system/Observation.rs'],
    });
    clientId = client.clientId;
    const config = await (await fetch(`${fk.fhirBase}/.well-known/smart-configuration`)).json();
    tokenUrl = config.token_endpoint;
    assert.equal(tokenUrl, `${fk.base}/auth/token`);
    assert.ok(config.token_endpoint_auth_signing_alg_values_supported.includes('ES384'));
    assert.ok(config.token_endpoint_auth_signing_alg_values_supported.includes('RS384'));
  });

  after(async () => {
    await fk?.close(); // the database is closed after this, by test-support/database.ts
  });

  const post = async (body: URLSearchParams) => {
    const res = await fetch(tokenUrl, { method: 'POST', body });
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
  };

  for (const alg of ['ES384', 'RS384'] as const) {
    it(`a ${alg}-signed assertion gets a system token that reads FHIR`, async () => {
      const key = keys.find((k) => k.alg === alg)!;
      const res = await post(await clientCredentialsForm({ clientId, tokenUrl, key, scope: 'system/Patient.rs' }));
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.equal(res.json.token_type, 'Bearer');
      assert.equal(res.json.scope, 'system/Patient.rs');
      assert.equal(typeof res.json.expires_in, 'number');
      assert.equal(res.json.refresh_token, undefined, 'backend services get no refresh token');
      const { payload } = await jwtVerify(res.json.access_token, createRemoteJWKSet(new URL(`${fk.base}/.well-known/jwks.json`)), { issuer: fk.base, audience: fk.fhirBase });
      assert.equal(payload.client_id, clientId);

      const read = await fetch(`${fk.fhirBase}/Patient/bs-pat-1`, { headers: { authorization: `Bearer ${res.json.access_token}` } });
      assert.equal(read.status, 200);
      assert.equal((await read.json()).gender, 'female');
      const search = await fetch(`${fk.fhirBase}/Patient?family=Backend`, { headers: { authorization: `Bearer ${res.json.access_token}` } });
      assert.equal(search.status, 200);
      assert.deepEqual((await search.json()).entry.map((e: any) => e.resource.id), ['bs-pat-1']);
    });
  }

  it('a replayed assertion (same jti) is refused with 401 invalid_client; a fresh jti works again', async () => {
    const key = keys.find((k) => k.alg === 'ES384')!;
    const assertion = await clientAssertion({ clientId, tokenUrl, key, jti: `replay-${Date.now()}` });
    const form = () => new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: assertion, scope: 'system/Patient.rs' });
    assert.equal((await post(form())).status, 200);
    const replay = await post(form());
    assert.equal(replay.status, 401);
    assert.equal(replay.json.error, 'invalid_client');
    assert.match(replay.json.error_description, /jti/);
    assert.equal(replay.json.access_token, undefined);
    const fresh = await post(await clientCredentialsForm({ clientId, tokenUrl, key: keys.find((k) => k.alg === 'RS384')!, scope: 'system/Patient.rs' }));
    assert.equal(fresh.status, 200, 'the client is not locked out by the replay');
  });
});
