// Reads client settings from untrusted JSON (admin API bodies, RFC 7591 metadata). Every field's JSON type is
// checked here, so `validateClientInput` can apply the registration rules to values of the declared types.
import { invalidClientMetadata, invalidRedirectUri, OAuthError } from '../oauth-errors.ts';
import { LAUNCH_MODES, type ClientInput, type ClientStatus, type ClientType } from './client-registration.ts';
import type { ClientPatch } from './client-store.ts';

export type JsonObject = Record<string, unknown>;

export const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The request body as a JSON object; an absent body counts as `{}` where `optional`. */
// Client ids are UUIDs (registerClient); this also admits readable ids that other tools may assign.
export const CLIENT_ID = /^[A-Za-z0-9._~-]{1,128}$/;

export function jsonObject(body: unknown, optional = false): JsonObject {
  if (body === undefined && optional) return {};
  if (!isObject(body)) throw new OAuthError('invalid_request', 'the request body must be a JSON object');
  return body;
}

const CLIENT_TYPES: ClientType[] = ['public', 'confidential-symmetric', 'confidential-asymmetric', 'backend-service'];
const STATUSES: ClientStatus[] = ['pending', 'active', 'suspended'];
// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

type Fail = (description: string) => OAuthError;

export function optionalString(body: JsonObject, field: string, fail: Fail = invalidClientMetadata): string | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw fail(`${field} must be a string`);
  return v;
}

export function optionalStringArray(body: JsonObject, field: string, fail: Fail = invalidClientMetadata): string[] | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw fail(`${field} must be an array of strings`);
  return v as string[];
}

export function checkScopes(scopes: string[], field: string): string[] {
  const bad = scopes.find((s) => !SCOPE_TOKEN.test(s));
  if (bad !== undefined) throw invalidClientMetadata(`${field} holds an invalid scope '${bad}' (RFC 6749 §3.3)`);
  return scopes;
}

export function optionalJwks(body: JsonObject, field: string): ClientInput['jwks'] {
  const v = body[field];
  if (v === undefined) return undefined;
  if (!isObject(v) || !Array.isArray(v.keys) || !v.keys.every(isObject)) throw invalidClientMetadata(`${field} must be a JWK Set: {"keys": [...]}`);
  return { keys: v.keys };
}

function optionalInteger(body: JsonObject, field: string): number | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidClientMetadata(`${field} must be a whole number`);
  return v;
}

function optionalEnum<T extends string>(body: JsonObject, field: string, values: readonly T[]): T | undefined {
  const v = optionalString(body, field);
  if (v !== undefined && !values.includes(v as T)) throw invalidClientMetadata(`${field} must be one of ${values.join(', ')}`);
  return v as T | undefined;
}

/** The admin API's field names: those of `ClientInput`. */
const FIELDS: Record<keyof ClientInput, (body: JsonObject) => unknown> = {
  name: (b) => optionalString(b, 'name'),
  type: (b) => optionalEnum(b, 'type', CLIENT_TYPES),
  authMethod: (b) => optionalString(b, 'authMethod'),
  redirectUris: (b) => optionalStringArray(b, 'redirectUris', invalidRedirectUri),
  launchUrl: (b) => optionalString(b, 'launchUrl'),
  launchMode: (b) => optionalEnum(b, 'launchMode', LAUNCH_MODES),
  scopes: (b) => {
    const scopes = optionalStringArray(b, 'scopes');
    return scopes && checkScopes(scopes, 'scopes');
  },
  grantTypes: (b) => optionalStringArray(b, 'grantTypes'),
  jwks: (b) => optionalJwks(b, 'jwks'),
  jwksUri: (b) => optionalString(b, 'jwksUri'),
  accessTokenLifetime: (b) => optionalInteger(b, 'accessTokenLifetime'),
  refreshTokenLifetime: (b) => optionalInteger(b, 'refreshTokenLifetime'),
  corsOrigins: (b) => optionalStringArray(b, 'corsOrigins'),
  status: (b) => optionalEnum(b, 'status', STATUSES),
};
const REQUIRED: (keyof ClientInput)[] = ['name', 'type', 'status'];

function readFields(body: JsonObject, allowNull: boolean): ClientPatch {
  const unknown = Object.keys(body).find((k) => !Object.hasOwn(FIELDS, k));
  if (unknown !== undefined) throw invalidClientMetadata(`unknown field ${unknown}`);
  const out: Record<string, unknown> = {};
  for (const [field, read] of Object.entries(FIELDS)) {
    if (body[field] === null && allowNull && !REQUIRED.includes(field as keyof ClientInput)) out[field] = null;
    else out[field] = read(body);
  }
  return out as ClientPatch;
}

/** A registration from the admin API: `ClientInput` field names; unknown fields are refused, not ignored. */
export function clientInputFromJson(body: unknown): ClientInput {
  const input = readFields(jsonObject(body), false) as ClientInput;
  if (input.name === undefined) throw invalidClientMetadata('name is required');
  if (input.type === undefined) throw invalidClientMetadata(`type is required (${CLIENT_TYPES.join(', ')})`);
  return input;
}

/** A change from the admin API: fields left out keep their value; `null` clears an optional one. */
export function clientPatchFromJson(body: unknown): ClientPatch {
  const patch = readFields(jsonObject(body), true);
  if (Object.values(patch).every((v) => v === undefined)) throw invalidClientMetadata('the patch changes nothing');
  return patch;
}
