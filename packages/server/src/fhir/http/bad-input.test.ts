// Bad input never leaves a partial write and always gets an OperationOutcome naming the problem.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../../test-support/app.ts';

let t: TestApp;
before(async () => {
  t = await testApp();
});

async function resourceCount(): Promise<number> {
  const [row] = await t.db.query<{ n: string }>('SELECT count(*)::text AS n FROM resource_versions');
  return Number(row!.n);
}

function assertOutcome(res: { status: number; json: any; text: string }, status: number, diagnostics: RegExp, expression?: string) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json.resourceType, 'OperationOutcome');
  assert.match(res.json.issue[0].diagnostics, diagnostics);
  if (expression) assert.ok(res.json.issue.some((i: any) => i.expression?.includes(expression)), `expected an issue at ${expression}: ${res.text}`);
  assert.doesNotMatch(res.text, /at .*\.ts:\d+|node_modules|Error:/, 'no stack traces leave the server');
}

describe('malformed requests get 400/413/415/406 OperationOutcomes', () => {
  it('malformed JSON', async () => {
    assertOutcome(await t.request('POST', '/fhir/Patient', '{"resourceType": "Patient",'), 400, /not valid JSON/);
  });
  it('a body that is not an object', async () => {
    assertOutcome(await t.request('POST', '/fhir/Patient', '[1,2]'), 400, /resourceType|JSON object/);
  });
  it('no resourceType, an unknown one, or one that differs from the URL', async () => {
    assertOutcome(await t.request('POST', '/fhir/Patient', { gender: 'male' }), 400, /resourceType/);
    assertOutcome(await t.request('PUT', '/fhir/Patient/x', { resourceType: 'Banana', id: 'x' }), 400, /resourceType/);
    assertOutcome(await t.request('POST', '/fhir/Patient', { resourceType: 'Observation', status: 'final', code: { text: 'x' } }), 400, /does not match/);
  });
  it('an unknown element', async () => {
    assertOutcome(await t.request('POST', '/fhir/Patient', { resourceType: 'Patient', favouriteColour: 'blue' }), 400, /favouriteColour/, 'Patient.favouriteColour');
  });
  it('a wrong datatype', async () => {
    assertOutcome(await t.request('POST', '/fhir/Patient', { resourceType: 'Patient', birthDate: '25/12/1974' }), 400, /date/i, 'Patient.birthDate');
    assertOutcome(await t.request('POST', '/fhir/Patient', { resourceType: 'Patient', active: 'yes' }), 400, /.+/, 'Patient.active');
    assertOutcome(await t.request('POST', '/fhir/Patient', { resourceType: 'Patient', name: { family: 'x' } }), 400, /array/i, 'Patient.name');
  });
  it('a code outside its required value set', async () => {
    assertOutcome(await t.request('POST', '/fhir/Patient', { resourceType: 'Patient', gender: 'banana' }), 400, /required value set/, 'Patient.gender');
  });
  it('a missing required element', async () => {
    assertOutcome(await t.request('POST', '/fhir/Observation', { resourceType: 'Observation', code: { text: 'x' } }), 400, /required/i, 'Observation.status');
  });
  it('a malformed reference and a reference to a resource that does not exist', async () => {
    const base = { resourceType: 'Observation', status: 'final', code: { text: 'x' } };
    assertOutcome(await t.request('POST', '/fhir/Observation', { ...base, subject: { reference: 'Patient/' } }), 400, /Invalid reference/, 'Observation.subject.reference');
    assertOutcome(await t.request('POST', '/fhir/Observation', { ...base, subject: { reference: 'Unicorn/1' } }), 400, /Invalid reference/);
    assertOutcome(await t.request('POST', '/fhir/Observation', { ...base, subject: { reference: 'Patient/nobody' } }), 400, /does not exist/, 'Observation.subject');
  });
  it('an invalid id in the URL of a create-on-update', async () => {
    assertOutcome(await t.request('PUT', '/fhir/Patient/bad$id', { resourceType: 'Patient', id: 'bad$id' }), 400, /not a valid FHIR id/);
  });
  it('an oversized body is refused with 413', async () => {
    const huge = { resourceType: 'Patient', name: [{ text: 'x'.repeat(17 * 1024 * 1024) }] };
    assertOutcome(await t.request('POST', '/fhir/Patient', huge), 413, /too large/);
  });
  it('an unsupported request content type is refused with 415', async () => {
    assertOutcome(await t.request('POST', '/fhir/Patient', '<Patient/>', { 'content-type': 'application/fhir+xml' }), 415, /content type|fhir\+json/);
  });
  it('a response format the server cannot produce is refused with 406 (Accept and _format)', async () => {
    assertOutcome(await t.request('GET', '/fhir/metadata', undefined, { accept: 'application/fhir+xml' }), 406, /accepted/);
    assertOutcome(await t.request('GET', '/fhir/metadata?_format=xml'), 406, /_format/);
    assert.equal((await t.request('GET', '/fhir/metadata', undefined, { accept: 'application/fhir+xml;q=0.9, application/json;q=0.5' })).status, 200);
    assert.equal((await t.request('GET', '/fhir/metadata?_format=json')).status, 200);
  });
  it('an unknown route is a 404 OperationOutcome', async () => {
    assertOutcome(await t.request('GET', '/fhir/Patient/1/2/3/4'), 404, /No such endpoint/);
  });
  it('none of the refused writes above stored anything', async () => {
    assert.equal(await resourceCount(), 0);
  });
});
