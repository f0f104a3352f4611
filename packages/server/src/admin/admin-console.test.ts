// The admin console's app registry: administrators only; a pending app from dynamic registration is approved; an app
// is registered through the form with the admin API's validation (errors re-show the form, nothing is stored); a
// client secret is shown once and stored hashed; suspend, activate, rotate and delete; CSRF; every change audited.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { exportJWK, generateKeyPair } from 'jose';
import { testApp, type TestApp } from '../test-support/app.ts';
import { TestBrowser, pkcePair, type PageResult } from '../test-support/oauth-browser.ts';
import { clientSecretHash, getClient, listClients, registerClient } from '../auth/clients/client-store.ts';
import { createUser } from '../auth/users/user-store.ts';
import { createGrantWithCode } from '../auth/grant-store.ts';
import { verifySecret } from '../auth/secret-hash.ts';
import { CLIENT_ID_SYSTEM } from '../audit/audit-event.ts';

let t: TestApp;
const PASSWORD = 'admin-console-password';

before(async () => {
  t = await testApp();
  await createUser(t.db, { username: 'ac-admin', password: PASSWORD, name: 'Ari Admin', role: 'admin' });
  await createUser(t.db, { username: 'ac-doc', password: PASSWORD, name: 'Dee Doc', role: 'clinician' });
});

async function signedIn(username: string): Promise<TestBrowser> {
  const browser = new TestBrowser(t.app, 'https://no-app.example');
  await browser.submit(await browser.go('GET', '/admin'), { username, password: PASSWORD });
  return browser;
}

/** Submits the form whose button is labelled `label` (aria-label), with its CSRF token. */
function press(browser: TestBrowser, page: PageResult, label: string): Promise<PageResult> {
  const form = [...page.html.matchAll(/<form method="post" action="[^"]+" class="inline">[\s\S]*?<\/form>/g)].find((m) => m[0].includes(`aria-label="${label}"`));
  assert.ok(form, `a "${label}" button`);
  return browser.submit({ ...page, html: form[0] }, {});
}

const registrationFields = (o: Record<string, string>) => ({
  name: '', type: 'public', redirectUris: '', launchUrl: '', launchMode: 'window', scopes: '', jwksUri: '', jwks: '', corsOrigins: '', accessTokenLifetime: '', refreshTokenLifetime: '', ...o,
});

describe('admin console: the app registry', () => {
  it('is for administrators only', async () => {
    const anonymous = await new TestBrowser(t.app, 'https://no-app.example').go('GET', '/admin');
    assert.match(anonymous.html, /Sign in as an administrator/);
    const doc = await (await signedIn('ac-doc')).go('GET', '/admin');
    assert.equal(doc.status, 403);
    const docNew = await (await signedIn('ac-doc')).go('GET', '/admin/apps/new');
    assert.equal(docNew.status, 403);
  });

  it('shows an app waiting from dynamic registration, and approves it', async () => {
    const { client } = await registerClient(t.db, { name: 'Waiting Room', type: 'public', redirectUris: ['https://wait.example/cb'], scopes: ['patient/*.rs'], status: 'pending' });
    const browser = await signedIn('ac-admin');
    const page = await browser.go('GET', '/admin');
    assert.match(page.html, /<h2 id="pending">Waiting for approval<\/h2>\s*<ul class="choices">\s*<li><strong>Waiting Room<\/strong>/);
    const after = await press(browser, page, 'Approve Waiting Room');
    assert.equal(after.status, 200);
    assert.equal((await getClient(t.db, client.clientId))?.status, 'active');
    assert.doesNotMatch(after.html.slice(after.html.indexOf('id="pending"'), after.html.indexOf('id="apps"')), /Waiting Room/);
  });

  it('registers an app through the form; a confidential app’s secret is shown once and stored only as a hash', async () => {
    const browser = await signedIn('ac-admin');
    const form = await browser.go('GET', '/admin/apps/new');
    const done = await browser.submit(form, registrationFields({
      name: 'Chart Review', type: 'confidential-symmetric', redirectUris: 'https://cr.example/cb\nhttps://cr.example/cb2', launchUrl: 'https://cr.example/launch',
      scopes: 'launch openid fhirUser user/*.rs', corsOrigins: 'https://cr.example', accessTokenLifetime: '600', refresh: 'yes',
    }));
    assert.equal(done.status, 200, done.html);
    const clientId = /client_id <code>([^<]+)<\/code>/.exec(done.html)?.[1];
    const secret = /<pre tabindex="0"><code>([^<]+)<\/code><\/pre>/.exec(done.html)?.[1];
    assert.ok(clientId && secret);
    const client = (await getClient(t.db, clientId))!;
    assert.deepEqual(
      { status: client.status, redirectUris: client.redirectUris, launchUrl: client.launchUrl, scopes: client.scopes, grantTypes: client.grantTypes, corsOrigins: client.corsOrigins, accessTokenLifetime: client.accessTokenLifetime },
      { status: 'active', redirectUris: ['https://cr.example/cb', 'https://cr.example/cb2'], launchUrl: 'https://cr.example/launch', scopes: ['launch', 'openid', 'fhirUser', 'user/*.rs'], grantTypes: ['authorization_code', 'refresh_token'], corsOrigins: ['https://cr.example'], accessTokenLifetime: 600 },
    );
    const hash = await clientSecretHash(t.db, clientId);
    assert.ok(hash && hash !== secret && (await verifySecret(secret, hash)));
    const list = await browser.go('GET', '/admin');
    assert.doesNotMatch(list.html, new RegExp(secret), 'never shown again');
  });

  it('re-shows the form with the admin API’s error, and stores nothing, for a registration it refuses', async () => {
    const browser = await signedIn('ac-admin');
    const form = await browser.go('GET', '/admin/apps/new');
    const before = (await listClients(t.db)).length;
    const cases: [Record<string, string>, RegExp][] = [
      [{ name: '' }, /name is required/],
      [{ name: 'Bad Redirect', redirectUris: 'http://evil.example/cb' }, /loopback|https/i],
      [{ name: 'Bad JWKS', type: 'confidential-asymmetric', jwks: '{not json' }, /JWKS must be JSON/],
      [{ name: 'Bad Lifetime', accessTokenLifetime: 'soon' }, /whole number/],
      [{ name: 'Bad Scope', scopes: 'patient/*.rs "quoted"' }, /invalid scope/],
      [{ name: 'Bad Mode', launchMode: 'popup' }, /launchMode must be one of window, embedded/],
    ];
    for (const [fields, message] of cases) {
      const res = await browser.submit(form, registrationFields(fields));
      assert.equal(res.status, 400, JSON.stringify(fields));
      assert.match(res.html, message);
      assert.match(res.html, new RegExp(`value="${fields.name}"`), 'the form keeps what was typed');
    }
    assert.equal((await listClients(t.db)).length, before);
  });

  it('suspends, activates, rotates a secret and deletes an app, each audited with the administrator', async () => {
    const { client } = await registerClient(t.db, { name: 'Lifecycle', type: 'confidential-symmetric', redirectUris: ['https://lc.example/cb'] });
    const browser = await signedIn('ac-admin');
    let page = await browser.go('GET', '/admin');
    page = await press(browser, page, 'Suspend Lifecycle');
    assert.equal((await getClient(t.db, client.clientId))?.status, 'suspended');
    page = await press(browser, page, 'Activate Lifecycle');
    assert.equal((await getClient(t.db, client.clientId))?.status, 'active');
    const oldHash = await clientSecretHash(t.db, client.clientId);
    const rotated = await press(browser, page, 'Rotate secret of Lifecycle');
    assert.match(rotated.html, /Copy the client secret now/);
    assert.notEqual(await clientSecretHash(t.db, client.clientId), oldHash);
    page = await browser.go('GET', '/admin');
    await press(browser, page, 'Delete Lifecycle');
    assert.equal(await getClient(t.db, client.clientId), undefined);

    const trail = await t.request('GET', `/fhir/AuditEvent?entity:identifier=${encodeURIComponent(`${CLIENT_ID_SYSTEM}|${client.clientId}`)}&_count=20`);
    const subtypes = trail.json.entry.map((e: { resource: { subtype: { code: string }[] } }) => e.resource.subtype[0]!.code).sort();
    assert.deepEqual(subtypes, ['client-deleted', 'client-secret-rotated', 'client-updated', 'client-updated']);
  });

  it('refuses an action without the form’s CSRF token, and an unknown app or action', async () => {
    const { client } = await registerClient(t.db, { name: 'Guarded', type: 'public', redirectUris: ['https://g.example/cb'] });
    const browser = await signedIn('ac-admin');
    const noCsrf = await browser.send('POST', `/admin/apps/${client.clientId}/delete`, new URLSearchParams());
    assert.equal(noCsrf.status, 403);
    assert.ok(await getClient(t.db, client.clientId));
    const page = await browser.go('GET', '/admin');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.html)![1]!;
    assert.equal((await browser.send('POST', `/admin/apps/${client.clientId}/explode`, new URLSearchParams({ _csrf: csrf }))).status, 404);
    assert.equal((await browser.send('POST', '/admin/apps/no-such-app/delete', new URLSearchParams({ _csrf: csrf }))).status, 404);
    assert.ok(await getClient(t.db, client.clientId));
  });

  it('shows the audit trail filtered by patient, app, outcome and user, newest first, page by page', async () => {
    await t.request('PUT', '/fhir/Patient/ac-pat', { resourceType: 'Patient', id: 'ac-pat' });
    await t.request('PUT', '/fhir/Patient/ac-other', { resourceType: 'Patient', id: 'ac-other' });
    const token = await t.token({ clientId: 'viewer-app', subject: 'viewer-user', scope: 'patient/*.rs', context: { patient: 'ac-pat' } });
    const asApp = (url: string) => t.request('GET', url, undefined, { authorization: `Bearer ${token}` });
    for (let i = 0; i < 55; i++) assert.equal((await asApp('/fhir/Patient/ac-pat')).status, 200);
    assert.equal((await asApp('/fhir/Patient/ac-other')).status, 404, 'outside the launch patient: refused');

    const browser = await signedIn('ac-admin');
    const byApp = await browser.go('GET', '/admin/audit?app=viewer-app&outcome=4');
    assert.equal(byApp.status, 200);
    const refusedRows = [...byApp.html.matchAll(/<tr><td>\d{4}-[^<]*<\/td>[\s\S]*?<\/tr>/g)].map((m) => m[0]);
    assert.equal(refusedRows.length, 1, byApp.html);
    assert.match(refusedRows[0]!, /<td>viewer-app<\/td>/);
    assert.match(refusedRows[0]!, /refused \(4xx\)/);

    const first = await browser.go('GET', '/admin/audit?patient=ac-pat&app=viewer-app');
    const rowsOf = (html: string) => [...html.matchAll(/<tr><td>(\d{4}-[^<]*)<\/td>/g)].length;
    assert.equal(rowsOf(first.html), 50, 'a page of 50');
    const older = /<a href="([^"]+)">Older records<\/a>/.exec(first.html)?.[1]?.replace(/&amp;/g, '&');
    assert.ok(older, 'a link to the next page');
    const second = await browser.go('GET', older);
    assert.ok(rowsOf(second.html) >= 5, 'the rest');
    assert.match(second.html, /value="ac-pat"/, 'the filters are kept');

    const badDate = await browser.go('GET', '/admin/audit?from=yesterday');
    assert.equal(badDate.status, 400);
    assert.match(badDate.html, /From: a date, YYYY-MM-DD/);
    const noUser = await browser.go('GET', '/admin/audit?user=nobody-here');
    assert.equal(noUser.status, 400);
    assert.match(noUser.html, /User: no user nobody-here/);
    const byUser = await browser.go('GET', '/admin/audit?user=ac-admin');
    assert.equal(byUser.status, 200);
    assert.match(byUser.html, /Sign-in succeeded/, 'the administrator’s own sign-ins');
  });

  it('lists an app’s live grants with their tokens and revokes one, then all: refresh and access tokens stop', async () => {
    const redirect = 'https://grants.example/cb';
    const { client } = await registerClient(t.db, { name: 'Granted', type: 'public', redirectUris: [redirect], scopes: ['patient/*.rs', 'offline_access'], grantTypes: ['authorization_code', 'refresh_token'] });
    await t.request('PUT', '/fhir/Patient/ac-granted', { resourceType: 'Patient', id: 'ac-granted' });
    const token = (form: Record<string, string>) => t.app.inject({ method: 'POST', url: '/auth/token', payload: new URLSearchParams({ client_id: client.clientId, ...form }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const grantFor = async (username: string) => {
      const user = await createUser(t.db, { username, password: PASSWORD, name: username, role: 'patient', fhirUser: 'Patient/ac-granted' });
      const { verifier, challenge } = pkcePair();
      const code = await createGrantWithCode(t.db, { clientId: client.clientId, userId: user.id, scope: 'patient/*.rs offline_access', context: { patient: 'ac-granted' }, redirectUri: redirect, codeChallenge: challenge });
      return (await token({ grant_type: 'authorization_code', code, redirect_uri: redirect, code_verifier: verifier })).json() as { access_token: string; refresh_token: string };
    };
    const first = await grantFor('ac-grant-one');
    const second = await grantFor('ac-grant-two');
    const read = (accessToken: string) => t.request('GET', '/fhir/Patient/ac-granted', undefined, { authorization: `Bearer ${accessToken}` });
    assert.equal((await read(first.access_token)).status, 200);

    const browser = await signedIn('ac-admin');
    const detail = await browser.go('GET', `/admin/apps/${client.clientId}`);
    assert.equal(detail.status, 200);
    assert.match(detail.html, /<tr><td>ac-grant-one<\/td><td>patient\/\*\.rs offline_access<\/td><td>[^<]+<\/td><td>1<\/td><td>1<\/td>/);
    const afterOne = await press(browser, detail, 'Revoke grant of ac-grant-one');
    assert.doesNotMatch(afterOne.html, /<td>ac-grant-one<\/td>/);
    assert.match(afterOne.html, /<td>ac-grant-two<\/td>/);
    assert.equal((await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token })).statusCode, 400);
    assert.equal((await read(first.access_token)).status, 401, 'its access token is refused');
    assert.equal((await read(second.access_token)).status, 200, 'the other grant still works');

    const afterAll = await press(browser, afterOne, 'Revoke all grants of Granted');
    assert.match(afterAll.html, /No user has a live grant to this app/);
    assert.equal((await token({ grant_type: 'refresh_token', refresh_token: second.refresh_token })).statusCode, 400);
    assert.equal((await read(second.access_token)).status, 401);
    assert.equal((await browser.go('GET', '/admin/apps/no-such-app')).status, 404);
  });

  it('edits an app: settings change, an emptied field is cleared, the type stays, a bad value re-shows the form', async () => {
    const { client } = await registerClient(t.db, { name: 'Editable', type: 'public', redirectUris: ['https://ed.example/cb'], launchUrl: 'https://ed.example/launch', scopes: ['launch', 'patient/*.rs'], accessTokenLifetime: 900 });
    const browser = await signedIn('ac-admin');
    const form = await browser.go('GET', `/admin/apps/${client.clientId}/edit`);
    assert.equal(form.status, 200);
    assert.match(form.html, /Type <strong>public<\/strong>/);
    assert.match(form.html, /id="launchUrl" name="launchUrl" value="https:\/\/ed\.example\/launch"/, 'pre-filled');
    const fields = { name: 'Edited', type: 'confidential-symmetric', redirectUris: 'https://ed.example/cb\nhttps://ed.example/cb2', launchUrl: '', launchMode: 'embedded', scopes: 'launch/patient patient/Observation.rs', jwksUri: '', jwks: '', corsOrigins: '', accessTokenLifetime: '', refreshTokenLifetime: '' };
    const saved = await browser.submit(form, fields);
    assert.equal(saved.status, 200, saved.html);
    const c = (await getClient(t.db, client.clientId))!;
    assert.deepEqual(
      { name: c.name, type: c.type, redirectUris: c.redirectUris, launchUrl: c.launchUrl, launchMode: c.launchMode, scopes: c.scopes, accessTokenLifetime: c.accessTokenLifetime },
      { name: 'Edited', type: 'public', redirectUris: ['https://ed.example/cb', 'https://ed.example/cb2'], launchUrl: null, launchMode: 'embedded', scopes: ['launch/patient', 'patient/Observation.rs'], accessTokenLifetime: 300 },
    );
    const bad = await browser.submit(await browser.go('GET', `/admin/apps/${client.clientId}/edit`), { ...fields, redirectUris: 'http://evil.example/cb' });
    assert.equal(bad.status, 400);
    assert.match(bad.html, /value="Edited"/);
    assert.deepEqual((await getClient(t.db, client.clientId))!.redirectUris, ['https://ed.example/cb', 'https://ed.example/cb2'], 'unchanged');
    const trail = await t.request('GET', `/fhir/AuditEvent?entity:identifier=${encodeURIComponent(`${CLIENT_ID_SYSTEM}|${client.clientId}`)}&subtype=client-updated`);
    assert.equal(trail.json.entry?.length, 1);
  });

  it('registers a private-key-JWT app by its JWKS URL and a backend service by its key set (no secret for either)', async () => {
    const { publicKey } = await generateKeyPair('ES384', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'backend-1', alg: 'ES384', use: 'sig' };
    const browser = await signedIn('ac-admin');
    for (const fields of [
      { name: 'Key App', type: 'confidential-asymmetric', redirectUris: 'https://key.example/cb', jwksUri: 'https://key.example/jwks.json', scopes: 'launch user/*.rs' },
      { name: 'Nightly Analytics', type: 'backend-service', jwks: JSON.stringify({ keys: [jwk] }), scopes: 'system/Observation.rs system/Patient.rs' },
    ] as Record<string, string>[]) {
      const done = await browser.submit(await browser.go('GET', '/admin/apps/new'), registrationFields(fields));
      assert.equal(done.status, 200, done.html);
      assert.doesNotMatch(done.html, /Copy the client secret/);
      const clientId = /client_id <code>([^<]+)<\/code>/.exec(done.html)![1]!;
      const c = (await getClient(t.db, clientId))!;
      assert.equal(c.type, fields.type);
      assert.equal(c.hasSecret, false);
      if (fields.type === 'backend-service') {
        assert.deepEqual([c.grantTypes, c.authMethod, c.jwks?.keys[0]?.kid], [['client_credentials'], 'private_key_jwt', 'backend-1']);
      } else {
        assert.deepEqual([c.jwksUri, c.authMethod], ['https://key.example/jwks.json', 'private_key_jwt']);
      }
    }
  });
});
