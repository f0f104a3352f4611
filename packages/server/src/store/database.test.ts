// The embedded database's folder belongs to one process at a time: a second opener is refused with a clear error
// (two PGlite processes on one folder would corrupt it, and neither would see the other's writes); closing releases
// it; a lock left by a process that was killed is taken over. A PostgreSQL pool opens no more connections than its size.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseInUseError, DEFAULT_POOL_SIZE, openDatabase } from './database.ts';
import { randomBytes } from 'node:crypto';
import { TEST_DATABASE_URL, TEST_ENGINE } from '../test-support/database.ts';

describe('the embedded database folder lock', () => {
  it('refuses a second opener while the first has it open, and lets one in after close', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'fk-lock-'));
    const first = await openDatabase({ url: folder });
    try {
      await assert.rejects(openDatabase({ url: folder }), (err: unknown) =>
        err instanceof DatabaseInUseError && err.pid === process.pid && /in use by process \d+ .*stop that process first/.test(err.message));
      assert.deepEqual(await first.query<{ n: number }>('SELECT 1 AS n'), [{ n: 1 }], 'the first is unaffected');
    } finally {
      await first.close();
    }
    assert.equal(existsSync(join(folder, 'firekeeper.lock')), false, 'released on close');
    const again = await openDatabase({ url: folder });
    await again.close();
  });

  it('takes over a lock whose process is gone', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'fk-lock-'));
    writeFileSync(join(folder, 'firekeeper.lock'), '2147483646\n'); // no such process
    const db = await openDatabase({ url: folder });
    await db.close();
  });
});

describe('the PostgreSQL pool', { skip: TEST_ENGINE !== 'postgres' && 'PostgreSQL only (FIREKEEPER_TEST_ENGINE=postgres)' }, () => {
  /** The distinct server processes that `n` concurrent, overlapping queries ran on. */
  async function backendsUsed(poolSize: number | undefined, n: number): Promise<number> {
    const db = await openDatabase({ url: TEST_DATABASE_URL, ...(poolSize ? { poolSize } : {}) });
    try {
      const rows = await Promise.all(Array.from({ length: n }, () => db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, pg_sleep(0.05)')));
      return new Set(rows.map(([r]) => r!.pid)).size;
    } finally {
      await db.close();
    }
  }

  it('opens at most poolSize connections, and DEFAULT_POOL_SIZE (twice the cores, at least 4) by default', async () => {
    assert.equal(await backendsUsed(2, 6), 2);
    assert.equal(DEFAULT_POOL_SIZE, Math.max(4, 2 * availableParallelism()));
    assert.equal(await backendsUsed(undefined, DEFAULT_POOL_SIZE + 3), DEFAULT_POOL_SIZE);
  });

  it('runs READ COMMITTED even where the role\'s default isolation is SERIALIZABLE', async () => {
    const role = `fk_serializable_${randomBytes(4).toString('hex')}`;
    const admin = await openDatabase({ url: TEST_DATABASE_URL, poolSize: 1 });
    await admin.query(`CREATE ROLE ${role} LOGIN`);
    await admin.query(`ALTER ROLE ${role} SET default_transaction_isolation = 'serializable'`);
    const url = new URL(TEST_DATABASE_URL);
    url.username = role;
    const db = await openDatabase({ url: url.toString(), poolSize: 1 });
    try {
      assert.deepEqual(await db.query('SHOW transaction_isolation'), [{ transaction_isolation: 'read committed' }]);
      assert.deepEqual(await db.transaction((tx) => tx.query('SHOW transaction_isolation')), [{ transaction_isolation: 'read committed' }]);
    } finally {
      await db.close();
      await admin.query(`DROP ROLE ${role}`);
      await admin.close();
    }
  });
});
