// Index rows for one resource: the values of each of its search parameters, typed for the sp_* tables.
// Pure and synchronous: it runs inside every write transaction.
// @see http://hl7.org/fhir/R4/search.html
import fhirpath from 'fhirpath';
import { compiledParamsFor, COMPUTED_INDEX_KEYS, indexesReferenceIdentifier, isResourceType, patientCompartmentParams, type CompiledParam } from './search-parameters.ts';

export interface IndexRows {
  token: { p: string; system: string | null; code: string | null; text: string | null }[];
  string: { p: string; norm: string; exact: string }[];
  reference: { p: string; targetType: string | null; targetId: string | null; url: string | null }[];
  date: { p: string; lo: string; hi: string }[]; // ISO-8601 UTC, half-open [lo, hi); '-infinity' / 'infinity' when unbounded
  number: { p: string; value: string }[];
  quantity: { p: string; value: string; system: string | null; code: string | null; unit: string | null }[];
  uri: { p: string; value: string }[];
  compartments: string[]; // e.g. ['Patient/123']
}

type Obj = Record<string, unknown>;
type Table = Exclude<keyof IndexRows, 'compartments'>;
type Row<K extends Table> = IndexRows[K][number];

/** Lower case, accents removed (NFD minus combining marks), whitespace collapsed and trimmed. */
export function normalizeString(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();
}

// date | dateTime | instant, any precision; minutes without seconds are accepted for search values.
const DATE_RE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;
// Date.UTC maps years 0-99 to 19xx: set the full year explicitly.
function utc(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(y, mo, d);
  date.setUTCHours(h, mi, s, ms);
  return date.getTime();
}
const FIRST_MS = utc(1, 0, 1);
const MAX_MS = utc(10000, 0, 1);

// Instants beyond years 1-9999 (reachable through a time-zone offset) are clamped: PostgreSQL reads 4-digit years.
const loText = (ms: number): string => (ms < FIRST_MS ? '-infinity' : new Date(Math.min(ms, MAX_MS - 1)).toISOString());
const hiText = (ms: number): string => (ms >= MAX_MS ? 'infinity' : new Date(Math.max(ms, FIRST_MS + 1)).toISOString());

/**
 * The half-open UTC range a date, dateTime or instant covers at its precision (R4 search.html#date: "the
 * implicit range"): '2019' is [2019-01-01T00:00:00.000Z, 2020-01-01T00:00:00.000Z). A time without a zone is read
 * as UTC. Returns null for anything that is not a valid date.
 */
export function dateRange(value: string): { lo: string; hi: string } | null {
  const m = DATE_RE.exec(value);
  if (!m) return null;
  const [, ys, mos, ds, hs, mis, ss, frac, tz] = m;
  const y = Number(ys);
  const mo = mos === undefined ? 0 : Number(mos) - 1;
  const d = ds === undefined ? 1 : Number(ds);
  const h = Number(hs ?? 0);
  const mi = Number(mis ?? 0);
  const s = Number(ss ?? 0);
  const ms = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  const daysInMonth = new Date(utc(y, mo + 1, 0)).getUTCDate();
  if (y < 1 || mo < 0 || mo > 11 || d < 1 || d > daysInMonth || h > 23 || mi > 59 || s > 60) return null; // :60 is a leap second
  let lo = utc(y, mo, d, h, mi, s, ms);
  if (tz !== undefined && tz !== 'Z') {
    const oh = Number(tz.slice(1, 3));
    const om = Number(tz.slice(4, 6));
    if (oh > 14 || om > 59) return null;
    lo -= (tz[0] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  let hi: number;
  if (mos === undefined) hi = utc(y + 1, 0, 1);
  else if (ds === undefined) hi = utc(y, mo + 1, 1);
  else if (hs === undefined) hi = utc(y, mo, d + 1);
  else if (ss === undefined) hi = lo + 60_000;
  else if (frac === undefined) hi = lo + 1000;
  else hi = lo + 10 ** Math.max(0, 3 - frac.length);
  return { lo: loText(lo), hi: hiText(hi) };
}

/** Unwraps a fhirpath.js result: a ResourceNode carries the FHIR type of its data; computed values are bare. */
function unwrap(item: unknown): { type: string | null; value: unknown } {
  if (item !== null && typeof item === 'object' && 'fhirNodeDataType' in item) {
    const node = item as { fhirNodeDataType: string | null; data: unknown };
    return { type: node.fhirNodeDataType, value: node.data };
  }
  return { type: null, value: item };
}

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x !== '') : []);
const lower = (v: unknown): string | null => {
  const s = str(v);
  return s === null ? null : normalizeString(s);
};

/**
 * A decimal as text. fhirpath.js wraps integer and decimal elements in FP_Decimal; inside a Quantity they stay
 * JSON numbers. Either way the JSON was parsed already, so '100.0' reads back as '100'.
 */
function decimal(v: unknown): string | null {
  if (v instanceof fhirpath.FP_Decimal) return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : null;
  return typeof v === 'string' && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(v) ? v : null;
}

const QUANTITY_TYPES = new Set(['Quantity', 'SimpleQuantity', 'MoneyQuantity', 'Age', 'Duration', 'Distance', 'Count']);
const ISO_4217 = 'urn:iso:std:iso:4217';

// R4 search.html#token: which parts of each data type are system, code and text.
type AddToken = (system: string | null, code: string | null, text: string | null) => void;

function tokens(type: string | null, v: unknown, add: AddToken): void {
  if (typeof v === 'boolean') return add(null, String(v), null);
  if (typeof v === 'string') return void (v !== '' && add(null, v, null));
  if (!isObj(v)) return;
  switch (type) {
    case 'Coding':
      if (str(v.code) !== null || str(v.system) !== null) add(str(v.system), str(v.code), lower(v.display));
      return;
    case 'CodeableConcept':
      if (Array.isArray(v.coding)) for (const c of v.coding) if (isObj(c)) tokens('Coding', c, add);
      if (str(v.text) !== null) add(null, null, lower(v.text));
      return;
    case 'Identifier':
      if (str(v.value) === null && str(v.system) === null) return;
      add(str(v.system), str(v.value), isObj(v.type) ? lower(v.type.text) : null);
      return;
    case 'ContactPoint':
      if (str(v.value) !== null) add(null, str(v.value), null);
  }
}

// R4 search.html#string: HumanName and Address match on each of their parts.
function strings(type: string | null, v: unknown): string[] {
  if (typeof v === 'string') return v === '' ? [] : [v];
  if (!isObj(v)) return [];
  const parts =
    type === 'HumanName'
      ? [v.family, v.text, ...strs(v.given), ...strs(v.prefix), ...strs(v.suffix)]
      : type === 'Address'
        ? [...strs(v.line), v.city, v.district, v.state, v.postalCode, v.country, v.text]
        : [];
  return parts.filter((s): s is string => str(s) !== null);
}

const RELATIVE_REF = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;
const ABSOLUTE_REF = /^https?:\/\/.+\/([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;

/** R4 references.html#literal: a literal reference is relative `Type/id`, absolute, or `#contained` (not indexed). */
export function parseReference(ref: string): Omit<Row<'reference'>, 'p'> | null {
  if (ref === '' || ref.startsWith('#')) return null;
  const rel = RELATIVE_REF.exec(ref);
  if (rel && isResourceType(rel[1])) return { targetType: rel[1], targetId: rel[2], url: null };
  const abs = ABSOLUTE_REF.exec(ref);
  if (abs && isResourceType(abs[1])) return { targetType: abs[1], targetId: abs[2], url: ref };
  return { targetType: null, targetId: null, url: ref };
}

function reference(type: string | null, v: unknown): Omit<Row<'reference'>, 'p'> | null {
  if (typeof v === 'string') return v === '' ? null : { targetType: null, targetId: null, url: v }; // canonical | uri
  if (type !== 'Reference' || !isObj(v) || typeof v.reference !== 'string') return null; // identifier-only: not indexed
  return parseReference(v.reference);
}

/** A Reference's logical identifier (R4 references.html#logical), searched with `:identifier` as a token. */
function referenceIdentifier(p: string, type: string | null, v: unknown): { system: string | null; value: string; type: string | null } | null {
  if (type !== 'Reference' || !isObj(v) || !isObj(v.identifier) || !indexesReferenceIdentifier(p, v.identifier)) return null;
  const value = str(v.identifier.value);
  return value === null ? null : { system: str(v.identifier.system), value, type: str(v.type) };
}

function periodRange(v: Obj): { lo: string; hi: string } | null {
  const start = typeof v.start === 'string' ? dateRange(v.start) : null;
  const end = typeof v.end === 'string' ? dateRange(v.end) : null;
  if ((v.start !== undefined && !start) || (v.end !== undefined && !end)) return null;
  return { lo: start?.lo ?? '-infinity', hi: end?.hi ?? 'infinity' };
}

// R4 search.html#date: Period and Timing are ranges; a Timing spans its events or its bounds.
function dateOf(type: string | null, v: unknown): { lo: string; hi: string } | null {
  if (typeof v === 'string') return dateRange(v);
  if (!isObj(v)) return null;
  if (type === 'Period') return periodRange(v);
  if (type !== 'Timing') return null;
  let lo = '';
  let hi = '';
  for (const event of strs(v.event)) {
    const r = dateRange(event);
    if (!r) continue;
    if (lo === '' || r.lo < lo) lo = r.lo;
    if (hi === '' || r.hi > hi) hi = r.hi;
  }
  if (lo !== '') return { lo, hi };
  return isObj(v.repeat) && isObj(v.repeat.boundsPeriod) ? periodRange(v.repeat.boundsPeriod) : null;
}

// R4 search.html#quantity: Money is a quantity whose code is an ISO 4217 currency.
function quantity(type: string | null, v: unknown): Omit<Row<'quantity'>, 'p'> | null {
  if (!isObj(v) || type === null) return null;
  const value = decimal(v.value);
  if (value === null) return null;
  if (type === 'Money') return { value, system: str(v.currency) === null ? null : ISO_4217, code: str(v.currency), unit: null };
  if (!QUANTITY_TYPES.has(type)) return null; // Range and SampledData have no single value
  return { value, system: str(v.system), code: str(v.code), unit: str(v.unit) };
}

class RowSet<K extends Table> {
  readonly rows: Row<K>[] = [];
  private readonly seen = new Set<string>();
  add(row: Row<K>): void {
    const key = Object.values(row).join('\u0000');
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.rows.push(row);
  }
}

const failedKeys = new Set<string>();

/** True when the resource has an element the expression could start from (choice elements: `value` → `valueQuantity`). */
function mayMatch(roots: readonly string[], resource: object): boolean {
  for (const key in resource) {
    for (const root of roots) {
      if (key === root || (key.startsWith(root) && key.length > root.length && key.charCodeAt(root.length) < 91 && key.charCodeAt(root.length) > 64)) return true;
    }
  }
  return false;
}

function evaluate(param: CompiledParam, resource: object): unknown[] {
  if (param.roots && !mayMatch(param.roots, resource)) return [];
  try {
    return param.evaluate(resource);
  } catch (err) {
    if (!failedKeys.has(param.def.key)) {
      failedKeys.add(param.def.key);
      console.warn(`firekeeper: search parameter ${param.def.key} failed to evaluate: ${(err as Error).message}`);
    }
    return [];
  }
}

/**
 * Computes every index row of one resource that is stored, and the Patient compartments it belongs to. The rows of
 * COMPUTED_INDEX_KEYS are computed by the database when searched; `includeComputed` adds them (to check those
 * functions against this extractor).
 */
export function extractIndexRows(resource: { resourceType: string; id?: string; [k: string]: unknown }, { includeComputed = false } = {}): IndexRows {
  const tokenRows = new RowSet<'token'>();
  const string = new RowSet<'string'>();
  const refRows = new RowSet<'reference'>();
  const date = new RowSet<'date'>();
  const number = new RowSet<'number'>();
  const qty = new RowSet<'quantity'>();
  const uri = new RowSet<'uri'>();
  const compartmentParams = new Set(patientCompartmentParams(resource.resourceType));
  const compartments = new Set<string>();
  if (resource.resourceType === 'Patient' && str(resource.id) !== null) compartments.add(`Patient/${resource.id}`);

  for (const param of compiledParamsFor(resource.resourceType)) {
    const { key: p, type: paramType, code } = param.def;
    // A computed parameter that defines compartments (AuditEvent.patient) is still evaluated for them.
    const computed = !includeComputed && COMPUTED_INDEX_KEYS.has(p);
    if (computed && !compartmentParams.has(code)) continue;
    const token = computed ? new RowSet<'token'>() : tokenRows;
    const ref = computed ? new RowSet<'reference'>() : refRows;
    for (const item of evaluate(param, resource)) {
      const { type, value } = unwrap(item);
      if (value === null || value === undefined) continue;
      switch (paramType) {
        case 'token':
          tokens(type, value, (system, c, text) => token.add({ p, system, code: c, text }));
          break;
        case 'string':
          for (const exact of strings(type, value)) {
            const norm = normalizeString(exact);
            if (norm !== '') string.add({ p, norm, exact });
          }
          break;
        case 'reference': {
          // `param:identifier=system|value` (R4 search §3.1.1.4.12) matches token rows under the reference
          // parameter's own key: a parameter has one type, so they cannot be mistaken for another parameter's.
          const id = referenceIdentifier(p, type, value);
          if (id && (!param.onlyTargets || param.onlyTargets.has(id.type ?? ''))) {
            token.add({ p, system: id.system, code: id.value, text: null });
          }
          const r = reference(type, value);
          if (!r || (param.onlyTargets && !param.onlyTargets.has(r.targetType ?? ''))) break;
          ref.add({ p, ...r });
          // Compartment membership from local (relative) references only: an absolute URL may name another server.
          if (compartmentParams.has(code) && r.targetType === 'Patient' && r.url === null) {
            compartments.add(`Patient/${r.targetId}`);
          }
          break;
        }
        case 'date': {
          const r = dateOf(type, value);
          if (r) date.add({ p, ...r });
          break;
        }
        case 'number': {
          const n = decimal(value);
          if (n !== null) number.add({ p, value: n });
          break;
        }
        case 'quantity': {
          const q = quantity(type, value);
          if (q) qty.add({ p, ...q });
          break;
        }
        case 'uri':
          if (typeof value === 'string' && value !== '') uri.add({ p, value });
      }
    }
  }
  return {
    token: tokenRows.rows,
    string: string.rows,
    reference: refRows.rows,
    date: date.rows,
    number: number.rows,
    quantity: qty.rows,
    uri: uri.rows,
    compartments: [...compartments],
  };
}
