// `_include` and `_revinclude` (R4 search §3.1.1.8.6 "Including other resources in result"). The page of matches
// is one statement; included resources are fetched afterwards, one statement per parameter and round, from the
// rids (forward) or type/ids (reverse) of the page's rows. `:iterate` repeats over the resources included in the
// previous round, at most MAX_ITERATE times. Included resources are deduplicated against the matches and each
// other, pass the same access filter as matches, and count neither in `total` nor in paging.
import type { Principal } from '../../access/principal.ts';
import type { Queryable } from '../../store/database.ts';
import { badRequest } from '../errors.ts';
import { COMPUTED_INDEX_KEYS, getSearchParam, isResourceType, searchParamsFor } from '../search-parameters.ts';
import { accessFilter } from './access-filter.ts';
import type { IncludeSpec } from './ast.ts';
import { isLocalReference } from './param-reference.ts';
import { referencesAny } from './audit-keys.ts';
import { Aliases, and, FALSE, inKeys, or, raw, sql, TRUE } from './sql.ts';
import { indexSource } from './where.ts';

/** Rounds of `:iterate` after the first one. */
export const MAX_ITERATE = 3;
/** At most this many included resources per page. */
export const MAX_INCLUDED = 1000;

export interface PageRow {
  rid: string;
  type: string;
  id: string;
  json: string;
}

/** `[Type:param[:targetType]]` or `*`, with `:iterate` (R4) or `:recurse` (its R3 name) on the parameter name. */
export function parseInclude(name: string, value: string, scope: readonly string[]): IncludeSpec {
  const [base, modifier, ...extra] = name.split(':');
  const reverse = base === '_revinclude';
  if (extra.length > 0 || (modifier !== undefined && modifier !== 'iterate' && modifier !== 'recurse')) {
    throw badRequest(`Unknown modifier in '${name}': only :iterate is supported`, [name]);
  }
  const iterate = modifier !== undefined;
  const bad = (why: string) => badRequest(`Invalid ${name}=${value}: ${why}`, [name]);
  if (value === '*') {
    if (reverse) throw bad('_revinclude=* is not supported');
    return { reverse, iterate, keys: scope.flatMap(referenceKeys) };
  }
  const parts = value.split(':');
  const [sourceType, code, targetType] = parts;
  if (parts.length < 2 || parts.length > 3 || !sourceType || !code) throw bad('expected SourceType:parameter[:TargetType]');
  if (!isResourceType(sourceType)) throw bad(`unknown resource type '${sourceType}'`);
  let keys: string[];
  let targets: string[] = [];
  if (code === '*') keys = referenceKeys(sourceType);
  else {
    const def = getSearchParam(sourceType, code);
    if (!def || def.type !== 'reference') throw bad(`'${code}' is not a reference parameter of ${sourceType}`);
    keys = [def.key];
    targets = def.targets;
  }
  if (targetType !== undefined && (!isResourceType(targetType) || (targets.length > 0 && !targets.includes(targetType)))) {
    throw bad(`'${targetType}' is not a target type of ${sourceType}.${code}`);
  }
  return { reverse, iterate, keys, sourceType, ...(targetType ? { targetType } : {}) };
}

function referenceKeys(type: string): string[] {
  return searchParamsFor(type)
    .filter((p) => p.type === 'reference')
    .map((p) => p.key);
}

export interface IncludeContext {
  principal: Principal;
  fhirBase?: string;
}

/** The resources the page's matches include, in discovery order (each round ordered by rid). */
export async function fetchIncludes(q: Queryable, specs: readonly IncludeSpec[], matches: readonly PageRow[], ctx: IncludeContext): Promise<PageRow[]> {
  if (specs.length === 0 || matches.length === 0) return [];
  const seen = new Set(matches.map((m) => m.rid));
  const included: PageRow[] = [];
  let frontier: readonly PageRow[] = matches;
  for (let round = 0; round <= MAX_ITERATE && frontier.length > 0; round++) {
    const applicable = round === 0 ? specs : specs.filter((s) => s.iterate);
    if (applicable.length === 0) break;
    const found: PageRow[] = [];
    for (const spec of applicable) {
      const limit = MAX_INCLUDED - included.length - found.length;
      if (limit <= 0) break;
      for (const row of await includeRound(q, spec, frontier, [...seen], limit, ctx)) {
        if (seen.has(row.rid)) continue;
        seen.add(row.rid);
        found.push(row);
      }
    }
    included.push(...found);
    frontier = found;
  }
  return included;
}

async function includeRound(q: Queryable, spec: IncludeSpec, from: readonly PageRow[], exclude: string[], limit: number, ctx: IncludeContext): Promise<PageRow[]> {
  const s = raw('s');
  const t = raw('t');
  const a = raw('a');
  const target = sql`${spec.targetType ? sql`${s}.target_type = ${spec.targetType}` : TRUE} AND ${isLocalReference(s, ctx.fhirBase)}`;
  const rids = from.map((f) => f.rid);
  // A computed parameter's rows (an AuditEvent's) come from the events themselves: forward, from the events of the
  // page (where.ts indexSource); reverse, the events that hold the key of a local reference to one of `from`.
  const computed = spec.keys.filter((k) => COMPUTED_INDEX_KEYS.has(k));
  const stored = spec.keys.filter((k) => !COMPUTED_INDEX_KEYS.has(k));
  const selected = spec.reverse
    ? // resources whose reference parameter points at one of `from`
      or(
        stored.length === 0 ? FALSE : sql`${t}.rid IN (SELECT ${s}.rid FROM sp_reference ${s}
          JOIN unnest(${from.map((f) => f.type)}::text[], ${from.map((f) => f.id)}::text[]) AS f(type, id) ON ${s}.target_type = f.type AND ${s}.target_id = f.id
          WHERE ${inKeys(sql`${s}.p`, stored)} AND ${target})`,
        computed.length === 0 ? FALSE : referencesAny(t, computed, from.filter((f) => !spec.targetType || f.type === spec.targetType)),
      )
    : // resources that one of `from` points at
      sql`(${t}.type, ${t}.id) IN (SELECT ${s}.target_type, ${s}.target_id FROM ${computed.length > 0
          ? sql`resources ${a} CROSS JOIN LATERAL ${indexSource('reference', spec.keys, a)} ${s} WHERE ${a}.rid = ANY(${rids}::bigint[]) AND ${s}.rid = ${a}.rid`
          : sql`sp_reference ${s} WHERE ${s}.rid = ANY(${rids}::bigint[])`}
            AND ${inKeys(sql`${s}.p`, spec.keys)} AND ${s}.target_id IS NOT NULL AND ${target})`;
  const where = and(selected, sql`NOT ${t}.deleted`, sql`NOT (${t}.rid = ANY(${exclude}::bigint[]))`, accessFilter(ctx.principal, spec.reverse ? spec.sourceType : spec.targetType, t, new Aliases()));
  const { text, params } = sql`SELECT ${t}.rid::text AS rid, ${t}.type, ${t}.id, ${t}.resource::text AS json
    FROM resources ${t} WHERE ${where} ORDER BY ${t}.rid LIMIT ${limit}`.render();
  return q.query<PageRow>(text, params);
}
