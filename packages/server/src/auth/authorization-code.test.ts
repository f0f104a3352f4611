// The authorization code flow through the pages and the token endpoint, in process: sign-in, pickers, consent with
// narrowing, PKCE, refresh rotation, and every way a request can be wrong (each gets its error and issues nothing).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { testApp, TEST_BASE_URL, FHIR_BASE, type TestApp } from '../test-support/app.ts';
import { pkcePair, scopeCheckboxes, TestBrowser, type PageResult } from '../test-support/oauth-browser.ts';
import { registerClient } from './clients/client-store.ts';
import { createUser } from './users/user-store.ts';
import { createLaunch } from './launch-store.ts';
import { FREE_FAILURES } from './users/login-throttle.ts';

const APP = 'https://app.example';
const REDIRECT = `${APP}/callback`;
const PASSWORD = 'correct horse battery';
let t: TestApp;
let publicApp: string;
let secretApp: { id: string; secret: string };
let otherApp: string;

before(async () => {
  t = await testApp();
  for (const p of [
    { resourceType: 'Patient', id: 'ac-pat-1', name: [{ given: ['Ada'], family: 'Quill' }], gender: 'female', birthDate: '1970-01-02' },
    { resourceType: 'Patient', id: 'ac-pat-2', name: [{ given: ['Ben'], family: 'Rowe' }], gender: 'male' },
    { resourceType: 'Practitioner', id: 'ac-doc', name: [{ given: ['Cara'], family: 'Doc' }] },
    { resourceType: 'Encounter', id: 'ac-enc-1', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: 'Patient/ac-pat-1' }, period: { start: '2024-05-01' } },
  ]) assert.ok([200, 201].includes((await t.request('PUT', `/fhir/${p.resourceType}/${p.id}`, p)).status));
  await createUser(t.db, { username: 'doc', password: PASSWORD, name: 'Cara Doc', email: 'cara@example.org', role: 'clinician', fhirUser: 'Practitioner/ac-doc' });
  await createUser(t.db, { username: 'ada', password: PASSWORD, name: 'Ada Quill', role: 'patient', fhirUser: 'Patient/ac-pat-1' });
  const scopes = ['openid', 'fhirUser', 'profile', 'email', 'launch', 'launch/patient', 'launch/encounter', 'offline_access', 'online_access', 'patient/*.cruds', 'user/*.rs'];
  publicApp = (await registerClient(t.db, { name: 'Growth Chart', type: 'public', redirectUris: [REDIRECT], scopes, grantTypes: ['authorization_code', 'refresh_token'], corsOrigins: [APP] })).client.clientId;
  const s = await registerClient(t.db, { name: 'Chart Review', type: 'confidential-symmetric', redirectUris: [REDIRECT], scopes, grantTypes: ['authorization_code', 'refresh_token'] });
  secretApp = { id: s.client.clientId, secret: s.secret! };
  otherApp = (await registerClient(t.db, { name: 'Other', type: 'public', redirectUris: [REDIRECT], scopes })).client.clientId;
});

interface Flow { browser: TestBrowser; verifier: string; state: string; nonce: string }

function authorizeUrl(clientId: string, challenge: string, o: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, scope: 'openid fhirUser launch/patient patient/*.rs offline_access',
    state: 'st-1 &x', aud: FHIR_BASE, code_challenge: challenge, code_challenge_method: 'S256', nonce: 'n-1',
  });
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) params.delete(k);
    else params.set(k, v);
  }
  return `/auth/authorize?${params}`;
}

async function begin(clientId: string, o: Record<string, string | undefined> = {}, browser = new TestBrowser(t.app, APP)): Promise<Flow & { page: PageResult }> {
  const { verifier, challenge } = pkcePair();
  const page = await browser.go('GET', authorizeUrl(clientId, challenge, o));
  return { browser, verifier, state: o.state ?? 'st-1 &x', nonce: 'n-1', page };
}

async function signIn(flow: { browser: TestBrowser; page: PageResult }, username: string, password = PASSWORD): Promise<PageResult> {
  assert.match(flow.page.html, /<label for="username">Username<\/label>/);
  return flow.browser.submit(flow.page, { username, password });
}

function codeFrom(page: PageResult, state = 'st-1 &x'): string {
  assert.ok(page.url.startsWith(REDIRECT), `expected a redirect to the app, got ${page.status} ${page.url}\n${page.html.slice(0, 500)}`);
  const url = new URL(page.url);
  assert.equal(url.searchParams.get('state'), state, 'state is echoed exactly');
  assert.equal(url.searchParams.get('error'), null, url.searchParams.get('error_description') ?? '');
  return url.searchParams.get('code')!;
}

function errorFrom(page: PageResult): { error: string | null; description: string | null; state: string | null; code: string | null } {
  assert.ok(page.url.startsWith(REDIRECT), `expected a redirect to the app, got ${page.status}`);
  const p = new URL(page.url).searchParams;
  return { error: p.get('error'), description: p.get('error_description'), state: p.get('state'), code: p.get('code') };
}

async function token(fields: Record<string, string>, headers: Record<string, string> = {}) {
  return t.request('POST', '/auth/token', new URLSearchParams(fields).toString(), { 'content-type': 'application/x-www-form-urlencoded', authorization: undefined, ...headers });
}

async function exchange(code: string, verifier: string, clientId = publicApp, extra: Record<string, string> = {}) {
  return token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: clientId, ...extra });
}

function assertOAuthError(res: Awaited<ReturnType<typeof token>>, status: number, error: string, description?: RegExp) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json.error, error);
  if (description) assert.match(res.json.error_description, description);
  assert.equal(res.json.access_token, undefined);
  assert.equal(res.headers['cache-control'], 'no-store');
}

/** Standalone launch by the patient user (no picker: their own record), consent as offered. */
async function patientCode(o: Record<string, string | undefined> = {}): Promise<Flow & { code: string }> {
  const flow = await begin(publicApp, o);
  let page = await signIn(flow, 'ada');
  if (!page.url.startsWith(REDIRECT)) page = await flow.browser.submit(page, { decision: 'allow', scope: scopeCheckboxes(page.html).filter((c) => c.checked).map((c) => c.value) });
  return { ...flow, code: codeFrom(page, flow.state) };
}

describe('authorization code flow', () => {
  it('standalone launch: sign-in, consent, code + PKCE → tokens with patient context, id_token; the token reads FHIR', async () => {
    const flow = await begin(publicApp);
    assert.equal(flow.page.status, 200);
    assert.match(String(flow.page.headers['content-security-policy']), /default-src 'none'.*frame-ancestors 'self'/);
    const consent = await signIn(flow, 'ada');
    assert.match(consent.html, /<button type="submit" name="decision" value="allow">Allow<\/button>/);
    assert.match(consent.html, />Deny</);
    assert.match(consent.html, /Ada Quill/);
    const boxes = scopeCheckboxes(consent.html);
    assert.deepEqual(boxes.filter((b) => b.checked).map((b) => b.value), ['openid', 'fhirUser', 'launch/patient', 'patient/*.rs', 'offline_access']);
    const code = codeFrom(await flow.browser.submit(consent, { decision: 'allow', scope: boxes.filter((b) => b.checked).map((b) => b.value) }));

    const res = await exchange(code, flow.verifier);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.headers.pragma, 'no-cache');
    assert.equal(res.json.token_type, 'Bearer');
    assert.equal(typeof res.json.expires_in, 'number');
    assert.equal(res.json.scope, 'openid fhirUser launch/patient patient/*.rs offline_access');
    assert.equal(res.json.patient, 'ac-pat-1');
    assert.equal(res.json.need_patient_banner, true);
    assert.ok(res.json.refresh_token);
    const jwks = createLocalJWKSet((await t.request('GET', '/.well-known/jwks.json')).json);
    const { payload: id, protectedHeader } = await jwtVerify(res.json.id_token, jwks, { issuer: TEST_BASE_URL, audience: publicApp });
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(id.nonce, 'n-1');
    assert.equal(id.fhirUser, `${FHIR_BASE}/Patient/ac-pat-1`);
    const { payload: at } = await jwtVerify(res.json.access_token, jwks, { issuer: TEST_BASE_URL, audience: FHIR_BASE });
    assert.equal(at.patient, 'ac-pat-1');
    assert.equal(at.client_id, publicApp);
    const read = await t.request('GET', '/fhir/Patient/ac-pat-1', undefined, { authorization: `Bearer ${res.json.access_token}` });
    assert.equal(read.status, 200);
  });

  it('remembers the approval (no consent page next time) until prompt=consent asks again', async () => {
    const first = await patientCode();
    const again = await begin(publicApp, {}, first.browser);
    codeFrom(again.page); // signed in and approved: straight back to the app
    const asked = await begin(publicApp, { prompt: 'consent' }, first.browser);
    assert.match(asked.page.html, /Allow Growth Chart\?/);
  });

  it('consent with narrowing: unticking, a read-only downgrade and a category sub-scope grant exactly those', async () => {
    const flow = await begin(publicApp, { scope: 'launch/patient patient/Observation.cruds patient/Condition.rs patient/Patient.rs', prompt: 'consent' });
    const consent = await signIn(flow, 'ada');
    const values = scopeCheckboxes(consent.html).map((b) => b.value);
    const lab = 'patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory';
    assert.ok(values.includes('patient/Observation.rs'), 'a read-only version of a write scope is offered');
    assert.ok(values.includes(lab));
    const problems = 'patient/Condition.rs?category=http://terminology.hl7.org/CodeSystem/condition-category|problem-list-item';
    assert.ok(values.includes(problems));
    const code = codeFrom(await flow.browser.submit(consent, {
      decision: 'allow', scope: ['launch/patient', 'patient/Observation.rs', problems, 'patient/Observation.cruds?evil=1', 'system/*.*'],
    }));
    const res = await exchange(code, flow.verifier);
    assert.equal(res.json.scope, `launch/patient patient/Observation.rs ${problems}`, 'only offered values count; nothing widened');
    assert.equal(res.json.refresh_token, undefined, 'offline_access was not requested');
  });

  it('a practitioner picks the patient and the encounter', async () => {
    const flow = await begin(publicApp, { scope: 'launch/patient launch/encounter patient/*.rs', prompt: 'consent' });
    const picker = await signIn(flow, 'doc');
    assert.match(picker.html, /Choose a patient/);
    assert.match(picker.html, /Ada Quill/);
    assert.match(picker.html, /Ben Rowe/);
    const searched = await flow.browser.go('GET', `${/action="([^"]+)"/.exec(picker.html)![1]}?name=Rowe`);
    assert.doesNotMatch(searched.html, /Ada Quill/);
    const refused = await flow.browser.submit(picker, { patient: 'no-such-patient' });
    assert.match(refused.html, /Choose a patient/, 'an unknown patient is not accepted');
    const encounters = await flow.browser.submit(picker, { patient: 'ac-pat-1' });
    assert.match(encounters.html, /Choose an encounter/);
    const consent = await flow.browser.submit(encounters, { encounter: 'ac-enc-1' });
    const code = codeFrom(await flow.browser.submit(consent, { decision: 'allow', scope: scopeCheckboxes(consent.html).filter((c) => c.checked).map((c) => c.value) }));
    const res = await exchange(code, flow.verifier);
    assert.equal(res.json.patient, 'ac-pat-1');
    assert.equal(res.json.encounter, 'ac-enc-1');
  });

  it('EHR launch: the launch record gives the context; a launch id is bound to its client', async () => {
    const user = (await t.db.query<{ id: string }>(`SELECT id FROM users WHERE username = 'doc'`))[0]!.id;
    const launch = await createLaunch(t.db, { clientId: publicApp, userId: user, context: { patient: 'ac-pat-2', need_patient_banner: false, smart_style_url: `${TEST_BASE_URL}/ui/smart-style.json`, intent: 'reconcile-medications', fhirContext: [{ reference: 'Encounter/ac-enc-1' }] } });
    const flow = await begin(publicApp, { scope: 'launch openid fhirUser patient/*.rs', launch: launch.id });
    const consent = await signIn(flow, 'doc');
    const code = codeFrom(await flow.browser.submit(consent, { decision: 'allow', scope: scopeCheckboxes(consent.html).filter((c) => c.checked).map((c) => c.value) }));
    const res = await exchange(code, flow.verifier);
    assert.equal(res.json.patient, 'ac-pat-2');
    assert.equal(res.json.need_patient_banner, false);
    assert.equal(res.json.intent, 'reconcile-medications');
    assert.deepEqual(res.json.fhirContext, [{ reference: 'Encounter/ac-enc-1' }]);

    const stolen = await begin(otherApp, { scope: 'launch patient/*.rs', launch: launch.id });
    const e = errorFrom(stolen.page);
    assert.equal(e.error, 'invalid_request');
    assert.match(e.description!, /launch/);
    assert.equal(e.code, null);
  });

  it('refresh: rotation; a reused refresh token revokes the whole grant; scope may only narrow', async () => {
    const flow = await patientCode();
    const first = (await exchange(flow.code, flow.verifier)).json;
    const widened = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: publicApp, scope: 'patient/*.cruds' });
    assertOAuthError(widened, 400, 'invalid_scope', /only narrow/);
    const second = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: publicApp, scope: 'patient/Observation.rs offline_access' });
    assert.equal(second.status, 200, 'the refused widening did not consume the token');
    assertOAuthError(await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: publicApp }), 400, 'invalid_grant', /already used/);
    assert.equal((await t.request('GET', '/fhir/Patient/ac-pat-1', undefined, { authorization: `Bearer ${second.json.access_token}` })).status, 401);
    assertOAuthError(await token({ grant_type: 'refresh_token', refresh_token: second.json.refresh_token, client_id: publicApp }), 400, 'invalid_grant');
    const read = await t.request('GET', '/fhir/Patient/ac-pat-1', undefined, { authorization: `Bearer ${first.access_token}` });
    assert.equal(read.status, 401, 'reuse revoked the access token issued from the grant');
  });

  it('refresh: a rotated token works once, narrowing is honoured, and the old one is dead', async () => {
    const flow = await patientCode();
    const first = (await exchange(flow.code, flow.verifier)).json;
    const second = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: publicApp, scope: 'patient/Patient.rs' });
    assert.equal(second.status, 200, second.text);
    assert.equal(second.json.scope, 'patient/Patient.rs');
    assert.notEqual(second.json.refresh_token, first.refresh_token);
    assert.equal(second.json.patient, 'ac-pat-1');
    const third = await token({ grant_type: 'refresh_token', refresh_token: second.json.refresh_token, client_id: publicApp });
    assert.equal(third.status, 200);
    assert.equal(third.json.scope, 'openid fhirUser launch/patient patient/*.rs offline_access', 'without scope, the full original grant');
    assertOAuthError(await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: publicApp }), 400, 'invalid_grant');
    assertOAuthError(await token({ grant_type: 'refresh_token', refresh_token: third.json.refresh_token, client_id: publicApp }), 400, 'invalid_grant', /already used|revoked/);
  });

  it('refresh: a public client may send just the refresh token (RFC 6749 §6); a confidential one must authenticate', async () => {
    const flow = await patientCode();
    const first = (await exchange(flow.code, flow.verifier)).json;
    const bare = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
    assert.equal(bare.status, 200, bare.text);
    assertOAuthError(await token({ grant_type: 'refresh_token', refresh_token: 'unknown' }), 400, 'invalid_grant');
    const flow2 = await begin(secretApp.id, {}, flow.browser);
    const consent = flow2.page;
    const code = codeFrom(consent.url.startsWith(REDIRECT) ? consent : await flow2.browser.submit(consent, { decision: 'allow', scope: scopeCheckboxes(consent.html).filter((c) => c.checked).map((c) => c.value) }));
    const confidential = (await exchange(code, flow2.verifier, secretApp.id, { client_secret: secretApp.secret })).json;
    assertOAuthError(await token({ grant_type: 'refresh_token', refresh_token: confidential.refresh_token }), 401, 'invalid_client');
    assert.equal((await token({ grant_type: 'refresh_token', refresh_token: confidential.refresh_token, client_id: secretApp.id, client_secret: secretApp.secret })).status, 200, 'the refused request did not consume it');
  });

  it('a code works once; a second use revokes what the first issued', async () => {
    const flow = await patientCode();
    const ok = await exchange(flow.code, flow.verifier);
    assert.equal(ok.status, 200);
    assertOAuthError(await exchange(flow.code, flow.verifier), 400, 'invalid_grant', /already used/);
    assert.equal((await t.request('GET', '/fhir/Patient/ac-pat-1', undefined, { authorization: `Bearer ${ok.json.access_token}` })).status, 401);
    assertOAuthError(await token({ grant_type: 'refresh_token', refresh_token: ok.json.refresh_token, client_id: publicApp }), 400, 'invalid_grant');
  });

  it('refuses a wrong or missing PKCE verifier, another redirect_uri, another client, and an unknown code', async () => {
    const wrong = await patientCode();
    assertOAuthError(await exchange(wrong.code, pkcePair().verifier), 400, 'invalid_grant', /PKCE/);
    const missing = await patientCode();
    assertOAuthError(await token({ grant_type: 'authorization_code', code: missing.code, redirect_uri: REDIRECT, client_id: publicApp }), 400, 'invalid_request', /code_verifier/);
    const redirect = await patientCode();
    assertOAuthError(await exchange(redirect.code, redirect.verifier, publicApp, { redirect_uri: `${APP}/other` }), 400, 'invalid_grant', /redirect_uri/);
    const stolen = await patientCode();
    assertOAuthError(await exchange(stolen.code, stolen.verifier, otherApp), 400, 'invalid_grant');
    assert.equal((await exchange(stolen.code, stolen.verifier)).status, 200, 'the other client did not consume it');
    assertOAuthError(await exchange('nope', pkcePair().verifier), 400, 'invalid_grant');
    assertOAuthError(await exchange(wrong.code, 'short'), 400, 'invalid_grant');
  });

  it('confidential clients: Basic and post secrets; a wrong secret is 401 with a Basic challenge', async () => {
    const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
    const a = await patientCode();
    // The patient approved publicApp only; the confidential app gets its own flow.
    const flow = await begin(secretApp.id, {}, a.browser);
    const consent = flow.page;
    const code = codeFrom(consent.url.startsWith(REDIRECT) ? consent : await flow.browser.submit(consent, { decision: 'allow', scope: scopeCheckboxes(consent.html).filter((c) => c.checked).map((c) => c.value) }));
    const wrong = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: flow.verifier }, { authorization: basic(secretApp.id, 'wrong') });
    assertOAuthError(wrong, 401, 'invalid_client');
    assert.match(String(wrong.headers['www-authenticate']), /^Basic realm=/);
    const ok = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: flow.verifier }, { authorization: basic(secretApp.id, secretApp.secret) });
    assert.equal(ok.status, 200, ok.text);
    const post = await token({ grant_type: 'refresh_token', refresh_token: ok.json.refresh_token, client_id: secretApp.id, client_secret: secretApp.secret });
    assert.equal(post.status, 200, post.text);
    assertOAuthError(await token({ grant_type: 'refresh_token', refresh_token: post.json.refresh_token, client_id: secretApp.id }), 401, 'invalid_client', /confidential/);
    assertOAuthError(await token({ grant_type: 'refresh_token', refresh_token: post.json.refresh_token, client_id: 'unknown', client_secret: 'x' }), 401, 'invalid_client');
    assertOAuthError(await token({ grant_type: 'client_credentials', client_id: secretApp.id, client_secret: secretApp.secret, scope: 'system/*.rs' }), 400, 'unauthorized_client');
  });

  it('CORS: a registered origin is allowed; an unregistered one gets an error and no token', async () => {
    const flow = await patientCode();
    const bad = await exchange(flow.code, flow.verifier, publicApp, {});
    assert.equal(bad.status, 200);
    const preflight = await t.app.inject({ method: 'OPTIONS', url: '/auth/token', headers: { origin: APP, 'access-control-request-method': 'POST' } });
    assert.equal(preflight.statusCode, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], APP);
    const evilPreflight = await t.app.inject({ method: 'OPTIONS', url: '/auth/token', headers: { origin: 'https://evil.example' } });
    assert.equal(evilPreflight.headers['access-control-allow-origin'], undefined);
    const second = await patientCode();
    const evil = await token({ grant_type: 'authorization_code', code: second.code, redirect_uri: REDIRECT, code_verifier: second.verifier, client_id: publicApp }, { origin: 'https://evil.example' });
    assertOAuthError(evil, 400, 'invalid_request', /origin/);
    assert.equal(evil.headers['access-control-allow-origin'], undefined);
    const third = await patientCode();
    const good = await token({ grant_type: 'authorization_code', code: third.code, redirect_uri: REDIRECT, code_verifier: third.verifier, client_id: publicApp }, { origin: APP });
    assert.equal(good.status, 200);
    assert.equal(good.headers['access-control-allow-origin'], APP);
  });
});

describe('authorization request errors', () => {
  it('an unknown client or a wrong redirect_uri shows an error page and never redirects', async () => {
    const { challenge } = pkcePair();
    const browser = new TestBrowser(t.app, APP);
    for (const [url, message] of [
      [authorizeUrl('no-such-client', challenge), /not registered/],
      [authorizeUrl(publicApp, challenge, { redirect_uri: 'https://evil.example/cb' }), /redirect_uri/],
      [authorizeUrl(publicApp, challenge, { redirect_uri: `${REDIRECT}/` }), /redirect_uri/],
      [authorizeUrl(publicApp, challenge, { redirect_uri: undefined }), /redirect_uri/],
    ] as const) {
      const page = await browser.go('GET', url);
      assert.equal(page.status, 400);
      assert.equal(page.headers.location, undefined);
      assert.match(page.html, message);
    }
  });

  it('errors after the redirect URI is known go back to the app with state, and issue no code', async () => {
    for (const [o, error, description] of [
      [{ aud: 'https://other.example/fhir' }, 'invalid_request', /aud/],
      [{ aud: undefined }, 'invalid_request', /aud/],
      [{ code_challenge_method: 'plain' }, 'invalid_request', /S256/],
      [{ code_challenge_method: undefined }, 'invalid_request', /S256/],
      [{ code_challenge: undefined }, 'invalid_request', /code_challenge/],
      [{ response_type: 'token' }, 'unsupported_response_type', /code/],
      [{ scope: 'patient/Observation.rsx' }, 'invalid_scope', /not valid/],
      [{ scope: 'system/*.rs' }, 'invalid_scope', /none of the requested/],
      [{ scope: 'patient/Observation.rs?no-such-param=1' }, 'invalid_scope', /cannot enforce: Unknown search parameter 'no-such-param'/],
      [{ scope: 'patient/Observation.rs?date=yesterday' }, 'invalid_scope', /cannot enforce/],
      [{ scope: 'launch patient/*.rs' }, 'invalid_request', /launch parameter/],
      [{ launch: 'forged', scope: 'launch patient/*.rs' }, 'invalid_request', /launch/],
      [{ prompt: 'sometimes' }, 'invalid_request', /prompt/],
    ] as const) {
      const flow = await begin(publicApp, o as Record<string, string | undefined>);
      const e = errorFrom(flow.page);
      assert.equal(e.error, error, JSON.stringify(o));
      assert.match(e.description!, description);
      assert.equal(e.state, 'st-1 &x');
      assert.equal(e.code, null);
    }
  });

  it('prompt=none: login_required without a session, consent_required before approval', async () => {
    assert.equal(errorFrom((await begin(publicApp, { prompt: 'none' })).page).error, 'login_required');
    const flow = await begin(otherApp, {});
    await signIn(flow, 'ada');
    assert.equal(errorFrom((await begin(otherApp, { prompt: 'none' }, flow.browser)).page).error, 'consent_required');
  });

  it('prompt=login asks for the password again even with a live session', async () => {
    const first = await patientCode();
    const again = await begin(publicApp, { prompt: 'login' }, first.browser);
    assert.match(again.page.html, /<label for="password">Password<\/label>/);
    codeFrom(await signIn(again, 'ada'));
  });

  it('a pending or suspended app gets an error page', async () => {
    const pending = (await registerClient(t.db, { name: 'Pending', type: 'public', redirectUris: [REDIRECT], scopes: ['patient/*.rs'], status: 'pending' })).client.clientId;
    const page = (await begin(pending)).page;
    assert.equal(page.status, 400);
    assert.match(page.html, /waiting for approval/);
  });

  it('deny returns access_denied; a form without the CSRF token is refused', async () => {
    const flow = await begin(publicApp, { prompt: 'consent' });
    const consent = await signIn(flow, 'ada');
    const action = /<form method="post" action="([^"]+)"/.exec(consent.html)![1]!;
    const forged = await flow.browser.go('POST', action, new URLSearchParams({ step: 'consent', decision: 'allow', scope: 'patient/*.rs' }));
    assert.equal(forged.status, 403);
    assert.equal(forged.headers.location, undefined);
    assert.equal(errorFrom(await flow.browser.submit(consent, { decision: 'deny' })).error, 'access_denied');
  });

  it('sign-in: a wrong password fails without saying which part; repeated failures lock the username', async () => {
    const flow = await begin(publicApp);
    const wrong = await signIn(flow, 'ada', 'wrong password');
    assert.equal(wrong.status, 401);
    assert.match(wrong.html, /username or password is not correct/);
    const unknown = await signIn({ browser: flow.browser, page: wrong }, 'nobody-here', 'x');
    assert.match(unknown.html, /username or password is not correct/);
    let page = wrong;
    for (let i = 1; i < FREE_FAILURES; i++) page = await signIn({ browser: flow.browser, page }, 'ada', 'wrong again');
    const locked = await signIn({ browser: flow.browser, page }, 'ada');
    assert.match(locked.html, /Too many failed attempts/, 'even the right password waits');
    await t.db.query(`DELETE FROM login_failures`);
  });
});

describe('introspection, revocation and userinfo', () => {
  const basicFor = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });
  const introspect = (tokenValue: string, headers: Record<string, string> = basicFor(secretApp.id, secretApp.secret)) =>
    t.request('POST', '/auth/introspect', new URLSearchParams({ token: tokenValue }).toString(), { 'content-type': 'application/x-www-form-urlencoded', authorization: undefined, ...headers });
  const revoke = (fields: Record<string, string>) => t.request('POST', '/auth/revoke', new URLSearchParams(fields).toString(), { 'content-type': 'application/x-www-form-urlencoded', authorization: undefined });
  const until = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 100 && !(await check()); i++) await new Promise((r) => setTimeout(r, 50));
  };

  it('introspects live access and refresh tokens; anything else is inactive', async () => {
    const flow = await patientCode();
    const tokens = (await exchange(flow.code, flow.verifier)).json;
    const live = await introspect(tokens.access_token);
    assert.equal(live.status, 200);
    assert.equal(live.headers['cache-control'], 'no-store');
    assert.equal(live.json.active, true);
    assert.equal(live.json.client_id, publicApp);
    assert.equal(live.json.scope, tokens.scope);
    assert.equal(live.json.patient, 'ac-pat-1');
    assert.equal(live.json.fhirUser, `${FHIR_BASE}/Patient/ac-pat-1`);
    assert.equal(typeof live.json.exp, 'number');
    assert.ok(live.json.sub);
    const refresh = await introspect(tokens.refresh_token, { authorization: 'Bearer firekeeper-sandbox-admin' });
    assert.deepEqual([refresh.json.active, refresh.json.client_id, refresh.json.scope, refresh.json.patient], [true, publicApp, tokens.scope, 'ac-pat-1']);
    assert.deepEqual((await introspect('garbage')).json, { active: false });
    assert.deepEqual((await introspect(`${tokens.access_token.slice(0, -4)}AAAA`)).json, { active: false });
    assert.deepEqual((await introspect(await t.token({ lifetimeSeconds: -10 }))).json, { active: false });
  });

  it('introspection needs a confidential client or the admin credential', async () => {
    const anonymous = await introspect('x', {});
    assert.equal(anonymous.status, 401);
    const publicClient = await t.request('POST', '/auth/introspect', `token=x&client_id=${publicApp}`, { 'content-type': 'application/x-www-form-urlencoded', authorization: undefined });
    assert.equal(publicClient.status, 401);
    assert.equal(publicClient.json.error, 'invalid_client');
    const wrongBearer = await introspect('x', { authorization: 'Bearer not-the-admin-token' });
    assert.equal(wrongBearer.status, 401);
    assert.match(String(wrongBearer.headers['www-authenticate']), /error="invalid_token"/);
    const wrongSecret = await introspect('x', basicFor(secretApp.id, 'wrong'));
    assert.equal(wrongSecret.status, 401);
    assert.match(String(wrongSecret.headers['www-authenticate']), /^Basic /);
  });

  it('revocation: a refresh token revokes its grant; an access token stops working; unknown tokens are 200', async () => {
    const flow = await patientCode();
    const tokens = (await exchange(flow.code, flow.verifier)).json;
    const other = await revoke({ token: tokens.refresh_token, client_id: otherApp });
    assert.equal(other.status, 400);
    assert.equal(other.json.error, 'unauthorized_client');
    assert.equal((await introspect(tokens.refresh_token)).json.active, true, "another client cannot revoke it");
    assert.equal((await revoke({ token: tokens.refresh_token, client_id: publicApp, token_type_hint: 'refresh_token' })).status, 200);
    assertOAuthError(await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: publicApp }), 400, 'invalid_grant');
    assert.deepEqual((await introspect(tokens.access_token)).json, { active: false });
    assert.equal((await t.request('GET', '/fhir/Patient/ac-pat-1', undefined, { authorization: `Bearer ${tokens.access_token}` })).status, 401);
    assert.equal((await revoke({ token: 'never-issued', client_id: publicApp })).status, 200);
    assert.equal((await revoke({ token: 'x' })).status, 401, 'the client must identify itself');

    const second = await patientCode();
    const fresh = (await exchange(second.code, second.verifier)).json;
    assert.equal((await revoke({ token: fresh.access_token, client_id: publicApp })).status, 200);
    await until(async () => (await t.request('GET', '/fhir/Patient/ac-pat-1', undefined, { authorization: `Bearer ${fresh.access_token}` })).status === 401);
    assert.equal((await t.request('GET', '/fhir/Patient/ac-pat-1', undefined, { authorization: `Bearer ${fresh.access_token}` })).status, 401);
    assert.equal((await introspect(fresh.refresh_token)).json.active, true, 'revoking an access token leaves the refresh token');
  });

  it('the management page lists the apps a user authorized and revokes one', async () => {
    const flow = await patientCode();
    const tokens = (await exchange(flow.code, flow.verifier)).json;
    const browser = new TestBrowser(t.app, APP);
    const login = await browser.go('GET', '/auth/manage');
    const page = await browser.submit(login, { username: 'ada', password: PASSWORD });
    assert.match(page.html, /Growth Chart/);
    assert.match(page.html, /Read and search all of this patient/);
    const revokeForm = page.html.slice(page.html.indexOf('Growth Chart'));
    const revoked = await browser.submit({ ...page, html: revokeForm }, {});
    assert.doesNotMatch(revoked.html, /Growth Chart/);
    assertOAuthError(await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: publicApp }), 400, 'invalid_grant');
    assert.equal((await introspect(tokens.access_token)).json.active, false);
    const again = await begin(publicApp, {}, flow.browser);
    assert.match(again.page.html, /Allow Growth Chart\?/, 'the remembered approval is gone too');
    const out = await browser.submit({ ...revoked, html: revoked.html.slice(revoked.html.lastIndexOf('<form')) }, {});
    assert.match(out.html, /<label for="username">/, 'signed out');
  });

  it('userinfo returns the claims the scopes allow', async () => {
    const flow = await begin(publicApp, { scope: 'openid fhirUser profile email launch/patient patient/*.rs', prompt: 'consent' });
    const consent = await signIn(flow, 'doc');
    const picked = await flow.browser.submit(consent, { patient: 'ac-pat-1' });
    const code = codeFrom(picked.url.startsWith(REDIRECT) ? picked : await flow.browser.submit(picked, { decision: 'allow', scope: scopeCheckboxes(picked.html).filter((c) => c.checked).map((c) => c.value) }));
    const tokens = (await exchange(code, flow.verifier)).json;
    const info = await t.request('GET', '/auth/userinfo', undefined, { authorization: `Bearer ${tokens.access_token}` });
    assert.equal(info.status, 200, info.text);
    assert.deepEqual({ ...info.json, sub: undefined }, { sub: undefined, fhirUser: `${FHIR_BASE}/Practitioner/ac-doc`, name: 'Cara Doc', email: 'cara@example.org' });
    const noOpenid = await t.request('GET', '/auth/userinfo', undefined, { authorization: `Bearer ${await t.token()}` });
    assert.equal(noOpenid.status, 403);
    assert.equal(noOpenid.json.error, 'insufficient_scope');
    assert.equal((await t.request('GET', '/auth/userinfo', undefined, { authorization: undefined })).status, 401);
  });
});
