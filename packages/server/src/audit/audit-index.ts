// The stored search index rows of an AuditEvent built by audit-event.ts, computed straight from its known shape.
// The general extractor (fhir/index-extract.ts) evaluates every indexed AuditEvent search parameter's FHIRPath
// expression: ~90 µs per event, as much as a whole read request. This takes a few µs; audit-index.test.ts checks
// that it yields exactly the extractor's rows (and compartments) for every kind of record the builder makes.
// The codes and the time (action, outcome, type, subtype, date) are not stored: the database computes them when a
// search asks (COMPUTED_INDEX_KEYS, migration 014).
// @see http://hl7.org/fhir/R4/auditevent.html#search
import { parseReference, type IndexRows } from '../fhir/index-extract.ts';
import { indexesReferenceIdentifier } from '../fhir/search-parameters.ts';
import type { AuditEventResource } from './audit-event.ts';

type Who = { reference?: string; identifier?: { system?: string; value?: string; type?: unknown } };
type Shape = { agent?: { who?: Who }[]; entity?: { what?: Who }[] };

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

export function auditIndexRows(event: AuditEventResource): IndexRows {
  const e = event as unknown as Shape;
  const token = new Rows<IndexRows['token'][number]>();
  const reference = new Rows<IndexRows['reference'][number]>();
  const compartments = new Set<string>();
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

  for (const a of e.agent ?? []) ref('agent', a.who);
  for (const en of e.entity ?? []) ref('entity', en.what);
  return {
    token: token.rows,
    string: [],
    reference: reference.rows,
    date: [],
    number: [],
    quantity: [],
    uri: [],
    compartments: [...compartments],
  };
}
