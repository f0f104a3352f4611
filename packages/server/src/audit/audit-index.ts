// The search index rows of an AuditEvent built by audit-event.ts, computed straight from its known shape.
// The general extractor (fhir/index-extract.ts) evaluates every indexed AuditEvent search parameter's FHIRPath
// expression: ~90 µs per event, as much as a whole read request. This takes a few µs; audit-index.test.ts checks
// that it yields exactly the extractor's rows (and compartments) for every kind of record the builder makes.
// @see http://hl7.org/fhir/R4/auditevent.html#search
import { dateRange, normalizeString, parseReference, type IndexRows } from '../fhir/index-extract.ts';
import { indexesReferenceIdentifier } from '../fhir/search-parameters.ts';
import type { AuditEventResource, Coding } from './audit-event.ts';

type Who = { reference?: string; identifier?: { system?: string; value?: string; type?: unknown } };
type Shape = {
  action?: string; outcome?: string; recorded: string; type?: Coding; subtype?: Coding[];
  agent?: { who?: Who }[]; entity?: { what?: Who }[];
};

class Rows<T extends object> {
  readonly rows: T[] = [];
  readonly #seen = new Set<string>();
  add(row: T): void {
    const key = Object.values(row).join('\u0000');
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.rows.push(row);
  }
}

const P = (code: string) => `AuditEvent.${code}`;

// Most normalised strings are the same few displays: remember them (bounded).
const normalised = new Map<string, string>();
function norm(s: string): string {
  let n = normalised.get(s);
  if (n === undefined) {
    n = normalizeString(s);
    if (normalised.size >= 1000) normalised.clear();
    normalised.set(s, n);
  }
  return n;
}

export function auditIndexRows(event: AuditEventResource): IndexRows {
  const e = event as unknown as Shape;
  const token = new Rows<IndexRows['token'][number]>();
  const reference = new Rows<IndexRows['reference'][number]>();
  const compartments = new Set<string>();
  const code = (p: string, value: string | undefined) => value && token.add({ p: P(p), system: null, code: value, text: null });
  const coding = (p: string, c: Coding | undefined) => {
    if (c && (c.code || c.system)) token.add({ p: P(p), system: c.system || null, code: c.code || null, text: c.display ? norm(c.display) : null });
  };
  // `agent` and `entity` also index a logical reference's identifier, for `:identifier` (the app:
  // urn:firekeeper:client-id|…), except the X-Request-Id one and the server's own (search-parameters.ts);
  // `patient` has a resolve() filter.
  const ref = (p: string, who: Who | undefined) => {
    const id = who?.identifier;
    if (id?.value && indexesReferenceIdentifier(P(p), id)) {
      token.add({ p: P(p), system: id.system || null, code: id.value, text: null });
    }
    const value = who?.reference;
    const r = value ? parseReference(value) : null;
    if (!r) return;
    reference.add({ p: P(p), ...r });
    if (r.targetType !== 'Patient') return;
    reference.add({ p: P('patient'), ...r });
    if (r.url === null) compartments.add(`Patient/${r.targetId}`); // the Patient CompartmentDefinition: AuditEvent.patient
  };

  code('action', e.action);
  code('outcome', e.outcome);
  coding('type', e.type);
  for (const s of e.subtype ?? []) coding('subtype', s);
  for (const a of e.agent ?? []) ref('agent', a.who);
  for (const en of e.entity ?? []) ref('entity', en.what);
  const date = dateRange(e.recorded);
  return {
    token: token.rows,
    string: [],
    reference: reference.rows,
    date: date ? [{ p: P('date'), ...date }] : [],
    number: [],
    quantity: [],
    uri: [],
    compartments: [...compartments],
  };
}
