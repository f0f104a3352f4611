// Access tokens: short-lived ES256 JWTs (RFC 9068 shape) that the FHIR server verifies locally against the
// server's own keys, carrying the SMART launch context so no database round trip is needed per request.
//
// Signed with node:crypto's `sign` on the thread pool (./pooled-crypto.ts), not jose's SignJWT: jose signs through
// WebCrypto, whose hand-off to the thread pool and back cost the token endpoint more main-thread time than the
// signature itself. The JWS is the RFC 7515 §7.1 compact serialisation of two JSON texts; the signature is OpenSSL's,
// in the r||s form RFC 7518 §3.4 requires.
// Everything that reads these tokens (the FHIR server, introspection, tests) verifies them with jose.
import { randomUUID } from 'node:crypto';
import { signPooled } from './pooled-crypto.ts';
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
  const { kid, keyObject } = await keys.signingKey(ACCESS_TOKEN_ALG);
  const jti = randomUUID();
  const iat = Math.floor(now.getTime() / 1000);
  const header = { alg: ACCESS_TOKEN_ALG, kid, typ: ACCESS_TOKEN_TYPE };
  const claims = {
    ...c.context, client_id: c.clientId, scope: c.scope,
    iss: c.issuer, aud: c.audience, sub: c.subject, jti, iat, exp: iat + c.lifetimeSeconds,
  };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = await signPooled('sha256', Buffer.from(signingInput), { key: keyObject, dsaEncoding: 'ieee-p1363' }); // ES256: P-256 + SHA-256
  const token = `${signingInput}.${signature.toString('base64url')}`;
  return { token, jti, expiresIn: c.lifetimeSeconds, expiresAt: new Date((iat + c.lifetimeSeconds) * 1000) };
}

const base64url = (text: string) => Buffer.from(text).toString('base64url');
