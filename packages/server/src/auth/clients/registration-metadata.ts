// RFC 7591 client metadata ⇄ Firekeeper's ClientInput / Client. Free of HTTP types: the registration endpoint
// only adapts. Extension: `launch_uri`, the app's SMART launch URL (EHR launch), stored as the client's launchUrl.
import { invalidClientMetadata, invalidRedirectUri } from '../oauth-errors.ts';
import type { AuthMethod, ClientInput, ClientStatus, ClientType, GrantType } from './client-registration.ts';
import type { Client } from './client-store.ts';
import { checkScopes, isObject, optionalJwks, optionalString, optionalStringArray } from './client-json.ts';

/** The RFC 7591 §2 metadata Firekeeper registers; other members are ignored (§2: "MUST ignore"). */
export interface RegistrationMetadata {
  client_name: string;
  redirect_uris?: string[];
  token_endpoint_auth_method: AuthMethod;
  grant_types: string[];
  response_types: string[];
  scope?: string;
  jwks?: { keys: Record<string, unknown>[] };
  jwks_uri?: string;
  launch_uri?: string;
}

/** RFC 7591 §3.2.1 client information response, plus the `registration_status` extension. */
export interface RegistrationResponse extends RegistrationMetadata {
  client_id: string;
  client_id_issued_at: number;
  client_secret?: string;
  client_secret_expires_at?: number;
  registration_status: ClientStatus;
}

function clientType(method: string, grantTypes: string[] | undefined): ClientType {
  switch (method) {
    case 'none':
      return 'public';
    case 'client_secret_basic':
    case 'client_secret_post':
      return 'confidential-symmetric';
    case 'private_key_jwt':
      // SMART Backend Services: a client_credentials-only client authenticating with its own keys.
      return grantTypes?.length === 1 && grantTypes[0] === 'client_credentials' ? 'backend-service' : 'confidential-asymmetric';
    default:
      throw invalidClientMetadata(`token_endpoint_auth_method ${method} is not supported (none, client_secret_basic, client_secret_post, private_key_jwt)`);
  }
}

/** Maps a registration request to a ClientInput (status left to the caller); throws RFC 7591 §3.2.2 errors. */
export function clientInputFromMetadata(body: unknown): ClientInput {
  if (!isObject(body)) throw invalidClientMetadata('the registration request must be a JSON object');
  const name = optionalString(body, 'client_name');
  if (!name?.trim()) throw invalidClientMetadata('client_name is required');
  // RFC 7591 §2: token_endpoint_auth_method defaults to client_secret_basic.
  const method = optionalString(body, 'token_endpoint_auth_method') ?? 'client_secret_basic';
  const grantTypes = optionalStringArray(body, 'grant_types');
  const type = clientType(method, grantTypes);
  const responseTypes = optionalStringArray(body, 'response_types');
  // RFC 7591 §2.1: grant_types and response_types must agree; only the authorization code flow has a response type.
  if (responseTypes !== undefined) {
    const expected = type === 'backend-service' ? [] : ['code'];
    if (responseTypes.length !== expected.length || responseTypes.some((r) => r !== 'code')) {
      throw invalidClientMetadata(`response_types must be ${JSON.stringify(expected)} for a ${type} client`);
    }
  }
  const scope = optionalString(body, 'scope');
  return {
    name,
    type,
    authMethod: method as AuthMethod,
    redirectUris: optionalStringArray(body, 'redirect_uris', invalidRedirectUri),
    grantTypes: grantTypes as GrantType[] | undefined,
    scopes: scope === undefined ? undefined : checkScopes(scope.split(' ').filter(Boolean), 'scope'),
    jwks: optionalJwks(body, 'jwks'),
    jwksUri: optionalString(body, 'jwks_uri'),
    launchUrl: optionalString(body, 'launch_uri'),
  };
}

/** RFC 7591 §3.2.1: the client identifier, the secret (once), and all registered metadata. */
export function registrationResponse(client: Client, issuedAt: Date, secret?: string): RegistrationResponse {
  const backend = client.type === 'backend-service';
  return {
    client_id: client.clientId,
    client_id_issued_at: Math.floor(issuedAt.getTime() / 1000),
    // §3.2.1: client_secret_expires_at is REQUIRED with a secret; 0 means it does not expire.
    ...(secret !== undefined ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
    client_name: client.name,
    ...(client.redirectUris.length ? { redirect_uris: client.redirectUris } : {}),
    token_endpoint_auth_method: client.authMethod,
    grant_types: client.grantTypes,
    response_types: backend ? [] : ['code'],
    ...(client.scopes.length ? { scope: client.scopes.join(' ') } : {}),
    ...(client.jwks ? { jwks: client.jwks } : {}),
    ...(client.jwksUri ? { jwks_uri: client.jwksUri } : {}),
    ...(client.launchUrl ? { launch_uri: client.launchUrl } : {}),
    registration_status: client.status,
  };
}
