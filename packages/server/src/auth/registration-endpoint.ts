// POST {base}/auth/register: RFC 7591 dynamic client registration. Anyone may register; the client stays
// `pending` until an administrator approves it, unless the request carries a valid initial access token (RFC 7591
// §3, issued by the admin API), which registers it `active` at once and is then used up.
import type { FastifyInstance } from 'fastify';
import type { Database } from '../store/database.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { installOAuthAudit } from '../audit/auth-audit.ts';
import { OAuthError } from './oauth-errors.ts';
import { installOAuthErrorHandler } from './oauth-error-handler.ts';
import { bearerToken } from './bearer.ts';
import { registerClient } from './clients/client-store.ts';
import { claimInitialAccessToken } from './clients/initial-access-token.ts';
import { clientInputFromMetadata, registrationResponse } from './clients/registration-metadata.ts';

export const REGISTRATION_PATH = '/auth/register';
export const REGISTRATION_REALM = 'firekeeper-registration';

export interface RegistrationEndpointOptions {
  db: Database;
  audit: AuditLog;
  fhirBase: string;
  /** Injectable clock, for tests. */
  now?: () => Date;
}

const invalidToken = (description: string) => new OAuthError('invalid_token', description, 401);

export async function registrationEndpoint(app: FastifyInstance, opts: RegistrationEndpointOptions): Promise<void> {
  const clock = opts.now ?? (() => new Date());
  // RFC 7591 §3.2.2: registration errors are 400 JSON; a bad initial access token is answered as RFC 6750 §3.1 says.
  installOAuthErrorHandler(app, { name: 'registration endpoint', realm: REGISTRATION_REALM, bodyErrorCode: 'invalid_client_metadata' });
  installOAuthAudit(app, { audit: opts.audit, fhirBase: opts.fhirBase }, () => ({ event: 'client-created' }));

  app.post(REGISTRATION_PATH, async (request, reply) => {
    const now = clock();
    const header = request.headers.authorization;
    const token = header === undefined ? undefined : bearerToken(header);
    if (header !== undefined && !token) throw invalidToken('an initial access token must be sent as Authorization: Bearer <token>');

    const { client, secret } = token === undefined
      ? await registerClient(opts.db, { ...clientInputFromMetadata(request.body), status: 'pending' }, now)
      : await opts.db.transaction(async (tx) => {
        // The token is checked before the metadata, and claimed in the transaction that creates the client: a
        // rejected registration leaves it unused, and two requests cannot both use it.
        const record = await claimInitialAccessToken(tx, token, now);
        if (!record) throw invalidToken('the initial access token is not valid, has expired or has been used');
        const registered = await registerClient(tx, { ...clientInputFromMetadata(request.body), status: 'active' }, now);
        await record(registered.client.clientId);
        return registered;
      });
    request.log.info({ clientId: client.clientId, type: client.type, status: client.status }, 'client registered (RFC 7591)');
    request.authAudit = { event: 'client-created', subjectClientId: client.clientId };
    // §3.2.1: 201 with the client information; the secret is in this response only.
    return reply.code(201).header('Cache-Control', 'no-store').header('Pragma', 'no-cache').send(registrationResponse(client, now, secret));
  });
}
