// The AuditEvent builder: BALP shapes for REST interactions and authorization events, valid against the R4
// StructureDefinitions and required bindings, and free of credentials.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateResource } from '../fhir/validation.ts';
import { buildAuditEvent, CLIENT_ID_SYSTEM, FIREKEEPER_SUBTYPE_SYSTEM, safeText, type AuditRecord, type AuthEvent, type RestInteraction } from './audit-event.ts';

const SOURCE = { baseUrl: 'https://ehr.example' };
const RECORDED = '2026-11-22T10:00:00.123Z';
const ID = '4b6f1c52-8d0a-4c4e-9a3e-0d6f5c1b2a77';
const actor = { userId: 'u-1', fhirUser: 'Practitioner/dr-1', clientId: 'growth-chart', tokenId: 'jti-1', address: '203.0.113.9' };

type Json = any; // asserted field by field

function rest(interaction: RestInteraction | undefined, extra: Partial<AuditRecord> = {}): Json {
  return buildAuditEvent({ kind: 'rest', id: ID, recorded: RECORDED, interaction, actor, outcome: { status: 200 }, patients: [], ...extra } as AuditRecord, SOURCE);
}

function agentOfType(event: Json, code: string): Json {
  return event.agent.find((a: Json) => a.type.coding[0].code === code);
}

describe('AuditEvent for FHIR REST interactions (BALP)', () => {
  it('a read: type rest, subtype read, action R, the user, the app (destination) and the server, the resource and the patient', () => {
    const event = rest('read', { target: 'Observation/o-1/_history/2', patients: ['Patient/p-1'] });
    validateResource(event);
    assert.equal(event.id, ID);
    assert.deepEqual(event.meta, { versionId: '1', lastUpdated: RECORDED });
    assert.deepEqual(event.type, { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'Restful Operation' });
    assert.deepEqual(event.subtype, [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'read', display: 'read' }]);
    assert.equal(event.action, 'R');
    assert.equal(event.recorded, RECORDED);
    assert.equal(event.outcome, '0');
    const user = agentOfType(event, 'IRCP');
    assert.deepEqual(user.who, { reference: 'Practitioner/dr-1' });
    assert.equal(user.requestor, true);
    assert.deepEqual(user.policy, ['urn:ietf:params:oauth:jti:jti-1']);
    const client = agentOfType(event, '110152'); // a read: data flows to the client, the Destination Role ID
    assert.deepEqual(client.who, { identifier: { system: CLIENT_ID_SYSTEM, value: 'growth-chart' } });
    assert.deepEqual(client.network, { address: '203.0.113.9', type: '2' });
    assert.equal(client.requestor, false);
    assert.equal(agentOfType(event, '110153').who.identifier.value, 'https://ehr.example/fhir');
    assert.deepEqual(event.source.observer, { identifier: { system: 'urn:ietf:rfc:3986', value: 'https://ehr.example' }, display: 'Firekeeper' });
    assert.equal(event.source.site, 'ehr.example');
    const roles = event.entity.map((e: Json) => [e.what?.reference ?? e.what?.identifier?.value, e.type.code, e.role?.code]);
    assert.deepEqual(roles, [[ID, 'XrequestId', undefined], ['Patient/p-1', '1', '1'], ['Observation/o-1/_history/2', '2', '4']]);
  });

  it('a search: action E, the client as Source Role ID, the query base64-encoded (BALP Query), the patient it names', () => {
    const event = rest('search-type', { query: 'patient=p-1&code=8867-4', patients: ['Patient/p-1'] });
    validateResource(event);
    assert.equal(event.action, 'E');
    assert.ok(agentOfType(event, '110153').who.identifier.system === CLIENT_ID_SYSTEM);
    const query = event.entity.find((e: Json) => e.role?.code === '24');
    assert.equal(Buffer.from(query.query, 'base64').toString(), 'patient=p-1&code=8867-4');
    assert.equal(query.what, undefined);
    assert.ok(event.entity.some((e: Json) => e.what?.reference === 'Patient/p-1' && e.role.code === '1'));
  });

  it('maps each interaction to its action', () => {
    const actions: Record<RestInteraction, string> = {
      read: 'R', vread: 'R', 'history-instance': 'R', 'history-type': 'R', 'history-system': 'R', 'search-type': 'E', 'search-system': 'E',
      create: 'C', update: 'U', patch: 'U', delete: 'D', batch: 'E', transaction: 'E', operation: 'E',
    };
    for (const [interaction, action] of Object.entries(actions)) {
      const event = rest(interaction as RestInteraction);
      validateResource(event);
      assert.equal(event.action, action, interaction);
    }
    assert.equal(rest(undefined).subtype, undefined, 'an unknown endpoint has no subtype');
  });

  it('outcome: 0 for success, 4 for a 4xx with the reason, 8 for a 5xx', () => {
    assert.equal(rest('read', { outcome: { status: 201 } }).outcome, '0');
    const refused = rest('read', { outcome: { status: 403, description: 'insufficient_scope: needs patient/Observation.r' } });
    validateResource(refused);
    assert.equal(refused.outcome, '4');
    assert.equal(refused.outcomeDesc, 'HTTP 403: insufficient_scope: needs patient/Observation.r');
    assert.equal(rest('read', { outcome: { status: 503 } }).outcome, '8');
  });

  it('a request without a token: the app agent is the requestor, known only by its network address', () => {
    const event = buildAuditEvent({ kind: 'rest', id: ID, recorded: RECORDED, interaction: 'read', actor: { address: '127.0.0.1' }, outcome: { status: 401 }, patients: [] }, SOURCE) as Json;
    validateResource(event);
    assert.equal(event.agent.length, 2);
    assert.deepEqual(event.agent[0], { type: event.agent[0].type, requestor: true, network: { address: '127.0.0.1', type: '2' } });
  });

  it('a user without a fhirUser is named by the Firekeeper user id', () => {
    const event = buildAuditEvent({ kind: 'rest', id: ID, recorded: RECORDED, interaction: 'read', actor: { userId: 'u-9', clientId: 'a' }, outcome: { status: 200 }, patients: [] }, SOURCE) as Json;
    assert.deepEqual(agentOfType(event, 'IRCP').who, { identifier: { system: 'urn:firekeeper:user-id', value: 'u-9' } });
  });
});

describe('AuditEvent for authorization events', () => {
  const auth = (event: AuthEvent, extra: Partial<AuditRecord> = {}): Json =>
    buildAuditEvent({ kind: 'auth', id: ID, recorded: RECORDED, event, actor, outcome: { status: 200 }, patients: [], ...extra } as AuditRecord, SOURCE);

  it('every event is valid, typed (DICOM) and subtyped with the Firekeeper code', () => {
    const types: Record<AuthEvent, string> = {
      'token-issued': '110114', 'token-refreshed': '110114', 'token-introspected': '110114', 'token-revoked': '110114',
      'login-success': '110114', 'login-failure': '110114', 'consent-granted': '110113', 'consent-revoked': '110113',
      'client-created': '110113', 'client-updated': '110113', 'client-secret-rotated': '110113', 'client-deleted': '110113',
      'initial-access-token-issued': '110113', 'admin-read': '110113', 'launch-created': '110100', 'user-created': '110113', 'user-updated': '110113',
    };
    for (const [name, type] of Object.entries(types)) {
      const event = auth(name as AuthEvent, { scope: 'launch patient/*.rs', jti: 'jti-2', patients: ['Patient/p-1'] });
      validateResource(event);
      assert.equal(event.type.code, type, name);
      assert.deepEqual(event.subtype[0], { system: FIREKEEPER_SUBTYPE_SYSTEM, code: name, display: event.subtype[0].display });
      assert.equal(event.source.type[0].code, '6', 'recorded by the security server');
      assert.equal(agentOfType(event, '110150').who.identifier.value, 'growth-chart', 'the app as DICOM Application');
    }
    assert.equal(auth('login-success').subtype[1].code, '110122', 'DICOM Login as well');
  });

  it('a token event names the token by its jti and the scope, never the token', () => {
    const event = auth('token-issued', { scope: 'patient/*.rs', jti: 'abc' });
    const security = event.entity.find((e: Json) => e.role?.code === '13');
    assert.deepEqual(security.what, { identifier: { value: 'urn:ietf:params:oauth:jti:abc' } });
    assert.deepEqual(security.detail, [{ type: 'scope', valueString: 'patient/*.rs' }]);
  });

  it('a failed sign-in records the attempted username as altId (cleaned and cut), nothing else about the user', () => {
    const event = buildAuditEvent({
      kind: 'auth', id: ID, recorded: RECORDED, event: 'login-failure', outcome: { status: 401, description: 'wrong username or password' },
      actor: { attemptedUsername: `mallory\u0000\uD800${'x'.repeat(500)}`, address: '198.51.100.7' }, patients: [],
    }, SOURCE) as Json;
    validateResource(event);
    const user = agentOfType(event, 'IRCP');
    assert.equal(user.who, undefined);
    assert.equal(user.altId.length, 256);
    assert.ok(user.altId.startsWith('mallory\uFFFD\uFFFDxxx') && user.altId.endsWith('…'));
    assert.equal(event.outcome, '4');
  });
});

describe('safeText', () => {
  it('replaces NUL and lone surrogates, keeps pairs, cuts long text without splitting a pair', () => {
    assert.equal(safeText('a\u0000b'), 'a\uFFFDb');
    assert.equal(safeText('\uDC00x\uD800'), '\uFFFDx\uFFFD');
    assert.equal(safeText('😀'), '😀');
    assert.equal(safeText('abcd', 3), 'ab…');
    assert.equal(safeText('a😀b', 3), 'a…', 'a pair is not split');
  });
});
