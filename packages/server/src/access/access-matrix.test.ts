// The access matrix (issue 4): each scope form (v1, v2, wildcard, granular; patient/, user/, system/) against each
// interaction, on data whose ownership the test controls: two patients in two organizations, reference data outside
// any record, and users with different access policies. Every expectation is derived from one table of what each
// principal may see, so a row that leaks (or goes missing) fails whichever interaction shows it.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp, type TestResponse } from '../test-support/app.ts';
import { createUser, type AccessPolicy } from '../auth/users/user-store.ts';

const LAB = 'http://terminology.hl7.org/CodeSystem/observation-category|laboratory';
const category = (code: string) => [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code }] }];
const obs = (id: string, patient: string, cat: string) => ({ resourceType: 'Observation', id, status: 'final', category: category(cat), code: { text: id }, subject: { reference: `Patient/${patient}` } });

const DATA = [
  { resourceType: 'Organization', id: 'org-a', name: 'Clinic A' },
  { resourceType: 'Organization', id: 'org-b', name: 'Clinic B' },
  { resourceType: 'Practitioner', id: 'dr', name: [{ family: 'Doctor' }] },
  { resourceType: 'Patient', id: 'pa', name: [{ family: 'Alpha' }], managingOrganization: { reference: 'Organization/org-a' } },
  { resourceType: 'Patient', id: 'pb', name: [{ family: 'Beta' }], managingOrganization: { reference: 'Organization/org-b' } },
  { resourceType: 'RelatedPerson', id: 'rp-a', patient: { reference: 'Patient/pa' } },
  obs('oa-lab', 'pa', 'laboratory'),
  obs('oa-vital', 'pa', 'vital-signs'),
  obs('ob-lab', 'pb', 'laboratory'),
  { resourceType: 'Condition', id: 'ca', subject: { reference: 'Patient/pa' } },
  { resourceType: 'Condition', id: 'cb', subject: { reference: 'Patient/pb' } },
  { resourceType: 'Encounter', id: 'ea', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/pa' }, participant: [{ individual: { reference: 'Practitioner/dr' } }] },
  { resourceType: 'Encounter', id: 'eb', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/pb' }, participant: [{ individual: { reference: 'Practitioner/dr' } }] },
];
const ALL = DATA.map((r) => `${r.resourceType}/${r.id}`);
const TYPES = [...new Set(DATA.map((r) => r.resourceType))];
const REFERENCE_DATA = ['Organization/org-a', 'Organization/org-b', 'Practitioner/dr'];
const RECORD_A = ['Patient/pa', 'RelatedPerson/rp-a', 'Observation/oa-lab', 'Observation/oa-vital', 'Condition/ca', 'Encounter/ea'];

let t: TestApp;
const users: Record<string, string> = {};

before(async () => {
  t = await testApp();
  for (const r of DATA) assert.ok([200, 201].includes((await t.request('PUT', `/fhir/${r.resourceType}/${r.id}`, r)).status));
  const add = async (key: string, role: 'clinician' | 'patient', fhirUser: string, accessPolicy?: AccessPolicy) => {
    users[key] = (await createUser(t.db, { username: `m-${key}`, password: 'matrix-password', name: key, role, fhirUser, ...(accessPolicy ? { accessPolicy } : {}) })).id;
  };
  await add('all', 'clinician', 'Practitioner/dr');
  await add('orgA', 'clinician', 'Practitioner/dr', { kind: 'organization', organization: 'Organization/org-a' });
  await add('patA', 'patient', 'Patient/pa');
  await add('relA', 'patient', 'RelatedPerson/rp-a');
});

interface Who {
  name: string;
  scope: string;
  /** A user key (an app acting for that user) or undefined (a backend client). */
  user?: string;
  patient?: string;
  /** What it may read and search: the truth every interaction is checked against. */
  sees: string[];
  /** Types it has no read or search permission on at all (refused with 403 rather than narrowed to nothing). */
  refusedTypes?: string[];
}

const PRINCIPALS: Who[] = [
  { name: 'v2 patient/*.rs, launch patient pa', scope: 'patient/*.rs', user: 'all', patient: 'pa', sees: [...RECORD_A, ...REFERENCE_DATA] },
  { name: 'v1 patient/*.read, launch patient pb', scope: 'patient/*.read', user: 'all', patient: 'pb', sees: ['Patient/pb', 'Observation/ob-lab', 'Condition/cb', 'Encounter/eb', ...REFERENCE_DATA] },
  { name: 'v1 patient/Observation.read, launch pa', scope: 'patient/Observation.read', user: 'all', patient: 'pa', sees: ['Observation/oa-lab', 'Observation/oa-vital'], refusedTypes: TYPES.filter((x) => x !== 'Observation') },
  { name: 'granular patient/Observation.rs?category=laboratory, launch pa', scope: `patient/Observation.rs?category=${LAB}`, user: 'all', patient: 'pa', sees: ['Observation/oa-lab'], refusedTypes: TYPES.filter((x) => x !== 'Observation') },
  { name: 'user/*.rs, all-patients clinician', scope: 'user/*.rs', user: 'all', sees: ALL },
  { name: 'user/*.rs, clinician limited to Organization org-a', scope: 'user/*.rs', user: 'orgA', sees: [...RECORD_A, ...REFERENCE_DATA] },
  { name: 'user/*.rs, patient user pa', scope: 'user/*.rs', user: 'patA', sees: [...RECORD_A, ...REFERENCE_DATA] },
  { name: 'user/*.rs, RelatedPerson user of pa', scope: 'user/*.rs', user: 'relA', sees: [...RECORD_A, ...REFERENCE_DATA] },
  { name: 'user/*.rs plus patient/*.rs (launch pb) for the org-a clinician: the union', scope: 'user/*.rs patient/*.rs', user: 'orgA', patient: 'pb', sees: ALL },
  { name: 'system/*.rs backend client', scope: 'system/*.rs', sees: ALL },
  { name: 'granular system/Observation.rs?category=laboratory backend client', scope: `system/Observation.rs?category=${LAB}`, sees: ['Observation/oa-lab', 'Observation/ob-lab'], refusedTypes: TYPES.filter((x) => x !== 'Observation') },
  { name: 'patient/*.rs without a launch patient', scope: 'patient/*.rs', user: 'all', sees: REFERENCE_DATA },
];

type Api = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown, headers?: Record<string, string>) => Promise<TestResponse>;

async function apiFor(who: Pick<Who, 'scope' | 'user' | 'patient'>, clientId = 'matrix-app'): Promise<Api> {
  const token = await t.token(who.user === undefined
    ? { clientId, scope: who.scope }
    : { clientId, subject: users[who.user]!, scope: who.scope, context: { fhirUser: `http://firekeeper.test/fhir/Practitioner/dr`, ...(who.patient ? { patient: who.patient } : {}) } });
  return (method, url, body, headers = {}) => t.request(method, url, body, { ...headers, authorization: `Bearer ${token}` });
}

const ids = (bundle: { entry?: { resource: { resourceType: string; id: string } }[] }) => (bundle.entry ?? []).map((e) => `${e.resource.resourceType}/${e.resource.id}`).sort();
const ofType = (refs: string[], type: string) => refs.filter((r) => r.startsWith(`${type}/`)).sort();

describe('the access matrix: every principal reads, searches and walks history over exactly what it may see', () => {
  for (const who of PRINCIPALS) {
    it(who.name, async () => {
      const api = await apiFor(who);
      const refused = new Set(who.refusedTypes ?? []);
      for (const ref of ALL) {
        const [type] = ref.split('/');
        const read = await api('GET', `/fhir/${ref}`);
        const expected = refused.has(type!) ? 403 : who.sees.includes(ref) ? 200 : 404;
        assert.equal(read.status, expected, `read ${ref}: ${read.text}`);
        const vread = await api('GET', `/fhir/${ref}/_history/1`);
        assert.equal(vread.status, expected, `vread ${ref}`);
        if (expected === 404) assert.equal(read.json.issue[0].diagnostics, `${ref} is not known`, 'the refusal says no more than for a resource that does not exist');
      }
      for (const type of TYPES) {
        const search = await api('GET', `/fhir/${type}?_count=100`);
        if (refused.has(type)) {
          assert.equal(search.status, 403, `search ${type}`);
          continue;
        }
        assert.equal(search.status, 200, search.text);
        assert.deepEqual(ids(search.json), ofType(who.sees, type), `search ${type}`);
        assert.equal(search.json.total, ofType(who.sees, type).length, `search ${type} total`);
      }
      const system = await api('GET', `/fhir?_count=100&_type=${TYPES.join(',')}`);
      assert.equal(system.status, 200, system.text);
      assert.deepEqual(ids(system.json), [...who.sees].sort(), 'system search');
      const history = await api('GET', '/fhir/_history?_count=1000');
      assert.equal(history.status, 200);
      const inHistory = new Set(history.json.entry.map((e: { fullUrl: string }) => e.fullUrl.replace('http://firekeeper.test/fhir/', '')));
      const readable = who.sees.filter((r) => !refused.has(r.split('/')[0]!));
      assert.deepEqual([...inHistory].filter((r) => ALL.includes(r as string)).sort(), readable.sort(), 'system history');
    });
  }
});

describe('reads sent together', () => {
  // Reads issued in the same turn go to the database as one statement (store/statement-batcher.ts): each must still
  // be judged by its own token.
  it('every principal reading every resource at once gets exactly what it gets alone', async () => {
    const apis = await Promise.all(PRINCIPALS.map((who) => apiFor(who)));
    // What each read should give: the resource itself, or the status of a refusal.
    const reads = PRINCIPALS.flatMap((who, i) => ALL.map(async (ref) => {
      const expected = (who.refusedTypes ?? []).includes(ref.split('/')[0]!) ? 403 : who.sees.includes(ref) ? ref : 404;
      const res = await apis[i]!('GET', `/fhir/${ref}`);
      return { what: `${who.name}: ${ref}`, got: res.status === 200 ? `${res.json.resourceType}/${res.json.id}` : res.status, expected };
    }));
    for (const { what, got, expected } of await Promise.all(reads)) assert.equal(got, expected, what);
  });
});

describe('narrowing happens in SQL, before paging', () => {
  it('a patient/ search pages through exactly the launch patient’s rows, full pages and a right total', async () => {
    const api = await apiFor({ scope: 'patient/*.rs', user: 'all', patient: 'pa' });
    const seen: string[] = [];
    let res = await api('GET', '/fhir/Observation?_count=1&_total=accurate');
    assert.equal(res.json.total, 2);
    for (;;) {
      assert.equal(res.json.entry.length, 1, 'every page is full');
      seen.push(...ids(res.json));
      const next = res.json.link.find((l: { relation: string }) => l.relation === 'next');
      if (!next) break;
      res = await api('GET', next.url.replace('http://firekeeper.test', ''));
    }
    assert.deepEqual(seen.sort(), ['Observation/oa-lab', 'Observation/oa-vital']);
  });

  it('_summary=count and POST _search are narrowed the same way', async () => {
    const api = await apiFor({ scope: 'user/*.rs', user: 'orgA' });
    assert.equal((await api('GET', '/fhir/Observation?_summary=count')).json.total, 2);
    const res = await t.app.inject({
      method: 'POST', url: '/fhir/Observation/_search', payload: 'category=laboratory',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${await t.token({ clientId: 'matrix-app', subject: users.orgA!, scope: 'user/*.rs', context: { fhirUser: 'http://firekeeper.test/fhir/Practitioner/dr' } })}` },
    });
    assert.deepEqual(ids(JSON.parse(res.body)), ['Observation/oa-lab']);
  });
});

describe('no existence leaks through _include, _revinclude, chains, _has, _total, history, compartments or $everything', () => {
  const launchA = { scope: 'patient/*.rs', user: 'all', patient: 'pa' };

  it('_include and _revinclude never bring in another patient’s resources', async () => {
    const api = await apiFor(launchA);
    assert.deepEqual(ids((await api('GET', '/fhir/Encounter?participant=Practitioner/dr&_include=Encounter:subject&_include=Encounter:participant')).json),
      ['Encounter/ea', 'Patient/pa', 'Practitioner/dr']);
    assert.deepEqual(ids((await api('GET', '/fhir/Practitioner?_id=dr&_revinclude=Encounter:participant')).json), ['Encounter/ea', 'Practitioner/dr']);
    assert.deepEqual(ids((await api('GET', '/fhir/Organization?_revinclude=Patient:organization')).json), ['Organization/org-a', 'Organization/org-b', 'Patient/pa']);
  });

  it('chains and _has cannot test resources outside the record', async () => {
    const api = await apiFor(launchA);
    assert.equal((await api('GET', '/fhir/Encounter?subject:Patient.family=Beta')).json.total, 0);
    assert.equal((await api('GET', '/fhir/Practitioner?_has:Encounter:participant:subject=Patient/pb&_total=accurate')).json.total, 0, '_has on pb’s encounter');
    assert.equal((await api('GET', '/fhir/Practitioner?_has:Encounter:participant:subject=Patient/pa')).json.total, 1);
    assert.equal((await api('GET', '/fhir/Organization?_has:Patient:organization:family=Beta')).json.total, 0);
  });

  it('another patient’s compartment, $everything and instance history answer as if they did not exist', async () => {
    const api = await apiFor(launchA);
    for (const url of ['/fhir/Patient/pb/Observation', '/fhir/Patient/pb/$everything', '/fhir/Observation/ob-lab/_history', '/fhir/Patient/nobody/$everything']) {
      const res = await api('GET', url);
      assert.equal(res.status, 404, url);
    }
    const everything = ids((await api('GET', '/fhir/Patient/pa/$everything?_count=1000')).json);
    assert.deepEqual(everything.filter((r) => !r.startsWith('AuditEvent/')), [...RECORD_A].sort(), 'the record, and the audit of who saw it');
  });

  it('batch entries are judged one by one against the record', async () => {
    const api = await apiFor(launchA);
    const batch = await api('POST', '/fhir', {
      resourceType: 'Bundle', type: 'batch', entry: [
        { request: { method: 'GET', url: 'Observation/oa-lab' } },
        { request: { method: 'GET', url: 'Observation/ob-lab' } },
        { request: { method: 'GET', url: 'Observation?category=laboratory' } },
      ],
    });
    assert.equal(batch.status, 200, batch.text);
    assert.deepEqual(batch.json.entry.map((e: { response: { status: string } }) => e.response.status.slice(0, 3)), ['200', '404', '200']);
    assert.deepEqual(ids(batch.json.entry[2].resource), ['Observation/oa-lab']);
  });
});

describe('writes land only where the token may write', () => {
  const newObs = (patient: string, cat = 'laboratory') => ({ resourceType: 'Observation', status: 'final', category: category(cat), code: { text: 'new' }, subject: { reference: `Patient/${patient}` } });

  it('patient/ scopes: create and update only in the launch patient’s record; nothing outside it is touched', async () => {
    const api = await apiFor({ scope: 'patient/Observation.cruds', user: 'all', patient: 'pa' });
    const created = await api('POST', '/fhir/Observation', newObs('pa'));
    assert.equal(created.status, 201, created.text);
    const elsewhere = await api('POST', '/fhir/Observation', newObs('pb'));
    assert.equal(elsewhere.status, 403);
    assert.match(elsewhere.json.issue[0].diagnostics, /record of Patient\/pa, the patient in context/);
    const moved = await api('PUT', `/fhir/Observation/${created.json.id}`, { ...newObs('pb'), id: created.json.id });
    assert.equal(moved.status, 403, 'an update may not move a resource out of the record');
    assert.equal((await t.request('GET', `/fhir/Observation/${created.json.id}`)).json.subject.reference, 'Patient/pa');
    assert.equal((await api('PUT', '/fhir/Observation/ob-lab', { ...obs('ob-lab', 'pa', 'laboratory') })).status, 403, 'cannot take over pb’s resource');
    assert.equal((await api('PATCH', '/fhir/Observation/ob-lab', [{ op: 'replace', path: '/status', value: 'amended' }], { 'content-type': 'application/json-patch+json' })).status, 403);
    assert.equal((await api('DELETE', '/fhir/Observation/ob-lab')).status, 403);
    assert.equal((await t.request('GET', '/fhir/Observation/ob-lab')).json.status, 'final', 'pb’s resource is untouched');
    assert.equal((await api('DELETE', `/fhir/Observation/${created.json.id}`)).status, 204);
    assert.equal((await api('GET', `/fhir/Observation/${created.json.id}`)).status, 410, 'a deleted resource stays in its record');
  });

  it('user/ scopes: the access policy bounds writes too', async () => {
    const api = await apiFor({ scope: 'user/Observation.cruds', user: 'orgA' });
    assert.equal((await api('POST', '/fhir/Observation', newObs('pa'))).status, 201);
    assert.equal((await api('POST', '/fhir/Observation', newObs('pb'))).status, 403);
    const patient = await apiFor({ scope: 'user/Observation.cruds', user: 'patA' });
    assert.equal((await patient('POST', '/fhir/Observation', newObs('pb'))).status, 403, 'a patient user never writes into another record');
  });

  it('granular scopes: a write must match the constraint', async () => {
    const api = await apiFor({ scope: `patient/Observation.cu?category=${LAB}`, user: 'all', patient: 'pa' });
    assert.equal((await api('POST', '/fhir/Observation', newObs('pa', 'vital-signs'))).status, 403);
    const lab = await api('POST', '/fhir/Observation', newObs('pa', 'laboratory'));
    assert.equal(lab.status, 201);
    assert.equal((await api('PUT', `/fhir/Observation/${lab.json.id}`, { ...newObs('pa', 'vital-signs'), id: lab.json.id })).status, 403);
    assert.equal((await api('PUT', '/fhir/Observation/oa-vital', obs('oa-vital', 'pa', 'laboratory'))).status, 403, 'cannot update a row outside the constraint');
  });

  it('a transaction with one entry outside the record writes nothing', async () => {
    const api = await apiFor({ scope: 'patient/Observation.cruds', user: 'all', patient: 'pa' });
    const before = (await t.request('GET', '/fhir/Observation?_summary=count')).json.total;
    const tx = await api('POST', '/fhir', {
      resourceType: 'Bundle', type: 'transaction', entry: [
        { request: { method: 'POST', url: 'Observation' }, resource: newObs('pa') },
        { request: { method: 'POST', url: 'Observation' }, resource: newObs('pb') },
      ],
    });
    assert.equal(tx.status, 403, tx.text);
    assert.equal((await t.request('GET', '/fhir/Observation?_summary=count')).json.total, before);
  });

  it('AuditEvents cannot be written through the API by anyone (405)', async () => {
    const event = { resourceType: 'AuditEvent', type: { code: 'rest' }, recorded: '2026-01-01T00:00:00Z', agent: [{ requestor: true }], source: { observer: { display: 'x' } } };
    for (const [method, url] of [['POST', '/fhir/AuditEvent'], ['PUT', '/fhir/AuditEvent/x'], ['DELETE', '/fhir/AuditEvent/x']] as const) {
      const res = await t.request(method, url, method === 'DELETE' ? undefined : { ...event, ...(method === 'PUT' ? { id: 'x' } : {}) });
      assert.equal(res.status, 405, `${method} ${url}: ${res.text}`);
    }
    assert.equal((await t.request('PATCH', '/fhir/AuditEvent/x', [], { 'content-type': 'application/json-patch+json' })).status, 405);
  });
});
