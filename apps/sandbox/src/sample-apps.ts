// Registers the sample apps with a running Firekeeper through its admin API, the way any operator would, so the
// server itself knows nothing of them. Idempotent: on every start the apps are found by name and brought up to
// date (the point-of-care app's URLs, a fresh secret; the analytics app's public key), never registered twice.
import { mkdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

export const POINT_OF_CARE = 'Point of care (sample app)';
export const POPULATION_ANALYTICS = 'Population analytics (sample app)';
const POC_SCOPES = ['launch', 'launch/patient', 'openid', 'fhirUser', 'patient/Patient.rs', 'patient/Observation.rs', 'patient/MedicationRequest.rs', 'patient/AllergyIntolerance.rs', 'patient/Condition.rs'];
const ANALYTICS_SCOPES = ['system/Patient.rs', 'system/Condition.rs', 'system/Observation.rs', 'system/Immunization.rs'];

export interface AdminApi {
  /** Firekeeper's base URL. */
  baseUrl: string;
  adminToken: string;
  fetch?: typeof fetch;
}

interface ClientRecord { clientId: string; name: string; clientSecret?: string }

async function call<T>(api: AdminApi, method: string, path: string, body?: unknown): Promise<T> {
  const res = await (api.fetch ?? fetch)(`${api.baseUrl}/admin/api${path}`, {
    method, headers: { authorization: `Bearer ${api.adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
  });
  const json = (await res.json()) as T & { error?: string; error_description?: string };
  if (!res.ok) throw new Error(`admin API ${method} ${path}: HTTP ${res.status} ${json.error ?? ''} ${json.error_description ?? ''}`.trim());
  return json;
}

/** The client registered under `name` (created with `create` if there is none, else changed with `update`). */
async function upsert(api: AdminApi, name: string, create: Record<string, unknown>, update: Record<string, unknown>): Promise<ClientRecord & { created: boolean }> {
  const { clients } = await call<{ clients: ClientRecord[] }>(api, 'GET', '/clients');
  const found = clients.find((c) => c.name === name);
  if (!found) return { ...(await call<ClientRecord>(api, 'POST', '/clients', { name, ...create })), created: true };
  return { ...(await call<ClientRecord>(api, 'PATCH', `/clients/${encodeURIComponent(found.clientId)}`, update)), created: false };
}

export interface PointOfCareRegistration { clientId: string; clientSecret: string }

/** The point-of-care app at `appUrl` (launch `{appUrl}/launch`, redirect `{appUrl}/callback`), with a fresh secret. */
export async function registerPointOfCare(api: AdminApi, appUrl: string): Promise<PointOfCareRegistration> {
  const urls = { redirectUris: [`${appUrl}/callback`], launchUrl: `${appUrl}/launch` };
  const client = await upsert(api, POINT_OF_CARE, {
    type: 'confidential-symmetric', ...urls, scopes: POC_SCOPES, grantTypes: ['authorization_code', 'refresh_token'],
  }, urls);
  // The secret is shown once, at creation; after a restart the app needs it again, so it is rotated.
  const secret = client.created ? client.clientSecret : (await call<ClientRecord>(api, 'POST', `/clients/${encodeURIComponent(client.clientId)}/rotate-secret`)).clientSecret;
  if (!secret) throw new Error('the admin API returned no client secret');
  return { clientId: client.clientId, clientSecret: secret };
}

/**
 * The population-analytics backend service, whose private key is kept in `keyFile` (created on first use, readable by
 * its owner only); its public key is what Firekeeper holds.
 */
export async function registerPopulationAnalytics(api: AdminApi, keyFile: string): Promise<{ clientId: string; keyFile: string }> {
  const publicJwk = await ensureKey(keyFile);
  const jwks = { keys: [publicJwk] };
  const client = await upsert(api, POPULATION_ANALYTICS, { type: 'backend-service', jwks, scopes: ANALYTICS_SCOPES }, { jwks });
  return { clientId: client.clientId, keyFile };
}

async function ensureKey(keyFile: string): Promise<JWK> {
  if (existsSync(keyFile)) {
    const { d: _d, ...publicJwk } = JSON.parse(readFileSync(keyFile, 'utf8')) as JWK;
    return { ...publicJwk, use: 'sig' };
  }
  const { publicKey, privateKey } = await generateKeyPair('ES384', { extractable: true });
  const meta = { kid: `analytics-${Date.now().toString(36)}`, alg: 'ES384' };
  mkdirSync(dirname(keyFile), { recursive: true });
  writeFileSync(keyFile, JSON.stringify({ ...(await exportJWK(privateKey)), ...meta }), { mode: 0o600 });
  return { ...(await exportJWK(publicKey)), ...meta, use: 'sig' };
}
