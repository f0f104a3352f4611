// Reference parameters (R4 search §3.1.1.4.12): `Type/id`, a bare `id` (any of the parameter's target types),
// an absolute URL (the stored `url`, or the local resource when it starts with this server's base), and the
// `:[type]` modifier (`subject:Patient=23`). A version suffix (`/_history/2`) is ignored.
import { badRequest } from '../errors.ts';
import { isResourceType } from '../search-parameters.ts';
import type { ReferenceValue } from './ast.ts';
import { and, likeEscape, or, sql, type Sql } from './sql.ts';
import { unescapeValue } from './values.ts';

const ID = /^[A-Za-z0-9\-.]{1,64}$/;
const RELATIVE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:/;

function parseRelative(value: string): { type: string; id: string } | undefined {
  const m = RELATIVE.exec(value);
  return m && isResourceType(m[1]!) ? { type: m[1]!, id: m[2]! } : undefined;
}

/**
 * @param targets the parameter's target types ([] = any)
 * @param typeModifier the `:[type]` modifier, already checked to be a resource type
 * @param fhirBase this server's base URL, when known: absolute references under it are local resources
 */
export function parseReferenceValue(raw: string, param: string, targets: string[], typeModifier: string | undefined, fhirBase: string | undefined): ReferenceValue {
  const value = unescapeValue(raw);
  if (typeModifier !== undefined) {
    const rel = parseRelative(value);
    if (rel && rel.type !== typeModifier) throw badRequest(`${param}=${value}: the reference type contradicts the :${typeModifier} modifier`, [param]);
    const id = rel?.id ?? value;
    if (!ID.test(id)) throw badRequest(`Invalid id '${value}' for ${param}`, [param]);
    return { kind: 'local', types: [typeModifier], id };
  }
  if (ABSOLUTE.test(value)) {
    const local = fhirBase !== undefined && value.startsWith(`${fhirBase}/`) ? parseRelative(value.slice(fhirBase.length + 1)) : undefined;
    return { kind: 'url', url: value, ...(local ? { local } : {}) };
  }
  const rel = parseRelative(value);
  if (rel) return { kind: 'local', types: [rel.type], id: rel.id };
  if (ID.test(value)) return { kind: 'local', types: targets.length > 0 ? targets : null, id: value };
  throw badRequest(`Invalid reference '${value}' for ${param}: expected [Type/]id or an absolute URL`, [param]);
}

/**
 * The reference row `s` names a resource on this server: relative (no `url`), or absolute under `fhirBase`.
 * Absolute references to other servers are indexed with a parsed type and id too, and must not match locally.
 */
export function isLocalReference(s: Sql, fhirBase: string | undefined): Sql {
  return fhirBase === undefined ? sql`${s}.url IS NULL` : sql`(${s}.url IS NULL OR ${s}.url LIKE ${likeEscape(fhirBase) + '/%'})`;
}

function localMatch(s: Sql, types: string[] | null, id: string, fhirBase: string | undefined): Sql {
  return and(
    sql`${s}.target_id = ${id}`,
    types === null ? sql`TRUE` : types.length === 1 ? sql`${s}.target_type = ${types[0]}` : sql`${s}.target_type = ANY(${types}::text[])`,
    isLocalReference(s, fhirBase),
  );
}

/** Predicate on one `sp_reference` row `s`. Uses `sp_reference_lookup (p, target_id, target_type)`. */
export function referenceMatch(s: Sql, values: ReferenceValue[], fhirBase: string | undefined): Sql {
  return or(
    ...values.map((v) => {
      if (v.kind === 'local') return localMatch(s, v.types, v.id, fhirBase);
      const byUrl = sql`${s}.url = ${v.url}`;
      return v.local ? or(byUrl, localMatch(s, [v.local.type], v.local.id, fhirBase)) : byUrl;
    }),
  );
}
