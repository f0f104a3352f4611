// batch and transaction Bundles (R4 http.html#transaction).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, FHIR_BASE, type TestApp } from '../../test-support/app.ts';

let t: TestApp;
before(async () => {
  t = await testApp();
});

const count = async (type: string) => Number((await t.db.query<{ n: string }>('SELECT count(*)::text AS n FROM resources WHERE type = $1 AND NOT deleted', [type]))[0]!.n);

const pt = 'urn:uuid:5d4ad1a4-8c2e-4f2b-9f43-1f1c4f1f0001';
const enc = 'urn:uuid:5d4ad1a4-8c2e-4f2b-9f43-1f1c4f1f0002';

function patientTransaction(mrn: string) {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      // References point forward and backward: order in the Bundle must not matter.
      { fullUrl: 'urn:uuid:5d4ad1a4-8c2e-4f2b-9f43-1f1c4f1f0003', resource: { resourceType: 'Observation', status: 'final', code: { text: 'hr' }, subject: { reference: pt }, encounter: { reference: enc } }, request: { method: 'POST', url: 'Observation' } },
      { fullUrl: pt, resource: { resourceType: 'Patient', identifier: [{ system: 'urn:mrn', value: mrn }] }, request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=urn:mrn|${mrn}` } },
      { fullUrl: enc, resource: { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: pt } }, request: { method: 'POST', url: 'Encounter' } },
    ],
  };
}

describe('transaction', () => {
  it('creates every entry, resolves urn:uuid references, answers entries in request order', async () => {
    const res = await t.request('POST', '/fhir', patientTransaction('t-1'));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.type, 'transaction-response');
    assert.deepEqual(res.json.entry.map((e: any) => e.response.status), ['201', '201', '201']);
    const [obs, patient, encounter] = res.json.entry.map((e: any) => e.resource);
    assert.equal(obs.subject.reference, `Patient/${patient.id}`);
    assert.equal(obs.encounter.reference, `Encounter/${encounter.id}`);
    assert.equal(encounter.subject.reference, `Patient/${patient.id}`);
    assert.equal(res.json.entry[1].response.location, `${FHIR_BASE}/Patient/${patient.id}/_history/1`);
  });

  it('ifNoneExist reuses the existing resource and points references at it', async () => {
    const first = await t.request('POST', '/fhir', patientTransaction('t-2'));
    const second = await t.request('POST', '/fhir', patientTransaction('t-2'));
    assert.equal(second.json.entry[1].response.status, '200');
    const patientId = first.json.entry[1].resource.id;
    assert.equal(second.json.entry[1].resource.id, patientId);
    assert.equal(second.json.entry[0].resource.subject.reference, `Patient/${patientId}`);
  });

  it('is atomic: an entry failing half-way leaves nothing written', async () => {
    const before = [await count('Patient'), await count('Observation'), await count('Encounter')];
    const versions = (await t.db.query<{ n: string }>('SELECT count(*)::text AS n FROM resource_versions'))[0]!.n;
    const bundle = patientTransaction('t-3');
    bundle.entry.push({ fullUrl: 'urn:uuid:5d4ad1a4-8c2e-4f2b-9f43-1f1c4f1f0009', resource: { resourceType: 'Observation', code: { text: 'no status' } } as never, request: { method: 'POST', url: 'Observation' } });
    const res = await t.request('POST', '/fhir', bundle);
    assert.equal(res.status, 400);
    assert.match(res.json.issue[0].diagnostics, /^Bundle\.entry\[3\]/);
    assert.deepEqual([await count('Patient'), await count('Observation'), await count('Encounter')], before);
    assert.equal((await t.db.query<{ n: string }>('SELECT count(*)::text AS n FROM resource_versions'))[0]!.n, versions);
  });

  it('a failing If-Match, a dangling reference or a bad conditional reference rolls everything back', async () => {
    await t.request('PUT', '/fhir/Patient/tx-locked', { resourceType: 'Patient', id: 'tx-locked' });
    const before = await count('Patient');
    const stale = await t.request('POST', '/fhir', {
      resourceType: 'Bundle', type: 'transaction', entry: [
        { resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Patient', id: 'tx-locked', active: true }, request: { method: 'PUT', url: 'Patient/tx-locked', ifMatch: 'W/"7"' } },
      ],
    });
    assert.equal(stale.status, 412);
    const dangling = await t.request('POST', '/fhir', {
      resourceType: 'Bundle', type: 'transaction', entry: [
        { resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/ghost' } }, request: { method: 'POST', url: 'Observation' } },
      ],
    });
    assert.equal(dangling.status, 400);
    const conditional = await t.request('POST', '/fhir', {
      resourceType: 'Bundle', type: 'transaction', entry: [
        { resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient?identifier=urn:none|0' } }, request: { method: 'POST', url: 'Observation' } },
      ],
    });
    assert.equal(conditional.status, 412);
    assert.equal(await count('Patient'), before);
  });

  it('resolves conditional references to the single match', async () => {
    await t.request('PUT', '/fhir/Patient/cond-ref', { resourceType: 'Patient', id: 'cond-ref', identifier: [{ system: 'urn:cr', value: '1' }] });
    const res = await t.request('POST', '/fhir', {
      resourceType: 'Bundle', type: 'transaction', entry: [
        { resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient?identifier=urn:cr|1' } }, request: { method: 'POST', url: 'Observation' } },
      ],
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.entry[0].resource.subject.reference, 'Patient/cond-ref');
  });

  it('processes DELETE, then POST, then PUT, then GET, whatever the entry order', async () => {
    await t.request('PUT', '/fhir/Patient/order-1', { resourceType: 'Patient', id: 'order-1', active: true });
    const res = await t.request('POST', '/fhir', {
      resourceType: 'Bundle', type: 'transaction', entry: [
        { request: { method: 'GET', url: 'Patient/order-2' } },
        { resource: { resourceType: 'Patient', id: 'order-2', active: false }, request: { method: 'PUT', url: 'Patient/order-2' } },
        { request: { method: 'DELETE', url: 'Patient/order-1' } },
        { resource: { resourceType: 'Patient', link: [{ other: { reference: 'Patient/order-2' }, type: 'seealso' }] }, request: { method: 'POST', url: 'Patient' } },
      ],
    });
    // The GET runs last and so sees the PUT; the POST runs before the PUT, and its reference is checked at the end.
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json.entry.map((e: any) => e.response.status), ['200', '201', '204', '201']);
    assert.equal(res.json.entry[0].resource.id, 'order-2');
    assert.equal((await t.request('GET', '/fhir/Patient/order-1')).status, 410);
  });
});

describe('request.url', () => {
  it('accepts absolute URLs under this server\'s FHIR base and refuses other servers', async () => {
    const ok = await t.request('POST', '/fhir', {
      resourceType: 'Bundle', type: 'transaction', entry: [
        { resource: { resourceType: 'Patient', id: 'abs-url' }, request: { method: 'PUT', url: `${FHIR_BASE}/Patient/abs-url` } },
      ],
    });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.entry[0].resource.id, 'abs-url');
    const other = await t.request('POST', '/fhir', {
      resourceType: 'Bundle', type: 'transaction', entry: [
        { resource: { resourceType: 'Patient', id: 'x' }, request: { method: 'PUT', url: 'https://elsewhere.example/fhir/Patient/x' } },
      ],
    });
    assert.equal(other.status, 400);
    assert.match(other.json.issue[0].diagnostics, /not on this server/);
  });
});

describe('batch', () => {
  it('runs entries independently: a failure is reported in its entry and the others succeed', async () => {
    const res = await t.request('POST', '/fhir', {
      resourceType: 'Bundle', type: 'batch', entry: [
        { resource: { resourceType: 'Patient', gender: 'female' }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Patient', birthDate: 'soon' }, request: { method: 'POST', url: 'Patient' } },
        { request: { method: 'GET', url: 'Patient/does-not-exist' } },
      ],
    });
    assert.equal(res.status, 200);
    assert.equal(res.json.type, 'batch-response');
    assert.deepEqual(res.json.entry.map((e: any) => e.response.status), ['201', '400', '404']);
    assert.equal(res.json.entry[1].response.outcome.resourceType, 'OperationOutcome');
  });
});

describe('malformed Bundles', () => {
  it('rejects a non-Bundle, a wrong Bundle.type and entries without request', async () => {
    assert.equal((await t.request('POST', '/fhir', { resourceType: 'Patient' })).status, 400);
    assert.equal((await t.request('POST', '/fhir', { resourceType: 'Bundle', type: 'collection', entry: [] })).status, 400);
    assert.equal((await t.request('POST', '/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { resourceType: 'Patient' } }] })).status, 400);
    assert.equal((await t.request('POST', '/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'POST', url: 'Patient' } }] })).status, 400);
  });
});
