// Patient privacy preferences (issue 4): an active patient-privacy Consent's deny provisions take data away from the
// apps they name, by app, by resource type and by security label, on every request, and nothing else changes.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp, type TestResponse } from '../test-support/app.ts';
import { createUser } from '../auth/users/user-store.ts';
import { CLIENT_ID_SYSTEM } from './consent-rules.ts';

const ACT = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const PSY = { system: ACT, code: 'PSY' };
const DATA = [
  { resourceType: 'Patient', id: 'cp-a' },
  { resourceType: 'Patient', id: 'cp-b' },
  { resourceType: 'Condition', id: 'ca', subject: { reference: 'Patient/cp-a' } },
  { resourceType: 'Condition', id: 'ca-psy', meta: { security: [PSY] }, subject: { reference: 'Patient/cp-a' } },
  { resourceType: 'Condition', id: 'cb', subject: { reference: 'Patient/cp-b' } },
  { resourceType: 'Condition', id: 'cb-psy', meta: { security: [PSY] }, subject: { reference: 'Patient/cp-b' } },
  { resourceType: 'Observation', id: 'oa', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/cp-a' } },
];
const EVERYTHING = DATA.map((r) => `${r.resourceType}/${r.id}`);

function consent(id: string, provision: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    resourceType: 'Consent', id, status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    policyRule: { coding: [{ system: ACT, code: 'OPTIN' }] },
    patient: { reference: 'Patient/cp-a' },
    provision: { type: 'permit', provision: [{ type: 'deny', ...provision }] },
    ...extra,
  };
}
const app = (clientId: string) => ({ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] }, reference: { identifier: { system: CLIENT_ID_SYSTEM, value: clientId } } });
const conditionClass = [{ system: 'http://hl7.org/fhir/resource-types', code: 'Condition' }];

let t: TestApp;
let clinician: string;

before(async () => {
  t = await testApp();
  for (const r of DATA) assert.ok([200, 201].includes((await t.request('PUT', `/fhir/${r.resourceType}/${r.id}`, r)).status));
  clinician = (await createUser(t.db, { username: 'consent-clinician', password: 'consent-password', name: 'C', role: 'clinician', fhirUser: 'Practitioner/c' })).id;
});

type Api = (method: 'GET' | 'POST', url: string, body?: unknown) => Promise<TestResponse>;
async function asApp(clientId: string, backend = false): Promise<Api> {
  const token = await t.token(backend
    ? { clientId, scope: 'system/*.cruds' }
    : { clientId, subject: clinician, scope: 'user/*.cruds', context: { fhirUser: 'http://firekeeper.test/fhir/Practitioner/c' } });
  return (method, url, body) => t.request(method, url, body, { authorization: `Bearer ${token}` });
}

const ids = (bundle: { entry?: { resource: { resourceType: string; id: string } }[] }) => (bundle.entry ?? []).map((e) => `${e.resource.resourceType}/${e.resource.id}`).sort();

/** Every data row the app can see, by system search (Consents themselves left out). */
async function visible(api: Api): Promise<string[]> {
  const res = await api('GET', '/fhir?_type=Patient,Condition,Observation&_count=100');
  assert.equal(res.status, 200, res.text);
  return ids(res.json);
}
const without = (...refs: string[]) => EVERYTHING.filter((r) => !refs.includes(r)).sort();

async function put(resource: { resourceType: string; id: string }): Promise<TestResponse> {
  return t.request('PUT', `/fhir/${resource.resourceType}/${resource.id}`, resource);
}

describe('patient-privacy Consent deny provisions', () => {
  it('deny by app and resource type: the named app loses that patient’s Conditions, and only those', async () => {
    assert.equal((await put(consent('deny-x-conditions', { actor: [app('app-x')], class: conditionClass }))).status, 201);
    for (const api of [await asApp('app-x'), await asApp('app-x', true)]) {
      assert.deepEqual(await visible(api), without('Condition/ca', 'Condition/ca-psy'));
      assert.equal((await api('GET', '/fhir/Condition/ca')).status, 404);
      assert.deepEqual(ids((await api('GET', '/fhir/Patient?_id=cp-a&_revinclude=Condition:subject&_revinclude=Observation:subject')).json), ['Observation/oa', 'Patient/cp-a']);
      assert.deepEqual(ids((await api('GET', '/fhir/Patient/cp-a/$everything')).json).filter((r) => !r.startsWith('AuditEvent') && !r.startsWith('Consent')), ['Observation/oa', 'Patient/cp-a']);
      assert.equal((await api('GET', '/fhir/Patient?_has:Condition:subject:_id=ca')).json.total, 0, '_has cannot probe the denied data');
      const write = await api('POST', '/fhir/Condition', { resourceType: 'Condition', subject: { reference: 'Patient/cp-a' } });
      assert.equal(write.status, 403, 'nor can the app write it');
      assert.equal((await api('GET', '/fhir/Consent/deny-x-conditions')).status, 200, 'the preference itself is not hidden by it');
    }
    assert.deepEqual(await visible(await asApp('app-y')), EVERYTHING.sort(), 'another app sees everything');
  });

  it('deny by security label for every app: labelled data disappears from all apps, unlabelled stays', async () => {
    assert.equal((await put(consent('deny-psy', { securityLabel: [PSY] }))).status, 201);
    assert.deepEqual(await visible(await asApp('app-y')), without('Condition/ca-psy'));
    assert.deepEqual(await visible(await asApp('app-x')), without('Condition/ca', 'Condition/ca-psy'));
    assert.equal((await asApp('app-y').then((api) => api('GET', '/fhir/Condition?_security=PSY'))).json.total, 1, 'the other patient’s labelled data is theirs to share');
  });

  it('a Consent that is no longer active, or not yet in force, denies nothing; deleting it lifts it', async () => {
    assert.equal((await put(consent('deny-x-conditions', { actor: [app('app-x')], class: conditionClass }, { status: 'inactive' }))).status, 200);
    assert.deepEqual(await visible(await asApp('app-x')), without('Condition/ca-psy'), 'only the label rule is left');
    assert.equal((await t.request('DELETE', '/fhir/Consent/deny-psy')).status, 204);
    assert.deepEqual(await visible(await asApp('app-y')), EVERYTHING.sort());
    assert.equal((await put(consent('future', { period: { start: '2999-01-01' } }))).status, 201);
    assert.deepEqual(await visible(await asApp('app-y')), EVERYTHING.sort());
    assert.equal((await put(consent('past', { period: { end: '2000-01-01' } }))).status, 201);
    assert.deepEqual(await visible(await asApp('app-y')), EVERYTHING.sort());
    assert.equal((await put(consent('now', { period: { start: '2000-01-01' } }))).status, 201);
    assert.deepEqual(await visible(await asApp('app-y')), without('Patient/cp-a', 'Condition/ca', 'Condition/ca-psy', 'Observation/oa'), 'a provision with no actor, class or label denies the whole record');
    assert.equal((await t.request('DELETE', '/fhir/Consent/now')).status, 204);
  });

  it('a deny provision Firekeeper cannot enforce is refused when written (422), never ignored', async () => {
    const cases: [string, Record<string, unknown>][] = [
      ['an actor that is not an app', { actor: [{ role: app('x').role, reference: { reference: 'Practitioner/c' } }] }],
      ['a class outside resource types', { class: [{ system: 'http://loinc.org', code: '11506-3' }] }],
      ['a deny by data', { data: [{ meaning: 'instance', reference: { reference: 'Condition/ca' } }] }],
    ];
    for (const [what, provision] of cases) {
      const res = await put(consent('bad', provision));
      assert.equal(res.status, 422, `${what}: ${res.text}`);
      assert.equal(res.json.issue[0].code, 'not-supported');
    }
    const nestedPermit = consent('bad', {});
    (nestedPermit.provision as { type: string }).type = 'deny';
    (nestedPermit.provision as { provision: unknown[] }).provision = [{ type: 'permit', class: conditionClass }];
    assert.equal((await put(nestedPermit)).status, 422, 'exceptions inside a deny are refused');
    assert.deepEqual(await visible(await asApp('app-y')), EVERYTHING.sort(), 'nothing refused was stored');
  });
});
