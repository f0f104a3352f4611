// Reads issued in the same turn with the same statement text go to the database as one statement, and each caller
// gets exactly its own rows, in its own order, or its own error; reads in a transaction, of other texts or in later
// turns are not combined with them.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Database, Queryable } from './database.ts';
import { batchedRead } from './statement-batcher.ts';
import { readCurrent, writeVersion } from './repository.ts';
import { sql } from '../fhir/search/sql.ts';
import { testDatabase } from '../test-support/database.ts';

let db: Database;

before(async () => {
  db = await testDatabase();
  for (const [id, patient] of [['sb-1', 'Patient/sb-a'], ['sb-2', 'Patient/sb-b']] as const) {
    const json = JSON.stringify({ resourceType: 'Observation', id, status: 'final', code: { text: 'x' }, subject: { reference: patient } });
    const index = { token: [], string: [], reference: [], date: [], number: [], quantity: [], uri: [], compartments: [patient] };
    assert.ok(await writeVersion(db, { type: 'Observation', id, version: 1, lastUpdated: '2026-01-01T00:00:00.000Z', method: 'PUT', json, index, replaces: false }));
  }
});

/** The database, with the statements sent to it recorded. */
function counting(): { db: Database; sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    db: {
      engine: db.engine,
      query: (text, params) => {
        sent.push(text);
        return db.query(text, params);
      },
      transaction: (fn) => db.transaction(fn),
      close: () => db.close(),
    } as Database,
  };
}

const countdown = (from: number) => sql`SELECT n FROM generate_series(${from}::int, 1, -1) AS n ORDER BY n DESC`;

describe('batchedRead', () => {
  it('sends the reads of one turn with the same text as one statement; each caller gets its own rows, in order', async () => {
    const c = counting();
    const results = await Promise.all([3, 1, 2, 0].map((n) => batchedRead<{ n: number }>(c.db, countdown(n))));
    assert.equal(c.sent.length, 1);
    assert.match(c.sent[0]!, /UNION ALL/);
    assert.deepEqual(results, [[{ n: 3 }, { n: 2 }, { n: 1 }], [{ n: 1 }], [{ n: 2 }, { n: 1 }], []]);
  });

  it('keeps apart statements of other texts, and reads of later turns', async () => {
    const c = counting();
    const [a, b] = await Promise.all([batchedRead(c.db, countdown(1)), batchedRead(c.db, sql`SELECT ${'x'}::text AS s`)]);
    assert.deepEqual([a, b], [[{ n: 1 }], [{ s: 'x' }]]);
    assert.equal(c.sent.length, 2);
    assert.ok(c.sent.every((text) => !text.includes('UNION ALL')));
    assert.deepEqual(await batchedRead(c.db, countdown(2)), [{ n: 2 }, { n: 1 }]);
    assert.equal(c.sent.length, 3);
  });

  it('runs each statement alone when their combination fails, so that only the failing caller sees an error', async () => {
    const c = counting();
    const settled = await Promise.allSettled(['7', 'not a number', '9'].map((v) => batchedRead<{ n: number }>(c.db, sql`SELECT ${v}::int AS n`)));
    assert.deepEqual(settled[0], { status: 'fulfilled', value: [{ n: 7 }] });
    assert.equal(settled[1]!.status, 'rejected');
    assert.match(String((settled[1] as PromiseRejectedResult).reason), /invalid input syntax for type integer/);
    assert.deepEqual(settled[2], { status: 'fulfilled', value: [{ n: 9 }] });
    assert.equal(c.sent.length, 4, 'the combined statement, then each alone');
  });

  it('sends at most 16 statements in one', async () => {
    const c = counting();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => batchedRead<{ n: number }>(c.db, sql`SELECT ${i}::int AS n`)));
    assert.deepEqual(results, Array.from({ length: 20 }, (_, i) => [{ n: i }]));
    assert.equal(c.sent.length, 2);
  });

  it('runs statements inside a transaction at once, each on its own', async () => {
    const sent: string[] = [];
    const rows = await db.transaction(async (tx) => {
      const recording: Queryable = { query: (text, params) => (sent.push(text), tx.query(text, params)) };
      return Promise.all([batchedRead(recording, countdown(1)), batchedRead(recording, countdown(2))]);
    });
    assert.deepEqual(rows, [[{ n: 1 }], [{ n: 2 }, { n: 1 }]]);
    assert.equal(sent.length, 2);
  });

  it('judges each read of a resource by its own access filter', async () => {
    const c = counting();
    const visibleTo = (patient: string) => sql`${patient} = ANY(r.compartments)`;
    const reads = await Promise.all([
      readCurrent(c.db, 'Observation', 'sb-1', visibleTo('Patient/sb-a')),
      readCurrent(c.db, 'Observation', 'sb-1', visibleTo('Patient/sb-b')),
      readCurrent(c.db, 'Observation', 'sb-2', visibleTo('Patient/sb-b')),
      readCurrent(c.db, 'Observation', 'sb-missing', visibleTo('Patient/sb-a')),
    ]);
    assert.equal(c.sent.length, 1);
    assert.deepEqual(reads.map((r) => r && [r.id, r.visible]), [['sb-1', true], ['sb-1', false], ['sb-2', true], undefined]);
    assert.equal(JSON.parse(reads[2]!.json!).subject.reference, 'Patient/sb-b');
    assert.ok(reads.every((r) => r === undefined || !('batch_item' in r)));
  });
});
