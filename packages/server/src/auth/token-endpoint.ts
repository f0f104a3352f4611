// POST {base}/auth/token (RFC 6749 §3.2): the authorization_code grant with PKCE, refresh_token with rotation and
// reuse detection, and client_credentials for SMART Backend Services. Responses are never cached (§5.1); errors
// are RFC 6749 §5.2 JSON, rendered in one place. Browsers may call it only from a registered CORS origin.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseScopeString, scopesCover } from '../access/scope-grammar.ts';
import type { Database } from '../store/database.ts';
import { JtiNotRecorded, type AuditLog } from '../audit/audit-log.ts';
import { installOAuthAudit, recordAuthEvent } from '../audit/auth-audit.ts';
import type { JtiItem } from './assertion-jtis.ts';
import { issueAccessToken, type TokenContext } from './access-token.ts';
import { recordPendingJti, replayedAssertion } from './client-assertion.ts';
import { authenticateClient, presentsClientCredentials, type AuthenticatedClient } from './client-authentication.ts';
import { getClient, originRegistered, type Client } from './clients/client-store.ts';
import { oauthForm, registerFormParser } from './form-body.ts';
import { findRefreshToken, issueRefreshToken, recordAccessToken, redeemCode, revokeGrant, useRefreshToken, type Grant } from './grant-store.ts';
import { issueIdToken } from './id-token.ts';
import type { KeyRing } from './key-ring.ts';
import { RESPONSE_CONTEXT_FIELDS } from './launch-context.ts';
import { OAuthError } from './oauth-errors.ts';
import { installOAuthErrorHandler } from './oauth-error-handler.ts';
import type { RevocationList } from './revocation-list.ts';
import { backendServiceScopes } from './scope-request.ts';
import { SESSION_LIFETIME_S, sessionIsLive } from './session.ts';
import { getUser } from './users/user-store.ts';

export const TOKEN_PATH = '/auth/token';
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/; // RFC 7636 §4.1

export interface TokenEndpointOptions {
  db: Database;
  keys: KeyRing;
  revocations: RevocationList;
  baseUrl: string;
  audit: AuditLog;
}

const invalidGrant = (description: string) => new OAuthError('invalid_grant', description);
const noStore = (reply: FastifyReply) => reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');

export async function tokenEndpoint(app: FastifyInstance, opts: TokenEndpointOptions): Promise<void> {
  const { db, keys, revocations, baseUrl } = opts;
  const tokenUrl = `${baseUrl}${TOKEN_PATH}`;
  const fhirBase = `${baseUrl}/fhir`;

  registerFormParser(app);
  app.decorateRequest('pendingJti', undefined);
  // Every response is audited: a refused refresh as token-refreshed, any other refusal as token-issued.
  const auditOptions = { audit: opts.audit, fhirBase };
  installOAuthAudit(app, auditOptions, (request) =>
    ({ event: request.body instanceof URLSearchParams && request.body.get('grant_type') === 'refresh_token' ? 'token-refreshed' : 'token-issued' }));
  installOAuthErrorHandler(app, { name: 'token endpoint', realm: 'firekeeper', bodyErrorCode: 'invalid_request', bodyType: 'application/x-www-form-urlencoded' });

  // CORS preflight: allowed for origins registered by an active client (the POST then checks that client's own list).
  app.options(TOKEN_PATH, async (request, reply) => {
    const origin = request.headers.origin;
    if (!origin || !(await originRegistered(db, origin))) return reply.code(403).header('Vary', 'Origin').send();
    return reply.code(204).header('Vary', 'Origin').header('Access-Control-Allow-Origin', origin)
      .header('Access-Control-Allow-Methods', 'POST').header('Access-Control-Allow-Headers', 'Content-Type, Authorization')
      .header('Access-Control-Max-Age', '600').send();
  });

  app.post(TOKEN_PATH, async (request, reply) => {
    const form = oauthForm(request);
    const grantType = form.get('grant_type');
    if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required');
    if (!['authorization_code', 'refresh_token', 'client_credentials'].includes(grantType)) throw new OAuthError('unsupported_grant_type', `grant_type ${grantType} is not supported`);
    let body: object;
    try {
      body = await grant(request, reply, form, grantType, grantType === 'client_credentials');
    } catch (err) {
      const changed = err instanceof JtiNotRecorded ? err.outcome === 'changed' : await refusedWithStaleClient(request);
      if (!changed) throw err;
      // The client's registration changed since it was cached: read it again, and record the jti on its own.
      body = await grant(request, reply, form, grantType, false);
    }
    return noStore(reply).send(body);
  });

  /**
   * A refusal made with a cached client whose assertion's jti is still pending (deferJti) is only sent once the jti
   * is recorded against the client as stored: true when the client changed (the request is run again, so that no
   * refusal rests on a registration that no longer holds); a replay is refused as such, as it would have been first.
   */
  async function refusedWithStaleClient(request: FastifyRequest): Promise<boolean> {
    const jti = request.pendingJti;
    if (!jti) return false;
    request.pendingJti = undefined;
    const outcome = await recordPendingJti(db, jti);
    if (outcome === 'replay') throw replayedAssertion();
    return outcome === 'changed';
  }

  /** Authenticates the client and runs the grant; `deferJti`: see client-assertion.ts (backend services' hot path). */
  async function grant(request: FastifyRequest, reply: FastifyReply, form: URLSearchParams, grantType: string, deferJti: boolean): Promise<object> {
    const auth = grantType === 'refresh_token' && !presentsClientCredentials(request, form)
      ? await publicClientOfRefreshToken(form.get('refresh_token'))
      : await authenticateClient(db, request, form, { tokenEndpoint: tokenUrl, deferJti });
    allowOrigin(request, reply, auth.client);
    if (!auth.client.grantTypes.includes(grantType as never)) throw new OAuthError('unauthorized_client', `this client may not use the ${grantType} grant`);
    return grantType === 'client_credentials' ? clientCredentials(request, auth, form)
      : grantType === 'authorization_code' ? authorizationCode(request, auth, form)
      : refreshToken(request, auth, form);
  }

  /**
   * Commits the issued token's AuditEvent together with its assertion's jti (one statement: audit-log.ts), so the
   * token is answered only once both are on disk. A replayed jti writes nothing and refuses the request; a changed
   * client is thrown on (JtiNotRecorded 'changed') for the caller to read it again.
   */
  async function commitIssued(request: FastifyRequest, jti: JtiItem): Promise<void> {
    request.pendingJti = undefined;
    try {
      await recordAuthEvent(auditOptions, request, 200, request.authAudit!, undefined, jti);
      request.authAuditCommitted = true;
    } catch (err) {
      request.authAudit = null; // nothing was issued: the refusal's record says so
      if (err instanceof JtiNotRecorded && err.outcome === 'replay') throw replayedAssertion();
      throw err;
    }
  }

  /**
   * RFC 6749 §6: only confidential clients must authenticate to refresh; a public client may send just the refresh
   * token (fhirclient does), which then names the client. A confidential client's token still needs its credentials.
   */
  async function publicClientOfRefreshToken(presented: string | null): Promise<AuthenticatedClient> {
    if (!presented) throw new OAuthError('invalid_request', 'refresh_token is required');
    const live = await findRefreshToken(db, presented);
    if (!live) throw invalidGrant('the refresh token is unknown, expired, revoked, or was issued to another client');
    const client = await getClient(db, live.grant.clientId);
    if (client?.authMethod !== 'none') throw new OAuthError('invalid_client', 'client authentication is required for this client', 401);
    if (client.status !== 'active') throw new OAuthError('invalid_client', `client is ${client.status}`, 401);
    return { client, method: 'none' };
  }

  async function clientCredentials(request: FastifyRequest, auth: AuthenticatedClient, form: URLSearchParams) {
    if (auth.method !== 'private_key_jwt') throw new OAuthError('invalid_client', 'client_credentials needs private_key_jwt client authentication', 401);
    const scope = backendServiceScopes(form.get('scope'), auth.client.scopes).join(' ');
    const { token, expiresIn, jti } = await issueAccessToken(keys, {
      issuer: baseUrl, audience: fhirBase, clientId: auth.client.clientId, subject: auth.client.clientId, scope, lifetimeSeconds: auth.client.accessTokenLifetime,
    });
    request.authAudit = { event: 'token-issued', clientId: auth.client.clientId, scope, jti };
    if (request.pendingJti) await commitIssued(request, request.pendingJti);
    return { access_token: token, token_type: 'Bearer', expires_in: expiresIn, scope };
  }

  async function authorizationCode(request: FastifyRequest, { client }: AuthenticatedClient, form: URLSearchParams) {
    const code = form.get('code');
    const redirectUri = form.get('redirect_uri');
    const verifier = form.get('code_verifier');
    if (!code) throw new OAuthError('invalid_request', 'code is required');
    if (!redirectUri) throw new OAuthError('invalid_request', 'redirect_uri is required');
    if (!verifier) throw new OAuthError('invalid_request', 'code_verifier is required (PKCE)');
    const redeemed = await redeemCode(db, revocations, code, client.clientId);
    if (redeemed === 'reused') throw invalidGrant('the authorization code was already used; the tokens issued from it are revoked');
    if (!redeemed) throw invalidGrant('the authorization code is unknown, expired, or was issued to another client');
    if (redeemed.redirectUri !== redirectUri) throw invalidGrant('redirect_uri does not match the authorization request');
    if (!pkceMatches(verifier, redeemed.codeChallenge)) throw invalidGrant('code_verifier does not match the code_challenge (PKCE)');
    return tokensFor(request, client, redeemed.grant, redeemed.grant.scope, { nonce: redeemed.nonce });
  }

  async function refreshToken(request: FastifyRequest, { client }: AuthenticatedClient, form: URLSearchParams) {
    const presented = form.get('refresh_token');
    if (!presented) throw new OAuthError('invalid_request', 'refresh_token is required');
    // The requested scope is checked before the token is rotated, so a refused request does not consume it.
    const live = await findRefreshToken(db, presented);
    if (live?.grant.clientId === client.clientId) narrowedScope(form.get('scope'), live.scope);
    const used = await useRefreshToken(db, revocations, presented, client.clientId);
    if (used === 'reused') throw invalidGrant('the refresh token was already used; every token of this grant is revoked');
    if (!used) throw invalidGrant('the refresh token is unknown, expired, revoked, or was issued to another client');
    if (used.grant.sessionIdHash && !(await sessionIsLive(db, used.grant.sessionIdHash))) {
      await revokeGrant(db, revocations, used.grant.id);
      throw invalidGrant('the sign-in session this online_access grant was bound to has ended');
    }
    const scope = narrowedScope(form.get('scope'), used.scope);
    return tokensFor(request, client, used.grant, scope, { refreshScope: used.scope });
  }

  async function tokensFor(request: FastifyRequest, client: Client, grant: Grant, scope: string, o: { nonce?: string | null; refreshScope?: string }) {
    const scopes = scope.split(' ');
    const issued = await issueAccessToken(keys, {
      issuer: baseUrl, audience: fhirBase, clientId: client.clientId, subject: grant.userId, scope, lifetimeSeconds: client.accessTokenLifetime, context: grant.context,
    });
    await recordAccessToken(db, grant.id, issued.jti, issued.expiresAt);
    request.authAudit = {
      event: o.refreshScope === undefined ? 'token-issued' : 'token-refreshed', clientId: client.clientId, userId: grant.userId,
      fhirUser: grant.context.fhirUser, patient: grant.context.patient, scope, jti: issued.jti,
    };
    const body: Record<string, unknown> = { access_token: issued.token, token_type: 'Bearer', expires_in: issued.expiresIn, scope };
    const refreshScope = o.refreshScope ?? scope;
    const offline = refreshScope.split(' ').includes('offline_access');
    if ((offline || refreshScope.split(' ').includes('online_access')) && client.grantTypes.includes('refresh_token')) {
      body.refresh_token = await issueRefreshToken(db, grant.id, refreshScope, offline ? client.refreshTokenLifetime : Math.min(client.refreshTokenLifetime, SESSION_LIFETIME_S));
    }
    if (scopes.includes('openid')) {
      const user = await getUser(db, grant.userId);
      if (user) body.id_token = await issueIdToken(keys, { issuer: baseUrl, clientId: client.clientId, user, scopes, fhirBase, nonce: o.nonce });
    }
    for (const field of RESPONSE_CONTEXT_FIELDS) {
      const value = grant.context[field as keyof TokenContext];
      if (value !== undefined) body[field] = value;
    }
    // An EHR launch's custom parameters; their names were checked not to be any of the response's own (launch API).
    for (const [name, value] of Object.entries(grant.context.parameters ?? {})) if (!Object.hasOwn(body, name)) body[name] = value;
    return body;
  }

  /** A browser may call the token endpoint only from an origin the client registered. */
  function allowOrigin(request: FastifyRequest, reply: FastifyReply, client: Client) {
    const origin = request.headers.origin;
    if (origin === undefined) return;
    if (!client.corsOrigins.includes(origin)) throw new OAuthError('invalid_request', `origin ${origin} is not registered for this client`);
    reply.header('Access-Control-Allow-Origin', origin).header('Vary', 'Origin');
  }
}

/** RFC 7636 §4.6: BASE64URL(SHA256(code_verifier)) == code_challenge, compared in constant time. */
function pkceMatches(verifier: string, challenge: string): boolean {
  if (!CODE_VERIFIER.test(verifier)) return false;
  const computed = Buffer.from(createHash('sha256').update(verifier).digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}

/** RFC 6749 §6: a refresh may ask for the same or fewer scopes, never more. */
function narrowedScope(requested: string | null, original: string): string {
  if (!requested) return original;
  const originals = original.split(' ');
  const granted = parseScopeString(original).resource;
  const parsed = parseScopeString(requested);
  if (parsed.invalid[0]) throw new OAuthError('invalid_scope', `scope ${parsed.invalid[0].raw} is not valid: ${parsed.invalid[0].reason}`);
  const widened = [...parsed.special.filter((s) => !originals.includes(s)), ...parsed.resource.filter((s) => !scopesCover(granted, s)).map((s) => s.raw)];
  if (widened[0]) throw new OAuthError('invalid_scope', `scope ${widened[0]} was not granted; a refresh may only narrow the scope`);
  return [...parsed.special, ...parsed.resource.map((s) => s.raw)].join(' ');
}
