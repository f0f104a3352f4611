// Who may use the admin console: a signed-in administrator. Anyone else gets the console's sign-in page (which posts
// to ADMIN_PATH) or, signed in without the admin role, a refusal.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/csrf-protection';
import type { Session, Sessions } from '../auth/session.ts';
import { sendSignInPage } from '../auth/authorize-pages.ts';
import { html } from '../ui/html.ts';
import { sendPage } from '../ui/layout.ts';
import { ADMIN_PATH } from './admin-pages.ts';

export function showAdminLogin(reply: FastifyReply, error?: string, username?: string, returnTo?: string): FastifyReply {
  return sendSignInPage(reply, { action: ADMIN_PATH, title: 'Admin console', intro: 'Sign in as an administrator to manage the apps registered with Firekeeper.', error, username, returnTo });
}

/** The signed-in administrator's session; otherwise the sign-in page (or a refusal) has been sent. */
export function adminGate(sessions: Sessions): (request: FastifyRequest, reply: FastifyReply) => Promise<Session | undefined> {
  return async (request, reply) => {
    const session = await sessions.current(request);
    if (!session) showAdminLogin(reply, undefined, undefined, request.method === 'GET' ? request.url : undefined);
    else if (session.user.role !== 'admin') sendPage(reply, { title: 'Administrators only', status: 403, body: html`<p>You are signed in as ${session.user.name}, who is not an administrator.</p>` });
    else return session;
    return undefined;
  };
}
