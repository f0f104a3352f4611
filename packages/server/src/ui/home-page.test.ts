// The home page: HTML for browsers (what Firekeeper is, where things are; the sample accounts and registration
// shortcut in sandbox mode only, and only for accounts that exist), the JSON index for everything else.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, FHIR_BASE, TEST_BASE_URL, type TestApp } from '../test-support/app.ts';
import { testDatabase } from '../test-support/database.ts';
import { buildApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import { createUser } from '../auth/users/user-store.ts';

let t: TestApp;
before(async () => {
  t = await testApp();
});

const get = (accept?: string) => t.app.inject({ method: 'GET', url: '/', headers: accept ? { accept } : {} });

describe('home page', () => {
  it('answers JSON to clients that do not prefer HTML', async () => {
    for (const accept of [undefined, 'application/json', '*/*', 'application/json, text/html;q=0.5']) {
      const res = await get(accept);
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { name: 'Firekeeper', fhir: FHIR_BASE, metadata: `${FHIR_BASE}/metadata` }, String(accept));
    }
  });

  it('shows a browser what Firekeeper is and where the EHR, the app manager and discovery are, under the strict CSP', async () => {
    const res = await get('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8');
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/html/);
    assert.match(res.headers['content-security-policy'] as string, /default-src 'none'/);
    assert.match(res.body, /open SMART on FHIR platform/);
    assert.match(res.body, /href="\/ehr"/);
    assert.match(res.body, /href="\/portal"/);
    assert.ok(res.body.includes(`${FHIR_BASE}/.well-known/smart-configuration`));
    assert.match(res.body, /Sandbox mode/);
    assert.doesNotMatch(res.body, /Sample accounts/, 'no sample account exists in this database yet');
  });

  it('lists the sample accounts that exist, with their published passwords, and how to register an app', async () => {
    await createUser(t.db, { username: 'clinician', password: 'sandbox-clinician', name: 'Lisa Watson', role: 'clinician' });
    const res = await get('text/html');
    assert.match(res.body, /<tr><td><code>clinician<\/code><\/td><td><code>sandbox-clinician<\/code><\/td><td>clinician<\/td><td>Lisa Watson<\/td><\/tr>/);
    assert.doesNotMatch(res.body, /sandbox-patient/, 'an account that does not exist is not listed');
    assert.ok(res.body.includes(`curl -X POST ${TEST_BASE_URL}/admin/api/clients -H 'Authorization: Bearer firekeeper-sandbox-admin'`));
  });

  it('in production mode shows no accounts, no admin token and no sandbox warning', async () => {
    const db = await testDatabase();
    await createUser(db, { username: 'clinician', password: 'sandbox-clinician', name: 'Lisa Watson', role: 'clinician' });
    const config = loadConfig({ baseUrl: 'https://firekeeper.example', mode: 'production', adminToken: 'p'.repeat(40), logLevel: 'silent' }, {});
    const app = await buildApp({ config, db });
    try {
      const res = await app.inject({ method: 'GET', url: '/', headers: { accept: 'text/html' } });
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /open SMART on FHIR platform/);
      for (const secret of [/sandbox-clinician/, /Sample accounts/, /firekeeper-sandbox-admin/, /Sandbox mode/, /p{40}/]) assert.doesNotMatch(res.body, secret);
    } finally {
      await app.close();
    }
  });
});
