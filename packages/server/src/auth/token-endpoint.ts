// POST {base}/auth/token (RFC 6749 §3.2). This first slice implements the client_credentials grant for SMART
// Backend Services (private_key_jwt client authentication); the other grants arrive with the authorize endpoint.
import type { FastifyInstance } from 'fastify';
import type { Database } from '../store/database.ts';
import { issueAccessToken } from './access-token.ts';
import type { KeyRing } from './key-ring.ts';
import { authenticateWithAssertion } from './client-assertion.ts';
import { OAuthError } from './oauth-errors.ts';
import { backendServiceScopes } from './scope-request.ts';

export const TOKEN_PATH = '/auth/token';

export interface TokenEndpointOptions {
  db: Database;
  keys: KeyRing;
  baseUrl: string;
}

export async function tokenEndpoint(app: FastifyInstance, opts: TokenEndpointOptions): Promise<void> {
  const tokenUrl = `${opts.baseUrl}${TOKEN_PATH}`;
  const fhirBase = `${opts.baseUrl}/fhir`;

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, new URLSearchParams(body as string)));
  app.setErrorHandler((err, request, reply) => {
    const oauth = err instanceof OAuthError ? err
      : (err as { statusCode?: number }).statusCode && (err as { statusCode: number }).statusCode < 500 ? new OAuthError('invalid_request', 'the request must be an application/x-www-form-urlencoded POST')
      : undefined;
    if (!oauth) request.log.error({ err }, 'token endpoint error');
    const error = oauth ?? new OAuthError('server_error', 'internal error', 500);
    return reply.code(error.status).header('Cache-Control', 'no-store').header('Pragma', 'no-cache').send(error.toJSON());
  });

  app.post(TOKEN_PATH, async (request, reply) => {
    if (!(request.body instanceof URLSearchParams)) throw new OAuthError('invalid_request', 'the request must be an application/x-www-form-urlencoded POST');
    const form = request.body;
    for (const [name] of form) {
      // RFC 6749 §3.2: parameters must not be repeated.
      if (form.getAll(name).length > 1) throw new OAuthError('invalid_request', `parameter ${name} is repeated`);
    }
    const grantType = form.get('grant_type');
    if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required');
    if (grantType !== 'client_credentials') throw new OAuthError('unsupported_grant_type', `grant_type ${grantType} is not supported`);

    const client = await authenticateWithAssertion(opts.db, form.get('client_assertion_type') ?? undefined, form.get('client_assertion') ?? undefined, { tokenEndpoint: tokenUrl });
    if (!client.grantTypes.includes('client_credentials')) throw new OAuthError('unauthorized_client', 'this client may not use client_credentials');
    const scope = backendServiceScopes(form.get('scope'), client.scopes).join(' ');
    const { token, expiresIn } = await issueAccessToken(opts.keys, {
      issuer: opts.baseUrl, audience: fhirBase, clientId: client.clientId, subject: client.clientId, scope, lifetimeSeconds: client.accessTokenLifetime,
    });
    return reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache')
      .send({ access_token: token, token_type: 'Bearer', expires_in: expiresIn, scope });
  });
}
