// Row keys (migration 018, row-keys.ts): a search bounded to one patient tests token equality and reads date sort keys
// on the resource's own row; every answer must be the one the index tables give.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { SYSTEM_PRINCIPAL } from '../../access/principal.ts';
import { parseSearchRequest } from './search-request.ts';
import { Aliases, raw } from './sql.ts';
import { whereSql } from './where.ts';
import { orderKeys } from './sort.ts';
import { found, ids, load, observation, patient, search, setup } from './test-helpers.ts';

const t = await setup();
const LOINC = 'http://loinc.org';
const CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const category = (code: string) => ({ category: [{ coding: [{ system: CATEGORY, code }] }] });
const code = (...coding: { system?: string; code: string }[]) => ({ code: { coding } });
const goal = (id: string, dueDates: string[]) => ({
  resourceType: 'Goal', id, lifecycleStatus: 'active', description: { text: id }, subject: { reference: 'Patient/a' }, target: dueDates.map((dueDate) => ({ dueDate })),
});

before(async () => {
  await load(
    t.svc,
    patient('a'),
    patient('b'),
    observation('o1', 'Patient/a', { ...category('vital-signs'), ...code({ system: LOINC, code: '8867-4' }), effectiveDateTime: '2020-01-05' }),
    observation('o2', 'Patient/a', {
      ...category('laboratory'), ...code({ system: LOINC, code: '1234-5' }, { code: 'x1' }),
      effectivePeriod: { start: '2020-01-01', end: '2020-03-01' },
    }),
    observation('o3', 'Patient/a', { ...category('vital-signs'), ...code({ system: 'http://other.example', code: '8867-4' }), effectiveDateTime: '2020-02-01' }),
    observation('o4', 'Patient/a', { ...code({ system: LOINC, code: '0000-0' }) }),
    observation('o5', 'Patient/a', { ...category('vital-signs'), ...code({ system: LOINC, code: 'a|b' }), effectiveDateTime: '2019-06-01' }),
    observation('o6', 'Patient/b', { ...category('vital-signs'), ...code({ system: LOINC, code: '8867-4' }), effectiveDateTime: '2020-01-02' }),
    observation('o8', 'Patient/b', { effectivePeriod: { start: '2020-01-03' } }), // still going: its end is +infinity
    // Goals: target-date has a value per target, so a Goal can have several date rows for one parameter.
    goal('g1', ['2020-01-10', '2020-12-10']),
    goal('g2', ['2020-06-01']),
    {
      resourceType: 'Encounter', id: 'e1', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      subject: { reference: 'Patient/a' }, period: { start: '2020-04-01', end: '2020-04-02' },
    },
  );
});

/** The WHERE and ORDER BY a search compiles to (`type` undefined: a system search). */
function compiled(type: string | undefined, query: string): string {
  const parsed = parseSearchRequest(type, new URLSearchParams(query), { strict: true, fhirBase: 'http://fk.test/fhir', now: new Date() });
  const aliases = new Aliases();
  const where = whereSql(parsed.conditions, raw('r'), { aliases, principal: SYSTEM_PRINCIPAL }).render().text;
  const order = orderKeys(parsed.sort, raw('r'), aliases).joins.map((j) => j.render().text).join(' ');
  return `${where} ${order}`;
}

describe('token equality on the row, once one patient bounds the candidates', () => {
  test('the row keys are used only when a condition bounds the candidates, and never for AuditEvent keys', () => {
    assert.match(compiled('Observation', 'patient=a&category=vital-signs'), /token_keys &&/);
    assert.match(compiled('Observation', '_id=o1&code=8867-4'), /token_keys &&/);
    assert.doesNotMatch(compiled('Observation', 'category=vital-signs'), /token_keys/);
    assert.doesNotMatch(compiled('Observation', 'performer=Practitioner/p&category=vital-signs'), /token_keys/);
    assert.doesNotMatch(compiled('Observation', 'patient=a&code=http://loinc.org|'), /token_keys/); // any code of a system
    assert.doesNotMatch(compiled('AuditEvent', 'patient=a&action=R&agent:identifier=urn:firekeeper:client-id|app'), /token_keys/);
  });

  const cases: [string, string[]][] = [
    ['category=vital-signs', ['o1', 'o3', 'o5']],
    [`category=${CATEGORY}|vital-signs`, ['o1', 'o3', 'o5']],
    ['category=http://wrong.example|vital-signs', []],
    ['category=laboratory,vital-signs', ['o1', 'o2', 'o3', 'o5']],
    ['code=8867-4', ['o1', 'o3']],
    [`code=${LOINC}|8867-4`, ['o1']],
    ['code=|x1', ['o2']], // a coding without a system
    ['code=|1234-5', []],
    [`code=${LOINC}|`, ['o1', 'o2', 'o4', 'o5']], // the index tables answer this one
    ['code=a\\|b', ['o5']], // a code holding `|`, escaped in the search
    ['code=a|b', []], // system a, code b
    ['code:not=8867-4', ['o2', 'o4', 'o5']],
    ['code:not=8867-4&category=vital-signs', ['o5']],
  ];
  for (const [query, expected] of cases) {
    test(`patient=a&${query}`, async () => {
      assert.deepEqual(await found(t.db, 'Observation', `patient=a&${query}`), expected);
      // The same condition without the bound (index tables), narrowed to patient a afterwards, agrees.
      const unbounded = await found(t.db, 'Observation', query);
      assert.deepEqual(unbounded.filter((id) => id !== 'o6' && id !== 'o8'), expected);
    });
  }

  test('an update replaces the row keys, a delete clears them', async () => {
    await load(t.svc, observation('o7', 'Patient/a', { ...category('vital-signs'), effectiveDateTime: '2021-01-01' }));
    assert.ok((await found(t.db, 'Observation', 'patient=a&category=vital-signs')).includes('o7'));
    await load(t.svc, observation('o7', 'Patient/a', { ...category('laboratory'), effectiveDateTime: '2021-01-01' }));
    assert.deepEqual(await found(t.db, 'Observation', 'patient=a&category=vital-signs'), ['o1', 'o3', 'o5']);
    assert.ok((await found(t.db, 'Observation', 'patient=a&category=laboratory')).includes('o7'));
    await t.svc.delete(SYSTEM_PRINCIPAL, 'Observation', 'o7');
    const [row] = await t.db.query<{ token_keys: string[]; date_keys: unknown }>(`SELECT token_keys, date_keys FROM resources WHERE type = 'Observation' AND id = 'o7'`);
    assert.deepEqual(row, { token_keys: [], date_keys: null });
  });
});

describe('date sort keys from the row', () => {
  test('ascending by the earliest start, descending by the latest end, missing values last', async () => {
    assert.match(compiled('Observation', 'patient=a&_sort=-date'), /date_keys ->/);
    assert.deepEqual(ids(await search(t.db, 'Observation', 'patient=a&_sort=date')), ['o5', 'o2', 'o1', 'o3', 'o4']);
    // o2's period ends on 2020-03-01, after o3's 2020-02-01.
    assert.deepEqual(ids(await search(t.db, 'Observation', 'patient=a&_sort=-date')), ['o2', 'o3', 'o1', 'o5', 'o4']);
    assert.deepEqual(ids(await search(t.db, 'Observation', 'patient=a&category=vital-signs&_sort=-date&_count=2')), ['o3', 'o1']);
  });

  test('an open-ended period sorts last ascending by its start and first descending, and pages across', async () => {
    assert.deepEqual(ids(await search(t.db, 'Observation', 'patient=b&_sort=date')), ['o6', 'o8']);
    const first = await search(t.db, 'Observation', 'patient=b&_sort=-date&_count=1');
    assert.deepEqual(ids(first), ['o8']);
    const next = first.link.find((l) => l.relation === 'next')!.url;
    assert.deepEqual(ids(await search(t.db, 'Observation', next.slice(next.indexOf('?') + 1))), ['o6']);
  });

  test('several values of one parameter: the earliest for ascending, the latest for descending', async () => {
    assert.deepEqual(ids(await search(t.db, 'Goal', 'patient=a&_sort=target-date')), ['g1', 'g2']);
    assert.deepEqual(ids(await search(t.db, 'Goal', 'patient=a&_sort=-target-date')), ['g1', 'g2']);
    assert.deepEqual(ids(await search(t.db, 'Goal', '_sort=-target-date,_id')), ['g1', 'g2']);
  });

  test('a search over several types: each type has its own keys, for tokens and for the sort', async () => {
    const query = '_type=Observation,Encounter&patient=a&_sort=-date';
    assert.match(compiled(undefined, `${query}&status=finished`), /token_keys && .*greatest\(/s);
    assert.deepEqual(ids(await search(t.db, undefined, query)), ['e1', 'o2', 'o3', 'o1', 'o5', 'o4']);
    assert.deepEqual(ids(await search(t.db, undefined, query.replace('-date', 'date'))), ['o5', 'o2', 'o1', 'o3', 'e1', 'o4']);
    assert.deepEqual(ids(await search(t.db, undefined, `${query}&status=finished`)), ['e1']);
    assert.deepEqual(ids(await search(t.db, undefined, `${query}&status:not=finished`)), ['o2', 'o3', 'o1', 'o5', 'o4']);
  });

  test('an AuditEvent has no row keys: its date sorts by last_updated, its recorded time (audit-keys.ts)', () => {
    // No join computes a sort key (sort.ts orders by the row's last_updated: audit-keys.test.ts).
    assert.equal(compiled('AuditEvent', 'patient=a&_sort=-date'), 'r.compartments @> ARRAY[$1]::text[] ');
  });
});

test('the migration fills the row keys of rows written before it exactly as a write does', async () => {
  type Keys = { id: string; token_keys: string[]; date_keys: unknown };
  const read = () => t.db.query<Keys>(`SELECT id, token_keys, date_keys::text AS date_keys FROM resources WHERE type IN ('Observation', 'Patient', 'Goal', 'Encounter') ORDER BY id`);
  const written = await read();
  assert.ok(written.some((r) => r.token_keys.length > 0) && written.some((r) => r.date_keys !== null));
  const migration = readFileSync(new URL('../../store/migrations/018_row_keys.sql', import.meta.url), 'utf8');
  const backfill = migration.slice(migration.indexOf('UPDATE resources')).replace(/;\s*$/, '');
  await t.db.query(`UPDATE resources SET token_keys = '{}', date_keys = NULL`);
  await t.db.query(backfill);
  const sorted = (rows: Keys[]) => rows.map((r) => ({ ...r, token_keys: [...r.token_keys].sort() }));
  assert.deepEqual(sorted(await read()), sorted(written));
});
