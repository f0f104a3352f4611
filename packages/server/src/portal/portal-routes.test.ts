// The patient portal: only patients get in; the record summary; connected apps in words and disconnecting one (its
// refresh token stops at once); who looked at the record, from the audit trail; privacy preferences written as a
// Consent that hides exactly the chosen data from exactly the chosen app; standalone-launch apps; refusals.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../test-support/app.ts';
import { TestBrowser, pkcePair, type PageResult } from '../test-support/oauth-browser.ts';
import { registerClient } from '../auth/clients/client-store.ts';
import { createUser, type User } from '../auth/users/user-store.ts';
import { createGrantWithCode } from '../auth/grant-store.ts';
import { consentId } from './privacy-preferences.ts';

let t: TestApp;
let patientUser: User;
const ids = { chartApp: '', otherApp: '' };
const PASSWORD = 'portal-routes-password';
const REDIRECT = 'https://chart.example/cb';

before(async () => {
  t = await testApp();
  ids.chartApp = (await registerClient(t.db, { name: 'Chart Buddy', type: 'public', redirectUris: [REDIRECT], launchUrl: 'https://chart.example/launch', scopes: ['launch/patient', 'patient/*.rs', 'offline_access'], grantTypes: ['authorization_code', 'refresh_token'] })).client.clientId;
  ids.otherApp = (await registerClient(t.db, { name: 'Other App', type: 'public', redirectUris: ['https://other.example/cb'], scopes: ['patient/*.rs'] })).client.clientId;
  for (const r of [
    { resourceType: 'Patient', id: 'pp-pat', name: [{ given: ['Pia'], family: 'Portal' }], gender: 'female', birthDate: '1988-02-03' },
    { resourceType: 'Condition', id: 'pp-cond', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] }, code: { text: 'Asthma' }, subject: { reference: 'Patient/pp-pat' } },
    { resourceType: 'Observation', id: 'pp-obs', status: 'final', code: { text: 'Peak flow' }, subject: { reference: 'Patient/pp-pat' } },
  ]) {
    const res = await t.request('PUT', `/fhir/${r.resourceType}/${r.id}`, r);
    assert.ok(res.status < 300, res.text);
  }
  patientUser = await createUser(t.db, { username: 'pp-patient', password: PASSWORD, name: 'Pia Portal', role: 'patient', fhirUser: 'Patient/pp-pat', accessPolicy: { kind: 'own-compartment' } });
  await createUser(t.db, { username: 'pp-doc', password: PASSWORD, name: 'Pat Doc', role: 'clinician', fhirUser: 'Practitioner/pp-doc' });
});

async function signedIn(username: string): Promise<TestBrowser> {
  const browser = new TestBrowser(t.app, 'https://no-app.example');
  await browser.submit(await browser.go('GET', '/portal'), { username, password: PASSWORD });
  return browser;
}

/** Submits the page's form that carries `step` (its CSRF token and hidden fields), with `fields`. */
function submitStep(browser: TestBrowser, page: PageResult, step: string, fields: Record<string, string>, nth = 0): Promise<PageResult> {
  const forms = [...page.html.matchAll(/<form method="post" action="\/portal"[^>]*>([\s\S]*?)<\/form>/g)].filter((m) => m[1]!.includes(`name="step" value="${step}"`));
  const form = forms[nth];
  assert.ok(form, `a ${step} form`);
  return browser.submit({ ...page, html: form[0] }, fields);
}

/** What an app sees of the patient's record with a patient-launch token. */
async function visibleTo(clientId: string): Promise<string[]> {
  const token = await t.token({ clientId, subject: patientUser.id, scope: 'patient/*.rs', context: { patient: 'pp-pat' } });
  const res = await t.request('GET', '/fhir/Patient/pp-pat/$everything', undefined, { authorization: `Bearer ${token}` });
  assert.equal(res.status, 200, res.text);
  return (res.json.entry ?? []).map((e: { resource: { resourceType: string; id: string } }) => `${e.resource.resourceType}/${e.resource.id}`).filter((r: string) => !r.startsWith('Consent/')).sort();
}

describe('the patient portal', () => {
  it('lets only patients in: sign-in first, clinicians are sent to the EHR', async () => {
    const anonymous = await new TestBrowser(t.app, 'https://no-app.example').go('GET', '/portal');
    assert.match(anonymous.html, /Sign in to see your record/);
    const doc = await (await signedIn('pp-doc')).go('GET', '/portal');
    assert.equal(doc.status, 403);
    assert.match(doc.html, /href="\/ehr"/);
    assert.doesNotMatch(doc.html, /Asthma/);
  });

  it('shows the patient’s own record summary', async () => {
    const page = await (await signedIn('pp-patient')).go('GET', '/portal');
    assert.equal(page.status, 200);
    assert.match(page.html, /<strong>Pia Portal<\/strong> <span>female · \d+ years · born 1988-02-03<\/span>/);
    assert.match(page.html, /Asthma/);
    assert.match(page.html, /<a href="https:\/\/chart\.example\/launch\?iss=http%3A%2F%2Ffirekeeper\.test%2Ffhir" rel="noopener">Chart Buddy<\/a>/, 'a standalone-launch app');
  });

  it('lists who looked at the record and through which app, without the portal’s own reads', async () => {
    const doc = new TestBrowser(t.app, 'https://no-app.example');
    await doc.submit(await doc.go('GET', '/ehr'), { username: 'pp-doc', password: PASSWORD });
    assert.equal((await doc.go('GET', '/ehr/patients/pp-pat')).status, 200);
    const page = await (await signedIn('pp-patient')).go('GET', '/portal');
    assert.match(page.html, /<td>Firekeeper EHR<\/td><td>Practitioner\/pp-doc<\/td><td>read Patient\/pp-pat<\/td><td>allowed<\/td>/);
    assert.doesNotMatch(page.html, /<td>this portal<\/td>/);
  });

  it('lists a connected app with its scopes in words, and disconnecting it stops its refresh token at once', async () => {
    const { verifier, challenge } = pkcePair();
    const code = await createGrantWithCode(t.db, { clientId: ids.chartApp, userId: patientUser.id, scope: 'launch/patient patient/Condition.rs offline_access', context: { patient: 'pp-pat' }, redirectUri: REDIRECT, codeChallenge: challenge });
    const token = (form: Record<string, string>) => t.app.inject({ method: 'POST', url: '/auth/token', payload: new URLSearchParams({ client_id: ids.chartApp, ...form }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const issued = (await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier })).json() as { refresh_token: string };
    assert.ok(issued.refresh_token);

    const browser = await signedIn('pp-patient');
    const page = await browser.go('GET', '/portal');
    assert.match(page.html, /<strong>Chart Buddy<\/strong>/);
    assert.match(page.html, /<li>[^<]*[Cc]onditions?[^<]*<\/li>/, 'patient/Condition.rs in words');
    assert.match(page.html, /Disconnect Chart Buddy/);
    const after = await submitStep(browser, page, 'revoke', {});
    assert.equal(after.status, 200);
    assert.doesNotMatch(after.html, /Disconnect Chart Buddy/);
    const refused = await token({ grant_type: 'refresh_token', refresh_token: issued.refresh_token });
    assert.equal(refused.statusCode, 400);
    assert.equal((refused.json() as { error: string }).error, 'invalid_grant');
  });

  it('a privacy preference hides exactly the chosen data from exactly the chosen app, until it is removed', async () => {
    const everything = ['Condition/pp-cond', 'Observation/pp-obs', 'Patient/pp-pat'];
    assert.deepEqual(await visibleTo(ids.chartApp), everything);
    const browser = await signedIn('pp-patient');
    const page = await browser.go('GET', '/portal');
    const added = await submitStep(browser, page, 'add-preference', { withhold: 'Condition', client_id: ids.chartApp });
    assert.equal(added.status, 200, added.html);
    assert.match(added.html, /Do not share my conditions with <strong>Chart Buddy<\/strong>/);
    assert.deepEqual(await visibleTo(ids.chartApp), ['Observation/pp-obs', 'Patient/pp-pat'], 'the conditions are hidden from Chart Buddy');
    assert.deepEqual(await visibleTo(ids.otherApp), everything, 'and from no other app');

    const consent = await t.request('GET', `/fhir/Consent/${consentId('pp-pat')}`);
    assert.equal(consent.json.status, 'active');
    assert.equal(consent.json.patient.reference, 'Patient/pp-pat');

    const removed = await submitStep(browser, added, 'remove-preference', {});
    assert.doesNotMatch(removed.html, /Do not share my conditions/);
    assert.deepEqual(await visibleTo(ids.chartApp), everything, 'shared again');
    assert.equal((await t.request('GET', `/fhir/Consent/${consentId('pp-pat')}`)).json.status, 'inactive');
  });

  it('refuses a preference it cannot express, and a form without its CSRF token', async () => {
    const browser = await signedIn('pp-patient');
    const page = await browser.go('GET', '/portal');
    const unknownWhat = await submitStep(browser, page, 'add-preference', { withhold: 'secrets' });
    assert.equal(unknownWhat.status, 400);
    const unknownApp = await submitStep(browser, page, 'add-preference', { withhold: 'all', client_id: 'no-such-app' });
    assert.equal(unknownApp.status, 400);
    assert.match(unknownApp.html, /not registered/);
    assert.doesNotMatch(page.html, /value="remove-preference"/, 'no preference, nothing to remove');
    const noCsrf = await browser.send('POST', '/portal', new URLSearchParams({ step: 'add-preference', withhold: 'all' }));
    assert.equal(noCsrf.status, 403);
    assert.equal((await t.request('GET', `/fhir/Consent/${consentId('pp-pat')}`)).json.status, 'inactive', 'nothing changed');
  });
});
