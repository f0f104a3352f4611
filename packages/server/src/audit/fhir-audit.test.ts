// Every FHIR interaction, refusals included, leaves exactly one committed AuditEvent whose id is the response's
// X-Request-Id; the trail is searchable as FHIR; a response whose record cannot be committed carries no data.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp, type TestResponse } from '../test-support/app.ts';
import { verifyAuditTrail } from './audit-verify.ts';
import { createUser } from '../auth/users/user-store.ts';
import { whileAuditRefuses } from '../test-support/audit-outage.ts';

type Json = any; // asserted field by field

let t: TestApp;
let patientId: string;
let observationId: string;
before(async () => {
  t = await testApp();
  patientId = (await t.request('POST', '/fhir/Patient', { resourceType: 'Patient', name: [{ family: 'Audited' }] })).json.id;
  observationId = (await t.request('POST', '/fhir/Observation', {
    resourceType: 'Observation', status: 'final', code: { text: 'weight' }, subject: { reference: `Patient/${patientId}` },
  })).json.id;
});

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The committed AuditEvent of a response (read from the database, as a verifier would). */
async function auditOf(res: TestResponse): Promise<Json> {
  const id = res.headers['x-request-id'];
  assert.match(String(id), UUID_V7, 'X-Request-Id is a UUIDv7');
  const rows = await t.db.query<{ json: string }>(`SELECT resource::text AS json FROM resources WHERE type = 'AuditEvent' AND id = $1`, [id]);
  assert.equal(rows.length, 1, `one AuditEvent for request ${String(id)}`);
  return JSON.parse(rows[0]!.json);
}

const subtype = (e: Json) => e.subtype?.[0]?.code;
const entityRefs = (e: Json) => e.entity.filter((x: Json) => x.what?.reference).map((x: Json) => x.what.reference);
const user = (e: Json) => e.agent.find((a: Json) => a.requestor);

describe('FHIR interactions are audited before the response leaves', () => {
  it('AuditEvent ids are time-ordered (UUIDv7): each request\'s sorts after the one before, as the trail is appended', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(String((await t.request('GET', `/fhir/Patient/${patientId}`)).headers['x-request-id']));
    for (const id of ids) assert.match(id, UUID_V7);
    assert.deepEqual([...ids].sort(), ids, 'in the order the requests were made');
    assert.equal(new Set(ids).size, ids.length, 'and distinct');
    const [first] = await t.db.query<{ recorded: string }>(`SELECT resource->>'recorded' AS recorded FROM resources WHERE type = 'AuditEvent' AND id = $1`, [ids[0]]);
    const msOfId = parseInt(ids[0]!.replace('-', '').slice(0, 12), 16); // RFC 9562 §5.7: the first 48 bits are Unix ms
    assert.ok(Math.abs(msOfId - Date.parse(first!.recorded)) < 60_000, 'its time is the time of its request');
  });

  it('a read: subtype read, the version read, the patient of its compartment, the app and its address', async () => {
    const res = await t.request('GET', `/fhir/Observation/${observationId}`);
    assert.equal(res.status, 200);
    const event = await auditOf(res);
    assert.equal(subtype(event), 'read');
    assert.equal(event.outcome, '0');
    assert.deepEqual(entityRefs(event), [`Patient/${patientId}`, `Observation/${observationId}/_history/1`]);
    const client = event.agent.find((a: Json) => a.who?.identifier?.system === 'urn:firekeeper:client-id');
    assert.equal(client.who.identifier.value, 'firekeeper-test');
    assert.equal(client.network.address, '127.0.0.1');
  });

  it('a launch patient is the patient of a single-resource interaction', async () => {
    const token = await t.token({ scope: 'patient/*.rs', subject: 'u-1', context: { patient: patientId, fhirUser: `Patient/${patientId}` } });
    const res = await t.request('GET', `/fhir/Patient/${patientId}`, undefined, { authorization: `Bearer ${token}` });
    assert.equal(res.status, 200, res.text);
    const event = await auditOf(res);
    assert.deepEqual(user(event).who, { reference: `Patient/${patientId}` });
    assert.ok(entityRefs(event).includes(`Patient/${patientId}`));
  });

  it('a create and an update name the version written; a delete names the resource', async () => {
    const created = await t.request('POST', '/fhir/Patient', { resourceType: 'Patient', gender: 'other' });
    let event = await auditOf(created);
    assert.equal(subtype(event), 'create');
    assert.equal(event.action, 'C');
    assert.ok(entityRefs(event).includes(`Patient/${created.json.id}/_history/1`));
    const updated = await t.request('PUT', `/fhir/Patient/${created.json.id}`, { ...created.json, gender: 'female' });
    event = await auditOf(updated);
    assert.equal(subtype(event), 'update');
    assert.ok(entityRefs(event).includes(`Patient/${created.json.id}/_history/2`));
    event = await auditOf(await t.request('DELETE', `/fhir/Patient/${created.json.id}`));
    assert.equal(subtype(event), 'delete');
    assert.equal(event.action, 'D');
  });

  it('a search: the query base64-encoded without access_token, and the patient it names', async () => {
    const res = await t.request('GET', `/fhir/Observation?patient=${patientId}&code:text=weight&access_token=leaked`);
    assert.equal(res.status, 200);
    const event = await auditOf(res);
    assert.equal(subtype(event), 'search-type');
    const query = event.entity.find((x: Json) => x.role?.code === '24');
    assert.equal(Buffer.from(query.query, 'base64').toString(), `patient=${patientId}&code:text=weight`);
    assert.deepEqual(entityRefs(event), [`Patient/${patientId}`]);
    assert.doesNotMatch(JSON.stringify(event), /leaked|Bearer|eyJ/, 'no token in the record');
  });

  it('a search keeps no credential whose name is percent-encoded, plus-encoded or modified', async () => {
    const hidden = ['access%5Ftoken=leaked1', 'client%5fsecret=leaked2', 'access_token:exact=leaked3', '%70assword=leaked4', 'refresh_token=leaked5'];
    const res = await t.request('GET', `/fhir/Observation?patient=${patientId}&${hidden.join('&')}&code:text=a+b`);
    assert.equal(res.status, 200);
    const query = (await auditOf(res)).entity.find((x: Json) => x.role?.code === '24');
    assert.equal(Buffer.from(query.query, 'base64').toString(), `patient=${patientId}&code:text=a+b`);
  });

  it('a compartment search and $everything are about the compartment\'s patient', async () => {
    let event = await auditOf(await t.request('GET', `/fhir/Patient/${patientId}/Observation`));
    assert.equal(subtype(event), 'search-type');
    assert.deepEqual(entityRefs(event), [`Patient/${patientId}`]);
    const everything = await t.request('GET', `/fhir/Patient/${patientId}/$everything?_count=200`);
    event = await auditOf(everything);
    assert.equal(subtype(event), 'operation');
    assert.ok(entityRefs(event).includes(`Patient/${patientId}`));
    // The patient's AuditEvents are in their compartment, but $everything leaves them out unless _type asks for them.
    assert.deepEqual(everything.json.entry.map((e: Json) => e.resource.resourceType).sort(), ['Observation', 'Patient']);
    const audit = await t.request('GET', `/fhir/Patient/${patientId}/$everything?_type=AuditEvent&_count=200`);
    assert.ok(audit.json.entry.length > 0 && audit.json.entry.every((e: Json) => e.resource.resourceType === 'AuditEvent'));
  });

  it('a transaction Bundle is one event, subtype transaction', async () => {
    const res = await t.request('POST', '/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } }] });
    assert.equal(res.status, 200, res.text);
    assert.equal(subtype(await auditOf(res)), 'transaction');
  });

  it('refusals are audited too: 401 without a token, 404, 400 invalid input, 405, unknown endpoints', async () => {
    let event = await auditOf(await t.request('GET', `/fhir/Observation/${observationId}`, undefined, { authorization: undefined }));
    assert.equal(event.outcome, '4');
    assert.match(event.outcomeDesc, /^HTTP 401: an access token is required/);
    assert.equal(event.agent.filter((a: Json) => a.requestor).length, 1, 'only the (anonymous) client is the requestor');
    assert.deepEqual(entityRefs(event), [`Observation/${observationId}`], 'what was asked for');
    event = await auditOf(await t.request('GET', '/fhir/Observation/nope'));
    assert.equal(event.outcome, '4');
    assert.match(event.outcomeDesc, /^HTTP 404: Observation\/nope is not known/);
    event = await auditOf(await t.request('POST', '/fhir/Patient', { resourceType: 'Patient', birthDate: 'soon' }));
    assert.match(event.outcomeDesc, /^HTTP 400: /);
    assert.equal(subtype(event), 'create');
    event = await auditOf(await t.request('DELETE', '/fhir/AuditEvent/anything'));
    assert.equal(event.outcome, '4');
    event = await auditOf(await t.request('GET', '/fhir/Patient/x/y/z'));
    assert.equal(event.subtype, undefined);
    assert.match(event.outcomeDesc, /^HTTP 404: No such endpoint/);
    event = await auditOf(await t.request('POST', '/fhir/Patient', '{"resourceType":', { 'content-type': 'application/fhir+json' }));
    assert.match(event.outcomeDesc, /^HTTP 400: The request body is not valid JSON/);
  });

  it('the CapabilityStatement and the SMART discovery document are public and not audited', async () => {
    for (const url of ['/fhir/metadata', '/fhir/.well-known/smart-configuration']) {
      const res = await t.request('GET', url, undefined, { authorization: undefined });
      assert.equal(res.status, 200);
      const rows = await t.db.query(`SELECT 1 FROM resources WHERE type = 'AuditEvent' AND id = $1`, [res.headers['x-request-id']]);
      assert.equal(rows.length, 0, url);
    }
  });

  it('when the record cannot be committed, the client gets a bare 500 and none of the data', async () => {
    await whileAuditRefuses(t.db, async () => {
      const res = await t.request('GET', `/fhir/Patient/${patientId}`);
      assert.equal(res.status, 500);
      assert.deepEqual(res.json, { resourceType: 'OperationOutcome', issue: [{ severity: 'fatal', code: 'exception', diagnostics: 'Internal server error' }] });
      assert.equal(res.headers.etag, undefined);
      assert.doesNotMatch(res.text, /Audited|audit store is down/);
    });
    assert.equal((await t.request('GET', `/fhir/Patient/${patientId}`)).status, 200, 'audit works again');
  });
});

describe('the audit trail as FHIR', () => {
  it('GET AuditEvent?patient=&date=&agent= finds the events of a patient, by user and time', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const clinician = await createUser(t.db, { username: 'dr-who', password: 'audit-password', name: 'Dr Who', role: 'clinician', fhirUser: 'Practitioner/dr-who' });
    const token = await t.token({ scope: 'user/*.rs', subject: clinician.id, context: { fhirUser: 'Practitioner/dr-who' } });
    const read = await t.request('GET', `/fhir/Observation/${observationId}`, undefined, { authorization: `Bearer ${token}` });
    assert.equal(read.status, 200, read.text);
    const res = await t.request('GET', `/fhir/AuditEvent?patient=Patient/${patientId}&date=ge${since}&agent=Practitioner/dr-who`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json.entry.map((e: Json) => e.resource.id), [read.headers['x-request-id']]);
    const bySubtype = await t.request('GET', `/fhir/AuditEvent?subtype=read&entity=Observation/${observationId}&_count=100`);
    assert.ok(bySubtype.json.entry.length >= 2);
  });

  it('the computed parameters (action, outcome, type, subtype, date) search and sort like stored ones', async () => {
    const token = await t.token({ clientId: 'computed-app', subject: 'computed-app', scope: 'system/Patient.rs' });
    const auth = { authorization: `Bearer ${token}` };
    const read = await t.request('GET', `/fhir/Patient/${patientId}`, undefined, auth);
    const refused = await t.request('GET', `/fhir/Observation/${observationId}`, undefined, auth); // 403: no Observation scope
    const search = await t.request('GET', '/fhir/Patient?_count=1', undefined, auth);
    assert.deepEqual([read.status, refused.status, search.status], [200, 403, 200]);
    const ids = (res: TestResponse) => res.json.entry?.map((e: Json) => e.resource.id) ?? [];
    const find = async (query: string) => {
      const res = await t.request('GET', `/fhir/AuditEvent?agent:identifier=urn:firekeeper:client-id|computed-app&${query}`);
      assert.equal(res.status, 200, res.text);
      return ids(res);
    };
    const [r, f, s] = [read, refused, search].map((res) => res.headers['x-request-id']);
    assert.deepEqual(await find('_sort=date'), [r, f, s]);
    assert.deepEqual(await find('_sort=-date'), [s, f, r]);
    assert.deepEqual(await find('outcome=4'), [f], 'the refusal (a minor failure)');
    assert.deepEqual(await find('outcome:not=4&_sort=date'), [r, s]);
    assert.deepEqual(await find('subtype=http://hl7.org/fhir/restful-interaction|search-type'), [s]);
    assert.deepEqual(await find('subtype=read&action=R&_sort=date'), [r, f]);
    assert.deepEqual(await find('action=C'), []);
    assert.deepEqual(await find('type=http://terminology.hl7.org/CodeSystem/audit-event-type|rest&type:text=restful&_sort=date'), [r, f, s]);
    assert.deepEqual(await find('subtype:missing=true'), []);
    const recorded = (await t.request('GET', `/fhir/AuditEvent/${String(f)}`)).json.recorded as string;
    assert.deepEqual(await find(`date=ge${recorded}&_sort=date`), [f, s]);
    assert.deepEqual(await find(`date=lt${recorded}`), [r]);
    assert.deepEqual(await find(`date=${recorded}`), [f], 'eq: the instant itself');
    // A search over several types reads the stored rows of one and the computed rows of the other.
    const both = await t.request('GET', `/fhir/?_type=AuditEvent,Observation&date=${recorded}`);
    assert.equal(both.status, 200, both.text);
    assert.ok(ids(both).includes(f));
  });

  it('GET AuditEvent?agent:identifier=urn:firekeeper:client-id|… finds exactly one app\'s requests', async () => {
    const token = await t.token({ clientId: 'audit-app', subject: 'audit-app', scope: 'system/*.rs' });
    const auth = { authorization: `Bearer ${token}` };
    const sent = [await t.request('GET', `/fhir/Patient/${patientId}`, undefined, auth), await t.request('GET', '/fhir/Observation?_count=1', undefined, auth)];
    const res = await t.request('GET', '/fhir/AuditEvent?agent:identifier=urn:firekeeper:client-id|audit-app&_count=100');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json.entry.map((e: Json) => e.resource.id).sort(), sent.map((r) => r.headers['x-request-id']).sort());
    // The source identifier (this server) is not indexed, and said so; the request id is found by _id.
    const bySource = await t.request('GET', '/fhir/AuditEvent?source:identifier=urn:ietf:rfc:3986|http://firekeeper.test');
    assert.equal(bySource.status, 400);
    assert.match(bySource.json.issue[0].diagnostics, /:identifier modifier is not supported on 'source'/);
  });

  it('references and identifiers, computed and found by their keys, search, chain, include and _has like stored ones', async () => {
    const pract = (await t.request('POST', '/fhir/Practitioner', { resourceType: 'Practitioner', name: [{ family: 'Keyed' }] })).json.id as string;
    const clinician = await createUser(t.db, { username: 'dr-keyed', password: 'audit-password', name: 'Dr Keyed', role: 'clinician', fhirUser: `Practitioner/${pract}` });
    const readAs = async (fhirUser: string) => {
      const token = await t.token({ clientId: 'keyed-app', scope: 'user/*.rs', subject: clinician.id, context: { fhirUser } });
      const res = await t.request('GET', `/fhir/Observation/${observationId}`, undefined, { authorization: `Bearer ${token}` });
      assert.equal(res.status, 200, res.text);
      return res.headers['x-request-id'] as string;
    };
    const local = await readAs(`Practitioner/${pract}`);
    const elsewhere = await readAs(`https://elsewhere.example/fhir/Practitioner/${pract}`); // the same id on another server
    const byUrl = await readAs(`http://firekeeper.test/fhir/Practitioner/${pract}`); // this server's, by its URL
    const ids = async (query: string) => {
      const res = await t.request('GET', `/fhir/${query}`);
      assert.equal(res.status, 200, `${query}: ${res.text}`);
      return (res.json.entry ?? []).map((e: Json) => `${e.resource.resourceType}/${e.resource.id}`);
    };
    const ev = (id: string) => `AuditEvent/${id}`;
    const app = 'agent:identifier=urn:firekeeper:client-id|keyed-app&_sort=date';
    const here = [ev(local), ev(byUrl)];
    const all = [ev(local), ev(elsewhere), ev(byUrl)];
    assert.deepEqual(await ids(`AuditEvent?agent=Practitioner/${pract}&_sort=date`), here);
    assert.deepEqual(await ids(`AuditEvent?agent=${pract}&_sort=date`), here, 'a bare id: any of the parameter\'s target types');
    assert.deepEqual(await ids(`AuditEvent?agent:Practitioner=${pract}&_sort=date`), here);
    assert.deepEqual(await ids(`AuditEvent?agent=http://firekeeper.test/fhir/Practitioner/${pract}&_sort=date`), here, 'this server\'s URL');
    assert.deepEqual(await ids(`AuditEvent?agent=https://elsewhere.example/fhir/Practitioner/${pract}`), [ev(elsewhere)]);
    assert.deepEqual(await ids(`AuditEvent?${app}`), all);
    assert.deepEqual(await ids(`AuditEvent?agent:identifier=keyed-app&_sort=date`), all, 'any system');
    assert.deepEqual(await ids(`AuditEvent?agent:identifier=|keyed-app`), [], 'no system');
    assert.deepEqual(await ids(`AuditEvent?entity=Observation/${observationId}&patient=Patient/${patientId}&${app}`), all);
    assert.deepEqual(await ids(`AuditEvent?entity=Patient/${patientId},Observation/nothing&${app}`), all);
    assert.deepEqual(await ids(`AuditEvent?entity:missing=true&${app}`), []);
    assert.deepEqual(await ids(`AuditEvent?agent:Practitioner:missing=false&agent:Practitioner.name=keyed&${app}`), here, 'a chain follows local references');
    assert.deepEqual(await ids(`Practitioner?_id=${pract}&_has:AuditEvent:agent:subtype=read`), [`Practitioner/${pract}`]);
    assert.deepEqual(await ids(`Practitioner?_id=${pract}&_has:AuditEvent:agent:outcome=8`), []);
    assert.deepEqual(await ids(`AuditEvent?_id=${local}&_include=AuditEvent:agent:Practitioner`), [ev(local), `Practitioner/${pract}`]);
    assert.deepEqual(await ids(`Practitioner?_id=${pract}&_revinclude=AuditEvent:agent`), [`Practitioner/${pract}`, ...here]);
    assert.deepEqual(await ids(`Practitioner?_id=${pract}&_revinclude=AuditEvent:agent:Patient`), [`Practitioner/${pract}`]);
    // Another type's members of the same names are not an AuditEvent's: a Provenance's Patient agent does not make
    // it the patient's, as it would an AuditEvent.
    const provenance = (await t.request('POST', '/fhir/Provenance', {
      resourceType: 'Provenance', recorded: new Date().toISOString(), target: [{ reference: `Observation/${observationId}` }],
      agent: [{ who: { reference: `Patient/${patientId}` } }, { who: { reference: `Practitioner/${pract}` } }],
    })).json.id as string;
    const mixed = await ids(`?_type=AuditEvent,Provenance&patient=Patient/${patientId}&_count=1000`);
    assert.ok(mixed.includes(ev(local)) && !mixed.includes(`Provenance/${provenance}`));
    assert.deepEqual(await ids(`?_type=AuditEvent,Provenance&agent=Practitioner/${pract}&_sort=_lastUpdated`), [...here, `Provenance/${provenance}`]);
  });

  it('a patient reads who looked at their record (patient/AuditEvent.rs), and nothing about anyone else', async () => {
    const other = (await t.request('POST', '/fhir/Patient', { resourceType: 'Patient', name: [{ family: 'Other' }] })).json.id;
    const otherRead = await t.request('GET', `/fhir/Patient/${other}`);
    const token = await t.token({ clientId: 'portal', subject: 'patient-user', scope: 'patient/AuditEvent.rs', context: { patient: patientId, fhirUser: `Patient/${patientId}` } });
    const res = await t.request('GET', '/fhir/AuditEvent?_count=200', undefined, { authorization: `Bearer ${token}` });
    assert.equal(res.status, 200, res.text);
    const events: Json[] = res.json.entry.map((e: Json) => e.resource);
    assert.ok(events.some((e) => user(e)?.who?.reference === 'Practitioner/dr-who'), 'the clinician\'s read of their Observation is there');
    for (const e of events) assert.ok(entityRefs(e).includes(`Patient/${patientId}`), `${e.id} is about the patient`);
    assert.ok(!events.some((e) => e.id === otherRead.headers['x-request-id']));
    const denied = await t.request('GET', `/fhir/AuditEvent/${String(otherRead.headers['x-request-id'])}`, undefined, { authorization: `Bearer ${token}` });
    assert.equal(denied.status, 404);
  });

  it('an AuditEvent reads, vreads as version 1, and has no history', async () => {
    const read = await t.request('GET', `/fhir/Patient/${patientId}`);
    const id = read.headers['x-request-id'];
    assert.equal((await t.request('GET', `/fhir/AuditEvent/${id}`)).json.id, id);
    assert.equal((await t.request('GET', `/fhir/AuditEvent/${id}/_history/1`)).json.id, id);
    assert.equal((await t.request('GET', `/fhir/AuditEvent/${id}/_history/2`)).status, 404);
    const history = await t.request('GET', `/fhir/AuditEvent/${id}/_history`);
    assert.equal(history.status, 404);
    assert.match(history.json.issue[0].diagnostics, /append-only/);
    assert.equal((await t.request('GET', '/fhir/AuditEvent/_history')).status, 404);
  });

  it('cannot be changed through the API (405), and the chain verifies after all of the above', async () => {
    const read = await t.request('GET', `/fhir/Patient/${patientId}`);
    const id = String(read.headers['x-request-id']);
    const event = (await t.request('GET', `/fhir/AuditEvent/${id}`)).json;
    assert.equal((await t.request('PUT', `/fhir/AuditEvent/${id}`, { ...event, outcome: '8' })).status, 405);
    assert.equal((await t.request('PATCH', `/fhir/AuditEvent/${id}`, [{ op: 'replace', path: '/outcome', value: '8' }], { 'content-type': 'application/json-patch+json' })).status, 405);
    const deleted = await t.request('DELETE', `/fhir/AuditEvent/${id}`);
    assert.equal(deleted.status, 405);
    assert.equal(deleted.json.resourceType, 'OperationOutcome');
    assert.equal((await t.request('GET', `/fhir/AuditEvent/${id}`)).json.outcome, '0');
    assert.equal((await verifyAuditTrail(t.db)).ok, true);
  });
});
