// Patient compartment search, Patient/$everything, system-level search and conditional-create matching.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, describe, test } from 'node:test';
import { SYSTEM_PRINCIPAL } from '../../access/principal.ts';
import type { Database } from '../../store/database.ts';
import { FhirError } from '../errors.ts';
import { everything, matchIds } from './search-service.ts';
import { BASE, ids, link, load, observation, patient, queryOf, rejects, search, setup, type Bundle } from './test-helpers.ts';

const t = await setup();
const db: Database = t.db;
let mid = '';

before(async () => {
  await load(t.svc, observation('o0', undefined)); // written before its patient: a smaller rid than the Patient
  await load(t.svc, patient('pa', { identifier: [{ system: 'sys', value: 'a' }] }), patient('pb'));
  await load(t.svc, observation('o0', 'Patient/pa'));
  await load(
    t.svc,
    observation('o1', 'Patient/pa', { meta: { tag: [{ system: 'urn:t', code: 'x' }] } }),
    observation('o2', 'Patient/pa'),
    observation('o3', 'Patient/pb'),
    { resourceType: 'Condition', id: 'c1', subject: { reference: 'Patient/pa' } },
  );
  await sleep(5);
  mid = new Date().toISOString();
  await sleep(5);
  await load(
    t.svc,
    { resourceType: 'Encounter', id: 'e1', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/pa' } },
    observation('o4', 'Patient/pa', { performer: [{ reference: 'Patient/pb' }] }),
    { resourceType: 'Practitioner', id: 'dr1' },
  );
});

describe('Patient compartment search (R4 compartmentdefinition-patient)', () => {
  const inCompartment = (id: string, type: string, q = '') => search(db, type, q, { compartment: { type: 'Patient', id } });
  test('only resources in the compartment, with further filters', async () => {
    assert.deepEqual(ids(await inCompartment('pa', 'Observation')), ['o0', 'o1', 'o2', 'o4']);
    assert.deepEqual(ids(await inCompartment('pb', 'Observation')), ['o3', 'o4']);
    assert.deepEqual(ids(await inCompartment('pa', 'Observation', '_tag=x')), ['o1']);
    assert.deepEqual(ids(await inCompartment('pa', 'Patient')), ['pa']);
    assert.deepEqual(ids(await inCompartment('pa', 'Practitioner')), []);
    assert.deepEqual(ids(await inCompartment('nope', 'Observation')), []);
  });
  test('links keep the compartment path', async () => {
    const b = await inCompartment('pa', 'Observation', '_count=2');
    assert.equal(link(b, 'self'), `${BASE}/Patient/pa/Observation?_count=2`);
    assert.match(link(b, 'next')!, /^http:\/\/fk\.test\/fhir\/Patient\/pa\/Observation\?_count=2&_cursor=/);
    assert.deepEqual(ids(await search(db, 'Observation', queryOf(link(b, 'next')!), { compartment: { type: 'Patient', id: 'pa' } })), ['o2', 'o4']);
  });
});

describe('Patient/$everything (R4 patient-operation-everything)', () => {
  const run = async (q: string, id = 'pa') => JSON.parse(await everything(db, SYSTEM_PRINCIPAL, id, new URLSearchParams(q), BASE)) as Bundle;
  const all = ['pa', 'o0', 'o1', 'o2', 'c1', 'e1', 'o4'];
  test('the Patient first, then its compartment in write order', async () => {
    const b = await run('');
    assert.deepEqual(ids(b), all);
    assert.equal(b.total, 7);
    assert.equal(b.type, 'searchset');
    assert.equal(link(b, 'self'), `${BASE}/Patient/pa/$everything`);
  });
  test('_count pages forwards and backwards', async () => {
    const pages: string[][] = [];
    let b = await run('_count=3');
    pages.push(ids(b));
    while (link(b, 'next')) {
      b = await run(queryOf(link(b, 'next')!));
      pages.push(ids(b));
    }
    assert.deepEqual(pages, [all.slice(0, 3), all.slice(3, 6), all.slice(6)]);
    const back = await run(queryOf(link(b, 'previous')!));
    assert.deepEqual(ids(back), all.slice(3, 6));
  });
  test('_type and _since', async () => {
    assert.deepEqual(ids(await run('_type=Observation')), ['o0', 'o1', 'o2', 'o4']);
    assert.deepEqual(ids(await run('_type=Patient,Condition')), ['pa', 'c1']);
    assert.deepEqual(ids(await run(`_since=${encodeURIComponent(mid)}`)), ['e1', 'o4']);
    assert.equal(link(await run('_type=Condition&foo=1'), 'self'), `${BASE}/Patient/pa/$everything?_type=Condition`);
  });
  test('errors', async () => {
    await rejects(run('', 'nope'), 404, /Patient\/nope is not known/);
    await rejects(run('_type=Foo'), 400, /Unknown resource type 'Foo' in _type/);
    await rejects(run('_since=yesterday'), 400, /_since must be an instant/);
    await rejects(run('_count=x'), 400, /_count must be a non-negative integer/);
  });
});

describe('system-level search (R4 search §3.1.1 "search-system")', () => {
  test('across types, narrowed by _type; only common parameters apply', async () => {
    assert.deepEqual(ids(await search(db, undefined, '_id=pa,o1')), ['pa', 'o1']);
    assert.deepEqual(ids(await search(db, undefined, '_type=Patient,Condition&_id=pa,o1,c1')), ['pa', 'c1']);
    assert.deepEqual(ids(await search(db, undefined, '_tag=urn:t|x')), ['o1']);
    assert.deepEqual(ids(await search(db, undefined, '_type=Observation&patient=pb')), ['o3']);
    assert.deepEqual(ids(await search(db, undefined, '_type=Patient,Condition&_sort=-_lastUpdated&_count=2')), ['c1', 'pb']);
  });
  test('type-specific parameters: ignored (lenient) or a 400 (strict)', async () => {
    const b = await search(db, undefined, '_type=Patient,Condition&gender=male');
    assert.deepEqual(ids(b), ['pa', 'pb', 'c1']);
    assert.equal(link(b, 'self'), `${BASE}?_type=Patient,Condition`);
    // `identifier` is defined on both Patient and Condition: it applies.
    assert.deepEqual(ids(await search(db, undefined, '_type=Patient,Condition&identifier=sys|a')), ['pa']);
    await rejects(search(db, undefined, 'gender=male', { strict: true }), 400, /Unknown or unsupported search parameter 'gender'/);
    await rejects(search(db, undefined, '_type=Foo'), 400, /Unknown resource type 'Foo' in _type/);
    await rejects(search(db, undefined, '_sort=date'), 400, /Unknown _sort parameter 'date'/);
  });
});

describe('matchIds (conditional create and update)', () => {
  test('finds current matches under strict handling', async () => {
    assert.deepEqual(await matchIds(db, SYSTEM_PRINCIPAL, 'Patient', new URLSearchParams('identifier=sys|a')), ['pa']);
    assert.deepEqual(await matchIds(db, SYSTEM_PRINCIPAL, 'Observation', new URLSearchParams('patient=pa&_tag=x')), ['o1']);
    assert.deepEqual(await matchIds(db, SYSTEM_PRINCIPAL, 'Patient', new URLSearchParams('identifier=sys|zzz')), []);
    await rejects(matchIds(db, SYSTEM_PRINCIPAL, 'Patient', new URLSearchParams('foo=1')), 400, /Unknown or unsupported search parameter 'foo'/);
  });
  test('drives If-None-Exist', async () => {
    const existing = await t.svc.create(SYSTEM_PRINCIPAL, { resourceType: 'Patient' }, { ifNoneExist: 'identifier=sys|a' });
    assert.deepEqual([existing.status, existing.stored.id], [200, 'pa']);
    const created = await t.svc.create(SYSTEM_PRINCIPAL, { resourceType: 'Patient', identifier: [{ system: 'sys', value: 'new' }] }, { ifNoneExist: 'identifier=sys|new' });
    assert.equal(created.status, 201);
    await assert.rejects(t.svc.create(SYSTEM_PRINCIPAL, { resourceType: 'Observation' }, { ifNoneExist: 'patient=pa' }), (err: unknown) => err instanceof FhirError && err.status === 412);
  });
});
