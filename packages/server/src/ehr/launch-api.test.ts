// POST /launch: who may launch (the admin credential, a clinician's or administrator's session; not a patient, not
// anonymous), what a launch stores (the checked context, bound to one app and one user, expiring), the URL it
// answers with, every refusal with its field named and nothing stored, and the audit record.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyReply } from 'fastify';
import { testApp, FHIR_BASE, type TestApp, type TestResponse } from '../test-support/app.ts';
import { SANDBOX_ADMIN_TOKEN } from '../config.ts';
import { registerClient, setClientStatus } from '../auth/clients/client-store.ts';
import { createUser } from '../auth/users/user-store.ts';
import { Sessions } from '../auth/session.ts';
import { findLaunch, LAUNCH_LIFETIME_S } from '../auth/launch-store.ts';
import { CLIENT_ID_SYSTEM } from '../audit/audit-event.ts';

let t: TestApp;
const ids = { app: '', otherApp: '', pending: '', backend: '', noLaunchUrl: '', noLaunchScope: '', doctor: '', admin: '' };
const cookies = { doctor: '', admin: '', patient: '' };
const PASSWORD = 'launch-api-password';
const APP = { type: 'public' as const, redirectUris: ['https://app.example/cb'], launchUrl: 'https://app.example/launch?site=a', scopes: ['launch', 'openid', 'fhirUser', 'patient/*.rs'] };

/** A session cookie for the user, made the way the sign-in page makes one. */
async function signedIn(userId: string): Promise<string> {
  let cookie = '';
  const reply = { setCookie: (name: string, value: string) => void (cookie = `${name}=${value}`) } as unknown as FastifyReply;
  await new Sessions(t.db, false).start(reply, userId);
  return cookie;
}

before(async () => {
  t = await testApp();
  ids.app = (await registerClient(t.db, { name: 'Chart app', ...APP })).client.clientId;
  ids.otherApp = (await registerClient(t.db, { name: 'Other app', ...APP })).client.clientId;
  ids.pending = (await registerClient(t.db, { name: 'Pending app', ...APP, status: 'pending' })).client.clientId;
  ids.backend = (await registerClient(t.db, { name: 'Backend', type: 'backend-service', jwksUri: 'https://backend.example/jwks', scopes: ['system/Patient.rs'] })).client.clientId;
  ids.noLaunchUrl = (await registerClient(t.db, { name: 'No launch URL', ...APP, launchUrl: undefined })).client.clientId;
  ids.noLaunchScope = (await registerClient(t.db, { name: 'Standalone only', ...APP, scopes: ['launch/patient', 'patient/*.rs'] })).client.clientId;
  for (const [type, id, extra] of [
    ['Patient', 'la-pat', {}], ['Patient', 'la-other', {}],
    ['Encounter', 'la-enc', { status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/la-pat' } }],
    ['Encounter', 'la-other-enc', { status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/la-other' } }],
    ['Observation', 'la-obs', { status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/la-pat' } }],
  ] as const) {
    const res = await t.request('PUT', `/fhir/${type}/${id}`, { resourceType: type, id, ...extra });
    assert.ok(res.status < 300, res.text);
  }
  const doctor = await createUser(t.db, { username: 'la-doc', password: PASSWORD, name: 'Lee Doc', role: 'clinician', fhirUser: 'Practitioner/la-doc' });
  const admin = await createUser(t.db, { username: 'la-admin', password: PASSWORD, name: 'Ada Admin', role: 'admin' });
  const patient = await createUser(t.db, { username: 'la-patient', password: PASSWORD, name: 'Pat Ient', role: 'patient', fhirUser: 'Patient/la-pat' });
  ids.doctor = doctor.id;
  ids.admin = admin.id;
  cookies.doctor = await signedIn(doctor.id);
  cookies.admin = await signedIn(admin.id);
  cookies.patient = await signedIn(patient.id);
});

/** POST /launch with a JSON body; `as` is the admin token (default), a session cookie, or nothing. */
function launch(body: unknown, as: { token?: string; cookie?: string } = { token: SANDBOX_ADMIN_TOKEN }, contentType = 'application/json'): Promise<TestResponse> {
  return t.request('POST', '/launch', typeof body === 'string' ? body : JSON.stringify(body), {
    authorization: as.token === undefined ? undefined : `Bearer ${as.token}`,
    ...(as.cookie ? { cookie: as.cookie } : {}),
    'content-type': contentType,
  });
}

const launchCount = async () => Number((await t.db.query<{ n: string }>('SELECT count(*)::text AS n FROM launches'))[0]!.n);

function assertError(res: TestResponse, status: number, error: string, description: RegExp) {
  assert.equal(res.status, status, res.text);
  assert.deepEqual(Object.keys(res.json).sort(), ['error', 'error_description']);
  assert.equal(res.json.error, error);
  assert.match(res.json.error_description, description);
  assert.equal(res.headers['cache-control'], 'no-store');
}

describe('POST /launch', () => {
  it('stores the context for one app and answers with its launch URL, iss and launch added', async () => {
    const context = {
      patient: 'la-pat', encounter: 'la-enc', fhirContext: [{ reference: 'Observation/la-obs' }, { reference: 'Patient/la-other', role: 'https://example.org/roles/sibling' }],
      intent: 'reconcile-medications', need_patient_banner: false, smart_style_url: 'https://ehr.example/smart-style.json', tenant: 'north',
      parameters: { dashboard: 'renal', showSummary: true, maxItems: 5 },
    };
    const res = await launch({ client_id: ids.app, ...context });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(Object.keys(res.json).sort(), ['expires_in', 'launch', 'url']);
    assert.equal(res.json.expires_in, LAUNCH_LIFETIME_S);
    assert.match(res.json.launch, /^[A-Za-z0-9_-]{24}$/, 'a random id: nothing of the context');
    const url = new URL(res.json.url);
    assert.equal(`${url.origin}${url.pathname}`, 'https://app.example/launch');
    assert.deepEqual([...url.searchParams], [['site', 'a'], ['iss', FHIR_BASE], ['launch', res.json.launch]]);

    const stored = await findLaunch(t.db, res.json.launch, ids.app);
    assert.deepEqual(stored, { id: res.json.launch, clientId: ids.app, userId: null, context });
    assert.equal(await findLaunch(t.db, res.json.launch, ids.otherApp), undefined, 'another app cannot use it');
    const [{ ttl }] = await t.db.query<{ ttl: number }>('SELECT extract(epoch FROM expires_at - created_at)::int AS ttl FROM launches WHERE id = $1', [res.json.launch]);
    assert.equal(ttl, LAUNCH_LIFETIME_S);
  });

  it('each launch has its own id; a launch with no context at all is allowed', async () => {
    const a = await launch({ client_id: ids.app });
    const b = await launch({ client_id: ids.app });
    assert.equal(a.status, 201, a.text);
    assert.notEqual(a.json.launch, b.json.launch);
    assert.deepEqual((await findLaunch(t.db, a.json.launch, ids.app))?.context, {});
  });

  it('a clinician or administrator signed in to the EHR launches as themselves', async () => {
    for (const [cookie, userId] of [[cookies.doctor, ids.doctor], [cookies.admin, ids.admin]] as const) {
      const res = await launch({ client_id: ids.app, patient: 'la-pat' }, { cookie });
      assert.equal(res.status, 201, res.text);
      assert.equal((await findLaunch(t.db, res.json.launch, ids.app))?.userId, userId);
    }
  });

  it('the admin credential may name the user the launch is for', async () => {
    const res = await launch({ client_id: ids.app, patient: 'la-pat', user: 'LA-Doc' });
    assert.equal(res.status, 201, res.text);
    assert.equal((await findLaunch(t.db, res.json.launch, ids.app))?.userId, ids.doctor);
  });

  it('RFC 6750 §3.1: no credentials is 401 with a bare challenge; a wrong admin token is invalid_token', async () => {
    const before = await launchCount();
    const none = await launch({ client_id: ids.app }, {});
    assertError(none, 401, 'invalid_token', /sign in to the EHR/);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="firekeeper-launch"');
    for (const token of ['wrong', '', `${SANDBOX_ADMIN_TOKEN}x`]) {
      const res = await launch({ client_id: ids.app }, { token });
      assertError(res, 401, 'invalid_token', /admin token is not valid/);
      assert.equal(res.headers['www-authenticate'], 'Bearer realm="firekeeper-launch", error="invalid_token"');
    }
    assertError(await launch({ client_id: ids.app }, { cookie: 'fk_session=forged' }), 401, 'invalid_token', /sign in/);
    assert.equal(await launchCount(), before);
  });

  it('a patient cannot launch from the EHR, nor a session name another user', async () => {
    const before = await launchCount();
    assertError(await launch({ client_id: ids.app }, { cookie: cookies.patient }), 403, 'access_denied', /only clinicians and administrators/);
    assertError(await launch({ client_id: ids.app, user: 'la-admin' }, { cookie: cookies.doctor }), 400, 'invalid_request', /^user: /);
    assert.equal(await launchCount(), before);
  });

  it('takes JSON only: a cross-site form cannot launch with the session', async () => {
    const before = await launchCount();
    for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      assertError(await launch(`client_id=${ids.app}`, { cookie: cookies.doctor }, type), 415, 'invalid_request', /must be application\/json/);
    }
    // Fastify reads text/plain as a string: refused as not a JSON object.
    assertError(await launch(`client_id=${ids.app}`, { cookie: cookies.doctor }, 'text/plain'), 400, 'invalid_request', /JSON object/);
    assertError(await launch('{"client_id":', { cookie: cookies.doctor }), 400, 'invalid_request', /JSON object/);
    assertError(await launch([], { cookie: cookies.doctor }), 400, 'invalid_request', /JSON object/);
    assert.equal(await launchCount(), before);
  });

  it('refuses an app that is unknown, not active, a backend service, or not registered for the EHR launch', async () => {
    await setClientStatus(t.db, ids.otherApp, 'suspended');
    const before = await launchCount();
    const cases: [string, RegExp][] = [
      ['no-such-app', /^client_id: no app no-such-app is registered$/],
      [ids.pending, /^client_id: the app is pending, not active$/],
      [ids.otherApp, /^client_id: the app is suspended, not active$/],
      [ids.backend, /^client_id: a backend service cannot be launched$/],
      [ids.noLaunchUrl, /^client_id: the app has no launch URL$/],
      [ids.noLaunchScope, /^client_id: the app is not registered for the EHR launch \(scope launch\)$/],
      ['bad id!', /^client_id: required/],
    ];
    for (const [clientId, description] of cases) assertError(await launch({ client_id: clientId }), 400, 'invalid_request', description);
    assertError(await launch({ patient: 'la-pat' }), 400, 'invalid_request', /^client_id: required/);
    assert.equal(await launchCount(), before);
    await setClientStatus(t.db, ids.otherApp, 'active');
  });

  it('refuses a malformed or unknown context, naming the field, and stores nothing', async () => {
    const before = await launchCount();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ launch_url: 'https://evil.example' }, /^launch_url: not a launch field$/],
      [{ patient: 'a/b' }, /^patient: a FHIR resource id/],
      [{ patient: 42 }, /^patient: a FHIR resource id/],
      [{ patient: 'nobody' }, /^patient: no Patient\/nobody$/],
      [{ encounter: 'no-enc' }, /^encounter: no Encounter\/no-enc$/],
      [{ patient: 'la-pat', encounter: 'la-other-enc' }, /^encounter: Encounter\/la-other-enc is not an encounter of Patient\/la-pat$/],
      [{ fhirContext: { reference: 'Observation/la-obs' } }, /^fhirContext: an array/],
      [{ fhirContext: Array.from({ length: 21 }, () => ({ reference: 'Observation/la-obs' })) }, /^fhirContext: an array of at most 20/],
      [{ fhirContext: ['Observation/la-obs'] }, /^fhirContext\[0\]: an object$/],
      [{ fhirContext: [{}] }, /^fhirContext\[0\]: exactly one of reference, canonical or identifier$/],
      [{ fhirContext: [{ reference: 'Observation/la-obs', canonical: 'http://x.org/Q' }] }, /^fhirContext\[0\]: exactly one of/],
      [{ fhirContext: [{ reference: 'http://other.example/fhir/Observation/1' }] }, /^fhirContext\[0\]\.reference: a relative reference/],
      [{ fhirContext: [{ reference: 'Nonsense/1' }] }, /^fhirContext\[0\]\.reference: a relative reference/],
      [{ fhirContext: [{ reference: 'Observation/gone' }] }, /^fhirContext\[0\]\.reference: no Observation\/gone$/],
      [{ fhirContext: [{ reference: 'Patient/la-pat' }] }, /^fhirContext\[0\]: the launch patient goes in "patient"/],
      [{ fhirContext: [{ reference: 'Encounter/la-enc', role: 'launch' }] }, /^fhirContext\[0\]: the launch encounter goes in "encounter"/],
      [{ fhirContext: [{ canonical: 'not a url' }] }, /^fhirContext\[0\]\.canonical: an absolute canonical URL$/],
      [{ fhirContext: [{ identifier: { value: '' } }] }, /^fhirContext\[0\]\.identifier: an Identifier object/],
      [{ fhirContext: [{ identifier: { value: 'x', use: 'official' } }] }, /^fhirContext\[0\]\.identifier: an Identifier object/],
      [{ fhirContext: [{ reference: 'Observation/la-obs', role: 'sibling' }] }, /^fhirContext\[0\]\.role: an absolute URI, or "launch"$/],
      [{ fhirContext: [{ canonical: 'http://x.org/Questionnaire/q', type: 'Questionnair' }] }, /^fhirContext\[0\]\.type: a FHIR resource type$/],
      [{ fhirContext: [{ reference: 'Observation/la-obs', display: 'x' }] }, /^fhirContext\[0\]\.display: not a fhirContext field/],
      [{ intent: '' }, /^intent: 1 to 256 characters/],
      [{ intent: 'x'.repeat(257) }, /^intent: 1 to 256 characters/],
      [{ tenant: 'a\nb' }, /^tenant: 1 to 256 characters, no control characters$/],
      [{ need_patient_banner: 'false' }, /^need_patient_banner: true or false$/],
      [{ smart_style_url: 'javascript:alert(1)' }, /^smart_style_url: an absolute http or https URL$/],
      [{ smart_style_url: '/relative/style.json' }, /^smart_style_url: an absolute http or https URL$/],
      [{ smart_style_url: 'https://user:pw@ehr.example/s.json' }, /^smart_style_url: an absolute http or https URL$/],
      [{ user: 'nobody' }, /^user: no user nobody$/],
      [{ parameters: ['a'] }, /^parameters: an object of at most 20/],
      [{ parameters: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`p${i}`, i])) }, /^parameters: an object of at most 20/],
      [{ parameters: { patient: 'other' } }, /^parameters\.patient: a name the token response or the access token already uses$/],
      [{ parameters: { access_token: 'x' } }, /^parameters\.access_token: a name the token response/],
      [{ parameters: { sub: 'x' } }, /^parameters\.sub: a name the token response/],
      [{ parameters: { '1st': 'x' } }, /^parameters\.1st: a name is a letter/],
      [{ parameters: { nested: { a: 1 } } }, /^parameters\.nested: a string, number or boolean$/],
      [{ parameters: { big: 'x'.repeat(300) } }, /^parameters\.big: 1 to 256 characters/],
    ];
    for (const [fields, description] of cases) {
      assertError(await launch({ client_id: ids.app, ...fields }), 400, 'invalid_request', description);
    }
    assert.equal(await launchCount(), before);
  });

  it('fhirContext items by canonical or identifier are kept as given', async () => {
    const fhirContext = [
      { canonical: 'http://example.org/Questionnaire/phq-9|1.0', type: 'Questionnaire' },
      { identifier: { system: 'urn:oid:1.2.3', value: 'order-7' }, type: 'ServiceRequest', role: 'https://example.org/roles/order' },
    ];
    const res = await launch({ client_id: ids.app, fhirContext });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual((await findLaunch(t.db, res.json.launch, ids.app))?.context, { fhirContext });
  });

  it('is audited: who launched which app for which patient, and the refusals', async () => {
    const ok = await launch({ client_id: ids.app, patient: 'la-pat' }, { cookie: cookies.doctor });
    const refused = await launch({ client_id: ids.app, patient: 'nobody' }, { cookie: cookies.doctor });
    const search = await t.request('GET', `/fhir/AuditEvent?subtype=launch-created&entity:identifier=${encodeURIComponent(`${CLIENT_ID_SYSTEM}|${ids.app}`)}&_count=100`);
    assert.equal(search.status, 200, search.text);
    const events = new Map(search.json.entry.map((e: { resource: { id: string } }) => [e.resource.id, e.resource]));
    const event = events.get(ok.headers['x-request-id']) as Record<string, any>;
    assert.ok(event, 'the launch is in the trail under its X-Request-Id');
    assert.equal(event.type.code, '110100');
    assert.equal(event.action, 'C');
    assert.equal(event.outcome, '0');
    assert.ok(event.agent.some((a: { who?: { reference?: string } }) => a.who?.reference === 'Practitioner/la-doc'), 'the clinician');
    assert.ok(event.entity.some((e: { what?: { reference?: string } }) => e.what?.reference === 'Patient/la-pat'), 'the patient');
    const failure = events.get(refused.headers['x-request-id']) as Record<string, any>;
    assert.equal(failure.outcome, '4');
    assert.match(failure.outcomeDesc, /HTTP 400: invalid_request: patient: no Patient\/nobody/);
  });
});
