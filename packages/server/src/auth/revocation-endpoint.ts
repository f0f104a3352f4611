// POST {base}/auth/revoke (RFC 7009). The client authenticates (a public client by its client_id) and may revoke
// only its own tokens. Revoking a refresh token revokes its whole grant, access tokens included (§2.1); revoking an
// access token lists its jti, which every instance honours within a poll interval. Unknown tokens get 200 (§2.2).
import type { FastifyInstance } from 'fastify';
import { decodeJwt } from 'jose';
import type { Database } from '../store/database.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { installOAuthAudit } from '../audit/auth-audit.ts';
import { InvalidTokenError, type AccessTokenVerifier } from './access-token-verifier.ts';
import { authenticateClient } from './client-authentication.ts';
import { oauthForm, registerFormParser } from './form-body.ts';
import { findRefreshToken, revokeGrant } from './grant-store.ts';
import { installOAuthErrorHandler } from './oauth-error-handler.ts';
import { OAuthError } from './oauth-errors.ts';
import type { RevocationList } from './revocation-list.ts';

export const REVOCATION_PATH = '/auth/revoke';

export interface RevocationOptions {
  db: Database;
  verifier: AccessTokenVerifier;
  revocations: RevocationList;
  baseUrl: string;
  audit: AuditLog;
}

const notYours = () => new OAuthError('unauthorized_client', 'the token was issued to another client');

export async function revocationEndpoint(app: FastifyInstance, opts: RevocationOptions): Promise<void> {
  const { db, verifier, revocations } = opts;
  registerFormParser(app);
  installOAuthAudit(app, { audit: opts.audit, fhirBase: `${opts.baseUrl}/fhir` }, () => ({ event: 'token-revoked' }));
  installOAuthErrorHandler(app, { name: 'revocation endpoint', realm: 'firekeeper', bodyErrorCode: 'invalid_request', bodyType: 'application/x-www-form-urlencoded' });

  app.post(REVOCATION_PATH, async (request, reply) => {
    const form = oauthForm(request);
    const { client } = await authenticateClient(db, request, form, { tokenEndpoint: `${opts.baseUrl}${REVOCATION_PATH}` });
    const token = form.get('token');
    if (!token) throw new OAuthError('invalid_request', 'token is required');
    reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
    request.authAudit = { event: 'token-revoked', clientId: client.clientId };
    const refresh = await findRefreshToken(db, token);
    if (refresh) {
      if (refresh.grant.clientId !== client.clientId) throw notYours();
      await revokeGrant(db, revocations, refresh.grant.id);
      const { grant } = refresh;
      request.authAudit = { event: 'token-revoked', clientId: client.clientId, userId: grant.userId, fhirUser: grant.context.fhirUser, patient: grant.context.patient, scope: grant.scope };
      return reply.code(200).send();
    }
    const access = await verifiedAccessToken(token);
    if (access) {
      if (access.client_id !== client.clientId) throw notYours();
      await revocations.revoke(db, [{ jti: access.jti!, expiresAt: new Date(access.exp! * 1000) }]);
      request.authAudit = {
        event: 'token-revoked', clientId: client.clientId, jti: access.jti!, ...(typeof access.scope === 'string' ? { scope: access.scope } : {}),
        ...(typeof access.patient === 'string' ? { patient: access.patient } : {}),
        ...(typeof access.fhirUser === 'string' ? { fhirUser: access.fhirUser } : {}),
        ...(access.sub !== client.clientId && access.sub ? { userId: access.sub } : {}),
      };
    }
    return reply.code(200).send();
  });

  /** The claims of a live access token of this server; undefined for anything else (already dead or not ours). */
  async function verifiedAccessToken(token: string) {
    if (token.split('.').length !== 3) return undefined;
    try {
      await verifier.verify(token);
      return decodeJwt(token);
    } catch (err) {
      if (err instanceof InvalidTokenError) return undefined;
      throw err;
    }
  }
}
