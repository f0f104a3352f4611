// Type-level scope enforcement: whether a principal's granted scopes allow a permission (c r u d s) on a resource
// type, and the 403 `insufficient_scope` refusal that names the scope it would need.
// SMART App Launch 2.2 §Scopes for requesting clinical data. Which rows of an allowed type the principal may then
// touch (the launch patient's record, the user's access policy, granular constraints, patient privacy preferences)
// is decided in SQL by fhir/search/access-filter.ts.
import { FhirError } from '../fhir/errors.ts';
import type { Principal } from './principal.ts';
import { allows, parseScopeString, type Permission, type ResourceScope, type ScopeContext } from './scope-grammar.ts';

const VERBS: Record<Permission, string> = { c: 'create', r: 'read', u: 'update', d: 'delete', s: 'search' };
const parsed = new WeakMap<Principal, ResourceScope[]>();

/** A backend client acts with `system/` scopes; an app acting for a user with `patient/` and `user/` scopes. */
export function contextsOf(p: Principal): ScopeContext[] {
  return p.kind === 'client' ? ['system'] : ['patient', 'user'];
}

/** The principal's resource scopes in the contexts that apply to it (parsed once per principal). */
export function grantedScopes(p: Principal): readonly ResourceScope[] {
  let scopes = parsed.get(p);
  if (!scopes) {
    const contexts = contextsOf(p);
    scopes = parseScopeString(p.scopes.join(' ')).resource.filter((s) => contexts.includes(s.context));
    parsed.set(p, scopes);
  }
  return scopes;
}

/** Whether some scope grants the permission on the type (a constrained scope counts: its constraints narrow the rows). */
export function permits(p: Principal, type: string, permission: Permission): boolean {
  if (p.kind === 'system') return true;
  return contextsOf(p).some((c) => allows(grantedScopes(p), c, type, permission).length > 0);
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
