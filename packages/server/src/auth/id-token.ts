// OpenID Connect id_tokens (OIDC Core §2, SMART App Launch 2.2 §Scopes for requesting identity data): RS256,
// `aud` = client_id, `nonce` echoed, `fhirUser` (absolute URL) with the fhirUser scope, name/email with profile/email.
import { SignJWT } from 'jose';
import type { KeyRing } from './key-ring.ts';
import type { User } from './users/user-store.ts';

export const ID_TOKEN_ALG = 'RS256';
export const ID_TOKEN_LIFETIME_S = 3600;

export interface IdTokenInput {
  issuer: string;
  clientId: string;
  user: User;
  scopes: readonly string[];
  fhirBase: string;
  nonce?: string | null;
  /** When the user signed in (OIDC `auth_time`). */
  authTime?: Date;
}

/** The identity claims the granted scopes allow (also served by the userinfo endpoint). */
export function identityClaims(user: User, scopes: readonly string[], fhirBase: string): Record<string, string> {
  const claims: Record<string, string> = {};
  if (scopes.includes('fhirUser') && user.fhirUser) claims.fhirUser = `${fhirBase}/${user.fhirUser}`;
  if (scopes.includes('profile')) claims.name = user.name;
  if (scopes.includes('email') && user.email) claims.email = user.email;
  return claims;
}

export async function issueIdToken(keys: KeyRing, t: IdTokenInput, now = new Date()): Promise<string> {
  const { kid, key } = await keys.signingKey(ID_TOKEN_ALG);
  const iat = Math.floor(now.getTime() / 1000);
  return new SignJWT({
    ...identityClaims(t.user, t.scopes, t.fhirBase),
    ...(t.nonce ? { nonce: t.nonce } : {}),
    ...(t.authTime ? { auth_time: Math.floor(t.authTime.getTime() / 1000) } : {}),
  })
    .setProtectedHeader({ alg: ID_TOKEN_ALG, kid, typ: 'JWT' })
    .setIssuer(t.issuer)
    .setSubject(t.user.id)
    .setAudience(t.clientId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ID_TOKEN_LIFETIME_S)
    .sign(key);
}
