// `_sort` (R4 search §3.1.1.8.2 / "Sorting"): comma-separated keys, `-` for descending. A parameter with several
// values sorts by its lowest value ascending and its highest descending; each key is computed once per row by a
// LATERAL aggregate over the parameter's index rows, or read from the row's own date_keys for a date parameter
// (row-keys.ts), or, for an AuditEvent's date, its last_updated. The row's rid ends every order, so the order is total.
import { badRequest } from '../errors.ts';
import type { ResolvedParam, SortSpec } from './ast.ts';
import type { OrderKey, SqlCast } from './paging.ts';
import { resolveParam } from './parse-params.ts';
import { inKeys, raw, sql, type Aliases, type Sql } from './sql.ts';
import { indexSource } from './where.ts';
import { rowDateSortKey } from './row-keys.ts';
import { isAuditEventDate } from './audit-keys.ts';

export function parseSort(value: string, scope: readonly string[]): SortSpec[] {
  const specs: SortSpec[] = [];
  for (const item of value.split(',')) {
    const desc = item.startsWith('-');
    const code = desc ? item.slice(1) : item;
    if (code === '') throw badRequest(`Empty key in _sort=${value}`, ['_sort']);
    if (code === '_id') specs.push({ kind: 'id', desc });
    else if (code === '_lastUpdated') specs.push({ kind: 'lastUpdated', desc });
    else {
      const param = resolveParam(scope, code);
      if (!param) throw badRequest(`Unknown _sort parameter '${code}' for ${scope.length === 1 ? scope[0] : 'these types'}`, ['_sort']);
      specs.push({ kind: 'param', param, desc });
    }
  }
  return specs;
}

/** The normalised `_sort` text: part of each cursor, so a cursor cannot be replayed under another order. */
export function sortSignature(specs: readonly SortSpec[]): string {
  return specs.map((s) => `${s.desc ? '-' : ''}${s.kind === 'param' ? s.param.code : s.kind === 'id' ? '_id' : '_lastUpdated'}`).join(',');
}

function aggregate(param: ResolvedParam, desc: boolean, k: Sql): { value: Sql; cast: SqlCast } {
  const agg = raw(desc ? 'max' : 'min');
  switch (param.type) {
    case 'string':
      return { value: sql`${agg}(${k}.norm)`, cast: 'text' };
    case 'token':
      return { value: sql`${agg}(${k}.code)`, cast: 'text' };
    case 'reference':
      return { value: sql`${agg}(coalesce(${k}.target_type || '/' || ${k}.target_id, ${k}.url))`, cast: 'text' };
    case 'date':
      // Ascending by the earliest start, descending by the latest end.
      return { value: desc ? sql`max(${k}.hi)` : sql`min(${k}.lo)`, cast: 'timestamptz' };
    case 'number':
    case 'quantity':
      return { value: sql`${agg}(${k}.value)`, cast: 'numeric' };
    case 'uri':
      return { value: sql`${agg}(${k}.value)`, cast: 'text' };
  }
}

/** The SELECT of one row, `v`, that computes a parameter's sort key for resource row `r`. */
function sortKeySelect(param: ResolvedParam, desc: boolean, r: Sql, aliases: Aliases): { select: Sql; cast: SqlCast } {
  const stored = rowDateSortKey(param, desc, r);
  if (stored) return { select: sql`SELECT ${stored} AS v`, cast: 'timestamptz' };
  const k = aliases.next('k');
  const { value, cast } = aggregate(param, desc, k);
  return { select: sql`SELECT ${value} AS v FROM ${indexSource(param.type, param.keys, r)} ${k} WHERE ${k}.rid = ${r}.rid AND ${inKeys(sql`${k}.p`, param.keys)}`, cast };
}

/** ORDER BY keys (ending with rid) and the LATERAL joins that compute them, for resource row `r`. */
export function orderKeys(specs: readonly SortSpec[], r: Sql, aliases: Aliases): { keys: OrderKey[]; joins: Sql[] } {
  const keys: OrderKey[] = [];
  const joins: Sql[] = [];
  for (const spec of specs) {
    if (spec.kind === 'id') keys.push({ expr: sql`${r}.id`, cast: 'text', desc: spec.desc, nullable: false });
    else if (spec.kind === 'lastUpdated' || isAuditEventDate(spec.param)) {
      keys.push({ expr: sql`${r}.last_updated`, cast: 'timestamptz', desc: spec.desc, nullable: false });
    } else {
      const o = aliases.next('o');
      const { select, cast } = sortKeySelect(spec.param, spec.desc, r, aliases);
      joins.push(sql`CROSS JOIN LATERAL (${select}) ${o}`);
      keys.push({ expr: sql`${o}.v`, cast, desc: spec.desc, nullable: true });
    }
  }
  // Ties broken by rid, in the direction of the last key (lets `-_lastUpdated` walk its index backwards).
  keys.push({ expr: sql`${r}.rid`, cast: 'bigint', desc: specs.at(-1)?.desc ?? false, nullable: false });
  return { keys, joins };
}
