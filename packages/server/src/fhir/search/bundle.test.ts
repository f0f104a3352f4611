import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkUrl, searchsetBundle } from './bundle.ts';

const NOW = new Date('2026-12-07T10:00:00.000Z');

test('a searchset Bundle holds the stored texts as they are, each under its fullUrl and search mode', () => {
  const stored = '{"resourceType":"Observation","id":"o-1",  "status" : "final"}';
  const text = searchsetBundle({
    total: 2,
    links: [{ relation: 'self', url: linkUrl('http://fk.test/fhir/Observation', [['patient', 'p-1']]) }],
    entries: [
      { type: 'Observation', id: 'o-1', json: stored, mode: 'match' },
      { type: 'Patient', id: 'p-1', json: '{"resourceType":"Patient","id":"p-1"}', mode: 'include' },
    ],
    fhirBase: 'http://fk.test/fhir',
    now: NOW,
  });
  assert.ok(text.includes(`"resource":${stored}`), 'the stored text is not re-serialised');
  const bundle = JSON.parse(text);
  assert.equal(bundle.resourceType, 'Bundle');
  assert.equal(bundle.type, 'searchset');
  assert.equal(bundle.total, 2);
  assert.equal(bundle.meta.lastUpdated, NOW.toISOString());
  assert.deepEqual(bundle.link, [{ relation: 'self', url: 'http://fk.test/fhir/Observation?patient=p-1' }]);
  assert.deepEqual(bundle.entry.map((e: { fullUrl: string; search: unknown }) => [e.fullUrl, e.search]), [
    ['http://fk.test/fhir/Observation/o-1', { mode: 'match' }],
    ['http://fk.test/fhir/Patient/p-1', { mode: 'include' }],
  ]);
  assert.deepEqual(bundle.entry[0].resource, { resourceType: 'Observation', id: 'o-1', status: 'final' });
});

test('a searchset Bundle escapes its base URL, and leaves out entry and total when it has none', () => {
  const base = 'http://fk.test/"quoted"\\fhir';
  const one = JSON.parse(searchsetBundle({ links: [], entries: [{ type: 'Patient', id: 'p-1', json: '{}', mode: 'match' }], fhirBase: base, now: NOW }));
  assert.equal(one.entry[0].fullUrl, `${base}/Patient/p-1`);
  assert.equal('total' in one, false);
  const none = JSON.parse(searchsetBundle({ total: 0, links: [], entries: [], fhirBase: base, now: NOW }));
  assert.equal(none.total, 0);
  assert.equal('entry' in none, false);
});
