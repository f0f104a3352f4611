// POST {base}/auth/introspect (RFC 7662). The caller authenticates as a confidential client or with the admin
// credential; any token that is unknown, expired, revoked or malformed is simply `{"active": false}` (§2.2).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Database } from '../store/database.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { installOAuthAudit } from '../audit/auth-audit.ts';
import { InvalidTokenError, type AccessTokenVerifier } from './access-token-verifier.ts';
import { matchesAdminToken } from './admin-api.ts';
import { bearerToken } from './bearer.ts';
import { authenticateClient } from './client-authentication.ts';
import { oauthForm, registerFormParser } from './form-body.ts';
import { findRefreshToken } from './grant-store.ts';
import { RESPONSE_CONTEXT_FIELDS } from './launch-context.ts';
import { installOAuthErrorHandler } from './oauth-error-handler.ts';
import { OAuthError } from './oauth-errors.ts';

export const INTROSPECTION_PATH = '/auth/introspect';

export interface IntrospectionOptions {
  db: Database;
  verifier: AccessTokenVerifier;
  baseUrl: string;
  adminToken: string;
  audit: AuditLog;
}

const INACTIVE = { active: false };
const CLAIMS = ['scope', 'client_id', 'sub', 'exp', 'iat', 'iss', 'aud', 'jti', 'fhirUser', ...RESPONSE_CONTEXT_FIELDS] as const;

export async function introspectionEndpoint(app: FastifyInstance, opts: IntrospectionOptions): Promise<void> {
  const { db, verifier, baseUrl } = opts;
  registerFormParser(app);
  installOAuthAudit(app, { audit: opts.audit, fhirBase: `${baseUrl}/fhir` }, () => ({ event: 'token-introspected' }));
  installOAuthErrorHandler(app, { name: 'introspection endpoint', realm: 'firekeeper', bodyErrorCode: 'invalid_request', bodyType: 'application/x-www-form-urlencoded' });

  app.post(INTROSPECTION_PATH, async (request, reply) => {
    const form = oauthForm(request);
    const caller = await authorizeCaller(request, form);
    reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
    const token = form.get('token');
    if (!token) throw new OAuthError('invalid_request', 'token is required');
    const body: Record<string, unknown> = (await introspectAccessToken(token)) ?? (await introspectRefreshToken(token)) ?? INACTIVE;
    // The record names the caller and what it learned about (the token's jti, scope and patient), not the token.
    request.authAudit = {
      event: 'token-introspected', ...(caller ? { clientId: caller } : {}),
      ...(typeof body.jti === 'string' ? { jti: body.jti } : {}), ...(typeof body.scope === 'string' ? { scope: body.scope } : {}),
      ...(typeof body.patient === 'string' ? { patient: body.patient } : {}),
    };
    return body;
  });

  /** The calling client's id, or undefined for the admin credential. */
  async function authorizeCaller(request: FastifyRequest, form: URLSearchParams): Promise<string | undefined> {
    const bearer = bearerToken(request.headers.authorization);
    if (bearer !== undefined) {
      if (!matchesAdminToken(bearer, opts.adminToken)) throw new OAuthError('invalid_token', 'the Bearer credential is not the admin credential', 401);
      return undefined;
    }
    const { method, client } = await authenticateClient(db, request, form, { tokenEndpoint: `${baseUrl}${INTROSPECTION_PATH}` });
    if (method === 'none') throw new OAuthError('invalid_client', 'introspection is for confidential clients and resource servers', 401);
    return client.clientId;
  }

  async function introspectAccessToken(token: string): Promise<Record<string, unknown> | undefined> {
    if (token.split('.').length !== 3) return undefined;
    try {
      const { claims } = await verifier.verify(token);
      const body: Record<string, unknown> = { active: true, token_type: 'Bearer' };
      for (const c of CLAIMS) if (claims[c] !== undefined) body[c] = claims[c];
      return body;
    } catch (err) {
      if (err instanceof InvalidTokenError) return INACTIVE;
      throw err;
    }
  }

  async function introspectRefreshToken(token: string): Promise<Record<string, unknown> | undefined> {
    const found = await findRefreshToken(db, token);
    if (!found) return undefined;
    const { grant } = found;
    const body: Record<string, unknown> = { active: true, token_type: 'refresh_token', scope: found.scope, client_id: grant.clientId, sub: grant.userId, exp: found.expiresAt, iss: baseUrl };
    for (const c of ['fhirUser', ...RESPONSE_CONTEXT_FIELDS] as const) if (grant.context[c] !== undefined) body[c] = grant.context[c];
    return body;
  }
}
