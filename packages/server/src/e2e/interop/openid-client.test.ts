// Interoperability with `openid-client` v6 (panva; a certified OpenID Connect relying party library on
// oauth4webapi) against a real Firekeeper on loopback: OpenID discovery from the issuer, the authorization code flow
// with PKCE and nonce (the library validates the id_token: signature against the JWKS, iss, aud, nonce, exp),
// userinfo, refresh with rotation, introspection and revocation, with a public client (`None()`) and a
// confidential-symmetric one (`ClientSecretBasic`, `ClientSecretPost`). The sign-in and consent pages are driven
// over HTTP as a browser without JavaScript would.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { createUser } from '../../auth/users/user-store.ts';
import { registerClient } from '../../auth/clients/client-store.ts';
import { HttpBrowser, PASSWORD, scopeCheckboxes, signIn, startFirekeeper, type Page, type RunningFirekeeper } from './interop-support.ts';

const REDIRECT = 'https://app.example/oidc/callback'; // never requested: the browser stops at the redirect
const SCOPE = 'openid fhirUser profile launch/patient patient/*.rs';
const OFFLINE_SCOPE = `${SCOPE} offline_access`;
const insecure = { execute: [oidc.allowInsecureRequests] }; // plain http on loopback

let fk: RunningFirekeeper;
let publicId: string;
let secretApp: { id: string; secret: string };

before(async () => {
  fk = await startFirekeeper();
  for (const r of [
    { resourceType: 'Patient', id: 'oc-pat-1', name: [{ given: ['Ada'], family: 'Quill' }], gender: 'female' },
    { resourceType: 'Patient', id: 'oc-pat-2', name: [{ given: ['Ben'], family: 'Rowe' }], gender: 'male' },
    { resourceType: 'Practitioner', id: 'oc-doc', name: [{ given: ['Cara'], family: 'Doc' }] },
  ]) assert.ok([200, 201].includes((await fk.fhir('PUT', `${r.resourceType}/${r.id}`, r)).status));
  await createUser(fk.db, { username: 'ada', password: PASSWORD, name: 'Ada Quill', role: 'patient', fhirUser: 'Patient/oc-pat-1' });
  await createUser(fk.db, { username: 'doc', password: PASSWORD, name: 'Cara Doc', email: 'cara@example.org', role: 'clinician', fhirUser: 'Practitioner/oc-doc' });
  const scopes = ['openid', 'fhirUser', 'profile', 'email', 'launch/patient', 'offline_access', 'patient/*.rs'];
  const grantTypes: ('authorization_code' | 'refresh_token')[] = ['authorization_code', 'refresh_token'];
  publicId = (await registerClient(fk.db, { name: 'openid-client public', type: 'public', redirectUris: [REDIRECT], scopes, grantTypes })).client.clientId;
  const s = await registerClient(fk.db, { name: 'openid-client confidential', type: 'confidential-symmetric', redirectUris: [REDIRECT], scopes, grantTypes });
  secretApp = { id: s.client.clientId, secret: s.secret! };
});

/** OpenID discovery from the issuer (`{base}/.well-known/openid-configuration`). */
function discover(clientId: string, auth: oidc.ClientAuth, secret?: string): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(fk.base), clientId, secret, auth, insecure);
}

interface Flow { callback: URL; verifier: string; state: string; nonce: string; browser: HttpBrowser; request: URL }

/** Builds the authorization URL with openid-client and drives Firekeeper's pages to the redirect back to the app. */
async function authorize(config: oidc.Configuration, username: string, o: { scope?: string; browser?: HttpBrowser; patient?: string } = {}): Promise<Flow> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const request = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: o.scope ?? OFFLINE_SCOPE, code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256', state, nonce, aud: fk.fhirBase,
  });
  const browser = o.browser ?? new HttpBrowser();
  const stopAt = (url: URL) => url.href.startsWith(`${REDIRECT}?`);
  let page: Page = await browser.go(request.href, { stopAt });
  if (/name="step" value="login"/.test(page.html)) page = await signIn(browser, page, username, { stopAt });
  if (/name="step" value="patient"/.test(page.html)) page = await browser.submit(page, { patient: o.patient ?? 'oc-pat-1' }, { stopAt });
  if (/name="step" value="consent"/.test(page.html)) {
    page = await browser.submit(page, { decision: 'allow', scope: scopeCheckboxes(page.html).filter((c) => c.checked).map((c) => c.value) }, { stopAt });
  }
  assert.ok(stopAt(new URL(page.url)), `expected a redirect to the app, got ${page.status} ${page.url}\n${page.html.slice(0, 1500)}`);
  return { callback: new URL(page.url), verifier, state, nonce, browser, request };
}

function codeGrant(config: oidc.Configuration, flow: Flow) {
  return oidc.authorizationCodeGrant(config, flow.callback, {
    pkceCodeVerifier: flow.verifier, expectedNonce: flow.nonce, expectedState: flow.state, idTokenExpected: true,
  });
}

async function rejectsWith(promise: Promise<unknown>, error: string, status: number) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof oidc.ResponseBodyError, `expected a ResponseBodyError, got ${String(err)}`);
    assert.equal(err.error, error);
    assert.equal(err.status, status);
    return true;
  });
}

/** GETs a Patient with the token; a 401 must carry an RFC 6750 `invalid_token` challenge (openid-client parses it). */
async function readPatient(config: oidc.Configuration, accessToken: string, id: string): Promise<number> {
  try {
    const res = await oidc.fetchProtectedResource(config, accessToken, new URL(`${fk.fhirBase}/Patient/${id}`), 'GET');
    await res.arrayBuffer();
    return res.status;
  } catch (err) {
    if (!(err instanceof oidc.WWWAuthenticateChallengeError)) throw err;
    assert.deepEqual(err.cause.map((c) => [c.scheme, c.parameters.error]), [['bearer', 'invalid_token']]);
    return err.status;
  }
}

describe('openid-client v6 against Firekeeper', () => {
  it('discovers the issuer from {base}/.well-known/openid-configuration', async () => {
    const config = await discover(publicId, oidc.None());
    const m = config.serverMetadata();
    assert.equal(m.issuer, fk.base);
    assert.equal(m.authorization_endpoint, `${fk.base}/auth/authorize`);
    assert.equal(m.token_endpoint, `${fk.base}/auth/token`);
    assert.equal(m.userinfo_endpoint, `${fk.base}/auth/userinfo`);
    assert.equal(m.jwks_uri, `${fk.base}/.well-known/jwks.json`);
    assert.ok(m.supportsPKCE('S256'));
    assert.deepEqual(m.id_token_signing_alg_values_supported, ['RS256']);
    // RFC 8414 fields, so a generic OAuth client finds introspection and revocation from the issuer alone.
    assert.equal(m.introspection_endpoint, `${fk.base}/auth/introspect`);
    assert.equal(m.revocation_endpoint, `${fk.base}/auth/revoke`);
    await assert.rejects(oidc.discovery(new URL(fk.base), publicId), /only requests to HTTPS are allowed|https/i, 'openid-client needs allowInsecureRequests for http');
  });

  it('public client (None): code + PKCE + nonce → validated id_token, userinfo, FHIR read, refresh rotation, revocation', async () => {
    const config = await discover(publicId, oidc.None());
    const flow = await authorize(config, 'ada');
    const sent = flow.request.searchParams;
    assert.deepEqual([sent.get('client_id'), sent.get('response_type'), sent.get('aud'), sent.get('code_challenge_method')], [publicId, 'code', fk.fhirBase, 'S256']);
    assert.equal(flow.callback.searchParams.get('state'), flow.state);

    const tokens = await codeGrant(config, flow);
    const claims = tokens.claims()!;
    assert.equal(claims.iss, fk.base);
    assert.equal(claims.aud, publicId);
    assert.equal(claims.nonce, flow.nonce);
    assert.equal(claims.fhirUser, `${fk.fhirBase}/Patient/oc-pat-1`);
    assert.ok(typeof claims.sub === 'string' && claims.sub.length > 0);
    assert.equal(tokens.token_type, 'bearer');
    assert.equal(tokens.scope, OFFLINE_SCOPE);
    assert.equal(tokens.patient, 'oc-pat-1', 'SMART context parameters come through as extra token response members');
    assert.ok((tokens.expiresIn() ?? 0) > 0);
    assert.ok(tokens.refresh_token);

    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    assert.deepEqual(info, { sub: claims.sub, fhirUser: `${fk.fhirBase}/Patient/oc-pat-1`, name: 'Ada Quill' });
    await assert.rejects(oidc.fetchUserInfo(config, tokens.access_token, 'someone-else'), /unexpected JSON attribute value/, 'the subject is checked');
    assert.equal(await readPatient(config, tokens.access_token, 'oc-pat-1'), 200);

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    assert.notEqual(refreshed.access_token, tokens.access_token);
    assert.ok(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token, 'the refresh token rotated');
    assert.equal(refreshed.scope, OFFLINE_SCOPE);
    const again1 = refreshed.claims()!; // a new id_token, validated again (no nonce expected on refresh)
    assert.deepEqual([again1.iss, again1.sub, again1.aud, again1.fhirUser], [claims.iss, claims.sub, claims.aud, claims.fhirUser], 'OIDC Core §12.2');
    assert.equal(await readPatient(config, refreshed.access_token, 'oc-pat-1'), 200);
    await rejectsWith(oidc.refreshTokenGrant(config, tokens.refresh_token!), 'invalid_grant', 400);

    // Reusing the old refresh token revoked the grant; a fresh one is revoked explicitly by the public client.
    const again = await codeGrant(config, await authorize(config, 'ada', { browser: flow.browser }));
    await oidc.tokenRevocation(config, again.refresh_token!, { token_type_hint: 'refresh_token' });
    await rejectsWith(oidc.refreshTokenGrant(config, again.refresh_token!), 'invalid_grant', 400);
    assert.equal(await readPatient(config, again.access_token, 'oc-pat-1'), 401, 'config the refresh token revoked the grant');
  });

  it('confidential client (ClientSecretBasic): code flow with a patient picker, userinfo, refresh, introspection, revocation', async () => {
    const auth = oidc.ClientSecretBasic(secretApp.secret);
    const config = await discover(secretApp.id, auth, secretApp.secret);
    const flow = await authorize(config, 'doc', { scope: `${OFFLINE_SCOPE} email`, patient: 'oc-pat-2' });
    const tokens = await codeGrant(config, flow);
    const claims = tokens.claims()!;
    assert.equal(claims.aud, secretApp.id);
    assert.equal(claims.fhirUser, `${fk.fhirBase}/Practitioner/oc-doc`);
    assert.equal(tokens.patient, 'oc-pat-2');
    assert.deepEqual(await oidc.fetchUserInfo(config, tokens.access_token, claims.sub),
      { sub: claims.sub, fhirUser: `${fk.fhirBase}/Practitioner/oc-doc`, name: 'Cara Doc', email: 'cara@example.org' });

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    assert.ok(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token);

    const live = await oidc.tokenIntrospection(config, refreshed.access_token);
    assert.equal(live.active, true);
    assert.equal(live.client_id, secretApp.id);
    assert.equal(live.scope, refreshed.scope);
    assert.equal(live.sub, claims.sub);
    assert.equal(live.patient, 'oc-pat-2');
    assert.equal(live.fhirUser, `${fk.fhirBase}/Practitioner/oc-doc`);
    assert.ok(typeof live.exp === 'number' && live.exp > Date.now() / 1000);
    const liveRefresh = await oidc.tokenIntrospection(config, refreshed.refresh_token, { token_type_hint: 'refresh_token' });
    assert.equal(liveRefresh.active, true);
    assert.equal(liveRefresh.client_id, secretApp.id);
    assert.deepEqual(await oidc.tokenIntrospection(config, 'not-a-token'), { active: false });

    await oidc.tokenRevocation(config, refreshed.refresh_token, { token_type_hint: 'refresh_token' });
    assert.equal((await oidc.tokenIntrospection(config, refreshed.refresh_token)).active, false);
    assert.equal((await oidc.tokenIntrospection(config, refreshed.access_token)).active, false, 'revoking the refresh token revoked its grant');
    await rejectsWith(oidc.refreshTokenGrant(config, refreshed.refresh_token), 'invalid_grant', 400);

    // The wrong secret: invalid_client.
    const wrong = await discover(secretApp.id, oidc.ClientSecretBasic('not-the-secret'), 'not-the-secret');
    const flow2 = await authorize(wrong, 'doc', { browser: flow.browser, patient: 'oc-pat-2' });
    await assert.rejects(codeGrant(wrong, flow2), (err: unknown) => {
      assert.ok(err instanceof oidc.ResponseBodyError || err instanceof oidc.WWWAuthenticateChallengeError, String(err));
      assert.equal(err.status, 401);
      return true;
    });
  });

  it('confidential client (ClientSecretPost): code flow, refresh, introspection and revocation of an access token', async () => {
    const auth = oidc.ClientSecretPost(secretApp.secret);
    const config = await discover(secretApp.id, auth, secretApp.secret);
    const tokens = await codeGrant(config, await authorize(config, 'ada'));
    assert.equal(tokens.claims()!.fhirUser, `${fk.fhirBase}/Patient/oc-pat-1`);
    assert.equal(tokens.patient, 'oc-pat-1');
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    assert.ok(refreshed.access_token);

    assert.equal((await oidc.tokenIntrospection(config, refreshed.access_token)).active, true);
    await oidc.tokenRevocation(config, refreshed.access_token, { token_type_hint: 'access_token' });
    assert.equal((await oidc.tokenIntrospection(config, refreshed.access_token)).active, false);
    for (let i = 0; i < 100 && (await readPatient(config, refreshed.access_token, 'oc-pat-1')) !== 401; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await readPatient(config, refreshed.access_token, 'oc-pat-1'), 401, 'a revoked access token stops working');
    assert.equal((await oidc.tokenIntrospection(config, refreshed.refresh_token!)).active, true, 'revoking an access token leaves the refresh token');
  });

  it('a public client cannot introspect', async () => {
    const full = await discover(publicId, oidc.None());
    await assert.rejects(oidc.tokenIntrospection(full, 'x'), (err: unknown) => {
      assert.ok(err instanceof oidc.ResponseBodyError, String(err));
      assert.equal(err.status, 401);
      assert.equal(err.error, 'invalid_client');
      return true;
    });
  });
});
