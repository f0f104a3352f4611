// Row keys (migration 018): copies of a resource's token and date search keys on its own `resources` row, so that a
// search whose candidates another condition has already found checks them on the row it reads anyway, instead of
// descending sp_token and sp_date once per candidate.
//
// - token_keys: `p␟code` and `p␟system␟code` for every stored token row with a code (␟ = U+001F, which no FHIR string
//   can hold; an empty system for a coding without one). Written by store/repository.ts writeVersion with the index
//   rows, from the same values.
// - date_keys: {p: [earliest start, latest end]} of the stored date ranges, which is what `_sort` orders by.
//
// Used only where they answer exactly what the index rows would: token equality (`code`, `system|code`, `|code`,
// with `:not`) and date sort keys, for parameters whose rows are stored with the resource. AuditEvents are appended by
// the audit log without row keys (and some of their keys are computed when searched: migration 014), so their
// parameters always use the index tables.
import type { IndexRows } from '../index-extract.ts';
import type { Condition, ResolvedParam, TokenValue } from './ast.ts';
import { join, not, raw, sql, type Sql } from './sql.ts';

const SEP = '\u001f';

/** The token_keys of a resource's token index rows. */
export function tokenKeys(rows: IndexRows['token']): string[] {
  const keys: string[] = [];
  for (const t of rows) if (t.code !== null) keys.push(`${t.p}${SEP}${t.code}`, `${t.p}${SEP}${t.system ?? ''}${SEP}${t.code}`);
  return keys;
}

/** The key a search value matches, or undefined when a key cannot express it (`system|`: any code of a system). */
function valueKey(p: string, v: TokenValue): string | undefined {
  if (v.code === undefined) return undefined;
  return v.system === undefined ? `${p}${SEP}${v.code}` : `${p}${SEP}${v.system ?? ''}${SEP}${v.code}`;
}

// Every key whose rows are computed when searched (COMPUTED_INDEX_KEYS) is an AuditEvent's.
const hasRowKeys = (param: ResolvedParam) => param.keys.every((k) => !k.startsWith('AuditEvent.'));

/**
 * True when a search's conditions bound its candidates to one patient's references or to named ids: then the
 * planner finds them through that condition's index, and the other conditions are checks per candidate row. Row
 * keys are used only then: elsewhere a token condition may be the most selective one, and must stay indexable.
 */
export function candidatesBounded(conditions: readonly Condition[]): boolean {
  return conditions.some((c) =>
    c.kind === 'id'
    || (c.kind === 'reference' && c.values.length > 0 && c.values.every((v) => v.kind === 'local' && v.types?.length === 1 && v.types[0] === 'Patient')));
}

/** A token condition as a test of row `r`'s token_keys, or undefined when only the index rows can answer it. */
export function rowTokenCondition(c: Extract<Condition, { kind: 'token' }>, r: Sql): Sql | undefined {
  if (!hasRowKeys(c.param)) return undefined;
  const keys: string[] = [];
  for (const p of c.param.keys) {
    for (const v of c.values) {
      const key = valueKey(p, v);
      if (key === undefined) return undefined;
      keys.push(key);
    }
  }
  const matches = sql`${r}.token_keys && ${keys}::text[]`;
  return c.negate ? not(matches) : matches; // R4 search §3.1.1.5.5 `:not`
}

/**
 * A date parameter's sort key from row `r`'s date_keys (ascending: the earliest start; descending: the latest end),
 * or undefined when its rows are not all stored with the resource.
 */
export function rowDateSortKey(param: ResolvedParam, desc: boolean, r: Sql): Sql | undefined {
  if (param.type !== 'date' || !hasRowKeys(param)) return undefined;
  const end = raw(desc ? '1' : '0');
  const values = param.keys.map((k) => sql`(${r}.date_keys -> ${k}::text ->> ${end})::timestamptz`);
  // A row has the keys of its own type only; greatest / least ignore the others' NULLs.
  return values.length === 1 ? values[0]! : sql`${raw(desc ? 'greatest' : 'least')}(${join(values, ', ')})`;
}
