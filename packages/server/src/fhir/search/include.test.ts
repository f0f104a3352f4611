// _include and _revinclude, with :iterate (R4 search §3.1.1.8.6).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { SYSTEM_PRINCIPAL } from '../../access/principal.ts';
import type { Database } from '../../store/database.ts';
import { ids, included, link, load, observation, patient, queryOf, rejects, search, setup, type Resource } from './test-helpers.ts';

const t = await setup();
const db: Database = t.db;
const org = (id: string, partOf?: string): Resource => ({ resourceType: 'Organization', id, ...(partOf ? { partOf: { reference: `Organization/${partOf}` } } : {}) });
const provenance = (id: string, target: string): Resource => ({
  resourceType: 'Provenance',
  id,
  target: [{ reference: target }],
  recorded: '2020-01-01T00:00:00Z',
  agent: [{ who: { reference: 'Practitioner/dr1' } }],
});

before(async () => {
  await load(t.svc, org('orgTop'), org('orgRoot', 'orgTop'), org('org0', 'orgRoot'), org('org1', 'org0'));
  await load(
    t.svc,
    { resourceType: 'Practitioner', id: 'dr1' },
    patient('pa', { generalPractitioner: [{ reference: 'Practitioner/dr1' }], managingOrganization: { reference: 'Organization/org1' } }),
    patient('pb', { managingOrganization: { reference: 'Organization/org1' }, link: [{ other: { reference: 'Patient/pa' }, type: 'seealso' }] }),
    patient('pc'),
    observation('o1', 'Patient/pa', { performer: [{ reference: 'Practitioner/dr1' }] }),
    observation('o2', 'Patient/pa'),
    observation('o3', 'Patient/pb'),
    observation('o4', 'Patient/pc'),
    provenance('prov1', 'Observation/o1'),
    provenance('prov2', 'Observation/o3'),
  );
});

describe('_include', () => {
  test('includes referenced resources once, outside total and paging', async () => {
    const b = await search(db, 'Observation', '_id=o1,o2,o3&_include=Observation:patient');
    assert.deepEqual(ids(b), ['o1', 'o2', 'o3']);
    assert.deepEqual(included(b), ['Patient/pa', 'Patient/pb']);
    assert.equal(b.total, 3);
    assert.deepEqual(included(await search(db, 'Observation', '_id=o1,o2&_include=Observation:patient&_include=Observation:subject')), ['Patient/pa']);
  });
  test('_sort by a reference', async () => {
    assert.deepEqual(ids(await search(db, 'Observation', '_id=o1,o2,o3&_sort=-subject')), ['o3', 'o2', 'o1']);
    assert.deepEqual(ids(await search(db, 'Observation', '_id=o1,o2,o3&_sort=subject,-_id')), ['o2', 'o1', 'o3']);
  });
  test('a target type restricts the included resources', async () => {
    assert.deepEqual(included(await search(db, 'Observation', '_id=o1&_include=Observation:subject:Patient')), ['Patient/pa']);
    assert.deepEqual(included(await search(db, 'Observation', '_id=o1&_include=Observation:subject:Group')), []);
  });
  test('Type:* and * follow every reference parameter', async () => {
    assert.deepEqual(included(await search(db, 'Observation', '_id=o1&_include=Observation:*')), ['Patient/pa', 'Practitioner/dr1']);
    assert.deepEqual(included(await search(db, 'Observation', '_id=o1&_include=*')), ['Patient/pa', 'Practitioner/dr1']);
  });
  test('resources that are matches are not included again', async () => {
    const b = await search(db, 'Patient', '_id=pa,pb&_include=Patient:link');
    assert.deepEqual(ids(b), ['pa', 'pb']);
    assert.deepEqual(included(b), []);
    assert.deepEqual(included(await search(db, 'Patient', '_id=pb&_include=Patient:link')), ['Patient/pa']);
  });
  test('only the current page is followed', async () => {
    const first = await search(db, 'Observation', '_id=o1,o3&_include=Observation:patient&_count=1');
    assert.deepEqual([ids(first), included(first)], [['o1'], ['Patient/pa']]);
    const second = await search(db, 'Observation', queryOf(link(first, 'next')!));
    assert.deepEqual([ids(second), included(second)], [['o3'], ['Patient/pb']]);
    assert.match(link(first, 'next')!, /_include=Observation:patient/);
  });
  test('deleted resources are not included', async () => {
    assert.deepEqual(included(await search(db, 'Observation', '_id=o4&_include=Observation:patient')), ['Patient/pc']);
    await t.svc.delete(SYSTEM_PRINCIPAL, 'Patient', 'pc');
    assert.deepEqual(included(await search(db, 'Observation', '_id=o4&_include=Observation:patient')), []);
  });
});

describe('_revinclude', () => {
  test('includes resources that reference the matches', async () => {
    assert.deepEqual(included(await search(db, 'Observation', '_id=o1&_revinclude=Provenance:target')), ['Provenance/prov1']);
    assert.deepEqual(included(await search(db, 'Patient', '_id=pa&_revinclude=Observation:patient')), ['Observation/o1', 'Observation/o2']);
    assert.deepEqual(included(await search(db, 'Patient', '_id=pa&_revinclude=Observation:subject:Patient&_include=Patient:general-practitioner')), [
      'Observation/o1',
      'Observation/o2',
      'Practitioner/dr1',
    ]);
  });
});

describe(':iterate', () => {
  test('a non-iterating include applies to the matches only', async () => {
    assert.deepEqual(included(await search(db, 'Observation', '_id=o3&_include=Observation:patient&_include=Patient:organization')), ['Patient/pb']);
  });
  test(':iterate follows included resources', async () => {
    assert.deepEqual(included(await search(db, 'Observation', '_id=o3&_include=Observation:patient&_include:iterate=Patient:organization')), [
      'Organization/org1',
      'Patient/pb',
    ]);
    assert.deepEqual(included(await search(db, 'Patient', '_id=pb&_revinclude=Observation:patient&_revinclude:iterate=Provenance:target')), [
      'Observation/o3',
      'Provenance/prov2',
    ]);
  });
  test('iteration stops after 3 rounds', async () => {
    const b = await search(db, 'Observation', '_id=o3&_include=Observation:patient&_include:iterate=Patient:organization&_include:iterate=Organization:partof');
    // pb, then org1 (round 1), org0 (round 2), orgRoot (round 3); orgTop would be a 4th round.
    assert.deepEqual(included(b), ['Organization/org0', 'Organization/org1', 'Organization/orgRoot', 'Patient/pb']);
  });
});

describe('invalid includes are a 400', () => {
  test('unknown parameters, types, targets and modifiers', async () => {
    await rejects(search(db, 'Observation', '_include=Observation:nope'), 400, /'nope' is not a reference parameter of Observation/);
    await rejects(search(db, 'Observation', '_include=Observation:code'), 400, /'code' is not a reference parameter of Observation/);
    await rejects(search(db, 'Observation', '_include=Foo:bar'), 400, /unknown resource type 'Foo'/);
    await rejects(search(db, 'Observation', '_include=Observation:subject:Practitioner'), 400, /'Practitioner' is not a target type of Observation.subject/);
    await rejects(search(db, 'Observation', '_include:deep=Observation:patient'), 400, /Unknown modifier in '_include:deep'/);
    await rejects(search(db, 'Observation', '_include=Observation'), 400, /expected SourceType:parameter/);
    await rejects(search(db, 'Patient', '_revinclude=*'), 400, /_revinclude=\* is not supported/);
  });
});
