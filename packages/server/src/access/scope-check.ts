// Type-level scope enforcement (issue 4, first slice): whether a principal's granted scopes allow a permission
// (c r u d s) on a resource type, and the 403 `insufficient_scope` refusal that names the scope it would need.
// SMART App Launch 2.2 §Scopes for requesting clinical data.
//
// Not yet here (next slices of issue 4): narrowing `patient/` scopes to the launch patient's compartment, the user's
// access policy for `user/` scopes, and granular (`?category=…`) constraints. Until constraint narrowing lands a
// constrained scope grants nothing (too narrow rather than too wide).
import { FhirError } from '../fhir/errors.ts';
import type { Principal } from './principal.ts';
import { allows, parseScopeString, type Permission, type ResourceScope, type ScopeContext } from './scope-grammar.ts';

const VERBS: Record<Permission, string> = { c: 'create', r: 'read', u: 'update', d: 'delete', s: 'search' };
const parsed = new WeakMap<Principal, ResourceScope[]>();
const visible = new WeakMap<Principal, '*' | string[]>();

/** A backend client acts with `system/` scopes; an app acting for a user with `patient/` and `user/` scopes. */
function contextsOf(p: Principal): ScopeContext[] {
  return p.kind === 'client' ? ['system'] : ['patient', 'user'];
}

/** The principal's unconstrained resource scopes in the contexts that apply to it (parsed once per principal). */
function resourceScopes(p: Principal): ResourceScope[] {
  let scopes = parsed.get(p);
  if (!scopes) {
    const contexts = contextsOf(p);
    scopes = parseScopeString(p.scopes.join(' ')).resource.filter((s) => contexts.includes(s.context) && s.constraints.length === 0);
    parsed.set(p, scopes);
  }
  return scopes;
}

export function permits(p: Principal, type: string, permission: Permission): boolean {
  if (p.kind === 'system') return true;
  return contextsOf(p).some((c) => allows(resourceScopes(p), c, type, permission).length > 0);
}

/** The scope that would allow this, in the principal's own context (for the 403 message and challenge). */
export function neededScope(p: Principal, type: string, permission: Permission): string {
  const context = p.kind === 'client' ? 'system' : p.launch.patient ? 'patient' : 'user';
  return `${context}/${type}.${permission}`;
}

/** Throws 403 (RFC 6750 §3.1 `insufficient_scope`) unless the principal may do this. */
export function requirePermission(p: Principal, type: string, permission: Permission): void {
  if (permits(p, type, permission)) return;
  const scope = neededScope(p, type, permission);
  throw new FhirError(403, 'forbidden', `insufficient_scope: to ${VERBS[permission]} ${type} the access token needs the scope ${scope}`, {
    headers: { 'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${scope}"` },
  });
}

/**
 * The resource types whose rows the principal may see in results (read or search on the type), or '*' for all:
 * what search, includes, history and $everything narrow to.
 */
export function visibleTypes(p: Principal, allTypes: readonly string[]): '*' | string[] {
  if (p.kind === 'system') return '*';
  let types = visible.get(p);
  if (!types) {
    types = resourceScopes(p).some((s) => s.resourceType === '*' && /[rs]/.test(s.permissions)) ? '*'
      : allTypes.filter((t) => permits(p, t, 'r') || permits(p, t, 's'));
    visible.set(p, types);
  }
  return types;
}
