// Validates an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, SMART App Launch 2.2 §Obtain authorization
// code). Until the client and its redirect URI are known to be good, an error is shown on a page and never
// redirected (RFC 6749 §4.1.2.1); after that, errors go back to the app with `state`.
import { randomBytes } from 'node:crypto';
import type { Queryable } from '../store/database.ts';
import { getClient, type Client } from './clients/client-store.ts';
import { findLaunch, type Launch } from './launch-store.ts';
import { OAuthError } from './oauth-errors.ts';
import { userFlowScopes } from './scope-request.ts';

export const REQUEST_LIFETIME_S = 15 * 60;
const PROMPTS = ['none', 'login', 'consent'] as const;
export type Prompt = (typeof PROMPTS)[number];
const CODE_CHALLENGE = /^[A-Za-z0-9\-._~]{43,128}$/; // RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is 43 characters

/** What the rest of the flow needs, after validation. */
export interface AuthorizationParams {
  clientId: string;
  redirectUri: string;
  /** The scopes that may be granted (requested ∩ registered), in request order. */
  scopes: string[];
  state?: string;
  nonce?: string;
  codeChallenge: string;
  prompt: Prompt[];
  launch?: Launch;
}

/** An error shown to the user on a page: the client or redirect URI cannot be trusted with a redirect. */
export class AuthorizationPageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthorizationPageError';
  }
}

/** An error returned to the app at its (validated) redirect URI. */
export class AuthorizationRedirectError extends Error {
  constructor(readonly error: OAuthError, readonly redirectUri: string, readonly state: string | undefined) {
    super(error.message);
    this.name = 'AuthorizationRedirectError';
  }
}

export interface RequestContext {
  /** The FHIR base URL: the only acceptable `aud` (SMART App Launch 2.2). */
  fhirBase: string;
}

export async function validateAuthorizationRequest(q: Queryable, form: URLSearchParams, ctx: RequestContext): Promise<{ client: Client; params: AuthorizationParams }> {
  const single = (name: string): string | undefined => {
    const values = form.getAll(name);
    if (values.length > 1) throw new OAuthError('invalid_request', `parameter ${name} is repeated`); // RFC 6749 §3.1
    return values[0] === '' ? undefined : values[0];
  };
  const { client, redirectUri } = await trustedClient(q, form);
  const state = form.getAll('state')[0];
  try {
    return { client, params: await checkParams(q, client, redirectUri, single, ctx) };
  } catch (err) {
    if (err instanceof OAuthError) throw new AuthorizationRedirectError(err, redirectUri, state);
    throw err;
  }
}

async function trustedClient(q: Queryable, form: URLSearchParams): Promise<{ client: Client; redirectUri: string }> {
  const clientIds = form.getAll('client_id');
  const redirectUris = form.getAll('redirect_uri');
  if (clientIds.length !== 1 || !clientIds[0]) throw new AuthorizationPageError('The request has no client_id (or more than one).');
  const client = await getClient(q, clientIds[0]);
  if (!client) throw new AuthorizationPageError('The app is not registered with this server (unknown client_id).');
  if (client.status !== 'active') throw new AuthorizationPageError(`The app is ${client.status === 'pending' ? 'waiting for approval by an administrator' : 'suspended'}.`);
  if (redirectUris.length !== 1 || !redirectUris[0]) throw new AuthorizationPageError('The request has no redirect_uri (or more than one).');
  if (!client.redirectUris.includes(redirectUris[0])) throw new AuthorizationPageError('The redirect_uri is not one registered for this app (it must match exactly).');
  return { client, redirectUri: redirectUris[0] };
}

async function checkParams(q: Queryable, client: Client, redirectUri: string, single: (name: string) => string | undefined, ctx: RequestContext): Promise<AuthorizationParams> {
  const state = single('state');
  const responseType = single('response_type');
  if (responseType !== 'code') throw new OAuthError('unsupported_response_type', 'response_type must be code');
  if (!client.grantTypes.includes('authorization_code')) throw new OAuthError('unauthorized_client', 'this app may not use the authorization code grant');
  // RFC 7636 §4.4.1; SMART 2.2 requires PKCE with S256 for every client, and `plain` is never accepted.
  const codeChallenge = single('code_challenge');
  if (!codeChallenge) throw new OAuthError('invalid_request', 'code_challenge is required (PKCE, S256)');
  if (single('code_challenge_method') !== 'S256') throw new OAuthError('invalid_request', 'code_challenge_method must be S256');
  if (!CODE_CHALLENGE.test(codeChallenge)) throw new OAuthError('invalid_request', 'code_challenge is not a valid S256 challenge');
  const aud = single('aud');
  if (aud === undefined) throw new OAuthError('invalid_request', 'aud is required: the FHIR base URL of this server');
  if (aud.replace(/\/+$/, '') !== ctx.fhirBase) throw new OAuthError('invalid_request', `aud must be this server's FHIR base URL, ${ctx.fhirBase}`);
  const prompt = parsePrompt(single('prompt'));
  const scopes = userFlowScopes(single('scope'), client.scopes, { refreshAllowed: client.grantTypes.includes('refresh_token') });
  const launchId = single('launch');
  let launch: Launch | undefined;
  if (launchId !== undefined) {
    launch = await findLaunch(q, launchId, client.clientId);
    if (!launch) throw new OAuthError('invalid_request', 'the launch parameter is unknown, expired, or was issued for another app');
    if (!scopes.includes('launch')) throw new OAuthError('invalid_scope', 'an EHR launch must request (and register) the launch scope');
  } else if (scopes.includes('launch')) {
    throw new OAuthError('invalid_request', 'the launch scope needs the launch parameter from the EHR');
  }
  return { clientId: client.clientId, redirectUri, scopes, state, nonce: single('nonce'), codeChallenge, prompt, launch };
}

function parsePrompt(value: string | undefined): Prompt[] {
  if (value === undefined) return [];
  const prompts = value.split(' ').filter(Boolean);
  const unknown = prompts.find((p) => !(PROMPTS as readonly string[]).includes(p));
  if (unknown) throw new OAuthError('invalid_request', `prompt ${unknown} is not supported (none, login, consent)`);
  if (prompts.includes('none') && prompts.length > 1) throw new OAuthError('invalid_request', 'prompt=none cannot be combined with other values'); // OIDC Core §3.1.2.1
  return prompts as Prompt[];
}

/** A random id for the pages of one authorization request. */
export const newRequestId = () => randomBytes(18).toString('base64url');
