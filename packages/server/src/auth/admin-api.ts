// {base}/admin/api: the administrator's REST API for the client registry and RFC 7591 initial access tokens.
// One credential, the configured admin token, sent as `Authorization: Bearer` (RFC 6750 §2.1) and compared in
// constant time. Bodies and responses are JSON with ClientInput's field names; secrets appear only in the response
// that creates them, never in a GET and never in the log.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Database } from '../store/database.ts';
import type { AuthEvent } from '../audit/audit-event.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { installOAuthAudit, type AuthAuditDetails } from '../audit/auth-audit.ts';
import { OAuthError } from './oauth-errors.ts';
import { installOAuthErrorHandler } from './oauth-error-handler.ts';
import { bearerToken, challenge } from './bearer.ts';
import { CLIENT_ID, clientInputFromJson, clientPatchFromJson, jsonObject } from './clients/client-json.ts';
import {
  approveClient, deleteClient, getClient, listClients, registerClient, rotateClientSecret, setClientStatus, updateClient, type Client,
} from './clients/client-store.ts';
import {
  issueInitialAccessToken, MAX_INITIAL_ACCESS_TOKEN_LIFETIME, MIN_INITIAL_ACCESS_TOKEN_LIFETIME,
} from './clients/initial-access-token.ts';

export const ADMIN_API_PREFIX = '/admin/api';
export const ADMIN_REALM = 'firekeeper-admin';

export interface AdminApiOptions {
  db: Database;
  adminToken: string;
  audit: AuditLog;
  fhirBase: string;
  /** Injectable clock, for tests. */
  now?: () => Date;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest();

/** Compares a presented credential with the admin token in constant time (hashing gives equal lengths). */
export function matchesAdminToken(presented: string, adminToken: string): boolean {
  return timingSafeEqual(sha256(presented), sha256(adminToken));
}
const MAX_DESCRIPTION = 500;

const notFound = (id: string) => new OAuthError('invalid_client', `unknown client ${id}`, 404);

export async function adminApi(app: FastifyInstance, opts: AdminApiOptions): Promise<void> {
  const now = opts.now ?? (() => new Date());
  installOAuthErrorHandler(app, { name: 'admin API', realm: ADMIN_REALM, bodyErrorCode: 'invalid_request' });
  // Every request is audited, refusals (a wrong admin token) included; the app concerned is the object of the event.
  installOAuthAudit(app, { audit: opts.audit, fhirBase: opts.fhirBase }, adminAuditDetails);

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('Cache-Control', 'no-store');
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) {
      // RFC 6750 §3.1: a request without credentials gets a challenge without an error code.
      return reply.code(401).header('WWW-Authenticate', challenge(ADMIN_REALM)).header('Pragma', 'no-cache')
        .send({ error: 'invalid_token', error_description: 'the admin API needs Authorization: Bearer <admin token>' });
    }
    if (!matchesAdminToken(token, opts.adminToken)) throw new OAuthError('invalid_token', 'the admin token is not valid', 401);
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'invalid_request', error_description: 'no such admin API endpoint' }));

  async function existing(id: string): Promise<Client> {
    const client = await getClient(opts.db, clientId(id));
    if (!client) throw notFound(id);
    return client;
  }

  app.get('/clients', async () => ({ clients: await listClients(opts.db) }));

  app.post('/clients', async (request, reply) => {
    const { client, secret } = await registerClient(opts.db, clientInputFromJson(request.body), now());
    request.log.info({ clientId: client.clientId, type: client.type }, 'admin API: client registered');
    request.authAudit = { event: 'client-created', subjectClientId: client.clientId };
    return reply.code(201).send(secret === undefined ? client : { ...client, clientSecret: secret });
  });

  app.get<{ Params: { id: string } }>('/clients/:id', async (request) => existing(request.params.id));

  app.patch<{ Params: { id: string } }>('/clients/:id', async (request) => {
    const id = clientId(request.params.id);
    const patch = clientPatchFromJson(request.body);
    return updateClient(opts.db, id, patch, now());
  });

  app.delete<{ Params: { id: string } }>('/clients/:id', async (request, reply) => {
    const id = clientId(request.params.id);
    if (!(await deleteClient(opts.db, id))) throw notFound(id);
    request.log.info({ clientId: id }, 'admin API: client deleted');
    return reply.code(204).send();
  });

  app.post<{ Params: { id: string } }>('/clients/:id/rotate-secret', async (request) => {
    const client = await existing(request.params.id);
    if (client.type !== 'confidential-symmetric') throw new OAuthError('invalid_request', `a ${client.type} client has no secret`);
    const clientSecret = await rotateClientSecret(opts.db, client.clientId, now());
    request.log.info({ clientId: client.clientId }, 'admin API: client secret rotated');
    return { clientId: client.clientId, clientSecret };
  });

  app.post<{ Params: { id: string } }>('/clients/:id/approve', async (request) => {
    const client = await existing(request.params.id);
    const approved = await approveClient(opts.db, client.clientId, now());
    if (!approved) throw new OAuthError('invalid_request', `client ${client.clientId} is not pending (status: ${client.status})`, 409);
    return approved;
  });

  for (const [action, status] of [['suspend', 'suspended'], ['activate', 'active']] as const) {
    app.post<{ Params: { id: string } }>(`/clients/:id/${action}`, async (request) => {
      const client = await existing(request.params.id);
      return setClientStatus(opts.db, client.clientId, status, now());
    });
  }

  app.post('/initial-access-tokens', async (request, reply) => {
    const body = jsonObject(request.body, true);
    const unknown = Object.keys(body).find((k) => k !== 'expiresInSeconds' && k !== 'description');
    if (unknown !== undefined) throw new OAuthError('invalid_request', `unknown field ${unknown}`);
    const { expiresInSeconds = undefined, description = undefined } = body;
    if (expiresInSeconds !== undefined && !isLifetime(expiresInSeconds)) {
      throw new OAuthError('invalid_request', `expiresInSeconds must be a whole number from ${MIN_INITIAL_ACCESS_TOKEN_LIFETIME} to ${MAX_INITIAL_ACCESS_TOKEN_LIFETIME} (30 days)`);
    }
    if (description !== undefined && (typeof description !== 'string' || description.length > MAX_DESCRIPTION)) {
      throw new OAuthError('invalid_request', `description must be a string of at most ${MAX_DESCRIPTION} characters`);
    }
    const issued = await issueInitialAccessToken(opts.db, { expiresInSeconds, description }, now());
    request.log.info({ expiresAt: issued.expiresAt }, 'admin API: initial access token issued');
    return reply.code(201).send(issued);
  });
}

/** The audit event of an admin API request, from its route; the app is the one in the path, when it is well formed. */
function adminAuditDetails(request: FastifyRequest): AuthAuditDetails {
  const route = request.routeOptions.url ?? '';
  const id = (request.params as { id?: string } | undefined)?.id;
  const event: AuthEvent = request.method === 'GET' ? 'admin-read'
    : route.endsWith('/rotate-secret') ? 'client-secret-rotated'
      : route.endsWith('/initial-access-tokens') ? 'initial-access-token-issued'
        : request.method === 'DELETE' ? 'client-deleted'
          : route.endsWith('/clients') ? 'client-created' : 'client-updated';
  return { event, ...(id !== undefined && CLIENT_ID.test(id) ? { subjectClientId: id } : {}) };
}

function clientId(id: string): string {
  if (!CLIENT_ID.test(id)) throw new OAuthError('invalid_request', 'a client id is 1 to 128 letters, digits or . _ ~ -');
  return id;
}

const isLifetime = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= MIN_INITIAL_ACCESS_TOKEN_LIFETIME && v <= MAX_INITIAL_ACCESS_TOKEN_LIFETIME;
