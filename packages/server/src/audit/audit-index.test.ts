// The AuditEvent index shortcut must yield exactly the general extractor's rows, and the database functions that
// compute them when searched (migrations 014 and 022) exactly the extractor's rows, for every kind of record the
// builder makes; the audit log stores none of them, only the compartments and the keys that find them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { extractIndexRows, type IndexRows } from '../fhir/index-extract.ts';
import { COMPUTED_INDEX_KEYS, RESOURCE_TYPES, searchParamsFor } from '../fhir/search-parameters.ts';
import { auditSearchKeys, isKeyed } from '../fhir/search/audit-keys.ts';
import { testDatabase } from '../test-support/database.ts';
import { auditRecordsOfEveryKind as records } from '../test-support/audit-records.ts';
import { buildAuditEvent } from './audit-event.ts';
import { auditCompartments, auditIndexRows } from './audit-index.ts';

const SOURCE = { baseUrl: 'http://127.0.0.1:8080' };

function sorted(rows: IndexRows): Record<string, string[]> {
  return Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, (v as unknown[]).map((r) => JSON.stringify(r)).sort()]));
}

/** The extractor's rows of the parameters auditIndexRows computes (agent, entity, patient). */
function referenceRows(rows: IndexRows): IndexRows {
  const mine = (p: string) => p === 'AuditEvent.agent' || p === 'AuditEvent.entity' || p === 'AuditEvent.patient';
  const none = { string: [], date: [], number: [], quantity: [], uri: [] };
  return { ...none, token: rows.token.filter((x) => mine(x.p)), reference: rows.reference.filter((x) => mine(x.p)), compartments: rows.compartments };
}

describe('auditIndexRows', () => {
  it('equals the extractor\'s rows for every record shape the builder makes, and the extractor stores none', () => {
    for (const record of records()) {
      const event = buildAuditEvent(record, SOURCE);
      assert.deepEqual(sorted(auditIndexRows(event)), sorted(referenceRows(extractIndexRows(event, { includeComputed: true }))), JSON.stringify(record));
      const { compartments, ...stored } = extractIndexRows(event);
      assert.ok(Object.values(stored).every((rows) => rows.length === 0), 'every indexed AuditEvent parameter is computed');
      assert.deepEqual(compartments.sort(), auditIndexRows(event).compartments.sort());
    }
  });

  it('puts an event in the Patient compartments it names (agent or entity), not in other servers\' patients', () => {
    const event = buildAuditEvent({ ...records()[0]!, kind: 'rest', interaction: 'read', actor: { fhirUser: 'Patient/me' }, patients: ['Patient/p-1'] }, SOURCE);
    assert.deepEqual(auditIndexRows(event).compartments.sort(), ['Patient/me', 'Patient/p-1']);
  });

  it('stores the compartments and a key for every local reference, absolute URL and identifier a search can name', () => {
    const event = buildAuditEvent({
      ...records()[0]!, kind: 'rest', interaction: 'read', target: 'Observation/o-1', patients: ['Patient/p-1'],
      actor: { fhirUser: 'https://ehr.example/fhir/Practitioner/dr', clientId: 'app-1' },
    }, SOURCE);
    const k = (p: string, v: string) => `AuditEvent.${p}\u001f${v}`;
    assert.deepEqual(auditCompartments(event).sort(), [
      'Patient/p-1',
      k('agent', 'https://ehr.example/fhir/Practitioner/dr'), k('agent', 'urn:firekeeper:client-id|app-1'), // another server's: by URL only
      k('entity', 'Observation/o-1'), k('entity', 'Patient/p-1'), k('patient', 'Patient/p-1'),
    ].sort());
  });

  it('has keys for every computed reference parameter (which include.ts and where.ts look up by them)', () => {
    const computedReferences = searchParamsFor('AuditEvent').filter((p) => p.type === 'reference' && COMPUTED_INDEX_KEYS.has(p.key));
    assert.deepEqual(computedReferences.map((p) => p.key).sort(), ['AuditEvent.agent', 'AuditEvent.entity', 'AuditEvent.patient']);
    assert.ok(computedReferences.every((p) => isKeyed([p.key])));
    assert.equal(isKeyed(['AuditEvent.agent', 'Provenance.agent']), false);
  });
});

describe('the computed AuditEvent index (audit_event_tokens, audit_event_dates)', () => {
  it('yields the extractor\'s rows of the computed parameters, and the extractor stores none of them', async () => {
    const db = await testDatabase();
    const computed = (rows: IndexRows) => ({
      token: rows.token.filter((x) => COMPUTED_INDEX_KEYS.has(x.p)).map((x) => JSON.stringify(x)).sort(),
      date: rows.date.filter((x) => COMPUTED_INDEX_KEYS.has(x.p)).map((x) => JSON.stringify(x)).sort(),
      reference: rows.reference.filter((x) => COMPUTED_INDEX_KEYS.has(x.p)).map((x) => JSON.stringify(x)).sort(),
    });
    const all = records().map((record) => buildAuditEvent(record, SOURCE));
    // Other precisions of `recorded` than the builder's milliseconds, and a display with accents and spaces.
    all.push({ ...all[0]!, recorded: '2026-11-22T10:00:00Z', type: { ...(all[0]!.type as object), display: '  Évènement   RESTful ' } } as never);
    all.push({ ...all[1]!, recorded: '2026-11-22T10:00:00.5+02:00', subtype: [] } as never);
    // References and identifiers of every form the extractor reads: absolute (here and elsewhere, with a version),
    // not a resource type, a URN, contained, empty; an identifier without a system, one named by URL.
    const who = (w: object) => ({ requestor: false, who: w });
    all.push({ ...all[0]!, agent: [
      who({ reference: 'https://other.example/fhir/Patient/x-1/_history/2' }), who({ reference: `${SOURCE.baseUrl}/fhir/Practitioner/here` }),
      who({ reference: 'Foo/1' }), who({ reference: 'urn:uuid:1d2e' }), who({ reference: `Device/${'d'.repeat(65)}` }),
      who({ reference: '#contained' }), who({ reference: '' }), who({ identifier: { system: '', value: 'v-1' } }),
      who({ identifier: { system: 'urn:ietf:rfc:3986', value: 'https://x' } }), who({ reference: 'Patient/p-2', identifier: { value: 'urn:x' } }),
    ] } as never);
    for (const event of all) {
      const expected = computed(extractIndexRows(event, { includeComputed: true }));
      assert.ok(expected.token.length >= 2 && expected.date.length === 1, 'the events have computed rows to compare');
      assert.deepEqual(computed(extractIndexRows(event)), { token: [], date: [], reference: [] });
      const json = JSON.stringify(event);
      const token = await db.query<{ p: string; system: string | null; code: string | null; text: string | null }>(
        'SELECT p, system, code, text FROM audit_event_tokens(1, $1::jsonb)', [json]);
      const date = await db.query<{ p: string; lo: string; hi: string }>(
        `SELECT p, to_char(lo AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS lo, to_char(hi AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS hi
           FROM audit_event_dates(1, $1::jsonb)`, [json]);
      const reference = await db.query<{ p: string; targetType: string | null; targetId: string | null; url: string | null }>(
        'SELECT p, target_type AS "targetType", target_id AS "targetId", url FROM audit_event_references(1, $1::jsonb)', [json]);
      const rows = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort();
      assert.deepEqual({ token: rows(token), date: rows(date), reference: rows(reference) }, expected, json);
      // The keys migration 022 gave the events stored before it are the ones the audit log writes.
      const [{ keys }] = await db.query<{ keys: string[] }>('SELECT audit_event_keys($1::jsonb) AS keys', [json]);
      assert.deepEqual([...keys].sort(), auditSearchKeys(extractIndexRows(event, { includeComputed: true }), `${SOURCE.baseUrl}/fhir`).sort(), json);
    }
    // fhir_reference_parts knows every resource type by name, as parseReference does.
    const parsed = await db.query<{ t: string | null }>('SELECT (fhir_reference_parts(x || \'/1\')).target_type AS t FROM unnest($1::text[]) AS x', [RESOURCE_TYPES]);
    assert.deepEqual(parsed.map((r) => r.t), RESOURCE_TYPES);
  });
});

