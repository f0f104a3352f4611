// The AuditEvent index shortcut must yield exactly the general extractor's stored rows, and the database functions
// that compute the others when searched (migration 014) exactly the extractor's rows of those, for every kind of
// record the builder makes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { extractIndexRows, type IndexRows } from '../fhir/index-extract.ts';
import { COMPUTED_INDEX_KEYS } from '../fhir/search-parameters.ts';
import { testDatabase } from '../test-support/database.ts';
import { auditRecordsOfEveryKind as records } from '../test-support/audit-records.ts';
import { buildAuditEvent } from './audit-event.ts';
import { auditIndexRows } from './audit-index.ts';

const SOURCE = { baseUrl: 'http://127.0.0.1:8080' };

function sorted(rows: IndexRows): Record<string, string[]> {
  return Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, (v as unknown[]).map((r) => JSON.stringify(r)).sort()]));
}

describe('auditIndexRows', () => {
  it('equals extractIndexRows for every record shape the builder makes', () => {
    for (const record of records()) {
      const event = buildAuditEvent(record, SOURCE);
      assert.deepEqual(sorted(auditIndexRows(event)), sorted(extractIndexRows(event)), JSON.stringify(record));
    }
  });

  it('puts an event in the Patient compartments it names (agent or entity), not in other servers\' patients', () => {
    const event = buildAuditEvent({ ...records()[0]!, kind: 'rest', interaction: 'read', actor: { fhirUser: 'Patient/me' }, patients: ['Patient/p-1'] }, SOURCE);
    assert.deepEqual(auditIndexRows(event).compartments.sort(), ['Patient/me', 'Patient/p-1']);
  });
});

describe('the computed AuditEvent index (audit_event_tokens, audit_event_dates)', () => {
  it('yields the extractor\'s rows of the computed parameters, and the extractor stores none of them', async () => {
    const db = await testDatabase();
    const computed = (rows: IndexRows) => ({
      token: rows.token.filter((x) => COMPUTED_INDEX_KEYS.has(x.p)).map((x) => JSON.stringify(x)).sort(),
      date: rows.date.filter((x) => COMPUTED_INDEX_KEYS.has(x.p)).map((x) => JSON.stringify(x)).sort(),
    });
    const all = records().map((record) => buildAuditEvent(record, SOURCE));
    // Other precisions of `recorded` than the builder's milliseconds, and a display with accents and spaces.
    all.push({ ...all[0]!, recorded: '2026-11-22T10:00:00Z', type: { ...(all[0]!.type as object), display: '  Évènement   RESTful ' } } as never);
    all.push({ ...all[1]!, recorded: '2026-11-22T10:00:00.5+02:00', subtype: [] } as never);
    for (const event of all) {
      const expected = computed(extractIndexRows(event, { includeComputed: true }));
      assert.ok(expected.token.length >= 2 && expected.date.length === 1, 'the events have computed rows to compare');
      assert.deepEqual(computed(extractIndexRows(event)), { token: [], date: [] });
      const json = JSON.stringify(event);
      const token = await db.query<{ p: string; system: string | null; code: string | null; text: string | null }>(
        'SELECT p, system, code, text FROM audit_event_tokens(1, $1::jsonb)', [json]);
      const date = await db.query<{ p: string; lo: string; hi: string }>(
        `SELECT p, to_char(lo AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS lo, to_char(hi AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS hi
           FROM audit_event_dates(1, $1::jsonb)`, [json]);
      assert.deepEqual({ token: token.map((x) => JSON.stringify(x)).sort(), date: date.map((x) => JSON.stringify(x)).sort() }, expected, json);
    }
  });
});

