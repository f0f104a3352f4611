// Type-level scope enforcement on the FHIR API (issue 4, first slice): each interaction needs its permission on its
// type in the token's own context (system/ for backend clients, patient/ and user/ for apps acting for a user);
// results, includes, chains, _has, history and $everything show only types the token may read or search.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../test-support/app.ts';
import { createUser } from '../auth/users/user-store.ts';

let t: TestApp;
let clinician: string; // a user whose access policy opens every patient's record

before(async () => {
  t = await testApp();
  clinician = (await createUser(t.db, { username: 'se-clinician', password: 'se-password', name: 'Scope Clinician', role: 'clinician', fhirUser: 'Practitioner/x' })).id;
  for (const r of [
    { resourceType: 'Patient', id: 'se-p1', name: [{ family: 'Scope' }] },
    { resourceType: 'Observation', id: 'se-o1', status: 'final', code: { text: 'x', coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, subject: { reference: 'Patient/se-p1' } },
    { resourceType: 'Condition', id: 'se-c1', subject: { reference: 'Patient/se-p1' } },
  ]) assert.ok([200, 201].includes((await t.request('PUT', `/fhir/${r.resourceType}/${r.id}`, r)).status));
});

type Who = 'client' | 'user';
async function as(who: Who, scope: string, patient?: string): Promise<(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown) => ReturnType<TestApp['request']>> {
  const token = await t.token({ scope, ...(who === 'user' ? { subject: clinician, context: { fhirUser: 'http://firekeeper.test/fhir/Practitioner/x', ...(patient ? { patient } : {}) } } : {}) });
  return (method, url, body) => t.request(method, url, body, { authorization: `Bearer ${token}` });
}

function assertInsufficient(res: Awaited<ReturnType<TestApp['request']>>, scope: string) {
  assert.equal(res.status, 403, res.text);
  assert.equal(res.json.resourceType, 'OperationOutcome');
  assert.equal(res.json.issue[0].code, 'forbidden');
  assert.match(res.json.issue[0].diagnostics, new RegExp(`insufficient_scope: .* needs the scope ${scope.replace(/[*.]/g, '\\$&')}$`));
  assert.equal(res.headers['www-authenticate'], `Bearer error="insufficient_scope", scope="${scope}"`);
}

const ids = (bundle: { entry?: { resource: { resourceType: string; id: string } }[] }) => (bundle.entry ?? []).map((e) => `${e.resource.resourceType}/${e.resource.id}`).sort();

describe('scope enforcement by interaction and type', () => {
  it('v1 user/Observation.read: read and search allowed; create, update, delete refused naming the scope', async () => {
    const api = await as('user', 'user/Observation.read');
    assert.equal((await api('GET', '/fhir/Observation/se-o1')).status, 200);
    assert.equal((await api('GET', '/fhir/Observation?code=8867-4')).json.total, 1);
    assertInsufficient(await api('POST', '/fhir/Observation', { resourceType: 'Observation', status: 'final', code: { text: 'y' } }), 'user/Observation.c');
    assertInsufficient(await api('PUT', '/fhir/Observation/se-o1', { resourceType: 'Observation', id: 'se-o1', status: 'final', code: { text: 'z' } }), 'user/Observation.u');
    assertInsufficient(await api('DELETE', '/fhir/Observation/se-o1'), 'user/Observation.d');
    assertInsufficient(await api('GET', '/fhir/Patient/se-p1'), 'user/Patient.r');
    assertInsufficient(await api('GET', '/fhir/Patient'), 'user/Patient.s');
  });

  it('v2 letters: .rs reads and searches, .r alone cannot search, .cud writes without reading', async () => {
    const readOnly = await as('user', 'patient/Observation.r', 'se-p1');
    assert.equal((await readOnly('GET', '/fhir/Observation/se-o1')).status, 200);
    assertInsufficient(await readOnly('GET', '/fhir/Observation'), 'patient/Observation.s');
    assert.equal((await readOnly('GET', '/fhir/Observation/se-o1/_history')).status, 200, 'history is a read');
    const writer = await as('user', 'user/Observation.cud');
    const created = await writer('POST', '/fhir/Observation', { resourceType: 'Observation', status: 'final', code: { text: 'w' }, subject: { reference: 'Patient/se-p1' } });
    assert.equal(created.status, 201);
    assertInsufficient(await writer('GET', `/fhir/Observation/${created.json.id}`), 'user/Observation.r');
    assert.equal((await writer('DELETE', `/fhir/Observation/${created.json.id}`)).status, 204);
  });

  it('wildcards: system/*.rs reads every type and writes none; system/*.cruds does all', async () => {
    const reader = await as('client', 'system/*.rs');
    for (const url of ['/fhir/Patient/se-p1', '/fhir/Observation/se-o1', '/fhir/Condition?subject=Patient/se-p1']) assert.equal((await reader('GET', url)).status, 200, url);
    assertInsufficient(await reader('POST', '/fhir/Patient', { resourceType: 'Patient' }), 'system/Patient.c');
    const all = await as('client', 'system/*.cruds');
    assert.equal((await all('POST', '/fhir/Patient', { resourceType: 'Patient' })).status, 201);
  });

  it('a scope counts only in its own context: user tokens ignore system/ scopes, backend tokens ignore patient/ and user/', async () => {
    assertInsufficient(await (await as('user', 'system/*.rs'))('GET', '/fhir/Patient/se-p1'), 'user/Patient.r');
    assertInsufficient(await (await as('client', 'patient/*.rs user/*.rs'))('GET', '/fhir/Patient/se-p1'), 'system/Patient.r');
  });
});

describe('no type leaks through includes, chains, _has, system search, history or $everything', () => {
  it('_include and _revinclude return only types the token may see', async () => {
    const obs = await as('user', 'user/Observation.rs');
    assert.deepEqual(ids((await obs('GET', '/fhir/Observation?_id=se-o1&_include=Observation:subject')).json), ['Observation/se-o1']);
    const pat = await as('user', 'user/Patient.rs');
    assert.deepEqual(ids((await pat('GET', '/fhir/Patient?_id=se-p1&_revinclude=Observation:subject')).json), ['Patient/se-p1']);
    const both = await as('user', 'user/Patient.rs user/Observation.rs');
    assert.deepEqual(ids((await both('GET', '/fhir/Patient?_id=se-p1&_revinclude=Observation:subject')).json), ['Observation/se-o1', 'Patient/se-p1']);
  });

  it('chains and _has cannot test a type the token may not see', async () => {
    const obs = await as('user', 'user/Observation.rs');
    assert.equal((await obs('GET', '/fhir/Observation?subject:Patient.family=Scope')).json.total, 0);
    const pat = await as('user', 'user/Patient.rs');
    assert.equal((await pat('GET', '/fhir/Patient?_has:Observation:subject:code=8867-4')).json.total, 0);
    const both = await as('user', 'user/Patient.rs user/Observation.rs');
    assert.equal((await both('GET', '/fhir/Observation?subject:Patient.family=Scope')).json.total, 1);
  });

  it('system search, system history and $everything show only visible types', async () => {
    const obs = await as('user', 'user/Observation.rs');
    const found = ids((await obs('GET', '/fhir?_id=se-o1,se-p1,se-c1')).json);
    assert.deepEqual(found, ['Observation/se-o1']);
    const history = (await obs('GET', '/fhir/_history?_count=1000')).json;
    assert.ok(history.entry.length > 0);
    assert.ok(history.entry.every((e: { fullUrl: string }) => e.fullUrl.includes('/Observation/')), 'only Observation versions');
    const everything = await as('user', 'user/Patient.rs user/Condition.rs');
    assert.deepEqual(ids((await everything('GET', '/fhir/Patient/se-p1/$everything')).json), ['Condition/se-c1', 'Patient/se-p1']);
  });
});

describe('batch and transaction entries are checked one by one', () => {
  it('a batch refuses only the entries the token may not do; a transaction with one refused entry writes nothing', async () => {
    const api = await as('user', 'user/Observation.rs user/Patient.rs');
    const batch = await api('POST', '/fhir', {
      resourceType: 'Bundle', type: 'batch', entry: [
        { request: { method: 'GET', url: 'Observation/se-o1' } },
        { request: { method: 'POST', url: 'Patient' }, resource: { resourceType: 'Patient' } },
      ],
    });
    assert.equal(batch.status, 200, batch.text);
    assert.deepEqual(batch.json.entry.map((e: { response: { status: string } }) => e.response.status.slice(0, 3)), ['200', '403']);
    const before = (await t.request('GET', '/fhir/Patient?_summary=count')).json.total;
    const tx = await (await as('user', 'user/Patient.cruds'))('POST', '/fhir', {
      resourceType: 'Bundle', type: 'transaction', entry: [
        { request: { method: 'POST', url: 'Patient' }, resource: { resourceType: 'Patient' } },
        { request: { method: 'POST', url: 'Observation' }, resource: { resourceType: 'Observation', status: 'final', code: { text: 'q' } } },
      ],
    });
    assert.equal(tx.status, 403);
    assert.equal((await t.request('GET', '/fhir/Patient?_summary=count')).json.total, before, 'nothing was written');
  });
});
