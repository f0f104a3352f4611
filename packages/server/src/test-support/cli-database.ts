// A database for tests that run the `firekeeper` command itself as a child process. The CLI takes a database
// location, not a schema, so each test file gets a data folder of its own (PGlite) or, on PostgreSQL, a scratch
// database created before its tests and dropped after them.
import { before, after } from 'node:test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { TEST_DATABASE_URL, TEST_ENGINE } from './database.ts';

/** The CLI's entry point, for `spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, …])`. */
export const CLI_MAIN = fileURLToPath(new URL('../cli/main.ts', import.meta.url));

export interface CliDatabase {
  /** A scratch folder for the test's own files, removed after the tests. */
  readonly dir: string;
  /** What to pass as `--database`: known once the file's `before` hooks have run. */
  readonly database: string;
  /** Runs `firekeeper <args> --database <database>` and waits for it. */
  firekeeper(...args: string[]): { status: number | null; stdout: string; stderr: string };
}

/** Registers the `before`/`after` hooks that create and remove the database; call at a test file's top level. */
export function cliDatabase(prefix: string): CliDatabase {
  const dir = mkdtempSync(join(tmpdir(), `fk-${prefix}-`));
  let database = join(dir, 'data');
  let drop: (() => Promise<void>) | undefined;

  before(async () => {
    if (TEST_ENGINE !== 'postgres') return;
    const name = `fk_${prefix}_${randomBytes(4).toString('hex')}`;
    await adminQuery(`CREATE DATABASE ${name}`);
    const url = new URL(TEST_DATABASE_URL);
    url.pathname = `/${name}`;
    database = url.toString();
    drop = () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
  after(async () => {
    await drop?.();
    rmSync(dir, { recursive: true, force: true });
  });

  return {
    dir,
    get database() {
      return database;
    },
    firekeeper(...args) {
      const res = spawnSync(process.execPath, ['--import', 'tsx', CLI_MAIN, ...args, '--database', database], { encoding: 'utf8', timeout: 240_000 });
      return { status: res.status, stdout: res.stdout, stderr: res.stderr };
    },
  };
}

async function adminQuery(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}
