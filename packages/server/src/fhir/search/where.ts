// Compiles typed Conditions into SQL predicates over one `resources` row alias. Every index parameter becomes an
// `EXISTS` over its sp_* table keyed by (rid, p), so the planner can drive from whichever index is most selective
// (over the function that computes those rows, for the few keys whose rows are not stored: `indexSource`). Once a
// condition bounds the candidates (one patient's references, named ids), token equality is tested on the row's own
// keys instead (row-keys.ts).
// Comma alternatives are OR-ed inside one EXISTS; repeated parameters are AND-ed by the caller (R4 search §3.1.1.3).
import type { Principal } from '../../access/principal.ts';
import { COMPUTED_INDEX_KEYS, type SearchParamType } from '../search-parameters.ts';
import { accessFilter } from './access-filter.ts';
import type { Condition, ResolvedParam } from './ast.ts';
import { dateMatch, instantMatch } from './param-date.ts';
import { numberMatch, quantityMatch } from './param-number.ts';
import { isLocalReference, referenceMatch } from './param-reference.ts';
import { stringMatch } from './param-string.ts';
import { tokenMatch, tokenTextMatch } from './param-token.ts';
import { uriMatch } from './param-uri.ts';
import { candidatesBounded, rowTokenCondition } from './row-keys.ts';
import { identifierKeyTest, isAuditEventDate, isKeyed, referenceKeyTest, referencesRow } from './audit-keys.ts';
import { Aliases, and, inKeys, not, or, raw, sql, TRUE, type Sql } from './sql.ts';

export const INDEX_TABLE: Record<SearchParamType, Sql> = {
  string: raw('sp_string'),
  token: raw('sp_token'),
  reference: raw('sp_reference'),
  date: raw('sp_date'),
  number: raw('sp_number'),
  quantity: raw('sp_quantity'),
  uri: raw('sp_uri'),
};

export interface WhereContext {
  aliases: Aliases;
  principal: Principal;
  fhirBase?: string;
}

// The functions that compute the rows of COMPUTED_INDEX_KEYS from a stored AuditEvent (migrations 014 and 022), by
// row type.
const COMPUTED_INDEX: Partial<Record<SearchParamType, Sql>> = {
  token: raw('audit_event_tokens'), date: raw('audit_event_dates'), reference: raw('audit_event_references'),
};

/**
 * The index rows of `keys` (of row type `type`) for resource row `r`: its sp_* table or, for keys whose rows are
 * computed when searched, their function of `r`, with the same columns; both when the keys are of the two kinds
 * (a search over several types).
 */
export function indexSource(type: SearchParamType, keys: readonly string[], r: Sql): Sql {
  const fn = COMPUTED_INDEX[type];
  if (!fn || !keys.some((k) => COMPUTED_INDEX_KEYS.has(k))) return INDEX_TABLE[type];
  // Stored as json (migration 020): converted to jsonb once per row (OFFSET 0 keeps the planner from inlining the
  // conversion into each of the function's uses).
  // Only an AuditEvent's: another type's resource may have members of the same names (a Provenance's `agent`).
  const computed = sql`(SELECT f.* FROM (SELECT ${r}.resource::jsonb AS doc WHERE ${r}.type = 'AuditEvent' OFFSET 0) AS d, ${fn}(${r}.rid, d.doc) AS f)`;
  return keys.every((k) => COMPUTED_INDEX_KEYS.has(k)) ? computed : sql`(SELECT * FROM ${INDEX_TABLE[type]} UNION ALL SELECT * FROM ${computed} AS c)`;
}

/**
 * `EXISTS` an index row of `param` for resource row `r` satisfying `match`. The rows are of the parameter's type,
 * except for token conditions on a reference parameter (`:identifier`).
 */
function indexExists(param: ResolvedParam, r: Sql, ctx: WhereContext, match: (s: Sql) => Sql, type = param.type): Sql {
  const s = ctx.aliases.next('s');
  return sql`EXISTS (SELECT 1 FROM ${indexSource(type, param.keys, r)} ${s} WHERE ${s}.rid = ${r}.rid AND ${inKeys(sql`${s}.p`, param.keys)} AND ${match(s)})`;
}

/** The AND of all conditions, for resource row `r`. */
export function whereSql(conditions: readonly Condition[], r: Sql, ctx: WhereContext): Sql {
  const bounded = candidatesBounded(conditions);
  return and(...conditions.map((c) => (bounded && c.kind === 'token' && rowTokenCondition(c, r)) || conditionSql(c, r, ctx)));
}

export function conditionSql(c: Condition, r: Sql, ctx: WhereContext): Sql {
  switch (c.kind) {
    case 'id':
      return c.ids.length === 1 ? sql`${r}.id = ${c.ids[0]}` : sql`${r}.id = ANY(${c.ids}::text[])`;
    case 'last-updated':
      return instantMatch(sql`${r}.last_updated`, c.values);
    case 'type':
      return c.types.length === 1 ? sql`${r}.type = ${c.types[0]}` : sql`${r}.type = ANY(${c.types}::text[])`;
    case 'missing': {
      // R4 search §3.1.1.5.1: `:missing=true` matches resources with no value for the parameter.
      const present = indexExists(c.param, r, ctx, () => TRUE);
      return c.missing ? not(present) : present;
    }
    case 'string':
      return indexExists(c.param, r, ctx, (s) => stringMatch(s, c.match, c.values));
    case 'token': {
      const keyed = c.param.type === 'reference' && isKeyed(c.param.keys) ? identifierKeyTest(r, c.param.keys, c.values) : undefined;
      const matches = keyed ?? indexExists(c.param, r, ctx, (s) => tokenMatch(s, c.values), 'token');
      // R4 search §3.1.1.5.5 `:not`: resources without a matching token (including those with no value at all).
      return c.negate ? not(matches) : matches;
    }
    case 'token-text':
      return indexExists(c.param, r, ctx, (s) => tokenTextMatch(s, c.values), 'token');
    case 'reference':
      return (isKeyed(c.param.keys) ? referenceKeyTest(r, c.param.keys, c.values) : undefined)
        ?? indexExists(c.param, r, ctx, (s) => referenceMatch(s, c.values, ctx.fhirBase));
    case 'date':
      if (isAuditEventDate(c.param)) return instantMatch(sql`${r}.last_updated`, c.values);
      return indexExists(c.param, r, ctx, (s) => dateMatch(s, c.values));
    case 'number':
      return indexExists(c.param, r, ctx, (s) => numberMatch(s, c.values));
    case 'quantity':
      return indexExists(c.param, r, ctx, (s) => quantityMatch(s, c.values));
    case 'uri':
      return indexExists(c.param, r, ctx, (s) => uriMatch(s, c.match, c.values));
    case 'chain':
      return chainSql(c, r, ctx);
    case 'has':
      return hasSql(c, r, ctx);
  }
}

// Chaining (R4 search §3.1.1.4.13): follow the reference to a current, visible resource of a target type and
// test the chained condition on it.
function chainSql(c: Extract<Condition, { kind: 'chain' }>, r: Sql, ctx: WhereContext): Sql {
  const s = ctx.aliases.next('s');
  const t = ctx.aliases.next('t');
  const byTarget = or(...c.links.map((l) => and(sql`${s}.target_type = ${l.targetType}`, conditionSql(l.condition, t, ctx))));
  const types = c.links.map((l) => l.targetType);
  return sql`EXISTS (SELECT 1 FROM ${indexSource('reference', c.param.keys, r)} ${s} JOIN resources ${t} ON ${t}.type = ${s}.target_type AND ${t}.id = ${s}.target_id
    WHERE ${s}.rid = ${r}.rid AND ${inKeys(sql`${s}.p`, c.param.keys)} AND ${isLocalReference(s, ctx.fhirBase)}
      AND NOT ${t}.deleted AND ${accessFilter(ctx.principal, types.length === 1 ? types[0] : undefined, t, ctx.aliases)} AND ${byTarget})`;
}

// Reverse chaining (R4 search §3.1.1.4.14): some current, visible `sourceType` resource references this row
// through `key` and matches the inner condition. Uses `sp_reference_lookup (p, target_id, target_type)`.
function hasSql(c: Extract<Condition, { kind: 'has' }>, r: Sql, ctx: WhereContext): Sql {
  const s = ctx.aliases.next('s');
  const o = ctx.aliases.next('o');
  const visible = sql`NOT ${o}.deleted AND ${accessFilter(ctx.principal, c.sourceType, o, ctx.aliases)} AND ${conditionSql(c.condition, o, ctx)}`;
  // An AuditEvent parameter: the events that hold the key of a local reference to this row (audit-keys.ts).
  if (isKeyed([c.key])) return sql`EXISTS (SELECT 1 FROM resources ${o} WHERE ${o}.type = 'AuditEvent' AND ${referencesRow(o, c.key, r)} AND ${visible})`;
  return sql`EXISTS (SELECT 1 FROM sp_reference ${s} JOIN resources ${o} ON ${o}.rid = ${s}.rid
    WHERE ${s}.target_type = ${r}.type AND ${s}.target_id = ${r}.id AND ${s}.p = ${c.key} AND ${isLocalReference(s, ctx.fhirBase)} AND ${visible})`;
}
