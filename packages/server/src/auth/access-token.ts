// Access tokens: short-lived ES256 JWTs (RFC 9068 shape) that the FHIR server verifies locally against the JWKS.
import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT } from 'jose';
import type { Queryable } from '../store/database.ts';
import { currentSigningKeys } from './signing-keys.ts';

export interface AccessTokenClaims {
  issuer: string;
  /** The FHIR base URL (`aud`). */
  audience: string;
  clientId: string;
  /** The user (`fhirUser`'s subject) or, for backend services, the client itself. */
  subject: string;
  scope: string;
  lifetimeSeconds: number;
  context?: Record<string, unknown>;
}

export async function issueAccessToken(q: Queryable, c: AccessTokenClaims, now = new Date()): Promise<{ token: string; jti: string; expiresIn: number }> {
  const key = (await currentSigningKeys(q, now)).find((k) => k.alg === 'ES256' && k.status === 'active');
  if (!key) throw new Error('no active ES256 signing key'); // ensureSigningKeys runs at start-up
  const jti = randomUUID();
  const iat = Math.floor(now.getTime() / 1000);
  const token = await new SignJWT({ ...c.context, client_id: c.clientId, scope: c.scope })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' })
    .setIssuer(c.issuer)
    .setAudience(c.audience)
    .setSubject(c.subject)
    .setJti(jti)
    .setIssuedAt(iat)
    .setExpirationTime(iat + c.lifetimeSeconds)
    .sign(await importJWK(key.privateJwk, 'ES256'));
  return { token, jti, expiresIn: c.lifetimeSeconds };
}
