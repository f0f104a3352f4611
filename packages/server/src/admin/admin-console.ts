// {base}/admin: the administrators' console (admin users only, on the same sign-in and session as everything else).
// This part manages the app registry: apps waiting from dynamic registration are reviewed and approved; apps are
// registered (every client type; a client secret is shown once), suspended, activated, deleted, and their secrets
// rotated. The registration form is read by the admin API's own validation (clients/client-json.ts), so both take
// exactly the same registrations. Every change is audited as the admin API's are, with the administrator as the user.
// The audit trail is viewed with filters (audit-viewer.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/csrf-protection';
import type { Database } from '../store/database.ts';
import type { AuthEvent } from '../audit/audit-event.ts';
import { recordAuthEvent, type AuthAuditOptions } from '../audit/auth-audit.ts';
import { registerFormParser } from '../auth/form-body.ts';
import { OAuthError } from '../auth/oauth-errors.ts';
import { clientInputFromJson, clientPatchFromJson } from '../auth/clients/client-json.ts';
import { approveClient, deleteClient, getClient, listClients, registerClient, rotateClientSecret, setClientStatus, updateClient } from '../auth/clients/client-store.ts';
import type { Sessions } from '../auth/session.ts';
import { returnPath } from '../auth/authorize-pages.ts';
import { adminGate, showAdminLogin } from './admin-session.ts';
import type { RevocationList } from '../auth/revocation-list.ts';
import { liveGrantsOf, revokeGrant } from '../auth/grant-store.ts';
import { signIn } from '../auth/sign-in.ts';
import { getUserByUsername, type User } from '../auth/users/user-store.ts';
import type { FhirAsUser } from '../ui/fhir-as-user.ts';
import { html } from '../ui/html.ts';
import { alertMessage, installPageErrorHandler, sendPage } from '../ui/layout.ts';
import {
  ADMIN_PATH, APPS_PATH, EMPTY_APP_FORM, NEW_APP_PATH, appDetailBody, appFormOf, appPath, registrationForm, registryBody, secretBody, type AppAction, type AppForm,
} from './admin-pages.ts';
import { AUDIT_PATH, auditBody, auditFilters, auditRows, auditSearch, nextPage, type AuditRow } from './audit-viewer.ts';

export interface AdminConsoleOptions {
  db: Database;
  sessions: Sessions;
  audit: AuthAuditOptions;
  /** The FHIR API as the administrator (ADMIN_CLIENT_ID, `user/AuditEvent.rs`), for the audit viewer. */
  fhir: FhirAsUser;
  revocations: RevocationList;
}

const ACTION_EVENTS: Record<AppAction, AuthEvent> = {
  approve: 'client-updated', suspend: 'client-updated', activate: 'client-updated', delete: 'client-deleted', 'rotate-secret': 'client-secret-rotated',
  'revoke-grants': 'token-revoked',
};

export async function adminConsole(app: FastifyInstance, opts: AdminConsoleOptions): Promise<void> {
  const { db, sessions } = opts;
  const adminSession = adminGate(sessions);
  registerFormParser(app);
  installPageErrorHandler(app, 'admin console');

  app.get(ADMIN_PATH, async (request, reply) => {
    const session = await adminSession(request, reply);
    if (!session) return reply;
    return sendPage(reply, { title: 'Apps', wide: true, body: registryBody(await listClients(db), reply.generateCsrf()) });
  });

  app.post(ADMIN_PATH, { preHandler: app.csrfProtection }, async (request, reply) => {
    const form = request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
    if (form.get('step') === 'login') {
      const error = await signIn(db, sessions, request, reply, form, { audit: opts.audit });
      if (error) return showAdminLogin(reply, error, form.get('username') ?? '', form.get('return') ?? undefined);
      return reply.redirect(returnPath(form, ADMIN_PATH), 303);
    } else if (form.get('step') === 'logout') {
      await sessions.end(request, reply);
    }
    return reply.redirect(ADMIN_PATH, 303);
  });

  app.get<{ Querystring: Record<string, unknown> }>(AUDIT_PATH, async (request, reply) => {
    const session = await adminSession(request, reply);
    if (!session) return reply;
    const filters = auditFilters(request.query);
    const user = filters.user ? await getUserByUsername(db, filters.user) : undefined;
    const search = filters.user && !user ? { error: `User: no user ${filters.user}.` } : auditSearch(filters, user);
    let rows: AuditRow[] | { error: string } = typeof search === 'string' ? [] : search;
    let next: string | undefined;
    if (typeof search === 'string') {
      const [result] = await opts.fhir.readAll(session.user, [search]);
      rows = result?.resource ? auditRows(result.resource) : { error: `The audit search failed (HTTP ${result?.status}).` };
      next = nextPage(result?.resource, filters);
    }
    return sendPage(reply, { title: 'Audit trail', wide: true, status: 'error' in rows ? 400 : 200, body: auditBody(filters, rows, next) });
  });

  app.get(NEW_APP_PATH, async (request, reply) => {
    const session = await adminSession(request, reply);
    if (!session) return reply;
    return sendPage(reply, { title: 'Register an app', body: registrationForm(EMPTY_APP_FORM, reply.generateCsrf()) });
  });

  app.post(APPS_PATH, { preHandler: app.csrfProtection }, async (request, reply) => {
    const session = await adminSession(request, reply);
    if (!session) return reply;
    const form = appForm(request.body instanceof URLSearchParams ? request.body : new URLSearchParams());
    let registered;
    try {
      registered = await registerClient(db, clientInputFromJson(registrationJson(form)));
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      return sendPage(reply, { title: 'Register an app', status: 400, body: registrationForm(form, reply.generateCsrf(), err.description) });
    }
    await audited(request, session.user, 'client-created', registered.client.clientId);
    return sendPage(reply, { title: 'App registered', body: secretBody(registered.client, registered.secret, 'Registered') });
  });

  app.get<{ Params: { id: string } }>(`${APPS_PATH}/:id/edit`, async (request, reply) => {
    if (!(await adminSession(request, reply))) return reply;
    const client = await getClient(db, request.params.id);
    if (!client) return notFound(reply);
    return sendPage(reply, { title: `Edit ${client.name}`, body: registrationForm(appFormOf(client), reply.generateCsrf(), undefined, client) });
  });

  app.post<{ Params: { id: string } }>(`${APPS_PATH}/:id/edit`, { preHandler: app.csrfProtection }, async (request, reply) => {
    const session = await adminSession(request, reply);
    if (!session) return reply;
    const client = await getClient(db, request.params.id);
    if (!client) return notFound(reply);
    const form = { ...appForm(request.body instanceof URLSearchParams ? request.body : new URLSearchParams()), type: client.type };
    try {
      await updateClient(db, client.clientId, clientPatchFromJson(registrationJson(form, true)));
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      return sendPage(reply, { title: `Edit ${client.name}`, status: 400, body: registrationForm(form, reply.generateCsrf(), err.description, client) });
    }
    await audited(request, session.user, 'client-updated', client.clientId);
    return reply.redirect(appPath(client.clientId), 303);
  });

  app.post<{ Params: { id: string; action: string } }>(`${APPS_PATH}/:id/:action`, { preHandler: app.csrfProtection }, async (request, reply) => {
    const session = await adminSession(request, reply);
    if (!session) return reply;
    const action = request.params.action as AppAction;
    const client = Object.hasOwn(ACTION_EVENTS, action) ? await getClient(db, request.params.id) : undefined;
    if (!client) return notFound(reply);
    if (action === 'rotate-secret') {
      if (client.type !== 'confidential-symmetric') return sendPage(reply, { title: 'No secret', status: 400, body: alertMessage(`A ${client.type} app has no client secret.`) });
      const secret = await rotateClientSecret(db, client.clientId);
      await audited(request, session.user, 'client-secret-rotated', client.clientId);
      return sendPage(reply, { title: 'Secret rotated', body: secretBody(client, secret, 'New secret for') });
    }
    if (action === 'revoke-grants') {
      for (const g of await liveGrantsOf(db, client.clientId)) await revokeGrant(db, opts.revocations, g.id);
      await audited(request, session.user, 'token-revoked', client.clientId);
      return reply.redirect(appPath(client.clientId), 303);
    }
    if (action === 'approve') await approveClient(db, client.clientId);
    else if (action === 'suspend') await setClientStatus(db, client.clientId, 'suspended');
    else if (action === 'activate') await setClientStatus(db, client.clientId, 'active');
    else await deleteClient(db, client.clientId);
    await audited(request, session.user, ACTION_EVENTS[action], client.clientId);
    return reply.redirect(ADMIN_PATH, 303);
  });

  app.get<{ Params: { id: string } }>(`${APPS_PATH}/:id`, async (request, reply) => {
    const session = await adminSession(request, reply);
    if (!session) return reply;
    const client = await getClient(db, request.params.id);
    if (!client) return notFound(reply);
    return sendPage(reply, { title: client.name, wide: true, body: appDetailBody(client, await liveGrantsOf(db, client.clientId), reply.generateCsrf()) });
  });

  app.post<{ Params: { id: string; grantId: string } }>(`${APPS_PATH}/:id/grants/:grantId/revoke`, { preHandler: app.csrfProtection }, async (request, reply) => {
    const session = await adminSession(request, reply);
    if (!session) return reply;
    const grant = (await liveGrantsOf(db, request.params.id)).find((g) => g.id === request.params.grantId);
    if (!grant) return notFound(reply);
    await revokeGrant(db, opts.revocations, grant.id);
    await audited(request, session.user, 'token-revoked', request.params.id);
    return reply.redirect(appPath(request.params.id), 303);
  });

  function notFound(reply: FastifyReply) {
    return sendPage(reply, { title: 'Not found', status: 404, body: html`${alertMessage('No such app, grant or action.')}<p><a href="${ADMIN_PATH}">Back to the apps</a></p>` });
  }

  function audited(request: FastifyRequest, user: User, event: AuthEvent, clientId: string): Promise<void> {
    return recordAuthEvent(opts.audit, request, 200, { event, userId: user.id, userName: user.name, ...(user.fhirUser ? { fhirUser: user.fhirUser } : {}), subjectClientId: clientId });
  }
}

function appForm(form: URLSearchParams): AppForm {
  const value = (k: keyof AppForm) => (form.get(k) ?? '').trim();
  return {
    name: value('name'), type: value('type'), redirectUris: value('redirectUris'), launchUrl: value('launchUrl'), launchMode: value('launchMode'), scopes: value('scopes'),
    jwksUri: value('jwksUri'), jwks: value('jwks'), corsOrigins: value('corsOrigins'), accessTokenLifetime: value('accessTokenLifetime'),
    refreshTokenLifetime: value('refreshTokenLifetime'), refresh: form.get('refresh') === 'yes',
  };
}

/**
 * The form as the admin API's JSON (ClientInput field names), for the same validation. For an edit, an emptied
 * optional field is `null` (cleared: the default applies) and the status is left as it is.
 */
function registrationJson(f: AppForm, edit = false): Record<string, unknown> {
  const cleared = edit ? null : undefined;
  const lines = (s: string) => s.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const number = (field: string, s: string) => {
    if (s === '') return cleared;
    if (!/^\d+$/.test(s)) throw new OAuthError('invalid_client_metadata', `${field} must be a whole number of seconds`);
    return Number(s);
  };
  let jwks: unknown;
  if (f.jwks !== '') {
    try {
      jwks = JSON.parse(f.jwks);
    } catch {
      throw new OAuthError('invalid_client_metadata', 'JWKS must be JSON: {"keys": [...]}');
    }
  }
  const interactive = f.type !== 'backend-service';
  const json: Record<string, unknown> = {
    name: f.name, type: f.type, ...(edit ? {} : { status: 'active' }), redirectUris: lines(f.redirectUris), scopes: f.scopes.split(/\s+/).filter(Boolean), corsOrigins: lines(f.corsOrigins),
    launchUrl: f.launchUrl || cleared,
    ...(f.launchMode ? { launchMode: f.launchMode } : {}),
    jwksUri: f.jwksUri || cleared,
    jwks: jwks ?? cleared,
    ...(interactive ? { grantTypes: f.refresh ? ['authorization_code', 'refresh_token'] : ['authorization_code'] } : {}),
    accessTokenLifetime: number('Access token lifetime', f.accessTokenLifetime),
    refreshTokenLifetime: number('Refresh token lifetime', f.refreshTokenLifetime),
  };
  if (!f.name) throw new OAuthError('invalid_client_metadata', 'name is required');
  return Object.fromEntries(Object.entries(json).filter(([, v]) => v !== undefined));
}
