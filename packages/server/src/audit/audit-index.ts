// The index rows of an AuditEvent built by audit-event.ts, computed straight from its known shape, and what the audit
// log stores of them: its Patient compartments and its search keys (fhir/search/audit-keys.ts). No row is stored:
// every indexed AuditEvent parameter is computed from the event when a search needs it (COMPUTED_INDEX_KEYS,
// migrations 014 and 022), the references and identifiers below among them; their keys find the candidates.
// The general extractor (fhir/index-extract.ts) evaluates every AuditEvent search parameter's FHIRPath expression:
// ~90 µs per event, as much as a whole read request. This takes a few µs; audit-index.test.ts checks that it yields
// exactly the extractor's rows (and compartments) for every kind of record the builder makes.
// @see http://hl7.org/fhir/R4/auditevent.html#search
import { parseReference, type IndexRows } from '../fhir/index-extract.ts';
import { indexesReferenceIdentifier } from '../fhir/search-parameters.ts';
import { auditSearchKeys } from '../fhir/search/audit-keys.ts';
import type { AuditEventResource } from './audit-event.ts';

type Who = { reference?: string; identifier?: { system?: string; value?: string; type?: unknown } };
type Shape = { agent?: { who?: Who }[]; entity?: { what?: Who }[] };
type TokenRow = IndexRows['token'][number];
type ReferenceRow = IndexRows['reference'][number];

const AGENT = 'AuditEvent.agent';
const ENTITY = 'AuditEvent.entity';
const PATIENT = 'AuditEvent.patient';

// An event has a handful of rows: a linear search dedupes them with no allocation.
function addToken(rows: TokenRow[], row: TokenRow): void {
  if (!rows.some((r) => r.p === row.p && r.system === row.system && r.code === row.code)) rows.push(row);
}

function addReference(rows: ReferenceRow[], row: ReferenceRow): void {
  if (!rows.some((r) => r.p === row.p && r.targetType === row.targetType && r.targetId === row.targetId && r.url === row.url)) rows.push(row);
}

/**
 * What `resources.compartments` holds for the event: its Patient compartments and its search keys. Its absolute
 * references under its own server's FHIR base (its source observer's base URL, and `/fhir`) name local resources.
 */
export function auditCompartments(event: AuditEventResource): string[] {
  const rows = auditIndexRows(event);
  const base = (event as unknown as { source?: { observer?: { identifier?: { value?: string } } } }).source?.observer?.identifier?.value;
  return [...rows.compartments, ...auditSearchKeys(rows, `${base}/fhir`)];
}

/** The event's reference and identifier rows (agent, entity, patient) and its Patient compartments. */
export function auditIndexRows(event: AuditEventResource): IndexRows {
  const e = event as unknown as Shape;
  const rows: IndexRows = { token: [], string: [], reference: [], date: [], number: [], quantity: [], uri: [], compartments: [] };
  for (const a of e.agent ?? []) addWho(rows, AGENT, a.who);
  for (const en of e.entity ?? []) addWho(rows, ENTITY, en.what);
  return rows;
}

// `agent` and `entity` also index a logical reference's identifier, for `:identifier` (the app:
// urn:firekeeper:client-id|…), except the X-Request-Id one and the server's own (search-parameters.ts);
// `patient` has a resolve() filter.
function addWho(rows: IndexRows, p: string, who: Who | undefined): void {
  const id = who?.identifier;
  if (id?.value && indexesReferenceIdentifier(p, id)) addToken(rows.token, { p, system: id.system || null, code: id.value, text: null });
  const value = who?.reference;
  const r = value ? parseReference(value) : null;
  if (!r) return;
  addReference(rows.reference, { p, ...r });
  if (r.targetType !== 'Patient') return;
  addReference(rows.reference, { p: PATIENT, ...r });
  // The Patient CompartmentDefinition: AuditEvent.patient
  if (r.url === null && !rows.compartments.includes(`Patient/${r.targetId}`)) rows.compartments.push(`Patient/${r.targetId}`);
}
