// `firekeeper clients …`: register and manage SMART apps from the command line.
import { readFileSync } from 'node:fs';
import type { Database } from '../store/database.ts';
import { OAuthError } from '../auth/oauth-errors.ts';
import type { ClientInput, ClientType, GrantType, LaunchMode } from '../auth/clients/client-registration.ts';
import { getClient, listClients, registerClient, rotateClientSecret, setClientStatus, updateClient, type Client } from '../auth/clients/client-store.ts';

export const CLIENTS_USAGE = `usage:
  firekeeper clients add --name NAME --type public|confidential-symmetric|confidential-asymmetric|backend-service
                         [--redirect-uri URI]... [--launch-url URL] [--launch-mode window|embedded] [--scope SCOPE]... [--grant-type G]...
                         [--jwks FILE | --jwks-uri URL] [--cors-origin ORIGIN]... [--pending]
  firekeeper clients list
  firekeeper clients show CLIENT_ID
  firekeeper clients update CLIENT_ID [any option of add: lists given replace the stored ones]
  firekeeper clients rotate-secret CLIENT_ID
  firekeeper clients suspend|activate CLIENT_ID`;

export interface ClientsArgs {
  name?: string;
  type?: string;
  'redirect-uri'?: string[];
  'launch-url'?: string;
  'launch-mode'?: string;
  scope?: string[];
  'grant-type'?: string[];
  jwks?: string;
  'jwks-uri'?: string;
  'cors-origin'?: string[];
  pending?: boolean;
}

export const CLIENTS_OPTIONS = {
  name: { type: 'string' }, type: { type: 'string' }, 'redirect-uri': { type: 'string', multiple: true }, 'launch-url': { type: 'string' }, 'launch-mode': { type: 'string' },
  scope: { type: 'string', multiple: true }, 'grant-type': { type: 'string', multiple: true }, jwks: { type: 'string' }, 'jwks-uri': { type: 'string' },
  'cors-origin': { type: 'string', multiple: true }, pending: { type: 'boolean' },
} as const;

export async function clientsCommand(db: Database, action: string | undefined, id: string | undefined, args: ClientsArgs, out: (s: string) => void): Promise<void> {
  try {
    switch (action) {
      case 'add': {
        const { client, secret } = await registerClient(db, toInput(args));
        out(describe(client));
        if (secret) out(`client_secret: ${secret}\n(shown once: store it now; only its hash is kept)\n`);
        return;
      }
      case 'list':
        for (const c of await listClients(db)) out(`${c.clientId}  ${c.status.padEnd(9)} ${c.type.padEnd(23)} ${c.name}\n`);
        return;
      case 'show':
        return out(describe(await existing(db, id)));
      case 'update': {
        const { clientId } = await existing(db, id);
        return out(describe(await updateClient(db, clientId, toPatch(args))));
      }
      case 'rotate-secret': {
        const secret = await rotateClientSecret(db, (await existing(db, id)).clientId);
        out(`client_secret: ${secret}\n(shown once; the previous secret no longer works)\n`);
        return;
      }
      case 'suspend':
      case 'activate':
        return out(describe(await setClientStatus(db, (await existing(db, id)).clientId, action === 'suspend' ? 'suspended' : 'active')));
      default:
        throw new Error(CLIENTS_USAGE);
    }
  } catch (err) {
    if (err instanceof OAuthError) throw new Error(`${err.code}: ${err.description}`);
    throw err;
  }
}

async function existing(db: Database, id: string | undefined): Promise<Client> {
  const client = id ? await getClient(db, id) : undefined;
  if (!client) throw new Error(id ? `no client ${id}` : CLIENTS_USAGE);
  return client;
}

function toInput(a: ClientsArgs): ClientInput {
  return { ...toPatch(a), name: a.name ?? '', type: a.type as ClientType, status: a.pending ? 'pending' : 'active' };
}

function toPatch(a: ClientsArgs): Partial<ClientInput> {
  return {
    name: a.name,
    type: a.type as ClientType | undefined,
    redirectUris: a['redirect-uri'],
    launchUrl: a['launch-url'],
    launchMode: a['launch-mode'] as LaunchMode | undefined,
    scopes: a.scope,
    grantTypes: a['grant-type'] as GrantType[] | undefined,
    jwks: a.jwks ? (JSON.parse(readFileSync(a.jwks, 'utf8')) as ClientInput['jwks']) : undefined,
    jwksUri: a['jwks-uri'],
    corsOrigins: a['cors-origin'],
    status: a.pending ? 'pending' : undefined,
  };
}

function describe(c: Client): string {
  const lines: [string, string | undefined][] = [
    ['client_id', c.clientId], ['name', c.name], ['type', c.type], ['status', c.status], ['token_endpoint_auth_method', c.authMethod],
    ['grant_types', c.grantTypes.join(' ')], ['redirect_uris', c.redirectUris.join(' ') || undefined], ['launch_url', c.launchUrl ?? undefined], ['launch_mode', c.launchMode],
    ['scopes', c.scopes.join(' ') || undefined], ['jwks_uri', c.jwksUri ?? undefined], ['jwks', c.jwks ? `${c.jwks.keys.length} key(s)` : undefined],
    ['cors_origins', c.corsOrigins.join(' ') || undefined], ['lifetimes', `access ${c.accessTokenLifetime} s, refresh ${c.refreshTokenLifetime} s`],
  ];
  return lines.filter(([, v]) => v !== undefined).map(([k, v]) => `${k.padEnd(27)} ${v}\n`).join('');
}
