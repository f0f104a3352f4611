// The instance and type interactions of R4 http.html, through HTTP (inject) on a real database.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, FHIR_BASE, type TestApp } from '../../test-support/app.ts';

let t: TestApp;
before(async () => {
  t = await testApp();
});

const patient = (family = 'Chalmers') => ({ resourceType: 'Patient', name: [{ family, given: ['Peter'] }], gender: 'male', birthDate: '1974-12-25' });

describe('create (R4 http.html#create)', () => {
  it('assigns an id, version 1, and returns 201 with Location, ETag and Last-Modified', async () => {
    const res = await t.request('POST', '/fhir/Patient', patient());
    assert.equal(res.status, 201);
    assert.match(res.json.id, /^[0-9a-f-]{36}$/);
    assert.equal(res.json.meta.versionId, '1');
    assert.equal(res.headers.location, `${FHIR_BASE}/Patient/${res.json.id}/_history/1`);
    assert.equal(res.headers.etag, 'W/"1"');
    assert.equal(res.headers['last-modified'], new Date(res.json.meta.lastUpdated).toUTCString());
    assert.match(String(res.headers['content-type']), /^application\/fhir\+json/);
  });

  it('accepts application/json as well as application/fhir+json', async () => {
    const res = await t.request('POST', '/fhir/Patient', JSON.stringify(patient()), { 'content-type': 'application/json; charset=utf-8', accept: 'application/json' });
    assert.equal(res.status, 201);
    assert.equal(res.json.resourceType, 'Patient');
  });

  it('ignores a client-supplied id on POST and keeps existing meta.tag', async () => {
    const res = await t.request('POST', '/fhir/Patient', { ...patient(), id: 'mine', meta: { tag: [{ system: 'urn:t', code: 'x' }] } });
    assert.equal(res.status, 201);
    assert.notEqual(res.json.id, 'mine');
    assert.deepEqual(res.json.meta.tag, [{ system: 'urn:t', code: 'x' }]);
  });

  it('honours Prefer: return=minimal and return=OperationOutcome', async () => {
    const minimal = await t.request('POST', '/fhir/Patient', patient(), { prefer: 'return=minimal' });
    assert.equal(minimal.status, 201);
    assert.equal(minimal.text, '');
    assert.ok(minimal.headers.location);
    const oo = await t.request('POST', '/fhir/Patient', patient(), { prefer: 'return=OperationOutcome' });
    assert.equal(oo.status, 201);
    assert.equal(oo.json.resourceType, 'OperationOutcome');
    assert.equal(oo.json.issue[0].severity, 'information');
  });

  it('conditional create (If-None-Exist) returns the existing resource with 200 instead of creating', async () => {
    const body = { ...patient('Unique'), identifier: [{ system: 'urn:mrn', value: 'cc-1' }] };
    const first = await t.request('POST', '/fhir/Patient', body, { 'if-none-exist': 'identifier=urn:mrn|cc-1' });
    assert.equal(first.status, 201);
    const second = await t.request('POST', '/fhir/Patient', body, { 'if-none-exist': 'identifier=urn:mrn|cc-1' });
    assert.equal(second.status, 200);
    assert.equal(second.json.id, first.json.id);
    const search = await t.request('GET', '/fhir/Patient?identifier=urn:mrn|cc-1');
    assert.equal(search.json.entry.length, 1);
  });

  it('conditional create that matches several resources fails with 412', async () => {
    for (let i = 0; i < 2; i++) await t.request('POST', '/fhir/Patient', { ...patient(), identifier: [{ system: 'urn:dup', value: 'd' }] });
    const res = await t.request('POST', '/fhir/Patient', patient(), { 'if-none-exist': 'identifier=urn:dup|d' });
    assert.equal(res.status, 412);
    assert.equal(res.json.issue[0].code, 'multiple-matches');
  });
});

describe('read and vread (R4 http.html#read, #vread)', () => {
  it('reads the current version with its ETag and vreads older versions', async () => {
    const created = (await t.request('POST', '/fhir/Patient', patient())).json;
    await t.request('PUT', `/fhir/Patient/${created.id}`, { ...patient('Second'), id: created.id });
    const read = await t.request('GET', `/fhir/Patient/${created.id}`);
    assert.equal(read.status, 200);
    assert.equal(read.json.name[0].family, 'Second');
    assert.equal(read.headers.etag, 'W/"2"');
    const v1 = await t.request('GET', `/fhir/Patient/${created.id}/_history/1`);
    assert.equal(v1.json.name[0].family, 'Chalmers');
    assert.equal(v1.json.meta.versionId, '1');
    assert.equal((await t.request('GET', `/fhir/Patient/${created.id}/_history/3`)).status, 404);
    assert.equal((await t.request('GET', `/fhir/Patient/${created.id}/_history/abc`)).status, 404);
  });

  it('answers 404 with an OperationOutcome for an unknown id or type', async () => {
    const res = await t.request('GET', '/fhir/Patient/does-not-exist');
    assert.equal(res.status, 404);
    assert.equal(res.json.resourceType, 'OperationOutcome');
    assert.equal(res.json.issue[0].code, 'not-found');
    assert.equal((await t.request('GET', '/fhir/Nonsense/1')).status, 404);
  });

  it('pretty-prints with _pretty=true', async () => {
    const created = (await t.request('POST', '/fhir/Patient', patient())).json;
    const res = await t.request('GET', `/fhir/Patient/${created.id}?_pretty=true`);
    assert.match(res.text, /\n {2}"/);
  });
});

describe('update (R4 http.html#update)', () => {
  it('creates on update with the client id (201), then updates (200) with a new version', async () => {
    const created = await t.request('PUT', '/fhir/Patient/client-chosen-1', { ...patient(), id: 'client-chosen-1' });
    assert.equal(created.status, 201);
    assert.equal(created.json.meta.versionId, '1');
    assert.equal(created.headers.location, `${FHIR_BASE}/Patient/client-chosen-1/_history/1`);
    const updated = await t.request('PUT', '/fhir/Patient/client-chosen-1', { ...patient('Updated'), id: 'client-chosen-1' });
    assert.equal(updated.status, 200);
    assert.equal(updated.json.meta.versionId, '2');
    assert.equal(updated.headers.etag, 'W/"2"');
  });

  it('rejects a body whose id differs from the URL, or has no id', async () => {
    const diff = await t.request('PUT', '/fhir/Patient/a1', { ...patient(), id: 'b2' });
    assert.equal(diff.status, 400);
    assert.match(diff.json.issue[0].diagnostics, /does not match/);
    assert.deepEqual(diff.json.issue[0].expression, ['Patient.id']);
    const none = await t.request('PUT', '/fhir/Patient/a1', patient());
    assert.equal(none.status, 400);
  });

  it('If-Match: a matching version updates, a stale one fails with 412 and changes nothing', async () => {
    const id = (await t.request('POST', '/fhir/Patient', patient())).json.id;
    const ok = await t.request('PUT', `/fhir/Patient/${id}`, { ...patient('V2'), id }, { 'if-match': 'W/"1"' });
    assert.equal(ok.status, 200);
    const stale = await t.request('PUT', `/fhir/Patient/${id}`, { ...patient('V3'), id }, { 'if-match': 'W/"1"' });
    assert.equal(stale.status, 412);
    assert.equal(stale.json.resourceType, 'OperationOutcome');
    assert.equal((await t.request('GET', `/fhir/Patient/${id}`)).json.name[0].family, 'V2');
    const malformed = await t.request('PUT', `/fhir/Patient/${id}`, { ...patient('V3'), id }, { 'if-match': 'garbage' });
    assert.equal(malformed.status, 400);
  });

  it('two concurrent updates with the same If-Match: exactly one wins', async () => {
    const id = (await t.request('POST', '/fhir/Patient', patient())).json.id;
    const results = await Promise.all(['A', 'B', 'C'].map((f) => t.request('PUT', `/fhir/Patient/${id}`, { ...patient(f), id }, { 'if-match': 'W/"1"' })));
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 412, 412]);
  });

  it('conditional update: creates when nothing matches, updates the single match, 412 on several', async () => {
    const body = { ...patient('Cond'), identifier: [{ system: 'urn:cu', value: '1' }] };
    const created = await t.request('PUT', '/fhir/Patient?identifier=urn:cu|1', body);
    assert.equal(created.status, 201);
    const updated = await t.request('PUT', '/fhir/Patient?identifier=urn:cu|1', { ...body, gender: 'other' });
    assert.equal(updated.status, 200);
    assert.equal(updated.json.id, created.json.id);
    assert.equal(updated.json.meta.versionId, '2');
    for (let i = 0; i < 2; i++) await t.request('POST', '/fhir/Patient', { ...patient(), identifier: [{ system: 'urn:cu', value: 'many' }] });
    assert.equal((await t.request('PUT', '/fhir/Patient?identifier=urn:cu|many', body)).status, 412);
  });
});

describe('patch (R4 http.html#patch, RFC 6902)', () => {
  it('applies a JSON Patch and bumps the version', async () => {
    const id = (await t.request('POST', '/fhir/Patient', patient())).json.id;
    const ops = [{ op: 'replace', path: '/gender', value: 'female' }, { op: 'add', path: '/active', value: true }];
    const res = await t.request('PATCH', `/fhir/Patient/${id}`, JSON.stringify(ops), { 'content-type': 'application/json-patch+json', 'if-match': 'W/"1"' });
    assert.equal(res.status, 200);
    assert.equal(res.json.gender, 'female');
    assert.equal(res.json.active, true);
    assert.equal(res.json.meta.versionId, '2');
  });

  it('rejects a failed test op (422), a patch that breaks the resource (400), the wrong media type (415)', async () => {
    const id = (await t.request('POST', '/fhir/Patient', patient())).json.id;
    const failedTest = await t.request('PATCH', `/fhir/Patient/${id}`, JSON.stringify([{ op: 'test', path: '/gender', value: 'female' }]), { 'content-type': 'application/json-patch+json' });
    assert.equal(failedTest.status, 422);
    const invalid = await t.request('PATCH', `/fhir/Patient/${id}`, JSON.stringify([{ op: 'replace', path: '/gender', value: 42 }]), { 'content-type': 'application/json-patch+json' });
    assert.equal(invalid.status, 400);
    const wrongType = await t.request('PATCH', `/fhir/Patient/${id}`, JSON.stringify([]), { 'content-type': 'application/fhir+json' });
    assert.equal(wrongType.status, 415);
    assert.equal((await t.request('GET', `/fhir/Patient/${id}`)).json.meta.versionId, '1');
  });
});

describe('delete (R4 http.html#delete)', () => {
  it('deletes as a versioned tombstone: read is 410, history keeps every version, re-create works', async () => {
    const id = (await t.request('POST', '/fhir/Patient', patient())).json.id;
    const del = await t.request('DELETE', `/fhir/Patient/${id}`);
    assert.equal(del.status, 204);
    assert.equal(del.headers.etag, 'W/"2"');
    const read = await t.request('GET', `/fhir/Patient/${id}`);
    assert.equal(read.status, 410);
    assert.equal(read.json.issue[0].code, 'deleted');
    assert.equal((await t.request('GET', `/fhir/Patient/${id}/_history/1`)).status, 200);
    assert.equal((await t.request('GET', `/fhir/Patient/${id}/_history/2`)).status, 410);
    const history = await t.request('GET', `/fhir/Patient/${id}/_history`);
    assert.deepEqual(history.json.entry.map((e: any) => e.request.method), ['DELETE', 'POST']);
    assert.equal((await t.request('DELETE', `/fhir/Patient/${id}`)).status, 204, 'deleting again is idempotent');
    const again = await t.request('PUT', `/fhir/Patient/${id}`, { ...patient(), id });
    assert.equal(again.status, 201);
    assert.equal(again.json.meta.versionId, '3');
  });

  it('a deleted resource no longer matches searches', async () => {
    const id = (await t.request('POST', '/fhir/Patient', { ...patient(), identifier: [{ system: 'urn:del', value: 'x' }] })).json.id;
    assert.equal((await t.request('GET', '/fhir/Patient?identifier=urn:del|x')).json.entry.length, 1);
    await t.request('DELETE', `/fhir/Patient/${id}`);
    assert.equal((await t.request('GET', '/fhir/Patient?identifier=urn:del|x')).json.entry?.length ?? 0, 0);
  });
});

describe('history (R4 http.html#history)', () => {
  it('instance, type and system history, newest first, with _count paging and _since', async () => {
    const id = (await t.request('PUT', '/fhir/Practitioner/hist-1', { resourceType: 'Practitioner', id: 'hist-1', active: true })).json.id;
    const between = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    await t.request('PUT', `/fhir/Practitioner/${id}`, { resourceType: 'Practitioner', id, active: false });
    await t.request('PUT', `/fhir/Practitioner/${id}`, { resourceType: 'Practitioner', id, active: true });

    const all = await t.request('GET', `/fhir/Practitioner/${id}/_history`);
    assert.equal(all.json.type, 'history');
    assert.deepEqual(all.json.entry.map((e: any) => e.resource.meta.versionId), ['3', '2', '1']);
    assert.equal(all.json.total, 3);

    const since = await t.request('GET', `/fhir/Practitioner/${id}/_history?_since=${encodeURIComponent(between)}`);
    assert.deepEqual(since.json.entry.map((e: any) => e.resource.meta.versionId), ['3', '2']);

    const page1 = await t.request('GET', `/fhir/Practitioner/${id}/_history?_count=2`);
    assert.equal(page1.json.entry.length, 2);
    const next = page1.json.link.find((l: any) => l.relation === 'next').url as string;
    const page2 = await t.request('GET', next.replace('http://firekeeper.test', ''));
    assert.deepEqual(page2.json.entry.map((e: any) => e.resource.meta.versionId), ['1']);
    assert.equal(page2.json.link.find((l: any) => l.relation === 'next'), undefined);

    const type = await t.request('GET', '/fhir/Practitioner/_history');
    assert.ok(type.json.entry.every((e: any) => e.resource.resourceType === 'Practitioner'));
    const system = await t.request('GET', '/fhir/_history?_count=1');
    assert.equal(system.json.entry.length, 1);
    assert.equal((await t.request('GET', '/fhir/_history?_since=yesterday')).status, 400);
    assert.equal((await t.request('GET', '/fhir/_history?_count=-1')).status, 400);
  });
});
