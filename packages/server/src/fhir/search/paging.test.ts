// _sort, _count, _total and keyset paging: every page once, forwards and backwards, while others write.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { SYSTEM_PRINCIPAL } from '../../access/principal.ts';
import type { Database } from '../../store/database.ts';
import { ids, link, load, observation, patient, queryOf, rejects, search, setup, type Bundle } from './test-helpers.ts';

const t = await setup();
const db: Database = t.db;
const person = (id: string, family: string | undefined, birthDate: string | undefined, gender?: string) =>
  patient(id, { ...(family ? { name: [{ family }] } : {}), ...(birthDate ? { birthDate } : {}), ...(gender ? { gender } : {}) });
const day = (i: number) => `2020-01-${String(i + 1).padStart(2, '0')}`;

before(async () => {
  await load(
    t.svc,
    person('s1', 'b', '1990', 'male'),
    person('s2', 'a', '1980', 'female'),
    person('s3', 'b', '2000', 'male'),
    person('s4', 'a', '1985', 'female'),
    person('s5', undefined, '1970'),
    person('s6', 'c', undefined, 'other'),
    person('s7', 'b', '2000', 'unknown'),
  );
  for (let i = 0; i < 20; i++) await load(t.svc, observation(`c${i}`, 'Patient/s1', { effectiveDateTime: day(i) }));
});

/** Follows `relation` links from `first`, returning every page's match ids in display order. */
async function walk(type: string, query: string, relation: 'next' | 'previous' = 'next', between?: (page: number) => Promise<void>): Promise<{ pages: string[][]; bundles: Bundle[] }> {
  const pages: string[][] = [];
  const bundles: Bundle[] = [];
  let q: string | undefined = query;
  while (q !== undefined) {
    const b = await search(db, type, q);
    bundles.push(b);
    pages.push(ids(b));
    assert.ok(pages.length < 50, 'paging does not terminate');
    if (between) await between(pages.length);
    const next = link(b, relation);
    q = next === undefined ? undefined : queryOf(next);
  }
  return { pages, bundles };
}

describe('_sort (R4 search §3.1.1.8.2)', () => {
  test('several keys, descending, missing values last, ties broken by rid', async () => {
    assert.deepEqual(ids(await search(db, 'Patient', '_sort=family,-birthdate')), ['s4', 's2', 's7', 's3', 's1', 's6', 's5']);
    assert.deepEqual(ids(await search(db, 'Patient', '_sort=-family')), ['s6', 's7', 's3', 's1', 's4', 's2', 's5']);
    assert.deepEqual(ids(await search(db, 'Patient', '_sort=birthdate')), ['s5', 's2', 's4', 's1', 's3', 's7', 's6']);
    assert.deepEqual(ids(await search(db, 'Patient', '_sort=gender,_id')), ['s2', 's4', 's1', 's3', 's6', 's7', 's5']);
  });
  test('_id and _lastUpdated', async () => {
    assert.deepEqual(ids(await search(db, 'Patient', '_sort=-_id')), ['s7', 's6', 's5', 's4', 's3', 's2', 's1']);
    assert.deepEqual(ids(await search(db, 'Patient', '_sort=-_lastUpdated')), ['s7', 's6', 's5', 's4', 's3', 's2', 's1']);
    assert.deepEqual(ids(await search(db, 'Patient', '_sort=_lastUpdated&gender=male,female')), ['s1', 's2', 's3', 's4']);
  });
  test('the default order is write order (rid)', async () => {
    assert.deepEqual(ids(await search(db, 'Patient', '')), ['s1', 's2', 's3', 's4', 's5', 's6', 's7']);
  });
  test('bad keys are a 400', async () => {
    await rejects(search(db, 'Patient', '_sort=nope'), 400, /Unknown _sort parameter 'nope' for Patient/);
    await rejects(search(db, 'Patient', '_sort=family,,_id'), 400, /Empty key in _sort/);
    await rejects(search(db, 'Patient', '_sort=family&_sort=_id'), 400, /_sort may be given only once/);
  });
});

describe('keyset paging (R4 http.html#paging)', () => {
  const orders: [string, string[]][] = [
    ['_sort=family,-birthdate', ['s4', 's2', 's7', 's3', 's1', 's6', 's5']],
    ['_sort=-family', ['s6', 's7', 's3', 's1', 's4', 's2', 's5']],
    ['_sort=birthdate', ['s5', 's2', 's4', 's1', 's3', 's7', 's6']],
    ['', ['s1', 's2', 's3', 's4', 's5', 's6', 's7']],
  ];
  for (const [sort, expected] of orders) {
    test(`next links visit every row once (${sort || 'default order'}), previous links walk back`, async () => {
      const forward = await walk('Patient', `${sort}&_count=2`);
      assert.deepEqual(forward.pages, [expected.slice(0, 2), expected.slice(2, 4), expected.slice(4, 6), expected.slice(6)]);
      assert.equal(link(forward.bundles[0]!, 'previous'), undefined);
      assert.equal(link(forward.bundles.at(-1)!, 'next'), undefined);
      const lastSelf = queryOf(link(forward.bundles.at(-1)!, 'self')!);
      assert.match(lastSelf, /_cursor=/);
      const backward = await walk('Patient', lastSelf, 'previous');
      assert.deepEqual(backward.pages, [expected.slice(6), expected.slice(4, 6), expected.slice(2, 4), expected.slice(0, 2)]);
    });
  }

  test('inserts between pages neither repeat nor skip pre-existing rows (benchmark query shape)', async () => {
    const before = [...Array(20).keys()].reverse().map((i) => `c${i}`);
    let n = 0;
    const insert = async (date: string) =>
      load(t.svc, observation(`new${n++}`, 'Patient/s1', { effectiveDateTime: date, code: { coding: [{ system: 'urn:test', code: 'inserted' }] } }));
    const { pages } = await walk('Observation', 'patient=s1&_sort=-date&_count=5', 'next', async (page) => {
      await insert('2030-01-01'); // sorts before everything: behind the cursor
      if (page < 4) {
        await insert(day(19 - page * 5)); // the same date as the next page's first row
        await insert(day(20 - page * 5)); // the same date as this page's last row (the cursor)
      }
      await insert('2019-01-01'); // sorts after everything: ahead of the cursor
    });
    const seen = pages.flat();
    assert.equal(new Set(seen).size, seen.length, `duplicates in ${seen.join(',')}`);
    assert.deepEqual(
      seen.filter((id) => id.startsWith('c')),
      before,
    );
  });

  test('deleting the row a cursor points at does not disturb the next page', async () => {
    const first = await search(db, 'Patient', '_sort=birthdate&_count=3');
    assert.deepEqual(ids(first), ['s5', 's2', 's4']);
    await t.svc.delete(SYSTEM_PRINCIPAL, 'Patient', 's4');
    try {
      assert.deepEqual(ids(await search(db, 'Patient', queryOf(link(first, 'next')!))), ['s1', 's3', 's7']);
    } finally {
      await load(t.svc, person('s4', 'a', '1985', 'female'));
    }
  });

  test('bad cursors are a 400', async () => {
    await rejects(search(db, 'Patient', '_cursor=garbage'), 400, /Invalid _cursor/);
    const next = queryOf(link(await search(db, 'Patient', '_sort=family&_count=2'), 'next')!);
    const cursor = new URLSearchParams(next).get('_cursor')!;
    await rejects(search(db, 'Patient', `_sort=birthdate&_cursor=${cursor}`), 400, /Invalid _cursor/);
    const forged = Buffer.from(JSON.stringify({ v: ['a', "1; DROP TABLE resources"], s: 'family' })).toString('base64url');
    await rejects(search(db, 'Patient', `_sort=family&_cursor=${forged}`), 400, /Invalid _cursor/);
  });
});

describe('_count and _total (R4 search §3.1.1.8.4, §3.1.1.8.5)', () => {
  const q = 'patient=s1&code=http://loinc.org|8867-4';
  test('default: total only when the first page holds every match', async () => {
    assert.equal((await search(db, 'Observation', `${q}&_count=5`)).total, undefined);
    assert.equal((await search(db, 'Observation', `${q}&_count=100`)).total, 20);
    assert.equal((await search(db, 'Observation', `${q}`)).entry?.length, 20);
  });
  test('_total=accurate counts on every page; none never does; estimate asks the planner', async () => {
    const first = await search(db, 'Observation', `${q}&_count=5&_total=accurate`);
    assert.equal(first.total, 20);
    assert.equal((await search(db, 'Observation', queryOf(link(first, 'next')!))).total, 20);
    assert.equal((await search(db, 'Observation', `${q}&_count=100&_total=none`)).total, undefined);
    assert.equal((await search(db, 'Observation', `${q}&_count=100&_total=estimate`)).total, 20);
    assert.equal(typeof (await search(db, 'Observation', `${q}&_count=5&_total=estimate`)).total, 'number');
  });
  test('_count=0 and _summary=count return the total only', async () => {
    for (const extra of ['_count=0', '_summary=count']) {
      const b = await search(db, 'Observation', `${q}&${extra}`);
      assert.equal(b.total, 20);
      assert.equal(b.entry, undefined);
      assert.deepEqual(b.link.map((l) => l.relation), ['self']);
    }
  });
  test('_count is capped at 1000 and must be a number', async () => {
    assert.equal(link(await search(db, 'Patient', '_count=5000'), 'self'), 'http://fk.test/fhir/Patient?_count=1000');
    await rejects(search(db, 'Patient', '_count=abc'), 400, /_count must be a non-negative integer, got 'abc'/);
    await rejects(search(db, 'Patient', '_count=-1'), 400, /_count must be a non-negative integer/);
    await rejects(search(db, 'Patient', '_total=maybe'), 400, /_total must be one of none, estimate, accurate; got 'maybe'/);
  });
});

describe('cursor values', () => {
  test('date keys travel as UTC ISO instants; forged or impossible values are a 400', async () => {
    const first = await search(db, 'Observation', 'patient=s1&code=http://loinc.org|8867-4&_sort=-date&_count=2');
    const cursor = new URLSearchParams(queryOf(link(first, 'next')!)).get('_cursor')!;
    const json = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as { v: string[] };
    assert.equal(json.v[0], '2020-01-20T00:00:00.000000Z'); // c18 is dated 2020-01-19: its range ends at 2020-01-20
    const forge = (v: string) => Buffer.from(JSON.stringify({ ...json, v: [v, json.v[1]] })).toString('base64url');
    await rejects(search(db, 'Observation', `patient=s1&_sort=-date&_count=2&_cursor=${forge('2019-02-30T00:00:00.000000Z')}`), 400, /Invalid _cursor/);
    await rejects(search(db, 'Observation', `patient=s1&_sort=-date&_count=2&_cursor=${forge('tomorrow')}`), 400, /Invalid _cursor/);
  });
});
