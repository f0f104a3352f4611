// String, token and uri parameters, `_id`, `_tag` / `_profile` / `_security`, OR (comma) and AND (repetition).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Database } from '../../store/database.ts';
import { found, ids, load, observation, patient, rejects, search, setup } from './test-helpers.ts';

const t = await setup();
const db: Database = t.db;

before(async () => {
  await load(
    t.svc,
    patient('p1', {
      name: [{ family: 'Müller', given: ['Peter', 'Hans'] }],
      gender: 'male',
      active: true,
      identifier: [{ system: 'http://ids', value: 'A1' }],
      meta: {
        tag: [{ system: 'http://tags', code: 't1' }],
        profile: ['http://example.org/StructureDefinition/p'],
        security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }],
      },
    }),
    patient('p2', { name: [{ family: 'Mullins', given: ['Anna'] }], gender: 'female', identifier: [{ value: 'B2' }], telecom: [{ system: 'phone', value: '555-1234' }] }),
    patient('p3', { name: [{ family: 'Smith, Jr' }], gender: 'other', identifier: [{ system: 'http://ids', value: 'B2' }], meta: { tag: [{ code: 't1' }] } }),
    patient('p4'),
    observation('o1', undefined, { code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }], text: 'Pulse rate' } }),
    observation('o2', undefined, { code: { coding: [{ system: 'http://snomed.info/sct', code: '8867-4' }] } }),
  );
});

describe('string (R4 search §3.1.1.4.9)', () => {
  test('default: starts with, case- and accent-insensitive', async () => {
    assert.deepEqual(await found(db, 'Patient', 'name=mul'), ['p1', 'p2']);
    assert.deepEqual(await found(db, 'Patient', 'name=MÜL'), ['p1', 'p2']);
    assert.deepEqual(await found(db, 'Patient', 'family=muller'), ['p1']);
    assert.deepEqual(await found(db, 'Patient', 'name=eter'), []);
  });
  test(':exact matches the text as written', async () => {
    assert.deepEqual(await found(db, 'Patient', 'family:exact=Müller'), ['p1']);
    assert.deepEqual(await found(db, 'Patient', 'family:exact=muller'), []);
    assert.deepEqual(await found(db, 'Patient', 'family:exact=Müll'), []);
  });
  test(':contains matches anywhere', async () => {
    assert.deepEqual(await found(db, 'Patient', 'name:contains=ll'), ['p1', 'p2']);
    assert.deepEqual(await found(db, 'Patient', 'name:contains=ETER'), ['p1']);
  });
  test('LIKE wildcards in the value match literally', async () => {
    assert.deepEqual(await found(db, 'Patient', 'name=%25'), []);
    assert.deepEqual(await found(db, 'Patient', 'name:contains=_'), []);
  });
  test('comma is OR, repetition is AND', async () => {
    assert.deepEqual(await found(db, 'Patient', 'name=pet,ann'), ['p1', 'p2']);
    assert.deepEqual(await found(db, 'Patient', 'name=mul&name=pet'), ['p1']);
  });
  test('an escaped comma is part of the value', async () => {
    assert.deepEqual(await found(db, 'Patient', `family=${encodeURIComponent('smith\\,')}`), ['p3']);
    assert.deepEqual(await found(db, 'Patient', 'family=smith,mul'), ['p1', 'p2', 'p3']);
  });
  test(':missing', async () => {
    assert.deepEqual(await found(db, 'Patient', 'name:missing=true'), ['p4']);
    assert.deepEqual(await found(db, 'Patient', 'name:missing=false'), ['p1', 'p2', 'p3']);
    await rejects(search(db, 'Patient', 'name:missing=yes'), 400, /name:missing takes true or false/);
  });
});

describe('token (R4 search §3.1.1.4.10)', () => {
  test('code, system|code, |code and system|', async () => {
    assert.deepEqual(await found(db, 'Patient', 'identifier=B2'), ['p2', 'p3']);
    assert.deepEqual(await found(db, 'Patient', 'identifier=http://ids|A1'), ['p1']);
    assert.deepEqual(await found(db, 'Patient', 'identifier=http://ids|B2'), ['p3']);
    assert.deepEqual(await found(db, 'Patient', 'identifier=|B2'), ['p2']);
    assert.deepEqual(await found(db, 'Patient', 'identifier=http://ids|'), ['p1', 'p3']);
    assert.deepEqual(await found(db, 'Observation', 'code=http://loinc.org|8867-4'), ['o1']);
    assert.deepEqual(await found(db, 'Observation', 'code=8867-4'), ['o1', 'o2']);
  });
  test('code, boolean and ContactPoint values', async () => {
    assert.deepEqual(await found(db, 'Patient', 'gender=male'), ['p1']);
    assert.deepEqual(await found(db, 'Patient', 'gender=male,female'), ['p1', 'p2']);
    assert.deepEqual(await found(db, 'Patient', 'active=true'), ['p1']);
    assert.deepEqual(await found(db, 'Patient', 'telecom=555-1234'), ['p2']);
  });
  test(':not excludes matching resources, including those without a value', async () => {
    assert.deepEqual(await found(db, 'Patient', 'gender:not=male'), ['p2', 'p3', 'p4']);
    assert.deepEqual(await found(db, 'Patient', 'gender:not=male,female'), ['p3', 'p4']);
  });
  test(':text searches the display and text', async () => {
    assert.deepEqual(await found(db, 'Observation', 'code:text=heart'), ['o1']);
    assert.deepEqual(await found(db, 'Observation', 'code:text=PULSE'), ['o1']);
    assert.deepEqual(await found(db, 'Observation', 'code:text=rate'), ['o1']);
    assert.deepEqual(await found(db, 'Observation', 'code:text=glucose'), []);
  });
  test(':missing', async () => {
    assert.deepEqual(await found(db, 'Patient', 'identifier:missing=true'), ['p4']);
    assert.deepEqual(await found(db, 'Patient', 'gender:missing=false'), ['p1', 'p2', 'p3']);
  });
  test('_tag and _security', async () => {
    assert.deepEqual(await found(db, 'Patient', '_tag=http://tags|t1'), ['p1']);
    assert.deepEqual(await found(db, 'Patient', '_tag=t1'), ['p1', 'p3']);
    assert.deepEqual(await found(db, 'Patient', '_security=http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R'), ['p1']);
    assert.deepEqual(await found(db, 'Patient', '_tag:missing=true'), ['p2', 'p4']);
  });
  test('bad values and modifiers are a 400', async () => {
    await rejects(search(db, 'Patient', 'identifier=a|b|c'), 400, /Invalid token 'a\|b\|c' for identifier/);
    await rejects(search(db, 'Patient', 'identifier=|'), 400, /Invalid token/);
    await rejects(search(db, 'Patient', 'gender:in=http://vs'), 400, /The :in modifier is not supported on token parameter 'gender'/);
    await rejects(search(db, 'Patient', 'gender:foo=male'), 400, /Unknown modifier ':foo' in 'gender:foo'/);
    await rejects(search(db, 'Patient', 'name:not=x'), 400, /The :not modifier is not supported on string parameter 'name'/);
  });
});

describe('uri (R4 search §3.1.1.4.13) and _profile', () => {
  test('exact, :below, :above, :missing', async () => {
    assert.deepEqual(await found(db, 'Patient', '_profile=http://example.org/StructureDefinition/p'), ['p1']);
    assert.deepEqual(await found(db, 'Patient', '_profile=http://example.org/StructureDefinition'), []);
    assert.deepEqual(await found(db, 'Patient', '_profile:below=http://example.org/'), ['p1']);
    assert.deepEqual(await found(db, 'Patient', '_profile:above=http://example.org/StructureDefinition/p/v2'), ['p1']);
    assert.deepEqual(await found(db, 'Patient', '_profile:above=http://example.org/'), []);
    assert.deepEqual(await found(db, 'Patient', '_profile:missing=true'), ['p2', 'p3', 'p4']);
  });
  test('_sort by a uri and by a string', async () => {
    assert.deepEqual(ids(await search(db, 'Patient', '_sort=_profile')), ['p1', 'p2', 'p3', 'p4']);
    assert.deepEqual(ids(await search(db, 'Patient', '_sort=-_profile')), ['p1', 'p4', 'p3', 'p2']);
    assert.deepEqual(ids(await search(db, 'Patient', '_sort=family')), ['p1', 'p2', 'p3', 'p4']);
  });
});

describe('_id (R4 search §3.1.1.1)', () => {
  test('one id, a comma list, combined with other parameters', async () => {
    assert.deepEqual(await found(db, 'Patient', '_id=p2'), ['p2']);
    assert.deepEqual(await found(db, 'Patient', '_id=p1,p3,nope'), ['p1', 'p3']);
    assert.deepEqual(await found(db, 'Patient', '_id=p1,p2&gender=female'), ['p2']);
    await rejects(search(db, 'Patient', '_id:missing=true'), 400, /_id does not take modifiers/);
  });
});
