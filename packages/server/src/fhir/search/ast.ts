// The typed form of a search request: what `search-request.ts` parses the query string into and what the SQL
// builders (`where.ts`, `param-*.ts`, `sort.ts`, `paging.ts`, `include.ts`) consume. Nothing here is raw input.
// @see http://hl7.org/fhir/R4/search.html
import type { SearchParamType } from '../search-parameters.ts';

// R4 search §3.1.1.4 (prefixes for number, date and quantity).
export type Prefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap';
export const PREFIXES: readonly Prefix[] = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'];

/** A search parameter resolved against the resource types in scope (one type, or several for system search). */
export interface ResolvedParam {
  code: string;
  type: SearchParamType;
  /** The `p` column values, one per resource type in scope, e.g. ['Observation.patient']. */
  keys: string[];
  /** Reference target types (union over the types in scope); [] for other types. */
  targets: string[];
}

/** `system` undefined: any system; null: no system (`|code`). `code` undefined: any code (`system|`). */
export interface TokenValue {
  system?: string | null;
  code?: string;
}

/** A date search value's half-open UTC range [lo, hi), ISO text; `ap` widens it (see param-date.ts). */
export interface DateValue {
  prefix: Prefix;
  lo: string;
  hi: string;
}

/** A decimal as text; `half` is half a unit of its last significant digit (the implicit precision). */
export interface NumberValue {
  prefix: Prefix;
  value: string;
  half: string;
}

/** `system` undefined and `code` set: the code matches `code` or `unit` (`5.4||mg`). */
export interface QuantityValue extends NumberValue {
  system?: string;
  code?: string;
}

/** A local resource (any of `types`, or any type when null) or an absolute/canonical URL. */
export type ReferenceValue =
  | { kind: 'local'; types: string[] | null; id: string }
  | { kind: 'url'; url: string; local?: { type: string; id: string } };

export type Condition =
  | { kind: 'missing'; param: ResolvedParam; missing: boolean }
  | { kind: 'string'; param: ResolvedParam; match: 'start' | 'exact' | 'contains'; values: string[] }
  | { kind: 'token'; param: ResolvedParam; negate: boolean; values: TokenValue[] }
  | { kind: 'token-text'; param: ResolvedParam; values: string[] }
  | { kind: 'reference'; param: ResolvedParam; values: ReferenceValue[] }
  | { kind: 'date'; param: ResolvedParam; values: DateValue[] }
  | { kind: 'number'; param: ResolvedParam; values: NumberValue[] }
  | { kind: 'quantity'; param: ResolvedParam; values: QuantityValue[] }
  | { kind: 'uri'; param: ResolvedParam; match: 'exact' | 'below' | 'above'; values: string[] }
  | { kind: 'id'; ids: string[] }
  | { kind: 'last-updated'; values: DateValue[] }
  | { kind: 'type'; types: string[] }
  /** Chaining: the reference points at a resource of `targetType` matching `condition` (one entry per target type). */
  | { kind: 'chain'; param: ResolvedParam; links: { targetType: string; condition: Condition }[] }
  /** Reverse chaining: a `sourceType` resource whose reference parameter `key` points here matches `condition`. */
  | { kind: 'has'; sourceType: string; key: string; condition: Condition };

export type SortSpec =
  | { kind: 'id'; desc: boolean }
  | { kind: 'lastUpdated'; desc: boolean }
  | { kind: 'param'; param: ResolvedParam; desc: boolean };

export interface IncludeSpec {
  reverse: boolean;
  iterate: boolean;
  /** The reference parameter keys followed, e.g. ['Observation.patient'] (several for `Type:*`). */
  keys: string[];
  /** The type holding the reference parameter (absent for `*`). */
  sourceType?: string;
  /** Only references to this type (`Observation:subject:Patient`). */
  targetType?: string;
}

export type TotalMode = 'none' | 'estimate' | 'accurate';
export type SummaryMode = 'true' | 'false' | 'text' | 'data' | 'count';

