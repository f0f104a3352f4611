#!/usr/bin/env node
// Runs every *.test.ts with node's test runner, once per storage engine: embedded PGlite, then PostgreSQL.
// FIREKEEPER_TEST_ENGINES=pglite (or postgres) runs one engine only; extra arguments filter test files by path.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

const files = ['packages', 'apps', 'bench'].flatMap((d) => { try { return findTests(join(root, d)); } catch { return []; } })
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();
const engines = (process.env.FIREKEEPER_TEST_ENGINES ?? 'pglite,postgres').split(',');
let failed = false;
for (const engine of engines) {
  console.log(`\n=== storage engine: ${engine} (${files.length} test files) ===`);
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
    cwd: root, stdio: 'inherit', env: { ...process.env, FIREKEEPER_TEST_ENGINE: engine },
  });
  if (res.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
