// Back-off after repeated failed sign-ins (OWASP ASVS 2.2.1): after FREE_FAILURES failures a username is locked
// for a period that doubles with each further failure, up to MAX_LOCK_S. Tracked per username whether or not the
// account exists, so the lock reveals nothing; a successful sign-in clears it.
import type { Queryable } from '../../store/database.ts';
import { normaliseUsername } from './user-store.ts';

export const FREE_FAILURES = 5;
const BASE_LOCK_S = 30;
const MAX_LOCK_S = 15 * 60;

/** Seconds until this username may try again (0: now). */
export async function lockedFor(q: Queryable, username: string, now = new Date()): Promise<number> {
  const rows = await q.query<{ s: number }>(
    `SELECT ceil(extract(epoch FROM locked_until - $2::timestamptz))::int AS s FROM login_failures WHERE username = $1 AND locked_until > $2::timestamptz`,
    [normaliseUsername(username), now.toISOString()],
  );
  return rows[0]?.s ?? 0;
}

export async function recordFailure(q: Queryable, username: string, now = new Date()): Promise<void> {
  await q.query(
    `INSERT INTO login_failures AS f (username, failures) VALUES ($1, 1)
     ON CONFLICT (username) DO UPDATE SET failures = f.failures + 1,
       locked_until = CASE WHEN f.failures + 1 >= $3
         THEN $2::timestamptz + make_interval(secs => least($4::float8 * power(2, f.failures + 1 - $3), $5::float8)) END`,
    [normaliseUsername(username), now.toISOString(), FREE_FAILURES, BASE_LOCK_S, MAX_LOCK_S],
  );
}

export async function clearFailures(q: Queryable, username: string): Promise<void> {
  await q.query('DELETE FROM login_failures WHERE username = $1', [normaliseUsername(username)]);
}
