// Client authentication at the token, introspection and revocation endpoints (RFC 6749 §2.3): HTTP Basic
// (`client_secret_basic`), form fields (`client_secret_post`), a signed JWT (`private_key_jwt`, RFC 7523), or for a
// public client just its `client_id`. Exactly one method per request (§2.3); failures are `invalid_client` 401.
import type { FastifyRequest } from 'fastify';
import type { Queryable } from '../store/database.ts';
import { authenticateWithAssertion } from './client-assertion.ts';
import type { JtiItem } from './assertion-jtis.ts';
import { getClient, clientSecretHash, type Client } from './clients/client-store.ts';
import { OAuthError } from './oauth-errors.ts';
import { verifySecret } from './secret-hash.ts';

export type UsedMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';

export interface AuthenticatedClient {
  client: Client;
  method: UsedMethod;
}

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * private_key_jwt with `deferJti`: the assertion's jti, not yet recorded (client-assertion.ts). The token
     * endpoint commits it with the AuditEvent of the token it issues, or on its own before it sends a refusal.
     */
    pendingJti: JtiItem | undefined;
  }
}

const basicChallenge = { 'WWW-Authenticate': 'Basic realm="firekeeper", charset="UTF-8"' };

function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    // RFC 6749 §2.3.1: both parts are form-urlencoded before being joined.
    return { id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')), secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')) };
  } catch {
    return undefined;
  }
}

/** Whether the request carries any client identification (Basic, a secret, an assertion or a client_id). */
export function presentsClientCredentials(request: FastifyRequest, form: URLSearchParams): boolean {
  return /^Basic\s/i.test(request.headers.authorization ?? '') || ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type'].some((p) => form.has(p));
}

export async function authenticateClient(q: Queryable, request: FastifyRequest, form: URLSearchParams, ctx: { tokenEndpoint: string; deferJti?: boolean }): Promise<AuthenticatedClient> {
  const authorization = request.headers.authorization;
  const usesBasic = /^Basic\s/i.test(authorization ?? '');
  const methods = [usesBasic, form.has('client_secret'), form.has('client_assertion') || form.has('client_assertion_type')].filter(Boolean).length;
  if (methods > 1) throw new OAuthError('invalid_request', 'use exactly one client authentication method');
  const formClientId = form.get('client_id') ?? undefined;

  if (usesBasic) {
    const credentials = basicCredentials(authorization);
    const fail = (d: string) => new OAuthError('invalid_client', d, 401, basicChallenge);
    if (!credentials) throw fail('the Basic credentials are malformed');
    if (formClientId !== undefined && formClientId !== credentials.id) throw fail('client_id does not match the Basic credentials');
    return { client: await checkSecret(q, credentials.id, credentials.secret, fail), method: 'client_secret_basic' };
  }
  const fail = (d: string) => new OAuthError('invalid_client', d, 401);
  if (form.has('client_secret')) {
    if (!formClientId) throw fail('client_id is required with client_secret');
    return { client: await checkSecret(q, formClientId, form.get('client_secret')!, fail), method: 'client_secret_post' };
  }
  if (form.has('client_assertion') || form.has('client_assertion_type')) {
    const { client, pendingJti } = await authenticateWithAssertion(q, form.get('client_assertion_type') ?? undefined, form.get('client_assertion') ?? undefined,
      { tokenEndpoint: ctx.tokenEndpoint, deferJti: ctx.deferJti });
    if (pendingJti) request.pendingJti = pendingJti; // the token endpoint records it, whatever its response (token-endpoint.ts)
    if (formClientId !== undefined && formClientId !== client.clientId) throw fail('client_id does not match the client assertion');
    return { client, method: 'private_key_jwt' };
  }
  if (!formClientId) throw fail('client authentication is required (client_id for a public client)');
  const client = await getClient(q, formClientId);
  if (!client) throw fail('unknown client');
  if (client.authMethod !== 'none') throw fail('this client must authenticate (it is confidential)');
  if (client.status !== 'active') throw fail(`client is ${client.status}`);
  return { client, method: 'none' };
}

async function checkSecret(q: Queryable, clientId: string, secret: string, fail: (d: string) => OAuthError): Promise<Client> {
  const client = await getClient(q, clientId);
  const hash = client && (await clientSecretHash(q, clientId));
  // The same message for an unknown client and a wrong secret: neither reveals which client ids exist.
  if (!client || !hash || !(await verifySecret(secret, hash))) throw fail('unknown client or wrong secret');
  if (client.status !== 'active') throw fail(`client is ${client.status}`);
  return client;
}
