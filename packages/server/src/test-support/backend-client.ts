// A backend-service client's key pair and its RFC 7523 client assertions, as a SMART Backend Services app makes them.
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export type AssertionAlg = 'ES384' | 'RS384' | 'ES256' | 'RS256';

export interface ClientKey {
  alg: AssertionAlg;
  kid: string;
  privateKey: CryptoKey;
  /** The public JWK to register (with `kid` and `alg`). */
  publicJwk: JWK;
}

export async function newClientKey(alg: AssertionAlg, kid = `${alg}-1`): Promise<ClientKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export interface AssertionOptions {
  clientId: string;
  tokenUrl: string;
  key: ClientKey;
  /** Overrides, for negative tests. */
  signWith?: CryptoKey;
  iss?: string;
  sub?: string;
  aud?: string;
  exp?: number;
  jti?: string;
  kid?: string;
}

/** SMART Backend Services §Authenticating to the token endpoint: iss = sub = client_id, aud = token URL. */
export function clientAssertion(o: AssertionOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: o.key.alg, kid: o.kid ?? o.key.kid, typ: 'JWT' })
    .setIssuer(o.iss ?? o.clientId).setSubject(o.sub ?? o.iss ?? o.clientId).setAudience(o.aud ?? o.tokenUrl)
    .setJti(o.jti ?? randomUUID()).setExpirationTime(o.exp ?? now + 60)
    .sign(o.signWith ?? o.key.privateKey);
}

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** The form of a client_credentials token request. */
export async function clientCredentialsForm(o: AssertionOptions & { scope: string }): Promise<URLSearchParams> {
  return new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: await clientAssertion(o), scope: o.scope });
}
