// The CapabilityStatement claims nothing that does not work: every search parameter, include and revinclude it
// lists is accepted under `Prefer: handling=strict` (which rejects anything unsupported).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../test-support/app.ts';
import { RESOURCE_TYPES } from './search-parameters.ts';

let t: TestApp;
let cs: any;
before(async () => {
  t = await testApp();
  cs = (await t.request('GET', '/fhir/metadata')).json;
});

const strict = { prefer: 'handling=strict' };

/** A query that uses the parameter: `:missing` works on every indexed type; `_id` and `_lastUpdated` are columns. */
const probe = (name: string) => (name === '_id' ? '_id=x' : name === '_lastUpdated' ? '_lastUpdated=ge2020' : `${name}:missing=true`);

describe('GET /fhir/metadata', () => {
  it('is an R4 CapabilityStatement for JSON with every resource type and the system interactions', () => {
    assert.equal(cs.resourceType, 'CapabilityStatement');
    assert.equal(cs.fhirVersion, '4.0.1');
    assert.ok(cs.format.includes('application/fhir+json'));
    assert.deepEqual(cs.patchFormat, ['application/json-patch+json']);
    const rest = cs.rest[0];
    assert.deepEqual(rest.resource.map((r: any) => r.type), [...RESOURCE_TYPES]);
    assert.deepEqual(rest.interaction.map((i: any) => i.code).sort(), ['batch', 'history-system', 'search-system', 'transaction']);
    const observation = rest.resource.find((r: any) => r.type === 'Observation');
    assert.ok(observation.searchParam.some((p: any) => p.name === 'patient' && p.type === 'reference'));
    assert.ok(!observation.searchParam.some((p: any) => p.name === 'code-value-quantity'), 'composite parameters are not claimed');
    assert.equal(rest.resource.find((r: any) => r.type === 'Patient').operation[0].name, 'everything');
  });

  it('declares AuditEvent read, vread and search only, and the undeclared interactions are refused', async () => {
    const audit = cs.rest[0].resource.find((r: any) => r.type === 'AuditEvent');
    assert.deepEqual(audit.interaction.map((i: any) => i.code), ['read', 'vread', 'search-type']);
    assert.equal(audit.readHistory, false);
    assert.equal(audit.updateCreate, false);
    assert.equal(audit.conditionalCreate, false);
    const event = { resourceType: 'AuditEvent', id: 'a-1', recorded: '2026-01-01T00:00:00Z', type: { code: 'rest' }, agent: [{ requestor: true }], source: { observer: { display: 'x' } } };
    assert.equal((await t.request('POST', '/fhir/AuditEvent', event)).status, 405);
    assert.equal((await t.request('PUT', '/fhir/AuditEvent/a-1', event)).status, 405);
    assert.equal((await t.request('GET', '/fhir/AuditEvent/_history')).status, 404);
    assert.equal((await t.request('GET', '/fhir/AuditEvent?_count=1')).status, 200);
  });

  it('every listed search parameter of every type is accepted under strict handling', async () => {
    const failures: string[] = [];
    for (const r of cs.rest[0].resource) {
      for (const p of r.searchParam) {
        const res = await t.request('GET', `/fhir/${r.type}?${probe(p.name)}`, undefined, strict);
        if (res.status !== 200) failures.push(`${r.type}?${p.name}: ${res.status} ${res.json?.issue?.[0]?.diagnostics}`);
      }
    }
    assert.deepEqual(failures, []);
  });

  it('every listed _include and _revinclude is accepted under strict handling', async () => {
    const failures: string[] = [];
    for (const r of cs.rest[0].resource) {
      for (const [param, values] of [['_include', r.searchInclude], ['_revinclude', r.searchRevInclude]] as const) {
        for (const value of values) {
          const res = await t.request('GET', `/fhir/${r.type}?${param}=${value}`, undefined, strict);
          if (res.status !== 200) failures.push(`${r.type}?${param}=${value}: ${res.status}`);
        }
      }
    }
    assert.deepEqual(failures, []);
  });

  it('the common parameters and the listed modifiers work on the system level too', async () => {
    for (const p of cs.rest[0].searchParam) {
      const res = await t.request('GET', `/fhir?_type=Patient,Observation&${probe(p.name)}`, undefined, strict);
      assert.equal(res.status, 200, `${p.name}: ${res.text}`);
    }
    assert.equal((await t.request('GET', '/fhir/Patient?name:exact=x&name:contains=y&gender:not=male&gender:text=m', undefined, strict)).status, 200);
    assert.equal((await t.request('GET', '/fhir/Patient?nonsense=1', undefined, strict)).status, 400);
  });
});
