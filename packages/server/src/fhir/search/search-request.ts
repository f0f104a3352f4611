// Parses a search query (GET query string or POST _search form) into a ParsedSearch: typed filter conditions plus
// the result parameters. Unknown parameters are dropped under lenient handling and rejected under strict handling
// (R4 search §3.1.1.1 "Prefer: handling"); bad values are rejected under both. `applied` lists exactly the
// parameters used, for the self link.
import { badRequest, FhirError } from '../errors.ts';
import { isResourceType, RESOURCE_TYPES } from '../search-parameters.ts';
import type { Condition, IncludeSpec, SortSpec, SummaryMode, TotalMode } from './ast.ts';
import { parseInclude } from './include.ts';
import { parseCondition, UnknownParameterError, type ParseContext } from './parse-params.ts';
import { parseSort } from './sort.ts';
import { parseElements } from './summary.ts';

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 1000;

export interface ParsedSearch {
  /** The resource types searched: the URL's type, `_type`, or every type (system search). */
  scope: readonly string[];
  conditions: Condition[];
  sort: SortSpec[];
  count: number;
  /** The `_cursor` of a next / previous link. */
  cursor?: string;
  total?: TotalMode;
  summary?: SummaryMode;
  elements?: string[];
  includes: IncludeSpec[];
  /** The parameters applied, in request order (`_count` normalised, `_cursor` excluded). */
  applied: [string, string][];
}

export interface ParseOptions extends ParseContext {
  strict: boolean;
}

// R4 search §3.1.1.1 (ignored by the server): formatting parameters are not search parameters.
const FORMATTING = new Set(['_format', '_pretty']);
const SINGLE = new Set(['_sort', '_count', '_cursor', '_total', '_summary', '_elements', '_type']);

export function parseSearchRequest(type: string | undefined, params: URLSearchParams, opts: ParseOptions): ParsedSearch {
  // Parameters with an empty value are ignored (R4 search §3.1.1.3).
  const entries = [...params].filter(([name, value]) => !FORMATTING.has(name) && value !== '');
  // PostgreSQL text cannot hold NUL: refuse it here rather than fail in the database.
  const nul = entries.find(([name, value]) => name.includes('\0') || value.includes('\0'));
  if (nul) throw badRequest(`The search parameter '${nul[0].replace(/\0/g, '\\0')}' contains a NUL character`, [nul[0]]);
  for (const name of SINGLE) {
    if (entries.filter(([n]) => n === name).length > 1) throw badRequest(`${name} may be given only once`, [name]);
  }
  const typeParam = type === undefined ? entries.find(([n]) => n === '_type')?.[1] : undefined;
  const scope = typeParam !== undefined ? parseTypes(typeParam) : type !== undefined ? [type] : RESOURCE_TYPES;
  const out: ParsedSearch = { scope, conditions: [], sort: [], count: DEFAULT_COUNT, includes: [], applied: [] };
  const unknown = (name: string) => {
    if (opts.strict) throw new FhirError(400, 'not-supported', `Unknown or unsupported search parameter '${name}'${type ? ` for ${type}` : ''}`, { expression: [name] });
  };

  for (const [name, value] of entries) {
    let applied = value;
    if (name === '_type') {
      if (type !== undefined) {
        unknown(name);
        continue;
      }
      out.conditions.push({ kind: 'type', types: [...scope] });
    } else if (name === '_sort') out.sort = parseSort(value, scope);
    else if (name === '_count') applied = String((out.count = parseCount(value)));
    else if (name === '_cursor') {
      out.cursor = value;
      continue;
    } else if (name === '_total') out.total = oneOf<TotalMode>(name, value, ['none', 'estimate', 'accurate']);
    else if (name === '_summary') out.summary = oneOf<SummaryMode>(name, value, ['true', 'false', 'text', 'data', 'count']);
    else if (name === '_elements') out.elements = parseElements(value);
    else if (/^_(rev)?include(:|$)/.test(name)) out.includes.push(parseInclude(name, value, scope));
    else {
      try {
        out.conditions.push(parseCondition(scope, name, value, opts));
      } catch (err) {
        if (!(err instanceof UnknownParameterError)) throw err;
        unknown(name);
        continue;
      }
    }
    out.applied.push([name, applied]);
  }
  if (out.elements && out.summary && out.summary !== 'false') throw badRequest('_summary and _elements cannot be combined', ['_elements']);
  return out;
}

function parseTypes(value: string): string[] {
  const types = value.split(',').filter((t) => t !== '');
  for (const t of types) if (!isResourceType(t)) throw badRequest(`Unknown resource type '${t}' in _type`, ['_type']);
  return [...new Set(types)];
}

/** `_count`: a non-negative integer, capped at MAX_COUNT (R4 search §3.1.1.8.4 lets the server return fewer). */
export function parseCount(value: string): number {
  if (!/^[0-9]{1,9}$/.test(value)) throw badRequest(`_count must be a non-negative integer, got '${value}'`, ['_count']);
  return Math.min(Number(value), MAX_COUNT);
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw badRequest(`${name} must be one of ${allowed.join(', ')}; got '${value}'`, [name]);
  return value as T;
}
