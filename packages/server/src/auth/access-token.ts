// Access tokens: short-lived ES256 JWTs (RFC 9068 shape) that the FHIR server verifies locally against the
// server's own keys, carrying the SMART launch context so no database round trip is needed per request.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { KeyRing } from './key-ring.ts';

export const ACCESS_TOKEN_TYPE = 'at+jwt'; // RFC 9068 §2.1
export const ACCESS_TOKEN_ALG = 'ES256';

/** SMART launch context and identity claims carried in access tokens (SMART App Launch 2.2 §Launch context). */
export interface TokenContext {
  patient?: string;
  encounter?: string;
  fhirContext?: unknown[];
  fhirUser?: string;
  need_patient_banner?: boolean;
  smart_style_url?: string;
  intent?: string;
  tenant?: string;
  /** Custom launch parameters from the EHR's launch record (ehr/launch-request.ts). */
  parameters?: Record<string, string | number | boolean>;
}

export interface AccessTokenClaims {
  issuer: string;
  /** The FHIR base URL (`aud`). */
  audience: string;
  clientId: string;
  /** The user id or, for backend services, the client itself. */
  subject: string;
  scope: string;
  lifetimeSeconds: number;
  context?: TokenContext;
}

export interface IssuedAccessToken {
  token: string;
  jti: string;
  expiresIn: number;
  expiresAt: Date;
}

export async function issueAccessToken(keys: KeyRing, c: AccessTokenClaims, now = new Date()): Promise<IssuedAccessToken> {
  const { kid, key } = await keys.signingKey(ACCESS_TOKEN_ALG);
  const jti = randomUUID();
  const iat = Math.floor(now.getTime() / 1000);
  const token = await new SignJWT({ ...c.context, client_id: c.clientId, scope: c.scope })
    .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, kid, typ: ACCESS_TOKEN_TYPE })
    .setIssuer(c.issuer)
    .setAudience(c.audience)
    .setSubject(c.subject)
    .setJti(jti)
    .setIssuedAt(iat)
    .setExpirationTime(iat + c.lifetimeSeconds)
    .sign(key);
  return { token, jti, expiresIn: c.lifetimeSeconds, expiresAt: new Date((iat + c.lifetimeSeconds) * 1000) };
}
