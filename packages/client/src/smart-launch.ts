// The SMART App Launch flows for an app acting for a user: EHR launch (`iss` + `launch`) and standalone launch.
// `startAuthorization` discovers the server, makes PKCE (S256), `state` and `nonce`, keeps them in storage, and
// returns the authorization URL (for a redirect, a popup or a new window: the caller chooses). `completeAuthorization`
// takes the redirect back, checks `state`, exchanges the code with the verifier, verifies the id_token's signature
// and claims against the issuer's JWKS, and returns a SmartSession: the tokens, the launch context as typed
// properties, and a TokenSource that refreshes (once, shared, rotation-aware) before expiry or after a 401.
// @see https://hl7.org/fhir/smart-app-launch/app-launch.html, RFC 7636 (PKCE), OpenID Connect Core §3.1.3.7
import { base64url, createRemoteJWKSet, customFetch, jwtVerify, type JWTPayload } from 'jose';
import { discover } from './discovery.ts';
import { TokenError } from './errors.ts';
import { clientAssertion, JWT_BEARER_ASSERTION, type ClientKey, type TokenSource } from './backend-services.ts';
import { MemoryStorage, type KeyValueStorage } from './storage.ts';
import { plainFetch } from './fetch.ts';

export interface AuthorizationOptions {
  /** The FHIR base URL: from the EHR's `iss` parameter, or the server the user chose (standalone). */
  iss: string;
  clientId: string;
  redirectUri: string;
  scope: string;
  /** The EHR's `launch` parameter (EHR launch); absent for a standalone launch. */
  launch?: string;
  /** A confidential-symmetric client's secret (sent with HTTP Basic); public clients have none. */
  clientSecret?: string;
  /** A confidential-asymmetric client's key: it authenticates with a `private_key_jwt` assertion (RFC 7523). */
  clientKey?: ClientKey;
  /** The session's name: an app may hold several independent SMART sessions (default `default`). */
  name?: string;
  storage?: KeyValueStorage;
  fetch?: typeof fetch;
}

/** What must survive the redirect, keyed by `state`. */
interface Pending {
  name: string;
  iss: string;
  clientId: string;
  redirectUri: string;
  codeVerifier: string;
  nonce?: string;
  tokenEndpoint: string;
  issuer?: string;
  jwksUri?: string;
}

/** The launch context of SMART App Launch 2.2 ("Launch context arrives with your access_token"). */
export interface LaunchContext {
  patient?: string;
  encounter?: string;
  fhirContext?: { reference?: string; canonical?: string; identifier?: unknown; type?: string; role?: string }[];
  needPatientBanner?: boolean;
  smartStyleUrl?: string;
  intent?: string;
  tenant?: string;
}

export interface TokenSet {
  accessToken: string;
  refreshToken?: string;
  expiresAt: number;
  scope: string;
  idToken?: string;
}

export class AuthorizationError extends Error {
  constructor(readonly error: string, readonly description?: string) {
    super(`authorization failed: ${error}${description ? `: ${description}` : ''}`);
    this.name = 'AuthorizationError';
  }
}

/** The storage key of the pending authorization request with this `state` (removed when the response comes back). */
export const pendingKey = (state: string) => `smart:pending:${state}`;
const random = (bytes: number) => base64url.encode(crypto.getRandomValues(new Uint8Array(bytes)));

export async function startAuthorization(o: AuthorizationOptions): Promise<string> {
  const storage = o.storage ?? new MemoryStorage();
  const config = await discover(o.iss, o.fetch);
  if (!config.authorization_endpoint) throw new TokenError('invalid_configuration', 'the server advertises no authorization_endpoint', 0);
  const codeVerifier = random(32);
  const challenge = base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(codeVerifier))));
  const state = random(16);
  const nonce = o.scope.split(' ').includes('openid') ? random(16) : undefined;
  const pending: Pending = {
    name: o.name ?? 'default', iss: o.iss, clientId: o.clientId, redirectUri: o.redirectUri, codeVerifier, nonce, tokenEndpoint: config.token_endpoint,
    issuer: config.issuer, jwksUri: config.jwks_uri,
  };
  await storage.set(pendingKey(state), JSON.stringify(pending));
  const url = new URL(config.authorization_endpoint);
  const params: Record<string, string | undefined> = {
    response_type: 'code', client_id: o.clientId, redirect_uri: o.redirectUri, scope: o.scope, state, aud: o.iss,
    code_challenge: challenge, code_challenge_method: 'S256', nonce, launch: o.launch,
  };
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.href;
}

/** Handles the redirect back (`callbackUrl` with `code` and `state`, or `error`), and returns the session. */
export async function completeAuthorization(callbackUrl: string, o: ClientCredentials): Promise<SmartSession> {
  const storage = o.storage ?? new MemoryStorage();
  const params = new URL(callbackUrl).searchParams;
  const state = params.get('state') ?? '';
  const saved = await storage.get(pendingKey(state));
  // RFC 6749 §10.12: a state this client did not issue (or already used) is refused before anything else.
  if (!saved) throw new AuthorizationError('invalid_state', 'this authorization response does not answer a request of this app');
  await storage.remove(pendingKey(state));
  const pending = JSON.parse(saved) as Pending;
  const error = params.get('error');
  if (error) throw new AuthorizationError(error, params.get('error_description') ?? undefined);
  const code = params.get('code');
  if (!code) throw new AuthorizationError('invalid_request', 'no code in the authorization response');
  const fetchImpl = plainFetch(o.fetch);
  const body = await tokenRequest(fetchImpl, pending.tokenEndpoint, pending.clientId, o, {
    grant_type: 'authorization_code', code, redirect_uri: pending.redirectUri, code_verifier: pending.codeVerifier,
  });
  const idTokenClaims = body.id_token ? await verifyIdToken(body.id_token as string, pending, fetchImpl) : undefined;
  const sessionState: SessionState = {
    server: { iss: pending.iss, clientId: pending.clientId, tokenEndpoint: pending.tokenEndpoint }, tokens: tokensOf(body), context: contextOf(body), idTokenClaims,
  };
  const session = new SmartSession(sessionState, { name: pending.name, storage, fetchImpl, auth: o });
  await session.save();
  return session;
}

/** The storage key of the session with this name. */
export const sessionKey = (name: string) => `smart:session:${name}`;

/** The session saved under `name` (by completeAuthorization, kept current by refreshes), or undefined. */
export async function restoreSession(name: string, o: ClientCredentials): Promise<SmartSession | undefined> {
  const storage = o.storage ?? new MemoryStorage();
  const saved = await storage.get(sessionKey(name));
  return saved === undefined ? undefined : new SmartSession(JSON.parse(saved) as SessionState, { name, storage, fetchImpl: plainFetch(o.fetch), auth: o });
}

/** What a session keeps in storage: tokens included, so give it storage no other site's script can read. */
interface SessionState {
  server: Pick<Pending, 'iss' | 'clientId' | 'tokenEndpoint'>;
  tokens: TokenSet;
  context: LaunchContext;
  idTokenClaims?: JWTPayload;
}

type TokenBody = Record<string, unknown>;

/** How the client authenticates at the token endpoint (neither: a public client), where its storage is, and fetch. */
type ClientCredentials = Pick<AuthorizationOptions, 'storage' | 'fetch' | 'clientSecret' | 'clientKey'>;

async function tokenRequest(
  fetchImpl: typeof fetch, endpoint: string, clientId: string, auth: Pick<ClientCredentials, 'clientSecret' | 'clientKey'>, form: Record<string, string>,
): Promise<TokenBody> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  const params = new URLSearchParams(form);
  if (auth.clientKey) {
    // SMART App Launch 2.2 §client-authentication-asymmetric: a private_key_jwt assertion in the form.
    params.set('client_assertion_type', JWT_BEARER_ASSERTION);
    params.set('client_assertion', await clientAssertion(auth.clientKey, endpoint));
  } else if (auth.clientSecret !== undefined) {
    // RFC 6749 §2.3.1: a confidential-symmetric client authenticates with HTTP Basic.
    headers.authorization = `Basic ${btoa(`${encodeURIComponent(clientId)}:${encodeURIComponent(auth.clientSecret)}`)}`;
  } else {
    params.set('client_id', clientId); // a public client names itself
  }
  const res = await fetchImpl(endpoint, { method: 'POST', headers, body: params });
  const body = (await res.json().catch(() => ({}))) as TokenBody;
  if (!res.ok || typeof body.access_token !== 'string') throw new TokenError(String(body.error ?? 'invalid_response'), body.error_description as string | undefined, res.status);
  return body;
}

function tokensOf(body: TokenBody, previous?: TokenSet): TokenSet {
  return {
    accessToken: body.access_token as string,
    // RFC 6749 §6: a refresh response may leave the refresh token out: the old one stays valid (no rotation).
    refreshToken: (body.refresh_token as string | undefined) ?? previous?.refreshToken,
    expiresAt: Date.now() + Number(body.expires_in ?? 300) * 1000,
    scope: (body.scope as string | undefined) ?? previous?.scope ?? '',
    idToken: (body.id_token as string | undefined) ?? previous?.idToken,
  };
}

function contextOf(body: TokenBody): LaunchContext {
  const c: LaunchContext = {};
  if (typeof body.patient === 'string') c.patient = body.patient;
  if (typeof body.encounter === 'string') c.encounter = body.encounter;
  if (Array.isArray(body.fhirContext)) c.fhirContext = body.fhirContext as LaunchContext['fhirContext'];
  if (typeof body.need_patient_banner === 'boolean') c.needPatientBanner = body.need_patient_banner;
  if (typeof body.smart_style_url === 'string') c.smartStyleUrl = body.smart_style_url;
  if (typeof body.intent === 'string') c.intent = body.intent;
  if (typeof body.tenant === 'string') c.tenant = body.tenant;
  return c;
}

/** OpenID Connect Core §3.1.3.7: signature by the issuer's key, issuer, audience, expiry, and our nonce. */
async function verifyIdToken(idToken: string, p: Pending, fetchImpl: typeof fetch): Promise<JWTPayload> {
  if (!p.jwksUri || !p.issuer) throw new TokenError('invalid_id_token', 'the server advertises no jwks_uri or issuer to verify the id_token with', 0);
  const jwks = createRemoteJWKSet(new URL(p.jwksUri), { [customFetch]: (url, init) => fetchImpl(url, init) });
  const { payload } = await jwtVerify(idToken, jwks, { issuer: p.issuer, audience: p.clientId }).catch((err: Error) => {
    throw new TokenError('invalid_id_token', err.message, 0);
  });
  if (p.nonce !== undefined && payload.nonce !== p.nonce) throw new TokenError('invalid_id_token', 'the id_token nonce is not the one this app sent', 0);
  return payload;
}

/** Refresh when less than this is left of the access token. */
const REFRESH_MARGIN_MS = 30_000;

export class SmartSession implements TokenSource {
  readonly #state: SessionState;
  #refreshing: Promise<TokenSet> | undefined;

  constructor(state: SessionState, private readonly deps: { name: string; storage: KeyValueStorage; fetchImpl: typeof fetch; auth: Pick<ClientCredentials, 'clientSecret' | 'clientKey'> }) {
    this.#state = state;
  }

  get name(): string { return this.deps.name; }
  get context(): LaunchContext { return this.#state.context; }
  /** The verified id_token's claims (`sub`, `fhirUser`, …), when one was issued. */
  get idTokenClaims(): JWTPayload | undefined { return this.#state.idTokenClaims; }

  get fhirBase(): string { return this.#state.server.iss; }
  get tokens(): Readonly<TokenSet> { return this.#state.tokens; }
  /** The user's FHIR identity (an absolute URL), from the verified id_token. */
  get fhirUser(): string | undefined { return this.#state.idTokenClaims?.fhirUser as string | undefined; }

  async accessToken(force = false): Promise<string> {
    const tokens = this.#state.tokens;
    if (tokens.expiresAt - Date.now() > REFRESH_MARGIN_MS && !force) return tokens.accessToken;
    if (!tokens.refreshToken) {
      // Without a refresh token an expired (or refused) token is the end of the session: say so, send nothing.
      if (force) throw new TokenError('expired_token', 'the server refused the access token and there is no refresh token: authorize again', 0);
      if (tokens.expiresAt <= Date.now()) throw new TokenError('expired_token', 'the access token has expired and there is no refresh token: authorize again', 0);
      return tokens.accessToken;
    }
    // Concurrent requests share one refresh: a rotated refresh token may be used once only.
    this.#refreshing ??= this.#refresh().finally(() => (this.#refreshing = undefined));
    this.#state.tokens = await this.#refreshing;
    return this.#state.tokens.accessToken;
  }

  /** Writes the session to its storage (done after sign-in and after every refresh). */
  save(): Promise<void> {
    return this.deps.storage.set(sessionKey(this.deps.name), JSON.stringify(this.#state));
  }

  /** Removes the session from its storage (sign-out); the tokens stay valid at the server until revoked or expired. */
  forget(): Promise<void> {
    return this.deps.storage.remove(sessionKey(this.deps.name));
  }

  async #refresh(): Promise<TokenSet> {
    const { server, tokens } = this.#state;
    const body = await tokenRequest(this.deps.fetchImpl, server.tokenEndpoint, server.clientId, this.deps.auth, {
      grant_type: 'refresh_token', refresh_token: tokens.refreshToken!,
    });
    const next = tokensOf(body, tokens);
    await this.deps.storage.set(sessionKey(this.deps.name), JSON.stringify({ ...this.#state, tokens: next }));
    return next;
  }
}
