// Registered clients in the database. A confidential-symmetric client's secret is returned once, at registration
// or rotation, and stored only as a hash.
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../store/database.ts';
import { invalidClientMetadata, OAuthError } from '../oauth-errors.ts';
import { generateSecret, hashSecret } from '../secret-hash.ts';
import { validateClientInput, type ClientInput, type ClientSettings, type ClientStatus } from './client-registration.ts';

export interface Client extends ClientSettings {
  clientId: string;
  hasSecret: boolean;
  createdAt: string;
  updatedAt: string;
}

const COLUMNS = `client_id AS "clientId", name, type, auth_method AS "authMethod", secret_hash IS NOT NULL AS "hasSecret",
  jwks::text AS jwks, jwks_uri AS "jwksUri", redirect_uris AS "redirectUris", launch_url AS "launchUrl", launch_mode AS "launchMode", scopes,
  grant_types AS "grantTypes", access_token_lifetime AS "accessTokenLifetime", refresh_token_lifetime AS "refreshTokenLifetime",
  cors_origins AS "corsOrigins", status, created_at::text AS "createdAt", updated_at::text AS "updatedAt"`;

type Row = Omit<Client, 'jwks'> & { jwks: string | null };
const toClient = (r: Row): Client => ({ ...r, jwks: r.jwks ? (JSON.parse(r.jwks) as Client['jwks']) : null });

export async function registerClient(q: Queryable, input: ClientInput, now = new Date()): Promise<{ client: Client; secret?: string }> {
  const s = validateClientInput(input);
  const secret = s.type === 'confidential-symmetric' ? generateSecret() : undefined;
  const rows = await q.query<Row>(
    `INSERT INTO clients (client_id, name, type, auth_method, secret_hash, jwks, jwks_uri, redirect_uris, launch_url, scopes, grant_types,
                          access_token_lifetime, refresh_token_lifetime, cors_origins, status, created_at, updated_at, launch_mode)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8::text[], $9, $10::text[], $11::text[], $12, $13, $14::text[], $15, $16::timestamptz, $16::timestamptz, $17)
     RETURNING ${COLUMNS}`,
    [randomUUID(), s.name, s.type, s.authMethod, secret ? await hashSecret(secret) : null, s.jwks ? JSON.stringify(s.jwks) : null, s.jwksUri,
      s.redirectUris, s.launchUrl, s.scopes, s.grantTypes, s.accessTokenLifetime, s.refreshTokenLifetime, s.corsOrigins, s.status, now.toISOString(), s.launchMode],
  );
  return { client: toClient(rows[0]!), secret };
}

export async function getClient(q: Queryable, clientId: string): Promise<Client | undefined> {
  const rows = await q.query<Row>(`SELECT ${COLUMNS} FROM clients WHERE client_id = $1`, [clientId]);
  return rows[0] && toClient(rows[0]);
}

export async function listClients(q: Queryable): Promise<Client[]> {
  return (await q.query<Row>(`SELECT ${COLUMNS} FROM clients ORDER BY created_at, client_id`)).map(toClient);
}

export async function setClientStatus(q: Queryable, clientId: string, status: ClientStatus, now = new Date()): Promise<Client> {
  const rows = await q.query<Row>(`UPDATE clients SET status = $2, updated_at = $3::timestamptz WHERE client_id = $1 RETURNING ${COLUMNS}`, [clientId, status, now.toISOString()]);
  if (!rows[0]) throw new OAuthError('invalid_client', `unknown client ${clientId}`, 404);
  return toClient(rows[0]);
}

/** Fields left out keep their value; `null` clears an optional setting (as in RFC 7396 JSON Merge Patch). */
export type ClientPatch = { [K in keyof ClientInput]?: ClientInput[K] | null };

/** pending → active in one statement; undefined when the client is unknown or not pending. */
export async function approveClient(q: Queryable, clientId: string, now = new Date()): Promise<Client | undefined> {
  const rows = await q.query<Row>(
    `UPDATE clients SET status = 'active', updated_at = $2::timestamptz WHERE client_id = $1 AND status = 'pending' RETURNING ${COLUMNS}`, [clientId, now.toISOString()]);
  return rows[0] && toClient(rows[0]);
}

/** Removes a client (its grants cascade; access tokens already issued run out on their own); false when unknown. */
export async function deleteClient(q: Queryable, clientId: string): Promise<boolean> {
  return (await q.query('DELETE FROM clients WHERE client_id = $1 RETURNING client_id', [clientId])).length > 0;
}

/** Changes a client's settings (re-validated as a whole). The type cannot change: register a new client instead. */
export async function updateClient(q: Queryable, clientId: string, patch: ClientPatch, now = new Date()): Promise<Client> {
  const current = await getClient(q, clientId);
  if (!current) throw new OAuthError('invalid_client', `unknown client ${clientId}`, 404);
  if (patch.type !== undefined && patch.type !== current.type) throw invalidClientMetadata('the client type cannot change; register a new client');
  const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
  const s = validateClientInput(Object.fromEntries(Object.entries({ ...current, ...defined }).filter(([, v]) => v !== null)) as unknown as ClientInput);
  const rows = await q.query<Row>(
    `UPDATE clients SET name = $2, auth_method = $3, jwks = $4::jsonb, jwks_uri = $5, redirect_uris = $6::text[], launch_url = $7, scopes = $8::text[],
            grant_types = $9::text[], access_token_lifetime = $10, refresh_token_lifetime = $11, cors_origins = $12::text[], status = $13, updated_at = $14::timestamptz,
            launch_mode = $15
      WHERE client_id = $1 RETURNING ${COLUMNS}`,
    [clientId, s.name, s.authMethod, s.jwks ? JSON.stringify(s.jwks) : null, s.jwksUri, s.redirectUris, s.launchUrl, s.scopes, s.grantTypes,
      s.accessTokenLifetime, s.refreshTokenLifetime, s.corsOrigins, s.status, now.toISOString(), s.launchMode],
  );
  return toClient(rows[0]!);
}

/** A new secret replaces the old one at once; the new secret is returned once. */
export async function rotateClientSecret(q: Queryable, clientId: string, now = new Date()): Promise<string> {
  const secret = generateSecret();
  const rows = await q.query<{ id: string }>(
    `UPDATE clients SET secret_hash = $2, updated_at = $3::timestamptz WHERE client_id = $1 AND type = 'confidential-symmetric' RETURNING client_id AS id`,
    [clientId, await hashSecret(secret), now.toISOString()],
  );
  if (!rows[0]) throw new OAuthError('invalid_client', `no confidential-symmetric client ${clientId}`, 404);
  return secret;
}

/** The stored hash, for authenticating the client at the token endpoint. */
export async function clientSecretHash(q: Queryable, clientId: string): Promise<string | undefined> {
  return (await q.query<{ h: string | null }>('SELECT secret_hash AS h FROM clients WHERE client_id = $1', [clientId]))[0]?.h ?? undefined;
}

/** Whether an active client registered this browser origin (CORS preflight of the token endpoint). */
export async function originRegistered(q: Queryable, origin: string): Promise<boolean> {
  const rows = await q.query(`SELECT 1 FROM clients WHERE $1 = ANY(cors_origins) AND status = 'active' LIMIT 1`, [origin]);
  return rows.length > 0;
}
