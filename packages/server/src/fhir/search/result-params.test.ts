// _summary, _elements, strict and lenient handling, bad values and the self link (R4 search §3.1.1.8, §3.1.1.1).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Database } from '../../store/database.ts';
import { SUPPORTED_SEARCH_RESULT_PARAMS, supportedModifiers } from './search-service.ts';
import { SUBSETTED } from './summary.ts';
import { ids, link, load, observation, patient, rejects, search, setup } from './test-helpers.ts';

const t = await setup();
const db: Database = t.db;

before(async () => {
  await load(t.svc, patient('p1', { name: [{ family: 'Smith, Jr' }] }));
  await load(
    t.svc,
    observation('full', 'Patient/p1', {
      meta: { tag: [{ system: 'urn:t', code: 't' }] },
      text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Pulse 60</div>' },
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
      effectiveDateTime: '2020-01-01',
      valueQuantity: { value: 60, unit: '/min' },
      note: [{ text: 'resting' }],
    }),
    observation('other', 'Patient/p1', { status: 'preliminary' }),
  );
});

const only = async (q: string) => {
  const b = await search(db, 'Observation', `_id=full&${q}`);
  return b.entry![0]!.resource;
};

describe('_summary and _elements (R4 search §3.1.1.8.7, §3.1.1.8.8)', () => {
  test('_summary=true keeps the summary elements and tags the resource SUBSETTED', async () => {
    const r = await only('_summary=true');
    assert.deepEqual(Object.keys(r).sort(), ['code', 'effectiveDateTime', 'id', 'meta', 'resourceType', 'status', 'subject', 'valueQuantity']);
    assert.deepEqual((r.meta as { tag: unknown[] }).tag, [{ system: 'urn:t', code: 't' }, SUBSETTED]);
    assert.equal((r.meta as { versionId: string }).versionId, '1');
  });
  test('_summary=text keeps text, id, meta and the mandatory elements', async () => {
    assert.deepEqual(Object.keys(await only('_summary=text')).sort(), ['code', 'id', 'meta', 'resourceType', 'status', 'text']);
  });
  test('_summary=data removes the text; _summary=false is the whole resource', async () => {
    const data = await only('_summary=data');
    assert.equal(data.text, undefined);
    assert.deepEqual(data.note, [{ text: 'resting' }]);
    const full = await only('_summary=false');
    assert.deepEqual((full.meta as { tag: unknown[] }).tag, [{ system: 'urn:t', code: 't' }]);
    assert.ok(full.text);
  });
  test('_elements keeps the listed elements plus id, meta and mandatory elements; choice types by base name', async () => {
    assert.deepEqual(Object.keys(await only('_elements=subject')).sort(), ['code', 'id', 'meta', 'resourceType', 'status', 'subject']);
    const r = await only('_elements=value,note');
    assert.deepEqual(Object.keys(r).sort(), ['code', 'id', 'meta', 'note', 'resourceType', 'status', 'valueQuantity']);
    assert.deepEqual((r.meta as { tag: unknown[] }).tag.at(-1), SUBSETTED);
  });
  test('included resources are not subsetted', async () => {
    const b = await search(db, 'Observation', '_id=full&_elements=status&_include=Observation:patient');
    assert.deepEqual(b.entry![1]!.resource, { resourceType: 'Patient', id: 'p1', meta: b.entry![1]!.resource.meta, name: [{ family: 'Smith, Jr' }] });
  });
  test('bad values are a 400', async () => {
    await rejects(search(db, 'Observation', '_summary=maybe'), 400, /_summary must be one of true, false, text, data, count; got 'maybe'/);
    await rejects(search(db, 'Observation', '_elements=code.coding'), 400, /Invalid element name 'code.coding' in _elements/);
    await rejects(search(db, 'Observation', '_summary=true&_elements=code'), 400, /_summary and _elements cannot be combined/);
  });
});

describe('strict and lenient handling (R4 search §3.1.1.1, Prefer: handling)', () => {
  test('lenient: unknown parameters are ignored and left out of the self link', async () => {
    const b = await search(db, 'Observation', 'foo=bar&status=final&_contained=true');
    assert.deepEqual(ids(b), ['full']);
    assert.equal(link(b, 'self'), 'http://fk.test/fhir/Observation?status=final');
  });
  test('strict: unknown or unsupported parameters are a 400 naming the parameter', async () => {
    const err = await rejects(search(db, 'Observation', 'foo=bar&status=final', { strict: true }), 400, /Unknown or unsupported search parameter 'foo' for Observation/);
    assert.equal(err.issues[0]!.code, 'not-supported');
    await rejects(search(db, 'Observation', '_contained=true', { strict: true }), 400, /'_contained'/);
    await rejects(search(db, 'Observation', '_text=pulse', { strict: true }), 400, /'_text'/);
    await rejects(search(db, 'Observation', '_type=Patient', { strict: true }), 400, /'_type'/);
    assert.deepEqual(ids(await search(db, 'Observation', 'status=final', { strict: true })), ['full']);
  });
  test('bad values are a 400 under both handlings', async () => {
    for (const strict of [false, true]) {
      await rejects(search(db, 'Observation', 'date=notadate', { strict }), 400, /Invalid date 'notadate' for date/);
      await rejects(search(db, 'Observation', '_count=abc', { strict }), 400, /_count must be a non-negative integer/);
      await rejects(search(db, 'Observation', 'status:foo=final', { strict }), 400, /Unknown modifier ':foo' in 'status:foo'/);
      await rejects(search(db, 'Observation', 'subject:Foo.name=x', { strict }), 400, /Unknown chain target 'Foo'/);
      await rejects(search(db, 'Observation', 'code=a%00b', { strict }), 400, /The search parameter 'code' contains a NUL character/);
    }
  });
  test('_format, _pretty and empty values are ignored', async () => {
    const b = await search(db, 'Observation', '_format=json&_pretty=true&status=&code=8867-4');
    assert.deepEqual(ids(b).sort(), ['full', 'other']);
    assert.equal(link(b, 'self'), 'http://fk.test/fhir/Observation?code=8867-4');
  });
});

describe('the self link lists exactly the applied parameters', () => {
  test('in request order, readable, escapes kept', async () => {
    const q = 'status=final&_sort=-date&_count=10&_include=Observation:patient&subject:Patient.name=smith%5C,%20jr';
    const b = await search(db, 'Observation', q);
    assert.deepEqual(ids(b), ['full']);
    assert.equal(link(b, 'self'), `http://fk.test/fhir/Observation?${q}`);
  });
});

describe('CapabilityStatement support lists', () => {
  test('result parameters and modifiers per type', () => {
    assert.deepEqual(SUPPORTED_SEARCH_RESULT_PARAMS, [
      '_id', '_lastUpdated', '_tag', '_profile', '_security', '_source', '_type', '_has',
      '_sort', '_count', '_total', '_include', '_revinclude', '_summary', '_elements',
    ]);
    assert.deepEqual(supportedModifiers('string'), ['missing', 'exact', 'contains']);
    assert.deepEqual(supportedModifiers('token'), ['missing', 'not', 'text']);
    assert.deepEqual(supportedModifiers('reference'), ['missing', 'identifier', 'type']);
    assert.deepEqual(supportedModifiers('uri'), ['missing', 'below', 'above']);
    assert.deepEqual(supportedModifiers('date'), ['missing']);
  });
});
