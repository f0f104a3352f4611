// {base}/auth/manage: the SMART `management_endpoint`, where a signed-in user sees which apps have access to their
// data and revokes them (refresh tokens stop at once, access tokens within a revocation poll), and signs out.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/csrf-protection';
import { describeScope } from '../access/scope-grammar.ts';
import type { Database } from '../store/database.ts';
import { html } from '../ui/html.ts';
import { csrfField, installPageErrorHandler, sendPage } from '../ui/layout.ts';
import { forgetApproval } from './approval-store.ts';
import { sendSignInPage } from './authorize-pages.ts';
import { registerFormParser } from './form-body.ts';
import { authorizedApps, revokeGrantsOf, type AuthorizedApp } from './grant-store.ts';
import type { RevocationList } from './revocation-list.ts';
import type { Session, Sessions } from './session.ts';
import type { User } from './users/user-store.ts';
import { signIn } from './sign-in.ts';
import { recordAuthEvent, type AuthAuditOptions } from '../audit/auth-audit.ts';

export const MANAGE_PATH = '/auth/manage';

/**
 * Revokes everything a user granted an app: its grants (refresh tokens stop at once, access tokens within a
 * revocation poll) and the remembered approval, then records `consent-revoked`.
 */
export async function revokeAppAccess(
  opts: { db: Database; revocations: RevocationList; audit: AuthAuditOptions }, request: FastifyRequest, user: User, clientId: string,
): Promise<void> {
  const revoked = await revokeGrantsOf(opts.db, opts.revocations, user.id, clientId);
  await forgetApproval(opts.db, user.id, clientId);
  // Recorded after it took effect (a revocation must never wait on the trail), before the page answers.
  await recordAuthEvent(opts.audit, request, 200, {
    event: 'consent-revoked', userId: user.id, fhirUser: user.fhirUser ?? undefined, userName: user.name, clientId,
  }, `${revoked} grant${revoked === 1 ? '' : 's'} revoked`);
}

export async function manageEndpoint(app: FastifyInstance, opts: { db: Database; sessions: Sessions; revocations: RevocationList; audit: AuthAuditOptions }): Promise<void> {
  const { db, sessions, audit } = opts;
  registerFormParser(app);
  installPageErrorHandler(app, 'management page');

  app.get(MANAGE_PATH, async (request, reply) => {
    const session = await sessions.current(request);
    if (!session) return showLogin(reply);
    return showApps(reply, session, await authorizedApps(db, session.user.id));
  });

  app.post(MANAGE_PATH, { preHandler: app.csrfProtection }, async (request, reply) => {
    const form = request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
    const session = await sessions.current(request);
    if (form.get('step') === 'login') {
      const error = await signIn(db, sessions, request, reply, form, { audit });
      if (error) return showLogin(reply, error, form.get('username') ?? '');
    } else if (session && form.get('step') === 'revoke') {
      await revokeAppAccess(opts, request, session.user, form.get('client_id') ?? '');
    } else if (session && form.get('step') === 'logout') {
      await sessions.end(request, reply);
    }
    return reply.redirect(MANAGE_PATH, 303);
  });

  function showLogin(reply: FastifyReply, error?: string, username?: string) {
    return sendSignInPage(reply, { action: MANAGE_PATH, title: 'Connected apps', intro: 'Sign in to see and manage the apps that can access your data.', error, username });
  }

  function showApps(reply: FastifyReply, session: Session, apps: AuthorizedApp[]) {
    const csrf = reply.generateCsrf();
    const body = html`<p>Signed in as ${session.user.name}.</p>
${apps.length === 0 ? html`<p class="muted">No app has access to your data.</p>` : html`<ul class="choices">
${apps.map((a) => html`<li><strong>${a.name}</strong> <span class="muted">since ${a.grantedAt}</span>
<ul>${a.scope.split(' ').map((s) => html`<li>${describeScope(s)}</li>`)}</ul>
<form method="post" action="${MANAGE_PATH}">${csrfField(csrf)}<input type="hidden" name="step" value="revoke"><input type="hidden" name="client_id" value="${a.clientId}">
<button type="submit" class="secondary">Revoke access</button></form></li>`)}
</ul>`}
<form method="post" action="${MANAGE_PATH}">${csrfField(csrf)}<input type="hidden" name="step" value="logout"><button type="submit" class="secondary">Sign out</button></form>`;
    return sendPage(reply, { title: 'Connected apps', body });
  }
}
