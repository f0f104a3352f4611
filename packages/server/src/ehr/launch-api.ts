// POST {base}/launch: the EHR launch API (SMART App Launch 2.2 §EHR launch, "Launch App"). The simulated EHR's Apps
// panel, scripts, CDS Hooks cards and tests ask it to launch a registered app with a context; it stores a launch
// record (random id, bound to the app, expiring; the context stays on the server) and answers with the app's launch
// URL carrying `iss` and `launch`.
//
// Callers: a signed-in clinician or administrator (the session cookie; the launch is then bound to that user), or
// the admin credential as a Bearer token (optionally naming the `user` the launch is for). The body must be JSON:
// a browser cannot send that cross-site without a CORS preflight, which this endpoint never grants, and the session
// cookie is SameSite=Lax, so a session cannot be made to launch from another site (no CSRF token needed).
// Errors are RFC 6749 §5.2 JSON, like the admin API's; every request, refusals included, is audited.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Database } from '../store/database.ts';
import type { AuthAuditDetails, AuthAuditOptions } from '../audit/auth-audit.ts';
import { installOAuthAudit } from '../audit/auth-audit.ts';
import { OAuthError } from '../auth/oauth-errors.ts';
import { installOAuthErrorHandler } from '../auth/oauth-error-handler.ts';
import { bearerToken, challenge } from '../auth/bearer.ts';
import { matchesAdminToken } from '../auth/admin-api.ts';
import type { Sessions } from '../auth/session.ts';
import { getClient, type Client } from '../auth/clients/client-store.ts';
import { CLIENT_ID } from '../auth/clients/client-json.ts';
import { createLaunch, LAUNCH_LIFETIME_S, type Launch, type LaunchContextRecord } from '../auth/launch-store.ts';
import { getUserByUsername, type User } from '../auth/users/user-store.ts';
import { parseLaunchRequest } from './launch-request.ts';

export const LAUNCH_API_PATH = '/launch';
const REALM = 'firekeeper-launch';

export interface LaunchApiOptions {
  db: Database;
  sessions: Sessions;
  adminToken: string;
  fhirBase: string;
  audit: AuthAuditOptions;
}

/** Who asked for the launch: a signed-in EHR user, or the administrator's credential. */
type Launcher = { kind: 'session'; user: User } | { kind: 'admin' };

export async function launchApi(app: FastifyInstance, opts: LaunchApiOptions): Promise<void> {
  installOAuthErrorHandler(app, { name: 'launch API', realm: REALM, bodyErrorCode: 'invalid_request' });
  installOAuthAudit(app, opts.audit, () => ({ event: 'launch-created' }));

  app.post(LAUNCH_API_PATH, async (request, reply) => {
    reply.header('Cache-Control', 'no-store');
    const launcher = await authenticate(request, opts);
    const sessionUser = launcher.kind === 'session' ? launcher.user : undefined;
    request.authAudit = auditDetails(sessionUser, (request.body as { client_id?: unknown } | undefined)?.client_id);
    const input = parseLaunchRequest(request.body);
    if (input.user !== undefined && sessionUser) {
      throw new OAuthError('invalid_request', 'user: a signed-in user launches as themselves; only the admin credential names another user');
    }
    const user = sessionUser ?? (input.user === undefined ? undefined : await namedUser(opts.db, input.user));
    const launched = await startLaunch(opts.db, opts.fhirBase, { clientId: input.clientId, userId: user?.id ?? null, context: input.context });
    request.authAudit = auditDetails(user, input.clientId, input.context.patient);
    return reply.code(201).send({ launch: launched.launch, url: launched.url, expires_in: LAUNCH_LIFETIME_S });
  });
}

/**
 * Checks the app and the context, stores the launch, and returns its id and the URL that starts the app: its
 * registered launch URL with `iss` and `launch` added. Throws `invalid_request` naming what is wrong.
 */
export async function startLaunch(db: Database, fhirBase: string, l: Omit<Launch, 'id'>): Promise<{ launch: string; url: string }> {
  const client = await launchableClient(db, l.clientId);
  await checkContext(db, l.context);
  const launch = await createLaunch(db, l);
  const url = new URL(client.launchUrl!);
  url.searchParams.set('iss', fhirBase);
  url.searchParams.set('launch', launch.id);
  return { launch: launch.id, url: url.href };
}

async function authenticate(request: FastifyRequest, opts: LaunchApiOptions): Promise<Launcher> {
  const token = bearerToken(request.headers.authorization);
  if (token !== undefined) {
    if (!matchesAdminToken(token, opts.adminToken)) throw new OAuthError('invalid_token', 'the admin token is not valid', 401);
    return { kind: 'admin' };
  }
  const session = await opts.sessions.current(request);
  if (!session) {
    // RFC 6750 §3.1: no credentials, a challenge without an error code.
    throw new OAuthError('invalid_token', 'sign in to the EHR, or send Authorization: Bearer <admin token>', 401, { 'WWW-Authenticate': challenge(REALM) });
  }
  if (session.user.role === 'patient') throw new OAuthError('access_denied', 'only clinicians and administrators launch apps from the EHR', 403);
  return { kind: 'session', user: session.user };
}

/** Why an app cannot be EHR-launched, or undefined when it can: active, interactive, with a launch URL and `launch`. */
export function notLaunchable(client: Client): string | undefined {
  if (client.status !== 'active') return `the app is ${client.status}, not active`;
  if (!client.grantTypes.includes('authorization_code')) return 'a backend service cannot be launched';
  if (!client.launchUrl) return 'the app has no launch URL';
  if (!client.scopes.includes('launch')) return 'the app is not registered for the EHR launch (scope launch)';
  return undefined;
}

async function launchableClient(db: Database, clientId: string): Promise<Client> {
  const client = await getClient(db, clientId);
  if (!client) throw new OAuthError('invalid_request', `client_id: no app ${clientId} is registered`);
  const reason = notLaunchable(client);
  if (reason) throw new OAuthError('invalid_request', `client_id: ${reason}`);
  return client;
}

/** The patient, encounter and fhirContext references must name current resources, and the encounter the patient's. */
async function checkContext(db: Database, context: LaunchContextRecord): Promise<void> {
  const { patient, encounter, fhirContext } = context;
  if (patient !== undefined && !(await exists(db, 'Patient', patient))) throw new OAuthError('invalid_request', `patient: no Patient/${patient}`);
  if (encounter !== undefined) {
    const rows = await db.query<{ compartments: string[] }>(`SELECT compartments FROM resources WHERE type = 'Encounter' AND id = $1 AND NOT deleted`, [encounter]);
    if (!rows[0]) throw new OAuthError('invalid_request', `encounter: no Encounter/${encounter}`);
    if (patient !== undefined && !rows[0].compartments.includes(`Patient/${patient}`)) {
      throw new OAuthError('invalid_request', `encounter: Encounter/${encounter} is not an encounter of Patient/${patient}`);
    }
  }
  for (const [i, item] of (fhirContext ?? []).entries()) {
    if (item.reference === undefined) continue;
    const [type, id] = item.reference.split('/') as [string, string];
    if (!(await exists(db, type, id))) throw new OAuthError('invalid_request', `fhirContext[${i}].reference: no ${item.reference}`);
  }
}

async function exists(db: Database, type: string, id: string): Promise<boolean> {
  return (await db.query(`SELECT 1 FROM resources WHERE type = $1 AND id = $2 AND NOT deleted`, [type, id])).length > 0;
}

async function namedUser(db: Database, username: string): Promise<User> {
  const user = await getUserByUsername(db, username);
  if (!user) throw new OAuthError('invalid_request', `user: no user ${username}`);
  return user;
}

/** The audit record: who launched (a user, or the admin credential: no user), which app (the object), for which patient. */
function auditDetails(user: User | undefined, clientId: unknown, patient?: string): AuthAuditDetails {
  return {
    event: 'launch-created',
    ...(typeof clientId === 'string' && CLIENT_ID.test(clientId) ? { subjectClientId: clientId } : {}),
    ...(user ? { userId: user.id, userName: user.name, ...(user.fhirUser ? { fhirUser: user.fhirUser } : {}) } : {}),
    ...(patient !== undefined ? { patient } : {}),
  };
}
