// Signing in with a username and password: back-off after repeated failures, one message for every failure (it
// never says which part was wrong), and a fresh session id on success (no session fixation). Every attempt is audited
// (the username tried, never the password), and committed before the session starts or the page answers.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { recordAuthEvent, type AuthAuditOptions } from '../audit/auth-audit.ts';
import type { Database } from '../store/database.ts';
import type { Sessions } from './session.ts';
import { clearFailures, lockedFor, recordFailure } from './users/login-throttle.ts';
import { checkPassword } from './users/user-store.ts';

export interface SignInContext {
  audit: AuthAuditOptions;
  /** The app the user is signing in for (the authorization flow), if any. */
  clientId?: string;
}

/** Returns an error message for the page, or undefined when the user is now signed in. */
export async function signIn(db: Database, sessions: Sessions, request: FastifyRequest, reply: FastifyReply, form: URLSearchParams, ctx: SignInContext): Promise<string | undefined> {
  const username = form.get('username') ?? '';
  const password = form.get('password') ?? '';
  const failed = (description: string) => recordAuthEvent(ctx.audit, request, 401, { event: 'login-failure', attemptedUsername: username, clientId: ctx.clientId }, description);
  const wait = await lockedFor(db, username);
  if (wait > 0) {
    await failed('locked after repeated failures');
    return `Too many failed attempts. Try again in ${Math.ceil(wait / 60)} minute${wait > 60 ? 's' : ''}.`;
  }
  const user = username && password ? await checkPassword(db, username, password) : undefined;
  if (!user) {
    await recordFailure(db, username);
    await failed('wrong username or password');
    return 'The username or password is not correct.';
  }
  await recordAuthEvent(ctx.audit, request, 200, { event: 'login-success', userId: user.id, fhirUser: user.fhirUser ?? undefined, userName: user.name, clientId: ctx.clientId });
  await clearFailures(db, username);
  if (await sessions.current(request)) await sessions.end(request, reply);
  await sessions.start(reply, user.id);
  return undefined;
}
