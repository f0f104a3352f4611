// The admin console's users: administrators only; a user is created with a role, a FHIR identity that must exist and
// an access policy that the FHIR server then applies; a policy change takes effect on the user's next request;
// malformed or dangling settings are refused with the form re-shown; every change is audited.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../test-support/app.ts';
import { TestBrowser } from '../test-support/oauth-browser.ts';
import { checkPassword, createUser, getUserByUsername, listUsers } from '../auth/users/user-store.ts';

let t: TestApp;
const PASSWORD = 'users-console-password';
const FIELDS = { username: '', password: '', name: '', email: '', role: 'clinician', fhirUser: '', policy: 'all-patients', organization: '' };

before(async () => {
  t = await testApp();
  await createUser(t.db, { username: 'uc-admin', password: PASSWORD, name: 'Una Admin', role: 'admin' });
  await createUser(t.db, { username: 'uc-doc', password: PASSWORD, name: 'Dov Doc', role: 'clinician' });
  for (const r of [
    { resourceType: 'Organization', id: 'uc-org-a' },
    { resourceType: 'Practitioner', id: 'uc-pract' },
    { resourceType: 'Patient', id: 'uc-pat-a', managingOrganization: { reference: 'Organization/uc-org-a' } },
    { resourceType: 'Patient', id: 'uc-pat-b' },
  ]) assert.ok((await t.request('PUT', `/fhir/${r.resourceType}/${r.id}`, r)).status < 300);
});

async function signedIn(username: string): Promise<TestBrowser> {
  const browser = new TestBrowser(t.app, 'https://no-app.example');
  await browser.submit(await browser.go('GET', '/admin'), { username, password: PASSWORD });
  return browser;
}

/** What a user's `user/Patient.rs` token finds among the test's patients. */
async function patientsSeenBy(username: string): Promise<string[]> {
  const user = (await getUserByUsername(t.db, username))!;
  const token = await t.token({ clientId: 'uc-app', subject: user.id, scope: 'user/Patient.rs', context: user.fhirUser ? { fhirUser: `http://firekeeper.test/fhir/${user.fhirUser}` } : {} });
  const res = await t.request('GET', '/fhir/Patient?_id=uc-pat-a,uc-pat-b', undefined, { authorization: `Bearer ${token}` });
  return (res.json.entry ?? []).map((e: { resource: { id: string } }) => e.resource.id).sort();
}

describe('admin console: users', () => {
  it('is for administrators only', async () => {
    assert.equal((await (await signedIn('uc-doc')).go('GET', '/admin/users')).status, 403);
    assert.match((await new TestBrowser(t.app, 'https://x.example').go('GET', '/admin/users/new')).html, /Sign in as an administrator/);
  });

  it('creates a clinician linked to a Practitioner with an organization policy, which the FHIR server then applies', async () => {
    const browser = await signedIn('uc-admin');
    const form = await browser.go('GET', '/admin/users/new');
    const done = await browser.submit(form, { ...FIELDS, username: 'uc-north', password: 'north-password', name: 'Nia North', fhirUser: 'Practitioner/uc-pract', policy: 'organization', organization: 'Organization/uc-org-a' });
    assert.equal(done.status, 200);
    assert.match(done.html, /<td><a href="\/admin\/users\/[^"]+">uc-north<\/a><\/td><td>Nia North<\/td><td>clinician<\/td><td>Practitioner\/uc-pract<\/td><td>patients of Organization\/uc-org-a<\/td>/);
    assert.ok(await checkPassword(t.db, 'uc-north', 'north-password'), 'the password works (stored hashed)');
    assert.deepEqual(await patientsSeenBy('uc-north'), ['uc-pat-a']);

    const user = (await getUserByUsername(t.db, 'uc-north'))!;
    const edit = await browser.go('GET', `/admin/users/${user.id}`);
    await browser.submit(edit, { ...FIELDS, name: 'Nia North', role: 'clinician', fhirUser: 'Practitioner/uc-pract', policy: 'all-patients' });
    assert.deepEqual(await patientsSeenBy('uc-north'), ['uc-pat-a', 'uc-pat-b'], 'the wider policy applies at once');

    const trail = await t.request('GET', '/fhir/AuditEvent?subtype=user-created,user-updated&_count=10');
    assert.deepEqual(trail.json.entry.map((e: { resource: { subtype: { code: string }[] } }) => e.resource.subtype[0]!.code).sort(), ['user-created', 'user-updated']);
  });

  it('refuses malformed or dangling settings, re-showing the form, and changes nothing', async () => {
    const browser = await signedIn('uc-admin');
    const form = await browser.go('GET', '/admin/users/new');
    const before = (await listUsers(t.db)).length;
    const cases: [Record<string, string>, RegExp][] = [
      [{ username: 'x', password: 'long-enough-1', name: 'X' }, /a username is 2–64/],
      [{ username: 'uc-short', password: 'short', name: 'Short' }, /at least 8 characters/],
      [{ username: 'uc-doc', password: 'long-enough-1', name: 'Dup' }, /That username is taken/],
      [{ username: 'uc-noname', password: 'long-enough-1', name: '' }, /A name is required/],
      [{ username: 'uc-ghost', password: 'long-enough-1', name: 'Ghost', fhirUser: 'Practitioner/nobody' }, /There is no Practitioner\/nobody/],
      [{ username: 'uc-badref', password: 'long-enough-1', name: 'Bad', fhirUser: 'Observation/1' }, /fhirUser must be a relative reference/],
      [{ username: 'uc-org', password: 'long-enough-1', name: 'Org', policy: 'organization', organization: 'Organization/nowhere' }, /There is no Organization\/nowhere/],
      [{ username: 'uc-role', password: 'long-enough-1', name: 'Role', role: 'superuser' }, /a role is one of/],
      [{ username: 'uc-policy', password: 'long-enough-1', name: 'Policy', policy: 'everything' }, /Choose an access policy/],
    ];
    for (const [fields, message] of cases) {
      const res = await browser.submit(form, { ...FIELDS, ...fields });
      assert.equal(res.status, 400, JSON.stringify(fields));
      assert.match(res.html, message);
      assert.doesNotMatch(res.html, /long-enough-1/, 'the password is not echoed back');
    }
    assert.equal((await listUsers(t.db)).length, before);
    const noCsrf = await browser.send('POST', '/admin/users', new URLSearchParams({ ...FIELDS, username: 'uc-sneaky', password: 'long-enough-1', name: 'Sneaky' }));
    assert.equal(noCsrf.status, 403);
    assert.equal(await getUserByUsername(t.db, 'uc-sneaky'), undefined);
    assert.equal((await browser.go('GET', '/admin/users/no-such-id')).status, 404);
  });
});
