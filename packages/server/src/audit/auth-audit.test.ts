// The authorization server's events reach the audit trail through a real SMART flow: sign-in failure and success,
// consent, token issue and refresh, introspection, revocation, refusals, backend services, and the user revoking
// an app. No record carries a password, token, code or secret.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, FHIR_BASE, TEST_BASE_URL, type TestApp, type TestResponse } from '../test-support/app.ts';
import { pkcePair, scopeCheckboxes, TestBrowser } from '../test-support/oauth-browser.ts';
import { clientCredentialsForm, newClientKey } from '../test-support/backend-client.ts';
import { registerClient } from '../auth/clients/client-store.ts';
import { createUser } from '../auth/users/user-store.ts';
import { SANDBOX_ADMIN_TOKEN } from '../config.ts';
import { verifyAuditTrail } from './audit-verify.ts';
import { whileAuditRefuses } from '../test-support/audit-outage.ts';

type Json = any; // asserted field by field

const APP = 'https://app.example';
const REDIRECT = `${APP}/callback`;
const PASSWORD = 'correct horse battery';
let t: TestApp;
let clientId: string;

before(async () => {
  t = await testApp();
  await t.request('PUT', '/fhir/Patient/aa-pat', { resourceType: 'Patient', id: 'aa-pat' });
  await createUser(t.db, { username: 'ada', password: PASSWORD, name: 'Ada Quill', role: 'patient', fhirUser: 'Patient/aa-pat' });
  clientId = (await registerClient(t.db, {
    name: 'Growth Chart', type: 'public', redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token'],
    scopes: ['openid', 'fhirUser', 'launch/patient', 'patient/*.rs', 'offline_access'],
  })).client.clientId;
});

/** The AuditEvents recorded since `since`, oldest first, with their Firekeeper subtype code. */
async function eventsSince(since: string): Promise<Json[]> {
  const rows = await t.db.query<{ json: string }>(
    `SELECT r.resource::text AS json FROM audit_chain c JOIN resources r ON r.rid = c.rid WHERE c.seq > $1::bigint ORDER BY c.seq`, [since]);
  return rows.map((r) => JSON.parse(r.json)).filter((e) => e.type.code !== 'rest');
}

async function head(): Promise<string> {
  const [row] = await t.db.query<{ seq: string }>('SELECT coalesce(max(seq), 0)::text AS seq FROM audit_chain');
  return row!.seq;
}

const code = (e: Json) => e.subtype[0].code;
const agent = (e: Json, type: string) => e.agent.find((a: Json) => a.type.coding[0].code === type);
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const post = (url: string, fields: Record<string, string>, headers: Record<string, string | undefined> = {}): Promise<TestResponse> =>
  t.request('POST', url, form(fields), { 'content-type': 'application/x-www-form-urlencoded', authorization: undefined, ...headers });

describe('authorization events are audited', () => {
  it('a whole SMART launch: sign-in failure, success, consent, token, refresh, introspection, revocation, consent revoked', async () => {
    const start = await head();
    const browser = new TestBrowser(t.app, APP);
    const { verifier, challenge } = pkcePair();
    const authorize = new URLSearchParams({
      response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, scope: 'openid fhirUser launch/patient patient/*.rs offline_access',
      state: 's', aud: FHIR_BASE, code_challenge: challenge, code_challenge_method: 'S256',
    });
    const login = await browser.go('GET', `/auth/authorize?${authorize}`);
    const retry = await browser.submit(login, { username: 'ada', password: 'not the password' });
    assert.equal(retry.status, 401);
    const consent = await browser.submit(retry, { username: 'ada', password: PASSWORD });
    const done = await browser.submit(consent, { decision: 'allow', scope: scopeCheckboxes(consent.html).filter((c) => c.checked).map((c) => c.value) });
    const authCode = new URL(done.url).searchParams.get('code')!;
    const issued = await post('/auth/token', { grant_type: 'authorization_code', code: authCode, redirect_uri: REDIRECT, code_verifier: verifier, client_id: clientId });
    assert.equal(issued.status, 200, issued.text);
    const refreshed = await post('/auth/token', { grant_type: 'refresh_token', refresh_token: issued.json.refresh_token, client_id: clientId });
    assert.equal(refreshed.status, 200, refreshed.text);
    const introspected = await post('/auth/introspect', { token: refreshed.json.access_token }, { authorization: `Bearer ${SANDBOX_ADMIN_TOKEN}` });
    assert.equal(introspected.json.active, true);
    const revoked = await post('/auth/revoke', { token: refreshed.json.refresh_token, client_id: clientId });
    assert.equal(revoked.status, 200);
    const manage = new TestBrowser(t.app, APP);
    const apps = await manage.submit(await manage.go('GET', '/auth/manage'), { username: 'ada', password: PASSWORD });
    // The grant is revoked already; approve again so the app is listed, then revoke it from the page.
    await t.db.query(`UPDATE grants SET revoked_at = NULL WHERE client_id = $1`, [clientId]);
    const listed = await manage.go('GET', '/auth/manage');
    assert.match(listed.html, /Growth Chart/, apps.html);
    await manage.submit({ ...listed, html: listed.html.slice(listed.html.indexOf('Growth Chart')) }, {});

    const events = await eventsSince(start);
    assert.deepEqual(events.map(code), [
      'login-failure', 'login-success', 'consent-granted', 'token-issued', 'token-refreshed', 'token-introspected', 'token-revoked',
      'login-success', 'consent-revoked',
    ]);
    const [failure, success, granted, token, refresh, introspection, revocation] = events;
    assert.equal(failure.outcome, '4');
    assert.equal(agent(failure, 'IRCP').altId, 'ada');
    assert.equal(agent(failure, 'IRCP').who, undefined);
    assert.equal(agent(failure, '110150').who.identifier.value, clientId);
    assert.deepEqual(agent(success, 'IRCP').who, { reference: 'Patient/aa-pat' });
    assert.equal(agent(success, 'IRCP').name, 'Ada Quill');
    assert.equal(granted.action, 'C');
    assert.ok(granted.entity.some((e: Json) => e.what?.reference === 'Patient/aa-pat'), 'the launch patient');
    assert.match(granted.entity.find((e: Json) => e.detail).detail[0].valueString, /patient\/\*\.rs/);
    assert.equal(token.id, issued.headers['x-request-id'], 'the token response names its record');
    assert.deepEqual(agent(token, 'IRCP').who, { reference: 'Patient/aa-pat' });
    assert.ok(token.entity.some((e: Json) => e.what?.reference === 'Patient/aa-pat'));
    assert.ok(token.entity.some((e: Json) => /^urn:ietf:params:oauth:jti:[0-9a-f-]{36}$/.test(e.what?.identifier?.value ?? '')));
    assert.equal(agent(refresh, '110150').who.identifier.value, clientId);
    assert.equal(agent(introspection, '110150').who, undefined, 'the admin credential is no client');
    assert.equal(revocation.outcome, '0');
    assert.equal(events.at(-1).action, 'D');
    assert.deepEqual(agent(events.at(-1), 'IRCP').who, { reference: 'Patient/aa-pat' });

    const all = JSON.stringify(events);
    for (const secret of [PASSWORD, 'not the password', authCode, verifier, issued.json.access_token, issued.json.refresh_token, refreshed.json.refresh_token, SANDBOX_ADMIN_TOKEN]) {
      assert.equal(all.includes(secret), false, 'no credential in the trail');
    }
    assert.equal((await verifyAuditTrail(t.db)).ok, true);
  });

  it('nothing takes effect or answers unrecorded: with the audit store down, no sign-in, consent, introspection or revocation', async () => {
    const key = await newClientKey('ES384');
    const backend = (await registerClient(t.db, { name: 'Reports', type: 'backend-service', jwks: { keys: [key.publicJwk] }, scopes: ['system/Patient.rs'], grantTypes: ['client_credentials'] })).client.clientId;
    const body = await clientCredentialsForm({ clientId: backend, tokenUrl: `${TEST_BASE_URL}/auth/token`, key, scope: 'system/Patient.rs' });
    const { access_token: accessToken } = (await t.request('POST', '/auth/token', body.toString(), { 'content-type': 'application/x-www-form-urlencoded', authorization: undefined })).json;
    const authorize = new URLSearchParams({
      response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, scope: 'launch/patient patient/*.rs', state: 's', aud: FHIR_BASE,
      code_challenge: pkcePair().challenge, code_challenge_method: 'S256', prompt: 'consent',
    });
    const signedOut = new TestBrowser(t.app, APP);
    const login = await signedOut.go('GET', `/auth/authorize?${authorize}`);
    const signedIn = new TestBrowser(t.app, APP);
    const consent = await signedIn.submit(await signedIn.go('GET', `/auth/authorize?${authorize}`), { username: 'ada', password: PASSWORD });
    assert.match(consent.html, /Allow/);
    const stored = () => t.db.query(`SELECT (SELECT count(*) FROM grants WHERE client_id = $1)::int AS grants,
      (SELECT count(*) FROM approvals WHERE client_id = $1)::int AS approvals, (SELECT count(*) FROM sessions)::int AS sessions`, [clientId]);
    const before = await stored();
    const start = await head();
    const cookiesBefore = [...signedOut.cookies];
    const serverError = { error: 'server_error', error_description: 'internal error' };

    await whileAuditRefuses(t.db, async () => {
      const signIn = await signedOut.submit(login, { username: 'ada', password: PASSWORD });
      assert.equal(signIn.status, 500);
      assert.deepEqual([...signedOut.cookies], cookiesBefore, 'no session was started');
      const approved = await signedIn.submit(consent, { decision: 'allow', scope: scopeCheckboxes(consent.html).filter((c) => c.checked).map((c) => c.value) });
      assert.equal(approved.status, 500);
      assert.doesNotMatch(approved.url, /code=/, 'no authorization code was issued');
      const introspected = await post('/auth/introspect', { token: accessToken }, { authorization: `Bearer ${SANDBOX_ADMIN_TOKEN}` });
      assert.equal(introspected.status, 500);
      assert.deepEqual(introspected.json, serverError, 'nothing about the token');
      const revoked = await post('/auth/revoke', { token: 'made-up', client_id: clientId });
      assert.equal(revoked.status, 500);
      assert.deepEqual(revoked.json, serverError);
    });

    assert.deepEqual(await eventsSince(start), [], 'nothing was recorded');
    assert.deepEqual(await stored(), before, 'no session, approval or grant was stored');
    const retried = await signedOut.submit(login, { username: 'ada', password: PASSWORD });
    assert.match(retried.html, /Allow/, 'signing in works again');
    assert.equal((await post('/auth/introspect', { token: accessToken }, { authorization: `Bearer ${SANDBOX_ADMIN_TOKEN}` })).json.active, true);
  });

  it('refused token requests are audited with the OAuth error; backend service tokens too', async () => {
    const start = await head();
    const refused = await post('/auth/token', { grant_type: 'refresh_token', refresh_token: 'made-up', client_id: clientId });
    assert.equal(refused.status, 400);
    const key = await newClientKey('ES384');
    const backend = (await registerClient(t.db, { name: 'Analytics', type: 'backend-service', jwks: { keys: [key.publicJwk] }, scopes: ['system/Patient.rs'], grantTypes: ['client_credentials'] })).client.clientId;
    const body = await clientCredentialsForm({ clientId: backend, tokenUrl: `${TEST_BASE_URL}/auth/token`, key, scope: 'system/Patient.rs' });
    const issued = await t.request('POST', '/auth/token', body.toString(), { 'content-type': 'application/x-www-form-urlencoded', authorization: undefined });
    assert.equal(issued.status, 200, issued.text);
    const [failure, token] = await eventsSince(start);
    assert.equal(code(failure), 'token-refreshed');
    assert.equal(failure.outcome, '4');
    assert.match(failure.outcomeDesc, /^HTTP 400: invalid_grant: the refresh token is unknown/);
    assert.equal(code(token), 'token-issued');
    assert.equal(agent(token, '110150').who.identifier.value, backend);
    assert.equal(agent(token, '110150').requestor, true, 'no user: the service is the requestor');
    assert.equal(agent(token, 'IRCP'), undefined);
    assert.equal(JSON.stringify(token).includes(issued.json.access_token), false);
  });

  it('the app registry: admin API changes (refusals included) and dynamic registration, each about its app', async () => {
    const start = await head();
    const adminHeaders = { authorization: `Bearer ${SANDBOX_ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const created = await t.request('POST', '/admin/api/clients', { name: 'Chart review', type: 'confidential-symmetric', redirectUris: ['https://cr.example/cb'] }, adminHeaders);
    assert.equal(created.status, 201, created.text);
    const id: string = created.json.clientId;
    const rotated = await t.request('POST', `/admin/api/clients/${id}/rotate-secret`, undefined, { authorization: adminHeaders.authorization });
    await t.request('POST', `/admin/api/clients/${id}/suspend`, undefined, { authorization: adminHeaders.authorization });
    await t.request('DELETE', `/admin/api/clients/${id}`, undefined, { authorization: 'Bearer a-wrong-guess' });
    await t.request('DELETE', `/admin/api/clients/${id}`, undefined, { authorization: adminHeaders.authorization });
    const registered = await t.request('POST', '/auth/register', { client_name: 'Self-registered', redirect_uris: ['https://self.example/cb'], token_endpoint_auth_method: 'none' },
      { 'content-type': 'application/json', authorization: undefined });
    assert.equal(registered.status, 201, registered.text);

    const events = await eventsSince(start);
    assert.deepEqual(events.map((e) => [code(e), e.outcome]), [
      ['client-created', '0'], ['client-secret-rotated', '0'], ['client-updated', '0'], ['client-deleted', '4'], ['client-deleted', '0'], ['client-created', '0'],
    ]);
    const about = (e: Json) => e.entity.find((x: Json) => x.what?.identifier?.system === 'urn:firekeeper:client-id')?.what.identifier.value;
    assert.deepEqual(events.map(about), [id, id, id, id, id, registered.json.client_id]);
    assert.match(events[3].outcomeDesc, /^HTTP 401: invalid_token/);
    for (const e of events) {
      for (const secret of [SANDBOX_ADMIN_TOKEN, 'a-wrong-guess', created.json.clientSecret, rotated.json.clientSecret]) assert.equal(JSON.stringify(e).includes(secret), false);
    }
    // As FHIR: everything that happened to one app's registration.
    const history = await t.request('GET', `/fhir/AuditEvent?entity:identifier=urn:firekeeper:client-id|${id}&_count=50`);
    assert.equal(history.status, 200, history.text);
    assert.equal(history.json.entry.length, 5);
  });
});
