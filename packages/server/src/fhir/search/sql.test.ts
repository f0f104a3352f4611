import { test } from 'node:test';
import assert from 'node:assert/strict';
import { and, bind, FALSE, inKeys, join, not, or, raw, sql, TRUE } from './sql.ts';

test('values are bound, never spliced, and numbered in order through nested fragments', () => {
  const inner = sql`s.p = ${'Observation.code'} AND s.code = ${"x'; DROP TABLE resources; --"}`;
  const where = sql`r.type = ${'Observation'} AND EXISTS (SELECT 1 FROM sp_token s WHERE ${inner}) AND r.rid > ${7}`;
  assert.deepEqual(where.render(), {
    text: 'r.type = $1 AND EXISTS (SELECT 1 FROM sp_token s WHERE s.p = $2 AND s.code = $3) AND r.rid > $4',
    params: ['Observation', 'Observation.code', "x'; DROP TABLE resources; --", 7],
  });
});

test('a fragment used twice binds its values twice, and rendering twice gives the same statement', () => {
  const key = sql`k = ${'a'}`;
  const both = sql`${key} OR ${key}`;
  assert.deepEqual(both.render(), { text: 'k = $1 OR k = $2', params: ['a', 'a'] });
  assert.deepEqual(both.render(), both.render());
});

test('render(first) numbers from there (a statement placed after others)', () => {
  assert.deepEqual(sql`a = ${1} AND b = ${2}`.render(5), { text: 'a = $5 AND b = $6', params: [1, 2] });
});

test('raw, bind and join', () => {
  assert.deepEqual(sql`SELECT ${raw('r.id')} FROM resources ${raw('r')}`.render(), { text: 'SELECT r.id FROM resources r', params: [] });
  assert.deepEqual(sql`x = ${bind(3)}`.render(), { text: 'x = $1', params: [3] });
  assert.deepEqual(join([sql`a = ${1}`, raw('b'), sql`c = ${3}`], ', ').render(), { text: 'a = $1, b, c = $2', params: [1, 3] });
  assert.deepEqual(join([], ', ').render(), { text: '', params: [] });
  assert.deepEqual(join([sql`a = ${1}`], ', ').render(), { text: 'a = $1', params: [1] });
});

test('and / or / not drop and absorb TRUE and FALSE, also when wrapped', () => {
  const a = sql`a = ${1}`;
  const b = sql`b = ${2}`;
  assert.deepEqual(and(a, TRUE, b).render(), { text: '(a = $1 AND b = $2)', params: [1, 2] });
  assert.equal(and(a, sql`${FALSE}`), FALSE);
  assert.equal(and(TRUE, sql`TRUE`), TRUE);
  assert.equal(and(a, TRUE), a);
  assert.deepEqual(or(a, FALSE, b).render(), { text: '(a = $1 OR b = $2)', params: [1, 2] });
  assert.equal(or(a, sql`${sql`${TRUE}`}`), TRUE);
  assert.equal(or(), FALSE);
  assert.equal(not(TRUE), FALSE);
  assert.equal(not(FALSE), TRUE);
  assert.deepEqual(not(a).render(), { text: 'NOT a = $1', params: [1] });
  // Text that only looks like TRUE once rendered is not taken for it.
  assert.deepEqual(and(a, sql`(${TRUE})`).render(), { text: '(a = $1 AND (TRUE))', params: [1] });
  assert.deepEqual(and(a, sql`${'TRUE'}`).render(), { text: '(a = $1 AND $2)', params: [1, 'TRUE'] }, 'a bound value is never a keyword');
});

test('inKeys: one key by equality, several as one array parameter', () => {
  assert.deepEqual(inKeys(raw('c.key'), ['k1']).render(), { text: 'c.key = $1', params: ['k1'] });
  assert.deepEqual(inKeys(raw('c.key'), ['k1', 'k2']).render(), { text: 'c.key = ANY($1::text[])', params: [['k1', 'k2']] });
});
