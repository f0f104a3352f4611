// The FHIR API answers only requests that carry a valid access token of this server (RFC 6750): everything else
// gets 401 with a Bearer challenge, as an OperationOutcome. The CapabilityStatement stays public.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair, SignJWT } from 'jose';
import { testApp, FHIR_BASE, TEST_BASE_URL, type TestApp } from '../test-support/app.ts';
import { issueAccessToken } from '../auth/access-token.ts';
import { KeyRing } from '../auth/key-ring.ts';
import { RevocationList } from '../auth/revocation-list.ts';

let t: TestApp;
let other: TestApp; // a second instance on the same database
const patient = { resourceType: 'Patient', id: 'bearer-1', gender: 'female' };

before(async () => {
  t = await testApp();
  other = await testApp(t.db);
  assert.equal((await t.request('PUT', '/fhir/Patient/bearer-1', patient)).status, 201);
});

async function read(authorization: string | undefined) {
  return t.request('GET', '/fhir/Patient/bearer-1', undefined, { authorization });
}

function assertRefused(res: Awaited<ReturnType<typeof read>>, description: RegExp) {
  assert.equal(res.status, 401, res.text);
  const challenge = String(res.headers['www-authenticate']);
  assert.match(challenge, /^Bearer realm="http:\/\/firekeeper\.test\/fhir", error="invalid_token", error_description="/);
  assert.match(challenge, description);
  assert.equal(res.json.resourceType, 'OperationOutcome');
  assert.equal(res.json.issue[0].code, 'login');
  assert.equal(res.text.includes('bearer-1'), false);
}

describe('Bearer access tokens on the FHIR API', () => {
  it('a valid token reads; the CapabilityStatement needs none', async () => {
    assert.equal((await read(`Bearer ${await t.token()}`)).json.gender, 'female');
    assert.equal((await read(`bearer ${await t.token()}`)).status, 200, 'the scheme is case-insensitive (RFC 7235 §2.1)');
    assert.equal((await t.request('GET', '/fhir/metadata', undefined, { authorization: undefined })).status, 200);
  });

  it('refuses a request without a token, with another scheme or a malformed header', async () => {
    assertRefused(await read(undefined), /access token is required/);
    assertRefused(await read('Basic dXNlcjpwYXNz'), /must be a Bearer token/);
    assertRefused(await read('Bearer'), /must be a Bearer token/);
    assertRefused(await read('Bearer a b'), /not a valid token/);
    assertRefused(await read('Bearer not-a-jwt'), /not a valid token/);
    // Every interaction is covered, not only reads.
    const search = await t.request('GET', '/fhir/Patient', undefined, { authorization: undefined });
    assert.equal(search.status, 401);
    const write = await t.request('POST', '/fhir/Patient', { resourceType: 'Patient' }, { authorization: undefined });
    assert.equal(write.status, 401);
    assert.equal((await t.request('GET', '/fhir/Patient?_id=bearer-1', undefined, { authorization: `Bearer ${await t.token()}` })).json.total, 1, 'nothing was created');
  });

  it('refuses expired tokens, tokens for another audience or issuer, and tokens signed by another key', async () => {
    const keys = new KeyRing(t.db);
    const claims = { issuer: TEST_BASE_URL, audience: FHIR_BASE, clientId: 'c', subject: 'c', scope: 'system/*.*', lifetimeSeconds: 60 };
    const expired = await issueAccessToken(keys, claims, new Date(Date.now() - 3_600_000));
    assertRefused(await read(`Bearer ${expired.token}`), /expired/);
    const elsewhere = await issueAccessToken(keys, { ...claims, audience: 'https://other.example/fhir' });
    assertRefused(await read(`Bearer ${elsewhere.token}`), /aud claim/);
    const foreignIssuer = await issueAccessToken(keys, { ...claims, issuer: 'https://other.example' });
    assertRefused(await read(`Bearer ${foreignIssuer.token}`), /iss claim/);
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ client_id: 'c', scope: 'system/*.*' }).setProtectedHeader({ alg: 'ES256', kid: 'x', typ: 'at+jwt' })
      .setIssuer(TEST_BASE_URL).setAudience(FHIR_BASE).setSubject('c').setJti('j').setIssuedAt().setExpirationTime('1m').sign(privateKey);
    assertRefused(await read(`Bearer ${forged}`), /not a valid token/);
    const hs = await new SignJWT({ client_id: 'c', scope: 'system/*.*' }).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setIssuer(TEST_BASE_URL).setAudience(FHIR_BASE).setSubject('c').setJti('j').setIssuedAt().setExpirationTime('1m').sign(new Uint8Array(32));
    assertRefused(await read(`Bearer ${hs}`), /not a valid token/);
  });

  // The bound is POLL_MS (250 ms) plus a query; the wait here is longer so a loaded CI machine does not flake.
  it('a token revoked on one instance is refused by the other instance after its next poll', async () => {
    const keys = new KeyRing(t.db);
    const issued = await issueAccessToken(keys, { issuer: TEST_BASE_URL, audience: FHIR_BASE, clientId: 'c', subject: 'c', scope: 'system/*.*', lifetimeSeconds: 60 });
    const bearer = `Bearer ${issued.token}`;
    assert.equal((await other.request('GET', '/fhir/Patient/bearer-1', undefined, { authorization: bearer })).status, 200);
    const list = new RevocationList(t.db);
    await list.revoke(t.db, [{ jti: issued.jti, expiresAt: issued.expiresAt }]);
    // The revocation was made by a third party (another instance's list), so both apps learn of it by polling.
    for (const instance of [other, t]) {
      const revokedAt = Date.now();
      let res = await instance.request('GET', '/fhir/Patient/bearer-1', undefined, { authorization: bearer });
      while (res.status === 200 && Date.now() - revokedAt < 5_000) {
        await new Promise((r) => setTimeout(r, 20));
        res = await instance.request('GET', '/fhir/Patient/bearer-1', undefined, { authorization: bearer });
      }
      assertRefused(res, /revoked/);
    }
  });
});
