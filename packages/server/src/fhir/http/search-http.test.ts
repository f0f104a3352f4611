// Search through HTTP (R4 search.html §3.1.1.1): GET and POST _search, compartments, $everything,
// system search and Prefer: handling.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, FHIR_BASE, type TestApp } from '../../test-support/app.ts';

let t: TestApp;
let patientId: string;
before(async () => {
  t = await testApp();
  patientId = (await t.request('POST', '/fhir/Patient', { resourceType: 'Patient', name: [{ family: 'Searchable' }] })).json.id;
  for (const code of ['8867-4', '8867-4', '29463-7']) {
    const res = await t.request('POST', '/fhir/Observation', {
      resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code }] }, subject: { reference: `Patient/${patientId}` },
    });
    assert.equal(res.status, 201, res.text);
  }
});

const ids = (bundle: any) => (bundle.entry ?? []).map((e: any) => e.resource.id).sort();

describe('GET and POST _search', () => {
  it('POST _search with a form body returns what GET returns', async () => {
    const get = await t.request('GET', `/fhir/Observation?subject=Patient/${patientId}&code=http://loinc.org|8867-4`);
    assert.equal(get.json.entry.length, 2);
    const post = await t.request('POST', '/fhir/Observation/_search', `subject=Patient/${patientId}&code=${encodeURIComponent('http://loinc.org|8867-4')}`, { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(post.status, 200, post.text);
    assert.deepEqual(ids(post.json), ids(get.json));
    assert.equal(post.json.type, 'searchset');
  });

  it('POST _search combines URL and body parameters (AND) and refuses other body types with 415', async () => {
    const both = await t.request('POST', `/fhir/Observation/_search?subject=Patient/${patientId}`, 'code=29463-7', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(both.json.entry.length, 1);
    const json = await t.request('POST', '/fhir/Observation/_search', { code: '29463-7' });
    assert.equal(json.status, 415);
    assert.equal(json.json.resourceType, 'OperationOutcome');
  });

  it('lenient handling ignores an unknown parameter and leaves it out of the self link; strict refuses it', async () => {
    const lenient = await t.request('GET', '/fhir/Patient?family=Searchable&bogus=1');
    assert.equal(lenient.status, 200);
    const self = lenient.json.link.find((l: any) => l.relation === 'self').url as string;
    assert.equal(self, `${FHIR_BASE}/Patient?family=Searchable`);
    const strict = await t.request('GET', '/fhir/Patient?family=Searchable&bogus=1', undefined, { prefer: 'handling=strict' });
    assert.equal(strict.status, 400);
    assert.match(strict.json.issue[0].diagnostics, /bogus/);
  });
});

describe('compartments and system search over HTTP', () => {
  it('GET Patient/{id}/Observation returns the patient\'s Observations; an unknown patient is 404', async () => {
    const res = await t.request('GET', `/fhir/Patient/${patientId}/Observation?code=8867-4`);
    assert.equal(res.status, 200);
    assert.equal(res.json.entry.length, 2);
    assert.equal((await t.request('GET', '/fhir/Patient/nobody/Observation')).status, 404);
    assert.equal((await t.request('GET', `/fhir/Patient/${patientId}/Banana`)).status, 404);
  });

  it('Patient/{id}/$everything returns the Patient and its compartment', async () => {
    const res = await t.request('GET', `/fhir/Patient/${patientId}/$everything`);
    assert.equal(res.status, 200);
    // AuditEvent is in the Patient compartment too: the audit of who looked at this record comes along.
    const types = res.json.entry.map((e: any) => e.resource.resourceType).filter((t: string) => t !== 'AuditEvent');
    assert.deepEqual(types, ['Patient', 'Observation', 'Observation', 'Observation']);
  });

  it('GET /fhir?_type=… searches across types', async () => {
    const res = await t.request('GET', `/fhir?_type=Patient,Observation&_id=${patientId}`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.entry.map((e: any) => e.resource.id), [patientId]);
  });
});
