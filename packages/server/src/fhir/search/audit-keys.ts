// The search keys of an AuditEvent (migration 022). Its reference rows (agent, entity, patient) and its agents' and
// entities' identifiers are not stored but computed when searched (where.ts indexSource), which alone would make
// every search by them read every event. So the audit log writes, into the event's `compartments` array beside its
// Patient compartments, one key per value a search can name, and the array's GIN index finds them:
//
//   `AuditEvent.agent␟Practitioner/7`   a reference to a resource on this server (relative, or an absolute URL under
//                                       the event's FHIR base: its source's base URL and `/fhir`)
//   `AuditEvent.agent␟https://…`        an absolute reference, by its URL
//   `AuditEvent.agent␟system|value`     an identifier (`|value` without a system)
//
// (␟ is U+001F, which no `Type/id` compartment contains.) A key is held exactly when the search value it stands for
// matches, so a search whose values all have keys is answered by the keys alone; others (a bare id of any type,
// an identifier of any system, `:missing`, chains) read the computed rows. The event's date is its row's
// `last_updated` (isAuditEventDate, below).
import type { IndexRows } from '../index-extract.ts';
import type { ReferenceValue, ResolvedParam, TokenValue } from './ast.ts';
import { FALSE, sql, type Sql } from './sql.ts';

const SEP = '\u001f';

/** The AuditEvent parameters whose values have keys. */
const KEYED: ReadonlySet<string> = new Set(['AuditEvent.agent', 'AuditEvent.entity', 'AuditEvent.patient']);

/** Whether every one of a parameter's keys (`AuditEvent.agent`…) is found by search keys. */
export function isKeyed(paramKeys: readonly string[]): boolean {
  return paramKeys.length > 0 && paramKeys.every((k) => KEYED.has(k));
}

/** The key of a local reference to `type`/`id` under parameter key `p`. */
function targetKey(p: string, type: string, id: string): string {
  return `${p}${SEP}${type}/${id}`;
}

/**
 * The search keys of an AuditEvent's reference and identifier rows (audit-index.ts computes those); `fhirBase` is the
 * FHIR base of the server that wrote it, whose absolute URLs name local resources (search/param-reference.ts).
 */
export function auditSearchKeys(rows: Pick<IndexRows, 'reference' | 'token'>, fhirBase: string): string[] {
  const keys = new Set<string>();
  for (const r of rows.reference) {
    if (!KEYED.has(r.p)) continue;
    const local = r.url === null || r.url.startsWith(`${fhirBase}/`);
    if (local && r.targetType !== null && r.targetId !== null) keys.add(targetKey(r.p, r.targetType, r.targetId));
    if (r.url !== null) keys.add(`${r.p}${SEP}${r.url}`);
  }
  for (const t of rows.token) if (KEYED.has(t.p) && t.code !== null) keys.add(`${t.p}${SEP}${t.system ?? ''}|${t.code}`);
  return [...keys];
}

/** `r.compartments && keys`: the GIN index's narrowing. */
function holdsAny(r: Sql, keys: string[]): Sql {
  if (keys.length === 0) return FALSE;
  return keys.length === 1 ? sql`${r}.compartments @> ARRAY[${keys[0]}]::text[]` : sql`${r}.compartments && ${keys}::text[]`;
}

/**
 * A reference condition on keyed parameters (`paramKeys`) as a test of the row's keys, or undefined when a value has
 * no key (a bare id of any type). R4 search §3.1.1.4.12: `Type/id` and ids of a typed parameter name local resources;
 * an absolute URL names what is stored under it, and the local resource when it is under this server's base.
 */
export function referenceKeyTest(r: Sql, paramKeys: readonly string[], values: readonly ReferenceValue[]): Sql | undefined {
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
  return holdsAny(r, keys);
}

/** An `:identifier` condition on keyed parameters as a test of the row's keys, or undefined when a value names no system. */
export function identifierKeyTest(r: Sql, paramKeys: readonly string[], values: readonly TokenValue[]): Sql | undefined {
  const keys: string[] = [];
  for (const p of paramKeys) {
    for (const v of values) {
      if (v.system === undefined || v.code === undefined) return undefined;
      keys.push(`${p}${SEP}${v.system ?? ''}|${v.code}`);
    }
  }
  return holdsAny(r, keys);
}

/** Whether row `o` holds the key of a local reference to row `t` (a `resources` alias) under parameter key `p`. */
export function referencesRow(o: Sql, p: string, t: Sql): Sql {
  return sql`${o}.compartments @> ARRAY[${`${p}${SEP}`} || ${t}.type || '/' || ${t}.id]`;
}

/** Whether row `o` holds the key of a local reference to one of `targets` under one of `paramKeys`. */
export function referencesAny(o: Sql, paramKeys: readonly string[], targets: readonly { type: string; id: string }[]): Sql {
  return holdsAny(o, paramKeys.flatMap((p) => targets.map((t) => targetKey(p, t.type, t.id))));
}

/**
 * An AuditEvent's `date` is its `recorded` time, which the audit log also writes as the row's `last_updated`
 * (audit-log.ts), at millisecond precision for every event: a `date` search and sort read that column and its index
 * (`_lastUpdated`'s rules: search/param-date.ts instantMatch), rather than the date computed from every event's JSON.
 */
export function isAuditEventDate(param: ResolvedParam): boolean {
  return param.keys.length === 1 && param.keys[0] === 'AuditEvent.date';
}
