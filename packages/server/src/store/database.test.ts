// The embedded database's folder belongs to one process at a time: a second opener is refused with a clear error
// (two PGlite processes on one folder would corrupt it, and neither would see the other's writes); closing releases
// it; a lock left by a process that was killed is taken over.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseInUseError, openDatabase } from './database.ts';

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
