// Auditing of the authorization server: tokens issued, refreshed, introspected and revoked (every response of those
// endpoints, refusals included), sign-ins that succeed or fail, consents granted or revoked, and every request to the
// app registry (admin API and dynamic registration). Like the FHIR API,
// a response waits for its record's commit, and is replaced by a bare `server_error` if that fails: a token is never
// handed out unrecorded. Records carry ids only (client_id, user id, jti): never a token, secret or password.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditActor, AuthEvent } from './audit-event.ts';
import { newAuditEventId } from './audit-event-id.ts';
import type { AuditLog } from './audit-log.ts';
import type { JtiItem } from '../auth/assertion-jtis.ts';

/** What an endpoint learned about the event, for its record. */
export interface AuthAuditDetails {
  event: AuthEvent;
  clientId?: string;
  userId?: string;
  /** Relative (`Patient/1`) or absolute under the FHIR base. */
  fhirUser?: string;
  userName?: string;
  attemptedUsername?: string;
  scope?: string;
  jti?: string;
  /** Patient ids (the launch context), not references. */
  patient?: string;
  /** The app whose registration the event is about (admin API, dynamic registration). */
  subjectClientId?: string;
}

/** The FHIR base, so that absolute fhirUser URLs can be stored as relative references. */
export interface AuthAuditOptions {
  audit: AuditLog;
  fhirBase: string;
}

const used = new WeakSet<FastifyRequest>();

/** The request id for the request's first record (it is sent back as X-Request-Id), a fresh id for any other. */
function recordId(request: FastifyRequest): string {
  if (used.has(request)) return newAuditEventId();
  used.add(request);
  return request.id;
}

/**
 * Records one authorization event of this request; resolves once it is committed. With a client assertion's `jti`,
 * rejects with JtiNotRecorded (and writes nothing) when the jti is not recorded with it (audit-log.ts).
 */
export async function recordAuthEvent(opts: AuthAuditOptions, request: FastifyRequest, status: number, d: AuthAuditDetails, description?: string, jti?: JtiItem): Promise<void> {
  const fhirUser = d.fhirUser?.startsWith(`${opts.fhirBase}/`) ? d.fhirUser.slice(opts.fhirBase.length + 1) : d.fhirUser;
  // Absent facts are left undefined: the event builder skips them (audit-event.ts).
  const actor: AuditActor = { userId: d.userId, fhirUser, userName: d.userName, attemptedUsername: d.attemptedUsername, clientId: d.clientId, address: request.ip };
  const id = recordId(request);
  await opts.audit.record({
    kind: 'auth',
    id,
    recorded: new Date().toISOString(),
    event: d.event,
    actor,
    outcome: { status, description },
    patients: d.patient ? [`Patient/${d.patient}`] : [],
    scope: d.scope,
    jti: d.jti,
    subjectClientId: d.subjectClientId,
  }, jti).catch((err: unknown) => {
    if (id === request.id) used.delete(request); // not written: the request's record to come takes its id
    throw err;
  });
}

/**
 * Audits every response of an OAuth endpoint plugin (token, introspection, revocation): the handler sets
 * `request.authAudit` with what it learned; a request it did not set it for (a refusal) is recorded as `fallback`
 * says, with the error.
 */
export function installOAuthAudit(app: FastifyInstance, opts: AuthAuditOptions, fallback: (request: FastifyRequest) => AuthAuditDetails): void {
  app.decorateRequest('authAudit', null);
  app.decorateRequest('authAuditCommitted', false);
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.method === 'OPTIONS') return payload; // CORS preflight: no credentials, nothing happens
    reply.header('X-Request-Id', request.id);
    if (request.authAuditCommitted) return payload;
    const details = request.authAudit ?? fallback(request);
    try {
      await recordAuthEvent(opts, request, reply.statusCode, details, reply.statusCode >= 400 ? oauthError(payload) : undefined);
      return payload;
    } catch (err) {
      request.log.error({ err }, 'the audit record could not be committed; the response is withheld');
      for (const h of ['content-length', 'www-authenticate']) reply.removeHeader(h);
      reply.code(500).type('application/json; charset=utf-8').header('Cache-Control', 'no-store');
      return JSON.stringify({ error: 'server_error', error_description: 'internal error' });
    }
  });
}

/** `error: error_description` of an RFC 6749 §5.2 error body (written for the client, so safe to keep). */
function oauthError(payload: unknown): string | undefined {
  if (typeof payload !== 'string' || !payload.startsWith('{')) return undefined;
  try {
    const body = JSON.parse(payload) as { error?: unknown; error_description?: unknown };
    if (typeof body.error !== 'string') return undefined;
    return typeof body.error_description === 'string' ? `${body.error}: ${body.error_description}` : body.error;
  } catch {
    return undefined;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by an OAuth endpoint's handler: what its audit record says. */
    authAudit: AuthAuditDetails | null;
    /** Set by a handler that committed the request's record itself (with its assertion's jti): the hook adds none. */
    authAuditCommitted: boolean;
  }
}
