// GET/POST {base}/auth/userinfo (OpenID Connect Core §5.3): the signed-in user's identity claims, for an access
// token granted with `openid`; the claims follow the granted scopes (fhirUser, profile, email).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Database } from '../store/database.ts';
import { InvalidTokenError, type AccessTokenVerifier } from './access-token-verifier.ts';
import { bearerToken } from './bearer.ts';
import { identityClaims } from './id-token.ts';
import { installOAuthErrorHandler } from './oauth-error-handler.ts';
import { OAuthError } from './oauth-errors.ts';
import { getUser } from './users/user-store.ts';

export const USERINFO_PATH = '/auth/userinfo';

export async function userinfoEndpoint(app: FastifyInstance, opts: { db: Database; verifier: AccessTokenVerifier; fhirBase: string }): Promise<void> {
  installOAuthErrorHandler(app, { name: 'userinfo endpoint', realm: 'firekeeper', bodyErrorCode: 'invalid_request', bodyType: 'application/x-www-form-urlencoded' });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, _body, done) => done(null, undefined));

  const handler = async (request: FastifyRequest) => {
    const token = bearerToken(request.headers.authorization);
    if (!token) throw new OAuthError('invalid_token', 'an access token is required (Authorization: Bearer)', 401);
    let verified;
    try {
      verified = await opts.verifier.verify(token);
    } catch (err) {
      if (err instanceof InvalidTokenError) throw new OAuthError('invalid_token', err.message, 401);
      throw err;
    }
    const scopes = verified.principal.scopes;
    if (!scopes.includes('openid') || !verified.principal.userId) throw new OAuthError('insufficient_scope', 'the access token was not granted openid', 403);
    const user = await getUser(opts.db, verified.principal.userId);
    if (!user) throw new OAuthError('invalid_token', 'the user no longer exists', 401);
    return { sub: user.id, ...identityClaims(user, scopes, opts.fhirBase) };
  };
  app.get(USERINFO_PATH, handler);
  app.post(USERINFO_PATH, handler);
}
