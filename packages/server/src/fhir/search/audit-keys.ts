// The search keys of an AuditEvent (migration 022). Its reference rows (agent, entity, patient) and its agents' and
// entities' identifiers are not stored but computed when searched (where.ts indexSource), which alone would make
// every search by them read every event. So the audit log writes, into the event's `compartments` array beside its
// Patient compartments, one key per value a search can name, and a search for such a value first narrows the
// candidates to the rows holding its key (through the array's GIN index), then checks them against the computed
// rows as any other search does. A key is only a necessary condition: a false candidate is never a match.
//
//   `AuditEvent.agent␟Practitioner/7`   a reference with a type and id (relative, or an absolute URL that ends so)
//   `AuditEvent.agent␟https://…`        an absolute reference, by its URL
//   `AuditEvent.agent␟system|value`     an identifier (`|value` without a system)
//
// (␟ is U+001F, which no `Type/id` compartment contains.)
import type { IndexRows } from '../index-extract.ts';
import type { ReferenceValue, TokenValue } from './ast.ts';
import { sql, type Sql } from './sql.ts';

const SEP = '\u001f';

/** The AuditEvent parameters whose values have keys. */
const KEYED: ReadonlySet<string> = new Set(['AuditEvent.agent', 'AuditEvent.entity', 'AuditEvent.patient']);

/** Whether every one of a parameter's keys (`AuditEvent.agent`…) is found by search keys. */
export function isKeyed(paramKeys: readonly string[]): boolean {
  return paramKeys.length > 0 && paramKeys.every((k) => KEYED.has(k));
}

/** The key of a reference to `type`/`id` under parameter key `p`. */
export function targetKey(p: string, type: string, id: string): string {
  return `${p}${SEP}${type}/${id}`;
}

/** The search keys of an AuditEvent's reference and identifier rows (audit-index.ts computes those). */
export function auditSearchKeys(rows: Pick<IndexRows, 'reference' | 'token'>): string[] {
  const keys = new Set<string>();
  for (const r of rows.reference) {
    if (!KEYED.has(r.p)) continue;
    if (r.targetType !== null && r.targetId !== null) keys.add(targetKey(r.p, r.targetType, r.targetId));
    if (r.url !== null) keys.add(`${r.p}${SEP}${r.url}`);
  }
  for (const t of rows.token) if (KEYED.has(t.p) && t.code !== null) keys.add(`${t.p}${SEP}${t.system ?? ''}|${t.code}`);
  return [...keys];
}

/** `r.compartments && keys`: the GIN index's narrowing. */
function holdsAny(r: Sql, keys: string[]): Sql {
  return keys.length === 1 ? sql`${r}.compartments @> ARRAY[${keys[0]}]::text[]` : sql`${r}.compartments && ${keys}::text[]`;
}

/**
 * The narrowing for a reference condition on keyed parameters (`paramKeys`), or undefined when a value has no key
 * to look up (a bare id of any type).
 */
export function referenceKeyFilter(r: Sql, paramKeys: readonly string[], values: readonly ReferenceValue[]): Sql | undefined {
  const keys: string[] = [];
  for (const p of paramKeys) {
    for (const v of values) {
      if (v.kind === 'url') {
        keys.push(`${p}${SEP}${v.url}`);
        if (v.local) keys.push(targetKey(p, v.local.type, v.local.id));
      } else if (v.types === null) {
        return undefined;
      } else {
        for (const type of v.types) keys.push(targetKey(p, type, v.id));
      }
    }
  }
  return keys.length > 0 ? holdsAny(r, keys) : undefined;
}

/** The narrowing for an `:identifier` condition on keyed parameters, or undefined when a value names no system. */
export function identifierKeyFilter(r: Sql, paramKeys: readonly string[], values: readonly TokenValue[]): Sql | undefined {
  const keys: string[] = [];
  for (const p of paramKeys) {
    for (const v of values) {
      if (v.system === undefined || v.code === undefined) return undefined;
      keys.push(`${p}${SEP}${v.system ?? ''}|${v.code}`);
    }
  }
  return keys.length > 0 ? holdsAny(r, keys) : undefined;
}

/** The key a reference to row `t` (a `resources` alias) has under parameter key `p`, as SQL. */
export function targetKeySql(p: string, t: Sql): Sql {
  return sql`${`${p}${SEP}`} || ${t}.type || '/' || ${t}.id`;
}
