// private_key_jwt client authentication (RFC 7523 §2.2 and §3; SMART App Launch 2.2, client-confidential-asymmetric
// and Backend Services): a JWT signed with one of the client's registered keys, for this token endpoint, used once.
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { Queryable } from '../store/database.ts';
import { CLIENT_ASSERTION_ALGS } from './clients/client-registration.ts';
import { getClient, type Client } from './clients/client-store.ts';
import { OAuthError } from './oauth-errors.ts';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** SMART Backend Services: `exp` no more than five minutes in the future. */
const MAX_ASSERTION_LIFETIME_SECONDS = 300;

const invalidClient = (description: string) => new OAuthError('invalid_client', description, 401);

// Remote key sets are cached by jose per URL (a miss refetches, so the cache is safe on every instance).
const remoteKeySets = new Map<string, JWTVerifyGetKey>();

function keySet(client: Client): JWTVerifyGetKey {
  if (client.jwks) return createLocalJWKSet(client.jwks as never);
  let remote = remoteKeySets.get(client.jwksUri!);
  if (!remote) remoteKeySets.set(client.jwksUri!, (remote = createRemoteJWKSet(new URL(client.jwksUri!), { timeoutDuration: 5000 })));
  return remote;
}

export interface AssertionContext {
  /** The token endpoint URL: the assertion's required `aud`. */
  tokenEndpoint: string;
  now?: Date;
}

/** Verifies a client assertion and returns the authenticated client; throws invalid_client (401) otherwise. */
export async function authenticateWithAssertion(q: Queryable, assertionType: string | undefined, assertion: string | undefined, ctx: AssertionContext): Promise<Client> {
  if (assertionType !== JWT_BEARER_ASSERTION) throw invalidClient(`client_assertion_type must be ${JWT_BEARER_ASSERTION}`);
  if (!assertion) throw invalidClient('client_assertion is missing');
  let clientId: string;
  try {
    const header = decodeProtectedHeader(assertion);
    if (!CLIENT_ASSERTION_ALGS.includes(String(header.alg))) throw invalidClient(`client_assertion alg ${String(header.alg)} is not accepted (${CLIENT_ASSERTION_ALGS.join(', ')})`);
    const claims = decodeJwt(assertion);
    if (!claims.iss || claims.iss !== claims.sub) throw invalidClient('client_assertion iss and sub must both be the client_id');
    clientId = claims.iss;
  } catch (err) {
    if (err instanceof OAuthError) throw err;
    throw invalidClient('client_assertion is not a JWT');
  }
  const client = await getClient(q, clientId);
  if (!client || client.authMethod !== 'private_key_jwt') throw invalidClient('unknown client, or not registered for private_key_jwt');
  if (client.status !== 'active') throw invalidClient(`client is ${client.status}`);

  const now = ctx.now ?? new Date();
  let payload;
  try {
    ({ payload } = await jwtVerify(assertion, keySet(client), {
      algorithms: CLIENT_ASSERTION_ALGS, issuer: clientId, subject: clientId, audience: ctx.tokenEndpoint,
      requiredClaims: ['exp', 'jti'], currentDate: now, clockTolerance: 5,
    }));
  } catch (err) {
    throw invalidClient(assertionFailure(err));
  }
  if (payload.exp! - now.getTime() / 1000 > MAX_ASSERTION_LIFETIME_SECONDS + 5) throw invalidClient('client_assertion exp is more than five minutes in the future');
  await rememberJti(q, clientId, String(payload.jti), new Date(payload.exp! * 1000), now);
  return client;
}

function assertionFailure(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'client_assertion has expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `client_assertion claim ${err.claim} is invalid (${err.reason})`;
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWSSignatureVerificationFailed) return 'client_assertion signature does not match a registered key';
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JOSEError) return `client_assertion could not be verified (${err.code})`;
  return 'client_assertion could not be verified';
}

/** RFC 7523 §3 item 7: a jti is accepted once per client while the assertion is valid. */
async function rememberJti(q: Queryable, clientId: string, jti: string, expiresAt: Date, now: Date): Promise<void> {
  await q.query('DELETE FROM client_assertion_jtis WHERE expires_at < $1::timestamptz', [now.toISOString()]);
  const rows = await q.query<{ jti: string }>(
    `INSERT INTO client_assertion_jtis (client_id, jti, expires_at) VALUES ($1, $2, $3::timestamptz) ON CONFLICT DO NOTHING RETURNING jti`,
    [clientId, jti, expiresAt.toISOString()],
  );
  if (rows.length === 0) throw invalidClient('client_assertion jti has already been used');
}
