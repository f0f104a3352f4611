// SMART Backend Services: a server-side app obtains access tokens for itself with the client_credentials grant,
// authenticating with a JWT signed by its private key (private_key_jwt, RFC 7523). Tokens are cached until shortly
// before they expire; callers that ask at the same time share one token request.
// @see https://hl7.org/fhir/smart-app-launch/backend-services.html and https://www.rfc-editor.org/rfc/rfc7523
import { SignJWT, type CryptoKey, type KeyObject } from 'jose';
import { discover } from './discovery.ts';
import { TokenError } from './errors.ts';
import { plainFetch } from './fetch.ts';

/** SMART App Launch 2.2 §client-authentication-asymmetric: servers support RS384 and ES384. */
export type AssertionAlgorithm = 'RS384' | 'ES384' | 'RS256' | 'ES256';

export interface BackendServicesOptions extends ClientKey {
  /** The FHIR base URL. */
  iss: string;
  /** `system/…` scopes, space-separated. */
  scope: string;
  fetch?: typeof fetch;
}

/** Anything that hands out access tokens: `force` asks for a fresh one (after a 401). */
export interface TokenSource {
  accessToken(force?: boolean): Promise<string>;
}

/** A token is replaced when it has less than this left to live. */
const EXPIRY_MARGIN_MS = 30_000;
const ASSERTION_LIFETIME = '5m'; // SMART: no more than five minutes
export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** An asymmetric client's key, for `private_key_jwt` (SMART App Launch 2.2 §client-authentication-asymmetric). */
export interface ClientKey {
  clientId: string;
  privateKey: CryptoKey | KeyObject;
  alg: AssertionAlgorithm;
  kid?: string;
}

/** RFC 7523 §3: a JWT the client signs to authenticate at the token endpoint (its `aud`), with a fresh `jti`. */
export function clientAssertion(key: ClientKey, tokenEndpoint: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: key.alg, typ: 'JWT', ...(key.kid ? { kid: key.kid } : {}) })
    .setIssuer(key.clientId)
    .setSubject(key.clientId)
    .setAudience(tokenEndpoint)
    .setJti(crypto.randomUUID())
    .setIssuedAt()
    .setExpirationTime(ASSERTION_LIFETIME)
    .sign(key.privateKey);
}

export interface IssuedToken {
  accessToken: string;
  expiresAt: number;
  scope: string;
}

export class BackendServicesClient implements TokenSource {
  readonly #o: BackendServicesOptions;
  readonly #fetch: typeof fetch;
  #token: IssuedToken | undefined;
  #pending: Promise<IssuedToken> | undefined;
  #tokenEndpoint: string | undefined;

  constructor(options: BackendServicesOptions) {
    this.#o = options;
    this.#fetch = plainFetch(options.fetch);
  }

  /** The granted scope of the current token (after the first `accessToken()`). */
  get grantedScope(): string | undefined {
    return this.#token?.scope;
  }

  async accessToken(force = false): Promise<string> {
    if (!force && this.#token && this.#token.expiresAt - Date.now() > EXPIRY_MARGIN_MS) return this.#token.accessToken;
    this.#pending ??= this.#request().finally(() => (this.#pending = undefined));
    this.#token = await this.#pending;
    return this.#token.accessToken;
  }

  async #request(): Promise<IssuedToken> {
    this.#tokenEndpoint ??= (await discover(this.#o.iss, this.#fetch)).token_endpoint;
    const assertion = await clientAssertion(this.#o, this.#tokenEndpoint);
    const res = await this.#fetch(this.#tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: this.#o.scope, client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: assertion }),
    });
    const body = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; scope?: string; error?: string; error_description?: string };
    if (!res.ok || typeof body.access_token !== 'string') throw new TokenError(body.error ?? 'invalid_response', body.error_description, res.status);
    return { accessToken: body.access_token, expiresAt: Date.now() + (body.expires_in ?? 300) * 1000, scope: body.scope ?? this.#o.scope };
  }
}
