// The FHIR API answers browsers on other origins: preflights without a token, and CORS headers on every response
// (a refusal included, so an app can read why); never with credentials; nothing added for a request without Origin.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../../test-support/app.ts';

let t: TestApp;
before(async () => {
  t = await testApp();
  assert.equal((await t.request('PUT', '/fhir/Patient/cors-1', { resourceType: 'Patient', id: 'cors-1' })).status, 201);
});
const ORIGIN = 'https://app.example';

describe('CORS on the FHIR API', () => {
  it('a preflight is answered without a token, for the base and any path, and is not audited', async () => {
    const before = (await t.request('GET', '/fhir/AuditEvent?_summary=count')).json.total;
    for (const path of ['/fhir/Patient/cors-1', '/fhir/', '/fhir/Observation/_search']) {
      const res = await t.request('OPTIONS', path, undefined, { authorization: undefined, origin: ORIGIN, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization, content-type, if-match' });
      assert.equal(res.status, 204, path);
      assert.equal(res.headers['access-control-allow-origin'], '*');
      assert.match(String(res.headers['access-control-allow-methods']), /PUT/);
      assert.match(String(res.headers['access-control-allow-headers']), /Authorization, Content-Type.*If-Match/);
      assert.equal(res.headers['access-control-allow-credentials'], undefined);
    }
    const after = (await t.request('GET', '/fhir/AuditEvent?_summary=count')).json.total;
    assert.equal(after, before + 1, 'only the count request itself was audited');
  });

  it('responses to a browser carry the CORS headers, a 401 too (with WWW-Authenticate readable)', async () => {
    const read = await t.request('GET', '/fhir/Patient/cors-1', undefined, { origin: ORIGIN });
    assert.equal(read.status, 200);
    assert.equal(read.headers['access-control-allow-origin'], '*');
    assert.match(String(read.headers['access-control-expose-headers']), /ETag.*WWW-Authenticate/);
    const refused = await t.request('GET', '/fhir/Patient/cors-1', undefined, { origin: ORIGIN, authorization: undefined });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers['access-control-allow-origin'], '*');
    const plain = await t.request('GET', '/fhir/Patient/cors-1');
    assert.equal(plain.headers['access-control-allow-origin'], undefined, 'no Origin, no CORS headers');
  });
});
