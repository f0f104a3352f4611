// The app-side launch flow against a real Firekeeper: an EHR launch through the SDK (PKCE S256, state, nonce, aud,
// launch), the user's sign-in and consent, the code exchange, the id_token verified, the launch context as typed
// properties, refresh with rotation shared by concurrent callers, and the refusals (unknown or replayed state, an
// error from the server, a forged id_token).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { exportJWK, generateKeyPair } from 'jose';
import { listeningApp, type ListeningApp } from '../../server/src/test-support/listening-app.ts';
import { TestBrowser, scopeCheckboxes, type PageResult } from '../../server/src/test-support/oauth-browser.ts';
import { registerClient } from '../../server/src/auth/clients/client-store.ts';
import { createUser } from '../../server/src/auth/users/user-store.ts';
import { createLaunch } from '../../server/src/auth/launch-store.ts';
import { AuthorizationError, FhirClient, MemoryStorage, TokenError, completeAuthorization, pendingKey, restoreSession, startAuthorization } from './index.ts';

const REDIRECT = 'https://sdk-app.example/callback';
const PASSWORD = 'sdk-launch-password';
const SCOPE = 'launch openid fhirUser patient/*.rs offline_access';
let fk: ListeningApp;
let clientId = '';
let userId = '';

before(async () => {
  fk = await listeningApp();
  clientId = (await registerClient(fk.db, {
    name: 'SDK app', type: 'public', redirectUris: [REDIRECT], launchUrl: 'https://sdk-app.example/launch', grantTypes: ['authorization_code', 'refresh_token'],
    scopes: ['launch', 'openid', 'fhirUser', 'patient/*.rs', 'offline_access'],
  })).client.clientId;
  for (const r of [{ resourceType: 'Patient', id: 'sdk-pat', name: [{ family: 'Launch', given: ['Lou'] }] }, { resourceType: 'Patient', id: 'sdk-pat-2' }, { resourceType: 'Practitioner', id: 'sdk-doc' }]) {
    const res = await fetch(`${fk.fhirBase}/${r.resourceType}/${r.id}`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${fk.seedToken}` }, body: JSON.stringify(r) });
    assert.ok(res.ok);
  }
  userId = (await createUser(fk.db, { username: 'sdk-doc', password: PASSWORD, name: 'Sid Doc', role: 'clinician', fhirUser: 'Practitioner/sdk-doc' })).id;
});

/** The user's part: sign in and allow what is offered; returns the redirect back to the app. */
async function userApproves(authorizeUrl: string): Promise<string> {
  const browser = new TestBrowser(fk.app, 'https://sdk-app.example');
  let page: PageResult = await browser.go('GET', authorizeUrl);
  for (let step = 0; step < 4 && !page.url.startsWith(REDIRECT); step++) {
    page = page.html.includes('name="password"')
      ? await browser.submit(page, { username: 'sdk-doc', password: PASSWORD })
      : await browser.submit(page, { decision: 'allow', scope: scopeCheckboxes(page.html).filter((c) => c.checked).map((c) => c.value) });
  }
  assert.ok(page.url.startsWith(REDIRECT), page.html.slice(0, 500));
  return page.url;
}

async function ehrLaunch(storage = new MemoryStorage(), o: { name?: string; patient?: string; client?: string } = {}) {
  const client = o.client ?? clientId;
  const launch = await createLaunch(fk.db, { clientId: client, userId, context: { patient: o.patient ?? 'sdk-pat', need_patient_banner: false, intent: 'review' } });
  const url = await startAuthorization({ iss: fk.fhirBase, clientId: client, redirectUri: REDIRECT, scope: SCOPE, launch: launch.id, storage, name: o.name });
  return { url, storage, launch: launch.id };
}

describe('SMART launch through the SDK', () => {
  it('EHR launch: PKCE S256, state, nonce, aud and launch sent; tokens, launch context and a verified id_token back', async () => {
    const { url, storage, launch } = await ehrLaunch();
    const sent = new URL(url).searchParams;
    assert.equal(`${new URL(url).origin}${new URL(url).pathname}`, `${fk.base}/auth/authorize`);
    assert.deepEqual(
      ['response_type', 'client_id', 'redirect_uri', 'scope', 'aud', 'code_challenge_method', 'launch'].map((k) => sent.get(k)),
      ['code', clientId, REDIRECT, SCOPE, fk.fhirBase, 'S256', launch],
    );
    assert.match(sent.get('code_challenge')!, /^[A-Za-z0-9_-]{43}$/);
    assert.match(sent.get('state')!, /^[A-Za-z0-9_-]{22}$/);
    assert.ok(sent.get('nonce'));

    const session = await completeAuthorization(await userApproves(url), { storage });
    assert.deepEqual(session.context, { patient: 'sdk-pat', needPatientBanner: false, intent: 'review' });
    assert.equal(session.fhirUser, `${fk.fhirBase}/Practitioner/sdk-doc`, 'from the verified id_token');
    assert.equal(session.idTokenClaims?.sub, userId);
    assert.ok(session.tokens.refreshToken);
    const patient = await new FhirClient(session.fhirBase, session).read('Patient', session.context.patient!);
    assert.equal(patient.id, 'sdk-pat');
  });

  it('refreshes once for concurrent callers, with the rotated refresh token, and the old one is spent', async () => {
    const { url, storage } = await ehrLaunch();
    const session = await completeAuthorization(await userApproves(url), { storage });
    const before = session.tokens;
    const refreshed = await Promise.all([session.accessToken(true), session.accessToken(true), session.accessToken(true)]);
    assert.equal(new Set(refreshed).size, 1, 'one refresh shared');
    assert.notEqual(refreshed[0], before.accessToken);
    assert.notEqual(session.tokens.refreshToken, before.refreshToken, 'rotated');
    const replay = await fetch(`${fk.base}/auth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: before.refreshToken!, client_id: clientId }) });
    assert.equal(replay.status, 400, 'the old refresh token was used once, by the SDK');
  });

  it('refuses a response to a request it did not make, a replayed one, and reports the server’s error', async () => {
    const { url, storage } = await ehrLaunch();
    const back = await userApproves(url);
    await assert.rejects(completeAuthorization(back, { storage: new MemoryStorage() }), (err: unknown) => err instanceof AuthorizationError && err.error === 'invalid_state');
    await completeAuthorization(back, { storage });
    await assert.rejects(completeAuthorization(back, { storage }), (err: unknown) => err instanceof AuthorizationError && err.error === 'invalid_state', 'state is single-use');

    const denied = await ehrLaunch();
    const state = new URL(denied.url).searchParams.get('state')!;
    await assert.rejects(
      completeAuthorization(`${REDIRECT}?error=access_denied&error_description=${encodeURIComponent('the user said no')}&state=${state}`, { storage: denied.storage }),
      (err: unknown) => err instanceof AuthorizationError && err.error === 'access_denied' && err.description === 'the user said no',
    );
  });

  it('refuses an id_token whose nonce is not the one sent, and a code the server does not know', async () => {
    const { url, storage } = await ehrLaunch();
    const back = await userApproves(url);
    // The stored request is changed to expect another nonce: the genuine id_token must now be refused.
    const key = pendingKey(new URL(url).searchParams.get('state')!);
    await storage.set(key, JSON.stringify({ ...JSON.parse((await storage.get(key))!), nonce: 'another-nonce' }));
    await assert.rejects(completeAuthorization(back, { storage }), (err: unknown) => err instanceof TokenError && err.error === 'invalid_id_token' && /nonce/.test(err.message));

    const fresh = await ehrLaunch();
    const forged = `${REDIRECT}?code=not-a-code&state=${new URL(fresh.url).searchParams.get('state')}`;
    await assert.rejects(completeAuthorization(forged, { storage: fresh.storage }), (err: unknown) => err instanceof TokenError && err.error === 'invalid_grant' && err.status === 400);
  });

  it('keeps several named sessions in one storage, restores them, saves each refresh, and forgets one on sign-out', async () => {
    const storage = new MemoryStorage();
    const chart = await ehrLaunch(storage, { name: 'chart' });
    await completeAuthorization(await userApproves(chart.url), { storage });
    const second = await ehrLaunch(storage, { name: 'second', patient: 'sdk-pat-2' });
    await completeAuthorization(await userApproves(second.url), { storage });

    const restored = (await restoreSession('chart', { storage }))!;
    assert.equal(restored.name, 'chart');
    assert.equal(restored.context.patient, 'sdk-pat');
    assert.equal((await restoreSession('second', { storage }))?.context.patient, 'sdk-pat-2');
    assert.equal(await restoreSession('nobody', { storage }), undefined);

    await restored.accessToken(true);
    assert.equal((await restoreSession('chart', { storage }))?.tokens.refreshToken, restored.tokens.refreshToken, 'the rotated refresh token was saved');
    const read = await new FhirClient(restored.fhirBase, (await restoreSession('chart', { storage }))!).read('Patient', 'sdk-pat');
    assert.equal(read.id, 'sdk-pat');
    await restored.forget();
    assert.equal(await restoreSession('chart', { storage }), undefined);
    assert.ok(await restoreSession('second', { storage }), 'the other session stays');
  });

  it('confidential clients: a secret (HTTP Basic) or a private key (private_key_jwt) at the exchange and at every refresh', async () => {
    const registration = { type: 'confidential-symmetric' as const, redirectUris: [REDIRECT], grantTypes: ['authorization_code' as const, 'refresh_token' as const], scopes: ['launch', 'openid', 'fhirUser', 'patient/*.rs', 'offline_access'] };
    const symmetric = await registerClient(fk.db, { name: 'SDK secret app', ...registration });
    const key = await generateKeyPair('ES384', { extractable: true });
    const jwks = { keys: [{ ...(await exportJWK(key.publicKey)), kid: 'app-key', alg: 'ES384', use: 'sig' }] };
    const asymmetric = await registerClient(fk.db, { name: 'SDK key app', ...registration, type: 'confidential-asymmetric', jwks });
    const cases = [
      { client: symmetric.client.clientId, auth: { clientSecret: symmetric.secret! } },
      { client: asymmetric.client.clientId, auth: { clientKey: { clientId: asymmetric.client.clientId, privateKey: key.privateKey, alg: 'ES384' as const, kid: 'app-key' } } },
    ];
    for (const { client, auth } of cases) {
      const { url, storage } = await ehrLaunch(new MemoryStorage(), { client });
      const session = await completeAuthorization(await userApproves(url), { storage, ...auth });
      assert.equal(session.context.patient, 'sdk-pat');
      const before = session.tokens.accessToken;
      assert.notEqual(await session.accessToken(true), before, 'the refresh authenticates the same way');
      assert.equal((await restoreSession('default', { storage, ...auth }))?.tokens.accessToken, session.tokens.accessToken);
    }
    const wrong = await ehrLaunch(new MemoryStorage(), { client: symmetric.client.clientId });
    await assert.rejects(completeAuthorization(await userApproves(wrong.url), { storage: wrong.storage, clientSecret: 'not-the-secret' }),
      (err: unknown) => err instanceof TokenError && err.error === 'invalid_client' && err.status === 401);
  });
});
