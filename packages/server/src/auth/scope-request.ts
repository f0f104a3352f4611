// What a client may be granted from what it asked for (RFC 6749 §3.3: the server may narrow the request; it never
// widens it). Malformed scopes are refused with invalid_scope, never skipped.
import { parseScopeString, scopesCover, type ResourceScope } from '../access/scope-grammar.ts';
import { OAuthError } from './oauth-errors.ts';
import { constraintProblem } from '../fhir/search/access-filter.ts';

const invalidScope = (description: string) => new OAuthError('invalid_scope', description);

function parseRequest(requested: string | null | undefined): { resource: ResourceScope[]; special: string[] } {
  const parsed = parseScopeString(requested ?? '');
  const bad = parsed.invalid[0];
  if (bad) throw invalidScope(`scope ${bad.raw} is not valid: ${bad.reason}`);
  if (parsed.resource.length + parsed.special.length === 0) throw invalidScope('scope is required');
  for (const s of parsed.resource) {
    const problem = constraintProblem(s);
    if (problem) throw invalidScope(`scope ${s.raw} has a constraint Firekeeper cannot enforce: ${problem}`);
  }
  return parsed;
}

const registeredResourceScopes = (registered: readonly string[]) => parseScopeString(registered.join(' ')).resource;

/**
 * SMART Backend Services: `system/` scopes only, each one covered by the client's registration; anything else is
 * refused rather than dropped, so a misconfigured service learns why.
 */
export function backendServiceScopes(requested: string | null | undefined, registered: readonly string[]): string[] {
  const { resource, special } = parseRequest(requested);
  if (special[0]) throw invalidScope(`backend services may request system/ scopes only, not ${special[0]}`);
  const allowed = registeredResourceScopes(registered);
  for (const s of resource) {
    if (s.context !== 'system') throw invalidScope(`backend services may request system/ scopes only, not ${s.raw}`);
    if (!scopesCover(allowed, s)) throw invalidScope(`scope ${s.raw} is not registered for this client`);
  }
  return resource.map((s) => s.raw);
}

/**
 * An app acting for a user: `patient/` and `user/` scopes covered by the registration, and the registered
 * non-resource scopes (openid, launch/patient, offline_access, …). Other valid scopes are dropped (the token
 * response says exactly what was granted); if nothing is left, invalid_scope.
 */
export function userFlowScopes(requested: string | null | undefined, registered: readonly string[], opts: { refreshAllowed: boolean }): string[] {
  const { resource, special } = parseRequest(requested);
  const allowed = registeredResourceScopes(registered);
  const grantableSpecial = special.filter((s) => registered.includes(s) && (opts.refreshAllowed || (s !== 'offline_access' && s !== 'online_access')));
  const grantableResource = resource.filter((s) => s.context !== 'system' && scopesCover(allowed, s)).map((s) => s.raw);
  const keep = new Set([...grantableSpecial, ...grantableResource]);
  const grantable = [...new Set((requested ?? '').split(' '))].filter((s) => keep.has(s)); // in request order
  if (grantable.length === 0) throw invalidScope('none of the requested scopes is registered for this client');
  return grantable;
}
