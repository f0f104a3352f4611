// Signing in with a username and password: back-off after repeated failures, one message for every failure (it
// never says which part was wrong), and a fresh session id on success (no session fixation).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Database } from '../store/database.ts';
import type { Sessions } from './session.ts';
import { clearFailures, lockedFor, recordFailure } from './users/login-throttle.ts';
import { checkPassword } from './users/user-store.ts';

/** Returns an error message for the page, or undefined when the user is now signed in. */
export async function signIn(db: Database, sessions: Sessions, request: FastifyRequest, reply: FastifyReply, form: URLSearchParams): Promise<string | undefined> {
  const username = form.get('username') ?? '';
  const password = form.get('password') ?? '';
  const wait = await lockedFor(db, username);
  if (wait > 0) return `Too many failed attempts. Try again in ${Math.ceil(wait / 60)} minute${wait > 60 ? 's' : ''}.`;
  const user = username && password ? await checkPassword(db, username, password) : undefined;
  if (!user) {
    await recordFailure(db, username);
    return 'The username or password is not correct.';
  }
  await clearFailures(db, username);
  if (await sessions.current(request)) await sessions.end(request, reply);
  await sessions.start(reply, user.id);
  return undefined;
}
