// Applies the plain-SQL migrations in ./migrations in file-name order, once each.
// A PostgreSQL advisory lock makes concurrent start-ups of several instances safe.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Database } from './database.ts';
import { INDEX_TABLES } from './repository.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
const LOCK_KEY = 7_250_931; // arbitrary, constant: "firekeeper migrations"

/** The tables that hold resources and the rows derived from them: the ones a migration may rewrite. */
const DATA_TABLES = ['resources', 'resource_versions', ...INDEX_TABLES, 'audit_chain'];

/** Applies the migrations not yet applied; returns their file names. */
export async function migrate(db: Database): Promise<string[]> {
  const { applied, upgrade } = await applyMigrations(db);
  // A migration that rewrites a table (a column's type changed, as 020 did) leaves its visibility map empty, and until
  // a VACUUM sets it again no scan of it can be index-only: a patient's search then reads sp_reference's rows where the
  // covering index alone would do (a third more PostgreSQL time per search in the benchmark, docs/benchmarks.md
  // 2026-12-06, 11:40). Autovacuum may not come to a read-mostly table for a long time, since a rewrite restarts the
  // counts that trigger it. So an upgrade ends with one VACUUM, outside the migrations' transaction (VACUUM cannot run
  // in one). A new database's tables are empty and need none.
  if (upgrade) await db.query(`VACUUM (ANALYZE) ${DATA_TABLES.join(', ')}`);
  return applied;
}

async function applyMigrations(db: Database): Promise<{ applied: string[]; upgrade: boolean }> {
  const files = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort();
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    await tx.query('CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const done = new Set((await tx.query<{ name: string }>('SELECT name FROM schema_migrations')).map((r) => r.name));
    const applied: string[] = [];
    for (const file of files) {
      if (done.has(file)) continue;
      for (const statement of splitStatements(readFileSync(MIGRATIONS_DIR + file, 'utf8'))) {
        await tx.query(statement);
      }
      await tx.query('INSERT INTO schema_migrations (name) VALUES ($1)', [file]);
      applied.push(file);
    }
    return { applied, upgrade: applied.length > 0 && done.size > 0 };
  });
}

/** A dollar-quote tag: `$$` or `$name$` (the body of a function or a DO block). */
const DOLLAR_TAG = /\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/g;

/**
 * Splits a migration file into statements at a `;` that ends a line outside a dollar-quoted body, so a function body
 * may hold statements of its own; whole-line comments outside bodies are dropped.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let lines: string[] = [];
  let open: string | undefined; // the tag of the dollar-quoted body the line is in
  for (const line of sql.split('\n')) {
    if (open === undefined && /^\s*--/.test(line)) continue;
    lines.push(line);
    for (const [tag] of line.matchAll(DOLLAR_TAG)) {
      if (open === undefined) open = tag;
      else if (tag === open) open = undefined;
    }
    if (open === undefined && /;\s*$/.test(line)) {
      statements.push(lines.join('\n').replace(/;\s*$/, '').trim());
      lines = [];
    }
  }
  statements.push(lines.join('\n').trim());
  return statements.filter(Boolean);
}
