// Reference parameters, chaining and reverse chaining (R4 search §3.1.1.4.12, §3.1.1.4.13, §3.1.1.4.14).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Database } from '../../store/database.ts';
import { BASE, found, load, observation, patient, rejects, search, setup } from './test-helpers.ts';

const t = await setup();
const db: Database = t.db;
const code = (c: string) => ({ code: { coding: [{ system: 'http://loinc.org', code: c }] } });

before(async () => {
  await load(
    t.svc,
    { resourceType: 'Organization', id: 'org1', name: 'Acme Health' },
    { resourceType: 'Organization', id: 'org2', name: 'Other Clinic' },
    { resourceType: 'Practitioner', id: 'dr1', name: [{ family: 'Doc', given: ['Peter'] }] },
    { resourceType: 'Location', id: 'loc1', name: 'Peterborough ward' },
    { resourceType: 'Group', id: 'g1', type: 'person', actual: true },
    patient('pa', { name: [{ given: ['Peter'] }], identifier: [{ system: 'sys', value: 'v1' }], managingOrganization: { reference: 'Organization/org1' } }),
    patient('pb', { name: [{ given: ['Anna'] }], managingOrganization: { reference: 'Organization/org2' } }),
    patient('pc', { name: [{ given: ['Carl'] }] }),
    observation('oa1', 'Patient/pa', { ...code('1234-5'), performer: [{ reference: 'Practitioner/dr1' }] }),
    observation('oa2', 'Patient/pa', code('999')),
    observation('ob1', 'Patient/pb', code('1234-5')),
    observation('og1', 'Group/g1'),
    observation('ol1', 'Location/loc1'),
    observation('oabs', `${BASE}/Patient/pb`),
    observation('oext', 'http://other.org/fhir/Patient/pa'),
    observation('onone', undefined),
    observation('oid', 'Patient/pc', { subject: { reference: 'Patient/pc', identifier: { system: 'sys', value: 'v3' } }, performer: [{ identifier: { system: 'npi', value: '123' } }] }),
  );
});

const obs = (q: string) => found(db, 'Observation', q);

describe('reference values (R4 search §3.1.1.4.12)', () => {
  test('Type/id matches local references only', async () => {
    assert.deepEqual(await obs('subject=Patient/pa'), ['oa1', 'oa2']);
    assert.deepEqual(await obs('subject=Patient/pb'), ['oabs', 'ob1']);
    assert.deepEqual(await obs('subject=Patient/pa/_history/1'), ['oa1', 'oa2']);
  });
  test('a bare id is resolved against the target types', async () => {
    assert.deepEqual(await obs('subject=pa'), ['oa1', 'oa2']);
    assert.deepEqual(await obs('subject=g1'), ['og1']);
    assert.deepEqual(await obs('patient=pb'), ['oabs', 'ob1']);
    assert.deepEqual(await obs('patient=g1'), []);
  });
  test('an absolute URL matches as written, or as the local resource under this base', async () => {
    assert.deepEqual(await obs(`subject=${BASE}/Patient/pb`), ['oabs', 'ob1']);
    assert.deepEqual(await obs('subject=http://other.org/fhir/Patient/pa'), ['oext']);
    assert.deepEqual(await obs('subject=http://other.org/fhir/Patient/pb'), []);
  });
  test(':[type] restricts the target type', async () => {
    assert.deepEqual(await obs('subject:Patient=pa'), ['oa1', 'oa2']);
    assert.deepEqual(await obs('subject:Group=g1'), ['og1']);
    assert.deepEqual(await obs('subject:Group=pa'), []);
    await rejects(search(db, 'Observation', 'subject:Practitioner=dr1'), 400, /Practitioner is not a target type of 'subject'/);
    await rejects(search(db, 'Observation', 'subject:Group=Patient/pa'), 400, /contradicts the :Group modifier/);
  });
  test('OR, AND and :missing', async () => {
    assert.deepEqual(await obs('subject=Patient/pa,Group/g1'), ['oa1', 'oa2', 'og1']);
    assert.deepEqual(await obs('subject=pa&code=999'), ['oa2']);
    assert.deepEqual(await obs('subject:missing=true'), ['onone']);
    assert.deepEqual(await obs('performer:missing=false'), ['oa1']);
  });
  test('bad references are a 400', async () => {
    await rejects(search(db, 'Observation', 'subject=not%20a%20ref'), 400, /Invalid reference 'not a ref' for subject/);
  });
  test(':identifier matches a logical reference (Reference.identifier), with or without a literal one', async () => {
    assert.deepEqual(await obs('performer:identifier=npi|123'), ['oid']);
    assert.deepEqual(await obs('performer:identifier=123'), ['oid']);
    assert.deepEqual(await obs('performer:identifier=other|123'), []);
    assert.deepEqual(await obs('subject:identifier=sys|v3'), ['oid']);
    assert.deepEqual(await obs('subject=Patient/pc'), ['oid'], 'the literal reference still counts');
    assert.deepEqual(await obs('subject:identifier=sys|v1'), [], "the target's own identifier is not the reference's");
  });
});

describe('chaining (R4 search §3.1.1.4.13)', () => {
  test('with and without a type modifier', async () => {
    assert.deepEqual(await obs('subject:Patient.name=peter'), ['oa1', 'oa2']);
    // Without a modifier the chain runs over every target type defining `name`: Patient and Location.
    assert.deepEqual(await obs('subject.name=peter'), ['oa1', 'oa2', 'ol1']);
    assert.deepEqual(await obs('subject:Location.name=peter'), ['ol1']);
    assert.deepEqual(await obs('patient.identifier=sys|v1'), ['oa1', 'oa2']);
    assert.deepEqual(await obs('performer:Practitioner.name=doc'), ['oa1']);
  });
  test('the chained parameter keeps its modifiers; chains OR and AND like other parameters', async () => {
    assert.deepEqual(await obs('subject:Patient.name:exact=Peter'), ['oa1', 'oa2']);
    assert.deepEqual(await obs('subject:Patient.name:exact=peter'), []);
    assert.deepEqual(await obs('patient.name=peter,anna'), ['oa1', 'oa2', 'oabs', 'ob1']);
    assert.deepEqual(await obs('patient.name=peter&code=1234-5'), ['oa1']);
  });
  test('a two-level chain', async () => {
    assert.deepEqual(await obs('patient.organization.name=acme'), ['oa1', 'oa2']);
    assert.deepEqual(await obs('subject:Patient.organization:Organization.name=other'), ['oabs', 'ob1']);
  });
  test('only current resources are followed', async () => {
    await load(t.svc, patient('tmp', { name: [{ given: ['Zed'] }] }), observation('otmp', 'Patient/tmp'));
    assert.deepEqual(await obs('patient.name=zed'), ['otmp']);
    await t.svc.delete({ kind: 'system', scopes: [], launch: {} }, 'Observation', 'otmp');
    await t.svc.delete({ kind: 'system', scopes: [], launch: {} }, 'Patient', 'tmp');
    assert.deepEqual(await obs('patient.name=zed'), []);
  });
  test('unknown chain targets and parameters are a 400', async () => {
    await rejects(search(db, 'Observation', 'subject:Foo.name=x'), 400, /Unknown chain target 'Foo' in 'subject:Foo.name'/);
    await rejects(search(db, 'Observation', 'subject:Practitioner.name=x'), 400, /Unknown chain target 'Practitioner'/);
    await rejects(search(db, 'Observation', 'subject.nonexistent=x'), 400, /Unknown chained parameter 'nonexistent' on Device, Group, Location, Patient/);
    await rejects(search(db, 'Observation', 'code.name=x'), 400, /'code' is not a reference parameter and cannot be chained/);
  });
});

describe('reverse chaining _has (R4 search §3.1.1.4.14)', () => {
  const pats = (q: string) => found(db, 'Patient', q);
  test('resources referenced by a matching resource', async () => {
    assert.deepEqual(await pats('_has:Observation:patient:code=1234-5'), ['pa', 'pb']);
    assert.deepEqual(await pats('_has:Observation:patient:code=999'), ['pa']);
    assert.deepEqual(await pats('_has:Observation:subject:code=999,1234-5'), ['pa', 'pb']);
    assert.deepEqual(await pats('_has:Observation:patient:code=1234-5&name=anna'), ['pb']);
    assert.deepEqual(await pats('_has:Observation:patient:performer:Practitioner.name=doc'), ['pa']);
  });
  test('nested _has', async () => {
    assert.deepEqual(await found(db, 'Organization', '_has:Patient:organization:_has:Observation:patient:code=999'), ['org1']);
    assert.deepEqual(await found(db, 'Organization', '_has:Patient:organization:_has:Observation:patient:code=1234-5'), ['org1', 'org2']);
  });
  test('invalid _has is a 400', async () => {
    await rejects(search(db, 'Patient', '_has:Observation:code:status=final'), 400, /'code' is not a reference parameter of Observation/);
    await rejects(search(db, 'Patient', '_has:Foo:x:y=1'), 400, /Unknown resource type 'Foo'/);
    await rejects(search(db, 'Patient', '_has:Observation:patient:nope=1'), 400, /Unknown parameter 'nope' on Observation/);
    await rejects(search(db, 'Patient', '_has:Observation:patient=1'), 400, /expected _has:Type:reference:parameter/);
    await rejects(search(db, 'Organization', '_has:Observation:patient:code=1'), 400, /Observation.patient cannot refer to Organization/);
  });
});
