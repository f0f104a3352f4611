// FHIR R4 search (http://hl7.org/fhir/R4/search.html): type, system and Patient-compartment searches compiled to
// one SQL statement per page with bound parameters; `_include`/`_revinclude` and counts are follow-up statements.
// Nothing is filtered in JavaScript after paging. See ./README.md for what is supported.
import type { Principal } from '../../access/principal.ts';
import type { Queryable } from '../../store/database.ts';
import type { SearchParamType } from '../search-parameters.ts';
import { accessFilter } from './access-filter.ts';
import { requirePermission } from '../../access/scope-check.ts';
import { pageLinks, searchsetBundle, type BundleEntry } from './bundle.ts';
import { fetchIncludes, type PageRow } from './include.ts';
import { decodeCursor, encodeCursor, keysetSql, pageSql } from './paging.ts';
import { supportedModifiers as modifiersFor } from './parse-params.ts';
import { parseSearchRequest, type ParsedSearch } from './search-request.ts';
import { orderKeys, sortSignature } from './sort.ts';
import { Aliases, and, join, raw, sql, TRUE, type Sql } from './sql.ts';
import { subsetJson, type Subset } from './summary.ts';
import { whereSql } from './where.ts';

export { everything } from './everything.ts';

export interface SearchRequest {
  /** undefined: system-level search (`_type` narrows it; only parameters common to all types apply). */
  type?: string;
  /** The raw query (GET query or POST _search form body); `_format` and `_pretty` are ignored. */
  params: URLSearchParams;
  /** GET Patient/{id}/{type}: only resources in that Patient's compartment. */
  compartment?: { type: 'Patient'; id: string };
  /** `Prefer: handling=strict`: unknown or unsupported parameters are a 400 instead of being ignored. */
  strict: boolean;
  /** The clock for `ap` dates and Bundle.meta.lastUpdated (tests inject it). */
  now?: Date;
}

/** The `_` parameters this server supports (for the CapabilityStatement). */
export const SUPPORTED_SEARCH_RESULT_PARAMS: string[] = [
  '_id', '_lastUpdated', '_tag', '_profile', '_security', '_source', '_type', '_has',
  '_sort', '_count', '_total', '_include', '_revinclude', '_summary', '_elements',
];

/** The modifiers supported on a parameter type (`type` stands for `:[type]` on references). */
export function supportedModifiers(type: SearchParamType): string[] {
  return modifiersFor(type);
}

interface Row extends PageRow {
  [key: `k${number}`]: string | null;
}

const R = raw('r');

/** The rows a search may see before any filter: current, visible, in the compartment and of the URL's type. */
function baseWhere(principal: Principal, type: string | undefined, compartment: SearchRequest['compartment'], aliases: Aliases): Sql {
  return and(
    type === undefined ? TRUE : sql`${R}.type = ${type}`,
    sql`NOT ${R}.deleted`,
    compartment ? sql`${R}.compartments @> ARRAY[${`${compartment.type}/${compartment.id}`}]::text[]` : TRUE,
    accessFilter(principal, type, R, aliases),
  );
}

/** A searchset Bundle as JSON text. */
export async function searchBundle(q: Queryable, principal: Principal, req: SearchRequest, fhirBase: string): Promise<string> {
  if (req.type !== undefined) requirePermission(principal, req.type, 's');
  const now = req.now ?? new Date();
  const parsed = parseSearchRequest(req.type, req.params, { strict: req.strict, fhirBase, now });
  const aliases = new Aliases();
  const where = and(baseWhere(principal, req.type, req.compartment, aliases), whereSql(parsed.conditions, R, { aliases, principal, fhirBase }));
  const { keys, joins } = orderKeys(parsed.sort, R, aliases);
  const signature = sortSignature(parsed.sort);
  const cursor = parsed.cursor === undefined ? undefined : decodeCursor(parsed.cursor, keys, signature);
  const countOnly = parsed.summary === 'count' || parsed.count === 0;

  let rows: Row[] = [];
  let more = false;
  if (!countOnly) {
    const page = pageSql(R, sql`resources ${R} ${join(joins, ' ')}`, and(where, cursor ? keysetSql(keys, cursor) : TRUE), keys, cursor?.backward ?? false, parsed.count + 1).render();
    rows = await q.query<Row>(page.text, page.params);
    more = rows.length > parsed.count;
    rows = rows.slice(0, parsed.count);
    if (cursor?.backward) rows.reverse();
  }

  const total = await bundleTotal(q, parsed, where, { countOnly, firstPage: cursor === undefined, more, rows: rows.length });
  const included = await fetchIncludes(q, parsed.includes, rows, { principal, fhirBase });
  const subset = subsetOf(parsed);
  const entries: BundleEntry[] = [
    ...rows.map((r) => ({ type: r.type, id: r.id, json: subset ? subsetJson(r.json, subset) : r.json, mode: 'match' as const })),
    ...included.map((r) => ({ type: r.type, id: r.id, json: r.json, mode: 'include' as const })),
  ];

  const path = req.compartment
    ? `${fhirBase}/${req.compartment.type}/${req.compartment.id}/${req.type ?? '*'}`
    : req.type ? `${fhirBase}/${req.type}` : fhirBase;
  const links = pageLinks(path, parsed.applied, { cursor: parsed.cursor, backward: cursor?.backward ?? false, more, countOnly }, rows,
    (row, backward) => encodeCursor({ values: keys.map((_, i) => row[`k${i}`] ?? null), backward }, signature));
  return searchsetBundle({ total, links, entries, fhirBase, now });
}

// R4 search §3.1.1.8.5 `_total`. Default: the total is given when it costs nothing (a first page that holds every
// match); `accurate` runs a COUNT with the same WHERE; `estimate` asks the planner; `none` omits it.
async function bundleTotal(
  q: Queryable,
  parsed: ParsedSearch,
  where: Sql,
  page: { countOnly: boolean; firstPage: boolean; more: boolean; rows: number },
): Promise<number | undefined> {
  if (parsed.total === 'none' && !page.countOnly) return undefined;
  if (page.firstPage && !page.more && !page.countOnly) return page.rows;
  if (parsed.total === 'accurate' || page.countOnly) {
    const { text, params } = sql`SELECT count(*)::text AS n FROM resources ${R} WHERE ${where}`.render();
    return Number((await q.query<{ n: string }>(text, params))[0]!.n);
  }
  if (parsed.total === 'estimate') {
    const { text, params } = sql`EXPLAIN (FORMAT JSON) SELECT 1 FROM resources ${R} WHERE ${where}`.render();
    const plan = (await q.query<Record<string, unknown>>(text, params))[0]!['QUERY PLAN'];
    const json = (typeof plan === 'string' ? JSON.parse(plan) : plan) as { Plan: { 'Plan Rows': number } }[];
    return Math.round(json[0]!.Plan['Plan Rows']);
  }
  return undefined;
}

function subsetOf(parsed: ParsedSearch): Subset | undefined {
  if (parsed.elements) return { kind: 'elements', names: parsed.elements };
  if (parsed.summary === 'true' || parsed.summary === 'text' || parsed.summary === 'data') return { kind: 'summary', mode: parsed.summary };
  return undefined;
}

/** Conditional create / update / delete: the ids of the current matches (at most `limit`), strict handling. */
export async function matchIds(q: Queryable, principal: Principal, type: string, params: URLSearchParams, fhirBase?: string, limit = 5): Promise<string[]> {
  const parsed = parseSearchRequest(type, params, { strict: true, fhirBase, now: new Date() });
  const aliases = new Aliases();
  const where = and(baseWhere(principal, type, undefined, aliases), whereSql(parsed.conditions, R, { aliases, principal, fhirBase }));
  const { text, params: values } = sql`SELECT ${R}.id FROM resources ${R} WHERE ${where} ORDER BY ${R}.rid LIMIT ${limit}`.render();
  return (await q.query<{ id: string }>(text, values)).map((r) => r.id);
}
