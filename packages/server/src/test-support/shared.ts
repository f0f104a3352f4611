// Locates the workplace's shared fixtures (../shared beside the repository, or FIREKEEPER_SHARED_DIR).
// Tests that use them run whenever they exist, and say so plainly when they skip.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';

const repoRoot = resolve(fileURLToPath(new URL('../../../../', import.meta.url)));
export const SHARED_DIR = process.env.FIREKEEPER_SHARED_DIR ?? join(repoRoot, '..', 'shared');
export const SYNTHEA_DIR = join(SHARED_DIR, 'fixtures', 'synthea');

/** `false` when the Synthea fixtures exist, otherwise the skip reason (printed by the test runner). */
export function syntheaSkipReason(): string | false {
  if (existsSync(SYNTHEA_DIR)) return false;
  const reason = `SKIPPED: Synthea fixtures not found at ${SYNTHEA_DIR} (set FIREKEEPER_SHARED_DIR)`;
  console.warn(reason);
  return reason;
}
