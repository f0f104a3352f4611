// Date parameters and `_lastUpdated`: every R4 prefix against stored ranges of every precision (R4 search §3.1.1.4).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Database } from '../../store/database.ts';
import { ResourceService } from '../resource-service.ts';
import { parseDateValue } from './param-date.ts';
import { found, ids, load, observation, rejects, search, setup } from './test-helpers.ts';

const t = await setup();
const db: Database = t.db;
const obs = (id: string, effective: Record<string, unknown>) => observation(id, undefined, effective);

before(async () => {
  await load(
    t.svc,
    obs('d1', { effectiveDateTime: '2019' }), //                 [2019-01-01, 2020-01-01)
    obs('d2', { effectiveDateTime: '2019-05' }), //              [2019-05-01, 2019-06-01)
    obs('d3', { effectiveDateTime: '2019-05-06' }), //           [2019-05-06, 2019-05-07)
    obs('d4', { effectiveDateTime: '2019-05-06T10:00:00Z' }), // one second
    obs('d5', { effectivePeriod: { start: '2019-05-01', end: '2019-05-31' } }), // [2019-05-01, 2019-06-01)
    obs('d6', { effectivePeriod: { start: '2019-06-01' } }), //   [2019-06-01, infinity)
    obs('d7', { effectiveDateTime: '2020-02-29T23:30:00+02:00' }), // 2020-02-29T21:30:00Z, one second
    obs('d8', {}),
  );
  // _lastUpdated: Organizations written at chosen instants.
  const times = ['2021-03-04T05:06:07.000Z', '2021-03-05T00:00:00.000Z', '2022-01-01T00:00:00.000Z'];
  const clocked = new ResourceService(db, { clock: () => new Date(times.shift()!) });
  await load(clocked, ...['l1', 'l2', 'l3'].map((id) => ({ resourceType: 'Organization', id })));
});

const all = (q: string) => found(db, 'Observation', q);

describe('date prefixes on ranges of every precision (R4 search §3.1.1.4)', () => {
  test('eq (default): the search range fully contains the stored range', async () => {
    assert.deepEqual(await all('date=2019'), ['d1', 'd2', 'd3', 'd4', 'd5']);
    assert.deepEqual(await all('date=eq2019-05'), ['d2', 'd3', 'd4', 'd5']);
    assert.deepEqual(await all('date=2019-05-06'), ['d3', 'd4']);
    assert.deepEqual(await all('date=2019-05-06T10:00'), ['d4']);
    assert.deepEqual(await all('date=2019-05-06T10:00:00Z'), ['d4']);
    assert.deepEqual(await all('date=2019-05-06T10:00:01Z'), []);
  });
  test('time zones are honoured', async () => {
    assert.deepEqual(await all(`date=${encodeURIComponent('2020-02-29T23:30+02:00')}`), ['d7']);
    assert.deepEqual(await all('date=2020-02-29T21:30Z'), ['d7']);
    assert.deepEqual(await all('date=2020-03-01'), []);
  });
  test('ne: the search range does not fully contain the stored range', async () => {
    assert.deepEqual(await all('date=ne2019-05'), ['d1', 'd6', 'd7']);
  });
  test('gt: the range above the search value overlaps the stored range', async () => {
    assert.deepEqual(await all('date=gt2019-05'), ['d1', 'd6', 'd7']);
    assert.deepEqual(await all('date=gt2019-05-06T09:59'), ['d1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7']);
  });
  test('lt: the range below the search value overlaps the stored range', async () => {
    assert.deepEqual(await all('date=lt2019-05'), ['d1']);
    assert.deepEqual(await all('date=lt2019-05-06T10:00:01Z'), ['d1', 'd2', 'd3', 'd4', 'd5']);
  });
  test('ge and le: gt or eq, lt or eq', async () => {
    assert.deepEqual(await all('date=ge2019-05'), ['d1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7']);
    assert.deepEqual(await all('date=ge2020-02-29T21:30:00Z'), ['d6', 'd7']);
    assert.deepEqual(await all('date=le2019-05'), ['d1', 'd2', 'd3', 'd4', 'd5']);
    // d1 (all of 2019) starts with January 2019 and extends past it: neither below nor contained.
    assert.deepEqual(await all('date=le2019-01'), []);
    assert.deepEqual(await all('date=le2019-12'), ['d1', 'd2', 'd3', 'd4', 'd5', 'd6']);
  });
  test('sa: starts after the search range; eb: ends before it', async () => {
    assert.deepEqual(await all('date=sa2019-05'), ['d6', 'd7']);
    assert.deepEqual(await all('date=eb2019-06'), ['d2', 'd3', 'd4', 'd5']);
    assert.deepEqual(await all('date=eb2019-05-06'), []);
  });
  test('ap: overlaps the value widened by 10% of its distance from now', async () => {
    const ap = async (now: string) => ids(await search(db, 'Observation', 'date=ap2019-05-06', { now: new Date(now) })).sort();
    // 5 years away: ±0.5 year.
    assert.deepEqual(await ap('2024-05-06T00:00:00Z'), ['d1', 'd2', 'd3', 'd4', 'd5', 'd6']);
    // 10 years away: ±1 year reaches d7 (2020-02-29).
    assert.deepEqual(await ap('2029-05-06T00:00:00Z'), ['d1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7']);
    // 3654 days from 2019-05-06 to 2029-05-07: widened by 365.4 days each side.
    const v = parseDateValue('ap2019-05-06', 'date', new Date('2029-05-07T00:00:00Z'));
    assert.deepEqual(v, { prefix: 'ap', lo: '2018-05-05T14:24:00.000Z', hi: '2020-05-06T09:36:00.000Z' });
    // Near now: at least one day each side.
    assert.deepEqual(parseDateValue('ap2030-01-01', 'date', new Date('2030-01-01T12:00:00Z')), { prefix: 'ap', lo: '2029-12-31T00:00:00.000Z', hi: '2030-01-03T00:00:00.000Z' });
  });
  test('comma is OR, repetition is AND (a range search)', async () => {
    assert.deepEqual(await all('date=2019-05-06,sa2019-05'), ['d3', 'd4', 'd6', 'd7']);
    assert.deepEqual(await all('date=ge2019-05&date=lt2019-06'), ['d1', 'd2', 'd3', 'd4', 'd5']);
    // Ranges overlapping both ends count too: d1, d2 and d5 extend beyond [2019-05-02, 2019-05-31].
    assert.deepEqual(await all('date=ge2019-05-02&date=le2019-05-31'), ['d1', 'd2', 'd3', 'd4', 'd5']);
    assert.deepEqual(await all('date=ge2019-05-06&date=le2019-05-06'), ['d1', 'd2', 'd3', 'd4', 'd5']);
    assert.deepEqual(await all('date=sa2019-04-30&date=eb2019-05-07'), ['d3', 'd4']);
  });
  test(':missing', async () => {
    assert.deepEqual(await all('date:missing=true'), ['d8']);
    assert.deepEqual((await all('date:missing=false')).length, 7);
  });
  test('bad dates and prefixes are a 400 naming the parameter', async () => {
    await rejects(search(db, 'Observation', 'date=notadate'), 400, /Invalid date 'notadate' for date/);
    await rejects(search(db, 'Observation', 'date=xx2019'), 400, /Invalid date 'xx2019' for date/);
    await rejects(search(db, 'Observation', 'date=2019-13'), 400, /Invalid date '2019-13'/);
    await rejects(search(db, 'Observation', 'date=2019-02-30'), 400, /Invalid date/);
    await rejects(search(db, 'Observation', 'date:exact=2019'), 400, /The :exact modifier is not supported on date/);
  });
});

describe('_lastUpdated (R4 search §3.1.1.1): date prefixes against the instant', () => {
  const org = (q: string) => found(db, 'Organization', q);
  test('eq, ne and partial precision', async () => {
    assert.deepEqual(await org('_lastUpdated=2021-03-04'), ['l1']);
    assert.deepEqual(await org('_lastUpdated=2021'), ['l1', 'l2']);
    assert.deepEqual(await org('_lastUpdated=ne2021'), ['l3']);
    assert.deepEqual(await org('_lastUpdated=2021-03-04T05:06:07Z'), ['l1']);
  });
  test('gt, ge, lt, le, sa, eb', async () => {
    assert.deepEqual(await org('_lastUpdated=gt2021-03-04'), ['l2', 'l3']);
    assert.deepEqual(await org('_lastUpdated=ge2021-03-05'), ['l2', 'l3']);
    assert.deepEqual(await org('_lastUpdated=lt2021-03-05T00:00:00Z'), ['l1']);
    assert.deepEqual(await org('_lastUpdated=le2021-03-05T00:00:00Z'), ['l1', 'l2']);
    assert.deepEqual(await org('_lastUpdated=sa2021-03-05'), ['l3']);
    assert.deepEqual(await org('_lastUpdated=eb2021-03-05'), ['l1']);
    assert.deepEqual(await org('_lastUpdated=gt2021-03-04&_lastUpdated=lt2022'), ['l2']);
  });
  test('bad values are a 400', async () => {
    await rejects(search(db, 'Organization', '_lastUpdated=yesterday'), 400, /Invalid date 'yesterday' for _lastUpdated/);
  });
});
