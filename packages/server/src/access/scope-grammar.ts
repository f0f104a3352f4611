// The SMART scope grammar, shared by the authorization server (what may be requested, granted and shown on the
// consent screen) and the FHIR server (what a token allows).
// @see https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html (SMART App Launch 2.2)
//
// Nothing here widens or drops a scope: a scope that is not understood exactly is reported as invalid, with a reason.
import { RESOURCE_TYPES, isResourceType } from '../fhir/search-parameters.ts';

export type ScopeContext = 'patient' | 'user' | 'system';
export type Permission = 'c' | 'r' | 'u' | 'd' | 's';

/** One `name=value` item of a granular scope's query string, kept verbatim (no percent-decoding). */
export interface ScopeConstraint {
  readonly name: string;
  readonly value: string;
}

export interface ResourceScope {
  readonly kind: 'resource';
  /** The scope as written (for a scope derived by `narrowToRead`, its formatted text). */
  readonly raw: string;
  readonly context: ScopeContext;
  /** An R4 resource type, or `*` for all types (now and in the future). */
  readonly resourceType: string;
  /** A non-empty subsequence of `cruds`, in that order: v1 `read` is `rs`, `write` is `cud`, `*` is `cruds`. */
  readonly permissions: string;
  /** The form it was written in; `formatScope` writes v1 scopes back in v1 form. */
  readonly version: 1 | 2;
  /** Granular constraints (v2 only); empty when unconstrained. */
  readonly constraints: readonly ScopeConstraint[];
  /** The query string after `?`, verbatim; absent when unconstrained. */
  readonly query?: string;
}

/** A recognised scope that is not about FHIR resources: identity, launch context, refresh tokens. */
export interface SpecialScope {
  readonly kind: 'special';
  readonly raw: string;
}

export interface InvalidScope {
  readonly kind: 'invalid';
  readonly raw: string;
  readonly reason: string;
}

export type ParsedScope = ResourceScope | SpecialScope | InvalidScope;

export interface ParsedScopeString {
  resource: ResourceScope[];
  special: string[];
  invalid: InvalidScope[];
}

// The recognised non-resource scopes, with their consent-screen wording (each sentence completes "The app wants to …"):
// identity (§Scopes for requesting identity data, plus the OpenID Connect `profile` and `email`), `launch`
// (§Scopes for requesting context data) and refresh tokens (§Scopes for requesting a refresh token).
// `patient-privacy` is not defined by SMART App Launch 2.2: it is Firekeeper's own. Extension scopes (§Extensibility:
// a full URI or a `__` prefix) are reported as invalid, since Firekeeper defines none.
const SPECIAL_SCOPES: ReadonlyMap<string, string> = new Map([
  ['openid', 'Know who you are'],
  ['fhirUser', 'Know who you are in this system (your user record)'],
  ['profile', 'See your name'],
  ['email', 'See your email address'],
  ['launch', 'Know what is open in the health record when it is launched from there'],
  ['offline_access', 'Stay signed in even when you are not using it (long-lived access)'],
  ['online_access', 'Stay signed in while you are signed in here'],
  ['patient-privacy', "See this patient's privacy preferences"],
]);

// SMART App Launch 2.2 §Scopes for requesting context data: besides `launch/patient` and `launch/encounter`, an EHR
// MAY support `launch/<resource type in lowercase>` (experimental), optionally with one `?role=<role>`. We recognise
// exactly that: the lowercase name of a real R4 type and at most one non-empty role. Whether such context is then
// provided is the authorization server's decision (the spec calls these scopes hints). Any other `launch/…` is invalid.
const LAUNCH_SCOPE = /^launch\/([a-z]+)(?:\?role=[^&]+)?$/;
const LAUNCH_TYPES = new Map(RESOURCE_TYPES.map((t) => [t.toLowerCase(), t]));

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

// SMART App Launch 2.2 §FHIR Resource Scope Syntax:
//   ("patient" | "user" | "system") "/" (type | "*") "." [c][r][u][d][s] ["?" param=value *("&" param=value)]
const RESOURCE_SCOPE = /^([^/]+)\/([^.]+)\.([^?]*)(?:\?(.*))?$/;
const CONTEXTS: readonly ScopeContext[] = ['patient', 'user', 'system'];
const V2_PERMISSIONS = /^c?r?u?d?s?$/;
// SMART App Launch 2.2 §Scopes for requesting FHIR Resources: v1 `.read` ⇒ `.rs`, `.write` ⇒ `.cud`, `.*` ⇒ `.cruds`.
const V1_PERMISSIONS = new Map([['read', 'rs'], ['write', 'cud'], ['*', 'cruds']]);
const V1_NAMES = new Map([...V1_PERMISSIONS].map(([name, letters]) => [letters, name]));
// A FHIR search parameter name, with modifiers (`code:in`) and chains (`patient.birthdate`), which 2.2 lists as experimental.
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]*$/;

/** Parses one scope. Never throws: a malformed scope comes back as `{ kind: 'invalid', reason }`. */
export function parseScope(raw: string): ParsedScope {
  if (raw === '') return invalid(raw, 'empty scope');
  if (!SCOPE_TOKEN.test(raw)) return invalid(raw, 'contains a character not allowed in an OAuth scope (RFC 6749 §3.3)');
  if (SPECIAL_SCOPES.has(raw)) return { kind: 'special', raw };
  if (raw.startsWith('launch/')) return parseLaunchScope(raw);
  const m = RESOURCE_SCOPE.exec(raw);
  return m ? parseResourceScope(raw, m[1], m[2], m[3], m[4]) : invalid(raw, 'unknown scope');
}

function parseLaunchScope(raw: string): SpecialScope | InvalidScope {
  const m = LAUNCH_SCOPE.exec(raw);
  return m && LAUNCH_TYPES.has(m[1]) ? { kind: 'special', raw } : invalid(raw, 'unknown launch context scope');
}

function parseResourceScope(raw: string, context: string, type: string, letters: string, query?: string): ParsedScope {
  if (!CONTEXTS.includes(context as ScopeContext)) return invalid(raw, `unknown context '${context}' (expected patient, user or system)`);
  if (type !== '*' && !isResourceType(type)) return invalid(raw, `'${type}' is not an R4 resource type`);
  const v1 = V1_PERMISSIONS.get(letters);
  if (v1 === undefined && (letters === '' || !V2_PERMISSIONS.test(letters))) {
    return invalid(raw, `permissions '${letters}' are neither read, write, * nor c, r, u, d, s in that order`);
  }
  // §Finer-grained resource constraints using search parameters: a SMART 2.0 feature, so not on v1 permissions.
  if (query !== undefined && v1 !== undefined) return invalid(raw, `constraints need v2 permissions, not '.${letters}'`);
  const constraints = query === undefined ? [] : parseQuery(query);
  if (typeof constraints === 'string') return invalid(raw, constraints);
  const scope: ResourceScope = {
    kind: 'resource', raw, context: context as ScopeContext, resourceType: type,
    permissions: v1 ?? letters, version: v1 === undefined ? 2 : 1, constraints,
  };
  return query === undefined ? scope : { ...scope, query };
}

/** The `param=value` items of a query string joined by `&`, or the reason they are malformed. */
function parseQuery(query: string): ScopeConstraint[] | string {
  if (query === '') return 'empty query after ?';
  const constraints: ScopeConstraint[] = [];
  for (const item of query.split('&')) {
    const eq = item.indexOf('=');
    const name = item.slice(0, eq);
    const value = item.slice(eq + 1);
    if (eq < 0 || !PARAM_NAME.test(name) || value === '') return `constraint '${item}' is not name=value`;
    constraints.push({ name, value });
  }
  return constraints;
}

function invalid(raw: string, reason: string): InvalidScope {
  return { kind: 'invalid', raw, reason };
}

/**
 * Parses a space-separated `scope` parameter. Lenient on layout: runs of spaces and leading or trailing spaces are
 * ignored, and a scope repeated verbatim is kept once (OAuth scopes are a set, RFC 6749 §3.3). Any other whitespace
 * is part of a token and makes it invalid. An empty string yields three empty lists.
 */
export function parseScopeString(scope: string): ParsedScopeString {
  const result: ParsedScopeString = { resource: [], special: [], invalid: [] };
  for (const raw of new Set(scope.split(' ').filter((s) => s !== ''))) {
    const parsed = parseScope(raw);
    if (parsed.kind === 'resource') result.resource.push(parsed);
    else if (parsed.kind === 'special') result.special.push(parsed.raw);
    else result.invalid.push(parsed);
  }
  return result;
}

/**
 * Whether the granted scope covers the requested one: same context, granted type `*` or the same type, granted
 * permissions a superset, and every granted constraint also in the request (an unconstrained grant covers a
 * constrained request, not the reverse). Constraints compare verbatim, so equivalent spellings do not cover each
 * other: this errs towards refusing.
 */
export function scopeCovers(granted: ResourceScope, requested: ResourceScope): boolean {
  return scopesCover([granted], requested);
}

/**
 * Whether the granted scopes together cover the requested one: each requested permission is covered by some granted
 * scope (§Scope Equivalence: `Observation.rs` is `Observation.r Observation.s`), under the rules of `scopeCovers`.
 */
export function scopesCover(granted: readonly ResourceScope[], requested: ResourceScope): boolean {
  const applicable = granted.filter((g) => appliesTo(g, requested));
  return [...requested.permissions].every((p) => applicable.some((g) => g.permissions.includes(p)));
}

function appliesTo(granted: ResourceScope, requested: ResourceScope): boolean {
  return granted.context === requested.context
    && (granted.resourceType === '*' || granted.resourceType === requested.resourceType)
    && granted.constraints.every((g) => requested.constraints.some((r) => r.name === g.name && r.value === g.value));
}

/**
 * The scopes that grant `permission` on `resourceType` in `context`; empty means not allowed. A constrained scope in
 * the result allows only what its constraints match: the caller applies them.
 */
export function allows(
  scopes: readonly ResourceScope[], context: ScopeContext, resourceType: string, permission: Permission,
): ResourceScope[] {
  return scopes.filter(
    (s) => s.context === context && (s.resourceType === '*' || s.resourceType === resourceType) && s.permissions.includes(permission),
  );
}

/** Writes a scope back: in v1 form when it was v1 and its permissions are exactly rs, cud or cruds; v2 form otherwise. */
export function formatScope(s: ResourceScope): string {
  const v1 = s.version === 1 && s.query === undefined ? V1_NAMES.get(s.permissions) : undefined;
  return `${s.context}/${s.resourceType}.${v1 ?? s.permissions}${s.query === undefined ? '' : `?${s.query}`}`;
}

/** The read-only part of a scope (its `r` and `s`), or null when it grants neither: for a write-to-read downgrade. */
export function narrowToRead(s: ResourceScope): ResourceScope | null {
  const permissions = [...s.permissions].filter((p) => p === 'r' || p === 's').join('');
  if (permissions === '') return null;
  const narrowed = { ...s, permissions };
  return { ...narrowed, raw: formatScope(narrowed) };
}

// Human order: reading before writing.
const PERMISSION_VERBS: readonly [Permission, string][] = [
  ['r', 'read'], ['s', 'search'], ['c', 'create'], ['u', 'update'], ['d', 'delete'],
];
const IRREGULAR_PLURALS: ReadonlyMap<string, string> = new Map([
  ['Basic', 'basic resources'], ['EpisodeOfCare', 'episodes of care'], ['Evidence', 'evidence'], ['Media', 'media'],
  ['MedicationKnowledge', 'medication knowledge'], ['MedicinalProductManufactured', 'manufactured medicinal products'],
  ['MedicinalProductPackaged', 'packaged medicinal products'], ['Parameters', 'parameters'], ['Person', 'people'],
  ['SubstanceReferenceInformation', 'substance reference information'], ['TerminologyCapabilities', 'terminology capabilities'],
]);

/** A plain-English sentence for the consent screen: `patient/Observation.rs` → "Read and search this patient's observations". */
export function describeScope(raw: string): string {
  const parsed = parseScope(raw);
  if (parsed.kind === 'invalid') return `Unrecognised permission: ${raw}`;
  if (parsed.kind === 'resource') return describeResourceScope(parsed);
  const launchType = LAUNCH_SCOPE.exec(raw)?.[1];
  return launchType ? `Know which ${humanName(LAUNCH_TYPES.get(launchType)!)} is open, or ask you to pick one` : SPECIAL_SCOPES.get(raw)!;
}

function describeResourceScope(s: ResourceScope): string {
  const verbs = PERMISSION_VERBS.filter(([p]) => s.permissions.includes(p)).map(([, verb]) => verb);
  const sentence = `${capitalise(joinWithAnd(verbs))} ${describeTarget(s.context, s.resourceType)}`;
  return s.constraints.length === 0 ? sentence : `${sentence} (only where ${joinWithAnd(s.constraints.map(describeConstraint))})`;
}

// SMART App Launch 2.2 §Wildcard scopes: `*` covers types added to the server later, and the user should be told so.
function describeTarget(context: ScopeContext, type: string): string {
  if (context === 'patient') {
    if (type === '*') return "all of this patient's data, including kinds of data added later";
    return type === 'Patient' ? "this patient's demographics" : `this patient's ${plural(type)}`;
  }
  if (context === 'user') {
    return type === '*' ? 'all data you can access, including kinds of data added later' : `the ${plural(type)} you can access`;
  }
  return type === '*' ? 'all data on this server, including kinds of data added later' : `all ${plural(type)} on this server`;
}

/** `category=http://…|laboratory,vital-signs` → "category is laboratory or vital-signs": token systems are left out. */
function describeConstraint(c: ScopeConstraint): string {
  const values = c.value.split(',').map((v) => v.slice(v.lastIndexOf('|') + 1));
  return `${c.name} is ${values.join(' or ')}`;
}

/** `MedicationRequest` → "medication request". */
function humanName(type: string): string {
  return type.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

/** `MedicationRequest` → "medication requests", `ImagingStudy` → "imaging studies", `RiskEvidenceSynthesis` → "… syntheses". */
function plural(type: string): string {
  const irregular = IRREGULAR_PLURALS.get(type);
  if (irregular) return irregular;
  const name = humanName(type);
  if (/[^aeiou]y$/.test(name)) return `${name.slice(0, -1)}ies`;
  return name.endsWith('is') ? `${name.slice(0, -2)}es` : `${name}s`;
}

function joinWithAnd(items: readonly string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
