// The token inspector: a token of this server is verified and explained (scopes in words, launch context); a forged,
// expired or foreign one is named as such; garbage is refused; the form needs its CSRF token; production has none.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair, SignJWT } from 'jose';
import { testApp, FHIR_BASE, TEST_BASE_URL, type TestApp } from '../test-support/app.ts';
import { createUser } from '../auth/users/user-store.ts';
import { KeyRing } from '../auth/key-ring.ts';
import { issueIdToken } from '../auth/id-token.ts';
import { TestBrowser, type PageResult } from '../test-support/oauth-browser.ts';
import { testDatabase } from '../test-support/database.ts';
import { buildApp } from '../app.ts';
import { loadConfig } from '../config.ts';

let t: TestApp;
let browser: TestBrowser;
let page: PageResult;
before(async () => {
  t = await testApp();
  browser = new TestBrowser(t.app, 'https://no-app.example');
  page = await browser.go('GET', '/inspect');
});

const inspect = (token: string) => browser.submit(page, { token });

describe('token inspector', () => {
  it('verifies a token of this server and explains it: kind, app, scopes in words, launch context', async () => {
    assert.equal(page.status, 200);
    const token = await t.token({ clientId: 'growth-chart', subject: 'user-1', scope: 'launch patient/Observation.rs', context: { patient: 'p-1', need_patient_banner: true } });
    const res = await inspect(token);
    assert.equal(res.status, 200);
    assert.match(res.html, /<h2>Valid<\/h2>/);
    assert.match(res.html, /<th scope="row">Kind<\/th><td>access token<\/td>/);
    assert.match(res.html, /<th scope="row">App \(client_id\)<\/th><td>growth-chart<\/td>/);
    assert.match(res.html, /<th scope="row">patient<\/th><td>p-1<\/td>/);
    assert.match(res.html, /<code>patient\/Observation.rs<\/code>: /);
    assert.doesNotMatch(res.html, new RegExp(token.replace(/\./g, '\\.')), 'the token is not echoed back');
    assert.equal(res.headers['cache-control'], 'no-store');
  });

  it('names what is wrong with an expired, forged or foreign token', async () => {
    const expired = await t.token({ lifetimeSeconds: -120 });
    assert.match((await inspect(expired)).html, /signature valid, but expired/);

    const [h, p] = (await t.token()).split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), scope: 'system/*.*' })).toString('base64url')}.${(await t.token()).split('.')[2]}`;
    assert.match((await inspect(tampered)).html, /invalid signature: not signed by this server/);

    const { privateKey } = await generateKeyPair('ES256');
    const foreign = await new SignJWT({ scope: 'patient/*.rs' }).setProtectedHeader({ alg: 'ES256', kid: 'elsewhere' }).setIssuer('https://other.example').setExpirationTime('5m').sign(privateKey);
    const res = await inspect(foreign);
    assert.match(res.html, /<h2>Not valid<\/h2>/);
    assert.match(res.html, /not verifiable by this server/);
  });

  it('refuses what is not a JWT, and a post without the form’s CSRF token', async () => {
    for (const junk of ['hello', 'a.b.c', 'x'.repeat(20_000)]) {
      const res = await inspect(junk);
      assert.equal(res.status, 400, junk.slice(0, 10));
      assert.match(res.html, /not a JSON Web Token/);
    }
    const res = await browser.send('POST', '/inspect', new URLSearchParams({ token: await t.token() }));
    assert.equal(res.status, 403);
  });

  it('does not exist in production mode', async () => {
    const config = loadConfig({ baseUrl: 'https://firekeeper.example', mode: 'production', adminToken: 'p'.repeat(40), logLevel: 'silent' }, {});
    const app = await buildApp({ config, db: await testDatabase() });
    try {
      assert.equal((await app.inject({ method: 'GET', url: '/inspect' })).statusCode, 404);
    } finally {
      await app.close();
    }
  });

  it('recognises an id_token: the app is its audience, the user its fhirUser', async () => {
    const user = await createUser(t.db, { username: 'inspect-doc', password: 'inspect-password', name: 'Ida Doc', role: 'clinician', fhirUser: 'Practitioner/ida' });
    const idToken = await issueIdToken(new KeyRing(t.db), { user, scopes: ['openid', 'fhirUser'], fhirBase: FHIR_BASE, issuer: TEST_BASE_URL, clientId: 'growth-chart', nonce: 'n-1' });
    const res = await inspect(idToken);
    assert.match(res.html, /<h2>Valid<\/h2>/);
    assert.match(res.html, /<th scope="row">Kind<\/th><td>id_token<\/td>/);
    assert.match(res.html, /<th scope="row">App \(client_id\)<\/th><td>growth-chart<\/td>/);
    assert.ok(res.html.includes(`<th scope="row">fhirUser</th><td>${FHIR_BASE}/Practitioner/ida</td>`));
  });
});
