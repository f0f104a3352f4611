// Migrations: an upgrade of a database that had been migrated before ends with a VACUUM of the data tables, so that
// a table a migration rewrote has its visibility map again and its scans can be index-only; a database with nothing
// to apply is left alone.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { migrate, splitStatements } from './migrate.ts';
import { testDatabase } from '../test-support/database.ts';

describe('migrate', async () => {
  const db = await testDatabase();
  await db.query(`INSERT INTO resources (type, id, version, last_updated, resource)
    SELECT 'Basic', 'b' || g, 1, now(), '{"resourceType":"Basic"}' FROM generate_series(1, 2000) AS g`);

  /** The pages of `resources`, and how many of them the visibility map marks all-visible. */
  const visibility = async () => {
    const [row] = await db.query<{ pages: number; visible: number }>(
      `SELECT relpages AS pages, relallvisible AS visible FROM pg_class WHERE oid = 'resources'::regclass`);
    return row!;
  };

  it('leaves the tables alone when there is nothing to apply', async () => {
    await db.query('VACUUM FULL resources'); // a rewrite, as a migration that changes a column's type does
    assert.deepEqual(await migrate(db), []);
    const { pages, visible } = await visibility();
    assert.ok(pages > 1, `resources has ${pages} pages`);
    assert.equal(visible, 0, 'no VACUUM ran');
  });

  it('vacuums the data tables after applying a migration to a database migrated before', async () => {
    await db.query('VACUUM FULL resources');
    assert.equal((await visibility()).visible, 0);
    // An upgrade by one migration: 021 only sets storage options, so it can run again.
    await db.query(`DELETE FROM schema_migrations WHERE name = '021_lz4_resources.sql'`);
    assert.deepEqual(await migrate(db), ['021_lz4_resources.sql']);
    const { pages, visible } = await visibility();
    assert.ok(pages > 1);
    assert.equal(visible, pages, 'every page is all-visible again');
  });

  it('splits a file at the semicolons that end a line outside dollar-quoted bodies, dropping comment lines', () => {
    const file = [
      '-- a comment; with a semicolon;',
      'CREATE TABLE t (a int);',
      'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$',
      'DECLARE x int;',
      'BEGIN',
      '  -- kept: inside the body;',
      "  x := length('$tag$');",
      '  RETURN x;',
      'END',
      '$$;',
      'DO $body$ BEGIN PERFORM 1; END $body$;',
      'SELECT 1',
    ].join('\n');
    assert.deepEqual(splitStatements(file), [
      'CREATE TABLE t (a int)',
      "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nDECLARE x int;\nBEGIN\n  -- kept: inside the body;\n  x := length('$tag$');\n  RETURN x;\nEND\n$$",
      'DO $body$ BEGIN PERFORM 1; END $body$',
      'SELECT 1',
    ]);
  });
});
