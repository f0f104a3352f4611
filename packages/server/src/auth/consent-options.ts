// What the consent screen offers for a request, and what a submitted form grants. Each grantable scope is one
// checkbox whose value is the exact scope string: the requested scope itself (checked), a read-only version of a
// write scope, and category sub-scopes of Observation and Condition (unchecked). A submission can only pick from
// what was offered, so nothing is ever widened.
import { describeScope, formatScope, narrowToRead, parseScope, type ResourceScope } from '../access/scope-grammar.ts';

export interface ScopeOption {
  scope: string;
  description: string;
}

export interface ConsentGroup extends ScopeOption {
  /** Narrower alternatives to the requested scope (read-only, single categories). */
  alternatives: ScopeOption[];
}

// Categories a user may limit an app to (FHIR R4 value sets observation-category and condition-category).
const CATEGORIES: Record<string, { system: string; codes: string[] }> = {
  Observation: { system: 'http://terminology.hl7.org/CodeSystem/observation-category', codes: ['laboratory', 'vital-signs', 'social-history'] },
  Condition: { system: 'http://terminology.hl7.org/CodeSystem/condition-category', codes: ['problem-list-item', 'encounter-diagnosis'] },
};

const option = (scope: string): ScopeOption => ({ scope, description: describeScope(scope) });

function alternativesFor(s: ResourceScope): ScopeOption[] {
  const out: ScopeOption[] = [];
  const read = narrowToRead(s);
  if (read && read.permissions !== s.permissions) out.push(option(formatScope(read)));
  const categories = CATEGORIES[s.resourceType];
  const letters = s.permissions.replace(/[cud]/g, '');
  if (categories && s.constraints.length === 0 && letters) {
    for (const code of categories.codes) out.push(option(`${s.context}/${s.resourceType}.${letters}?category=${categories.system}|${code}`));
  }
  return out;
}

export function consentGroups(scopes: readonly string[]): ConsentGroup[] {
  return scopes.map((scope) => {
    const parsed = parseScope(scope);
    return { ...option(scope), alternatives: parsed.kind === 'resource' ? alternativesFor(parsed) : [] };
  });
}

/**
 * The scopes a consent form grants: for each group, the requested scope if checked, otherwise the alternatives
 * checked (a read-only version wins over categories, which it already covers). Unknown values are ignored.
 */
export function grantedByConsent(groups: readonly ConsentGroup[], checked: readonly string[]): string[] {
  const chosen = new Set(checked);
  return groups.flatMap((g) => {
    if (chosen.has(g.scope)) return [g.scope];
    const picked = g.alternatives.filter((a) => chosen.has(a.scope)).map((a) => a.scope);
    const readOnly = picked.find((p) => !p.includes('?'));
    return readOnly ? [readOnly] : picked;
  });
}
