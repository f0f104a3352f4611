// Validates what a client is registered with (CLI, admin API, RFC 7591 dynamic registration), one rule per check.
import { parseScopeString } from '../../access/scope-grammar.ts';
import { isLoopback } from '../../config.ts';
import { invalidClientMetadata, invalidRedirectUri } from '../oauth-errors.ts';

export type ClientType = 'public' | 'confidential-symmetric' | 'confidential-asymmetric' | 'backend-service';
export type AuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
export type GrantType = 'authorization_code' | 'refresh_token' | 'client_credentials';
export type ClientStatus = 'pending' | 'active' | 'suspended';

export type LaunchMode = 'window' | 'embedded';
export const LAUNCH_MODES: readonly LaunchMode[] = ['window', 'embedded'];

export interface ClientInput {
  name: string;
  type: ClientType;
  authMethod?: AuthMethod;
  redirectUris?: string[];
  launchUrl?: string;
  /** How the EHR opens the app from a chart: its own window (default) or embedded in the chart. */
  launchMode?: LaunchMode;
  scopes?: string[];
  grantTypes?: GrantType[];
  jwks?: { keys: Record<string, unknown>[] };
  jwksUri?: string;
  accessTokenLifetime?: number;
  refreshTokenLifetime?: number;
  corsOrigins?: string[];
  status?: ClientStatus;
}

export interface ClientSettings extends Required<Omit<ClientInput, 'launchUrl' | 'jwks' | 'jwksUri'>> {
  launchUrl: string | null;
  jwks: { keys: Record<string, unknown>[] } | null;
  jwksUri: string | null;
}

const AUTH_METHODS: Record<ClientType, AuthMethod[]> = {
  public: ['none'],
  'confidential-symmetric': ['client_secret_basic', 'client_secret_post'],
  'confidential-asymmetric': ['private_key_jwt'],
  'backend-service': ['private_key_jwt'],
};

/** SMART App Launch 2.2 §client-authentication: RS384 and ES384 required; RS256 and ES256 also accepted here. */
export const CLIENT_ASSERTION_ALGS = ['RS384', 'ES384', 'RS256', 'ES256'];
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

/** Checks and completes a registration; throws OAuthError (RFC 7591 §3.2.2 codes) naming the field. */
export function validateClientInput(input: ClientInput): ClientSettings {
  if (!input.name?.trim()) throw invalidClientMetadata('name is required');
  if (!Object.hasOwn(AUTH_METHODS, input.type)) throw invalidClientMetadata(`type must be one of ${Object.keys(AUTH_METHODS).join(', ')}`);
  const authMethod = input.authMethod ?? AUTH_METHODS[input.type][0]!;
  if (!AUTH_METHODS[input.type].includes(authMethod)) throw invalidClientMetadata(`token_endpoint_auth_method ${authMethod} does not fit a ${input.type} client`);
  const backend = input.type === 'backend-service';
  const grantTypes = input.grantTypes ?? (backend ? ['client_credentials'] : ['authorization_code']);
  checkGrantTypes(input.type, grantTypes);
  const redirectUris = input.redirectUris ?? [];
  if (!backend && redirectUris.length === 0) throw invalidRedirectUri('at least one redirect URI is required');
  if (backend && redirectUris.length > 0) throw invalidRedirectUri('a backend service has no redirect URIs');
  redirectUris.forEach((u) => checkAppUrl(u, 'redirect URI', invalidRedirectUri));
  if (input.launchUrl !== undefined) checkAppUrl(input.launchUrl, 'launch URL', invalidClientMetadata);
  if (input.launchMode !== undefined && !LAUNCH_MODES.includes(input.launchMode)) throw invalidClientMetadata(`launch mode must be one of ${LAUNCH_MODES.join(', ')}`);
  checkKeys(input);
  const invalidScope = parseScopeString((input.scopes ?? []).join(' ')).invalid[0];
  if (invalidScope) throw invalidClientMetadata(`scope ${invalidScope.raw} is not valid: ${invalidScope.reason}`);
  const corsOrigins = (input.corsOrigins ?? []).map(checkOrigin);
  return {
    name: input.name.trim(),
    type: input.type,
    authMethod,
    redirectUris,
    launchUrl: input.launchUrl ?? null,
    launchMode: input.launchMode ?? 'window',
    scopes: input.scopes ?? [],
    grantTypes,
    jwks: input.jwks ?? null,
    jwksUri: input.jwksUri ?? null,
    accessTokenLifetime: lifetime(input.accessTokenLifetime, 300, 'access token lifetime'),
    refreshTokenLifetime: lifetime(input.refreshTokenLifetime, 90 * 24 * 3600, 'refresh token lifetime'),
    corsOrigins,
    status: input.status ?? 'active',
  };
}

function checkGrantTypes(type: ClientType, grants: GrantType[]): void {
  const allowed: GrantType[] = type === 'backend-service' ? ['client_credentials'] : ['authorization_code', 'refresh_token'];
  const bad = grants.find((g) => !allowed.includes(g));
  if (bad || grants.length === 0) throw invalidClientMetadata(`grant type ${bad ?? '(none)'} is not allowed for a ${type} client (allowed: ${allowed.join(', ')})`);
}

// RFC 6749 §3.1.2: absolute, no fragment; RFC 8252 §7.3 / RFC 9700 §2.1: exact match, so no wildcards;
// plain http only for loopback.
function checkAppUrl(value: string, what: string, error: (d: string) => Error): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw error(`${what} '${value}' is not an absolute URL`);
  }
  if (url.hash || value.includes('#')) throw error(`${what} '${value}' must not have a fragment`);
  if (value.includes('*')) throw error(`${what} '${value}' must not contain wildcards`);
  if (url.protocol === 'http:' && !isLoopback(url.hostname.replace(/^\[|\]$/g, ''))) throw error(`${what} '${value}' must use https (http only for loopback)`);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw error(`${what} '${value}' must use https`);
}

function checkOrigin(value: string): string {
  checkAppUrl(value, 'CORS origin', invalidClientMetadata);
  const url = new URL(value);
  if (url.origin !== value.replace(/\/$/, '')) throw invalidClientMetadata(`CORS origin '${value}' must be an origin (scheme, host and port only)`);
  return url.origin;
}

function checkKeys(input: ClientInput): void {
  const asymmetric = input.type === 'confidential-asymmetric' || input.type === 'backend-service';
  if (!asymmetric) {
    if (input.jwks || input.jwksUri) throw invalidClientMetadata(`a ${input.type} client does not register keys`);
    return;
  }
  if (!input.jwks === !input.jwksUri) throw invalidClientMetadata('give exactly one of jwks and jwks_uri');
  if (input.jwksUri) checkAppUrl(input.jwksUri, 'jwks_uri', invalidClientMetadata);
  for (const key of input.jwks?.keys ?? []) {
    if (PRIVATE_JWK_MEMBERS.some((m) => m in key)) throw invalidClientMetadata('jwks must hold public keys only');
    if (typeof key.kid !== 'string' || !key.kid) throw invalidClientMetadata('every key in jwks needs a kid');
    if (key.alg !== undefined && !CLIENT_ASSERTION_ALGS.includes(String(key.alg))) throw invalidClientMetadata(`key alg ${String(key.alg)} is not one of ${CLIENT_ASSERTION_ALGS.join(', ')}`);
    if (key.kty !== 'RSA' && key.kty !== 'EC') throw invalidClientMetadata(`key type ${String(key.kty)} is not supported (RSA or EC)`);
  }
  if (input.jwks && input.jwks.keys.length === 0) throw invalidClientMetadata('jwks has no keys');
}

function lifetime(value: number | undefined, fallback: number, what: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 60 || v > 365 * 24 * 3600) throw invalidClientMetadata(`${what} must be a whole number of seconds from 60 to one year`);
  return v;
}
