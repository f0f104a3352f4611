// Test databases: each test file gets its own, on the engine chosen by FIREKEEPER_TEST_ENGINE
// ('pglite', the default, or 'postgres'). On PostgreSQL each file gets a fresh schema in TEST_DATABASE_URL
// (default postgres://postgres@127.0.0.1:5432/test); a missing server fails the tests, it never skips them.
import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import { openDatabase, type Database } from '../store/database.ts';
import { migrate } from '../store/migrate.ts';

// Registered when this module is first imported (at a test file's top level), so it runs once after all of the
// file's tests, whether the databases and apps were opened at top level or inside a `before` hook.
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Runs `fn` after all tests of the current file. */
export function onTestFileEnd(fn: () => Promise<unknown>): void {
  cleanups.push(fn);
}

export const TEST_ENGINE = process.env.FIREKEEPER_TEST_ENGINE === 'postgres' ? 'postgres' : 'pglite';
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A migrated, empty database for this test file, closed (and its schema dropped) after the file's tests. */
export async function testDatabase(): Promise<Database & { url: string; schema?: string }> {
  if (TEST_ENGINE === 'pglite') {
    const db = await openDatabase({ url: 'memory://' });
    await migrate(db);
    onTestFileEnd(() => db.close());
    return Object.assign(db, { url: 'memory://' });
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const db = await openDatabase({ url: TEST_DATABASE_URL, schema, poolSize: 5 });
  await migrate(db);
  onTestFileEnd(async () => {
    await db.query(`DROP SCHEMA ${schema} CASCADE`);
    await db.close();
  });
  return Object.assign(db, { url: TEST_DATABASE_URL, schema });
}
