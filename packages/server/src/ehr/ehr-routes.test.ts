// The simulated EHR: sign-in, the patient list and chart read through the FHIR API under the user's access policy
// (and audited as the EHR), the Apps panel's EHR launch (a real launch record, CSRF-protected, only for a patient the
// user may open), the refusals, and the SMART style document.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, FHIR_BASE, TEST_BASE_URL, type TestApp } from '../test-support/app.ts';
import { TestBrowser, type PageResult } from '../test-support/oauth-browser.ts';
import { registerClient } from '../auth/clients/client-store.ts';
import { createUser } from '../auth/users/user-store.ts';
import { findLaunch } from '../auth/launch-store.ts';
import { CLIENT_ID_SYSTEM } from '../audit/audit-event.ts';
import { EHR_CLIENT_ID } from './ehr-pages.ts';
import { SMART_STYLE_PATH } from './smart-style.ts';

let t: TestApp;
let appId = '';
let embeddedId = '';
const PASSWORD = 'ehr-routes-password';
const LOINC = 'http://loinc.org';
const vital = (id: string, code: string, value: number, unit: string, date: string) => ({
  resourceType: 'Observation', id, status: 'final', subject: { reference: 'Patient/ehr-pat' }, effectiveDateTime: date,
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
  code: { coding: [{ system: LOINC, code }] }, valueQuantity: { value, unit },
});

before(async () => {
  t = await testApp();
  appId = (await registerClient(t.db, { name: 'Med Check', type: 'public', redirectUris: ['https://medcheck.example/cb'], launchUrl: 'https://medcheck.example/launch', scopes: ['launch', 'patient/*.rs'] })).client.clientId;
  embeddedId = (await registerClient(t.db, { name: 'Inline Notes', type: 'public', redirectUris: ['https://notes.example/cb'], launchUrl: 'https://notes.example/launch', launchMode: 'embedded', scopes: ['launch', 'patient/*.rs'] })).client.clientId;
  await registerClient(t.db, { name: 'Standalone Only', type: 'public', redirectUris: ['https://solo.example/cb'], launchUrl: 'https://solo.example/launch', scopes: ['launch/patient'] });
  const resources = [
    { resourceType: 'Organization', id: 'ehr-org-a', name: 'North Clinic' },
    {
      resourceType: 'Patient', id: 'ehr-pat', name: [{ given: ['Ada'], family: 'Quill' }], gender: 'female', birthDate: '1970-06-15', managingOrganization: { reference: 'Organization/ehr-org-a' },
      identifier: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, value: 'MRN-0042' }],
    },
    { resourceType: 'Patient', id: 'ehr-other', name: [{ given: ['Otto'], family: 'Elsewhere' }] },
    { resourceType: 'Encounter', id: 'ehr-enc', status: 'finished', class: { code: 'AMB' }, type: [{ text: 'Check-up' }], subject: { reference: 'Patient/ehr-pat' }, period: { start: '2026-10-01T09:00:00Z' } },
    { resourceType: 'Condition', id: 'ehr-cond', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] }, code: { text: 'Essential hypertension' }, subject: { reference: 'Patient/ehr-pat' }, onsetDateTime: '2019-03-02' },
    { resourceType: 'Condition', id: 'ehr-cond-old', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'resolved' }] }, code: { text: 'Resolved sprain' }, subject: { reference: 'Patient/ehr-pat' } },
    { resourceType: 'MedicationRequest', id: 'ehr-med', status: 'active', intent: 'order', medicationCodeableConcept: { text: 'Lisinopril 10 MG' }, subject: { reference: 'Patient/ehr-pat' }, dosageInstruction: [{ text: 'once daily' }] },
    { resourceType: 'AllergyIntolerance', id: 'ehr-allergy', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] }, patient: { reference: 'Patient/ehr-pat' }, code: { text: 'Penicillin' }, criticality: 'high' },
    vital('ehr-hr-1', '8867-4', 72, '/min', '2026-09-01T09:00:00Z'),
    vital('ehr-hr-2', '8867-4', 64, '/min', '2026-10-01T09:00:00Z'),
    vital('ehr-wt-1', '29463-7', 70.5, 'kg', '2026-10-01T09:00:00Z'),
  ];
  for (const r of resources) {
    const res = await t.request('PUT', `/fhir/${r.resourceType}/${r.id}`, r);
    assert.ok(res.status < 300, res.text);
  }
  await createUser(t.db, { username: 'ehr-doc', password: PASSWORD, name: 'Dana Doc', role: 'clinician', fhirUser: 'Practitioner/ehr-doc' });
  await createUser(t.db, { username: 'ehr-north', password: PASSWORD, name: 'Nora North', role: 'clinician', accessPolicy: { kind: 'organization', organization: 'Organization/ehr-org-a' } });
  await createUser(t.db, { username: 'ehr-patient', password: PASSWORD, name: 'Ada Quill', role: 'patient', fhirUser: 'Patient/ehr-pat', accessPolicy: { kind: 'own-compartment' } });
});

async function signedIn(username: string): Promise<TestBrowser> {
  const browser = new TestBrowser(t.app, 'https://no-app.example');
  const page = await browser.go('GET', '/ehr');
  const after = await browser.submit(page, { username, password: PASSWORD });
  assert.doesNotMatch(after.html, /Sign in to the Firekeeper EHR/, 'signed in');
  return browser;
}

/** Submits the chart's launch form (its CSRF token) for an app and an encounter; returns the raw response. */
async function launchFrom(browser: TestBrowser, chart: PageResult, clientId: string, encounter = ''): Promise<PageResult> {
  const csrf = /<form method="post" action="[^"]*\/launch">\s*<input type="hidden" name="_csrf" value="([^"]+)">/.exec(chart.html)?.[1];
  assert.ok(csrf, 'the chart has a launch form');
  return browser.send('POST', '/ehr/patients/ehr-pat/launch', new URLSearchParams({ _csrf: csrf, client_id: clientId, encounter }));
}

describe('the simulated EHR', () => {
  it('asks for sign-in, refuses a wrong password without saying which part was wrong', async () => {
    const browser = new TestBrowser(t.app, 'https://no-app.example');
    const page = await browser.go('GET', '/ehr');
    assert.equal(page.status, 200);
    assert.match(page.html, /Sign in to the Firekeeper EHR/);
    const wrong = await browser.submit(page, { username: 'ehr-doc', password: 'nope-nope-nope' });
    assert.equal(wrong.status, 401);
    assert.match(wrong.html, /The username or password is not correct/);
    assert.equal((await browser.go('GET', '/ehr/patients/ehr-pat')).html.includes('Ada Quill'), false, 'no chart without a session');
  });

  it('lists and finds patients, and opens a chart with banner, problems, medications, allergies, encounters and vitals', async () => {
    const browser = await signedIn('ehr-doc');
    const list = await browser.go('GET', '/ehr');
    assert.match(list.html, /href="\/ehr\/patients\/ehr-pat">Ada Quill</);
    assert.match(list.html, /href="\/ehr\/patients\/ehr-other">Otto Elsewhere</);
    const found = await browser.go('GET', '/ehr?name=quill');
    assert.match(found.html, /Ada Quill/);
    assert.doesNotMatch(found.html, /Otto Elsewhere/);

    const chart = await browser.go('GET', '/ehr/patients/ehr-pat');
    assert.equal(chart.status, 200);
    assert.match(chart.html, /<strong>Ada Quill<\/strong> <span>female · \d+ years · born 1970-06-15 · MRN MRN-0042<\/span>/);
    assert.match(chart.html, /Essential hypertension/);
    assert.doesNotMatch(chart.html, /Resolved sprain/, 'only active problems');
    assert.match(chart.html, /Lisinopril 10 MG <span class="muted">once daily<\/span>/);
    assert.match(chart.html, /Penicillin <span class="muted">high<\/span>/);
    assert.match(chart.html, /Check-up <span class="muted">finished<\/span> <span class="muted">2026-10-01<\/span>/);
    assert.match(chart.html, /Heart rate <strong>64 \/min<\/strong>/, 'the latest heart rate');
    assert.match(chart.html, /aria-label="Heart rate: latest 64 \/min on 2026-10-01; range 64–72 \/min over 2 measurements"/);
    assert.match(chart.html, /Body weight <strong>70.5 kg<\/strong>/);
    assert.match(chart.html, /Launch Med Check/);
    assert.doesNotMatch(chart.html, /Standalone Only/, 'only apps registered for the EHR launch');
    assert.match(String(chart.headers['content-security-policy']), /form-action 'self' https:\/\/medcheck\.example https:\/\/notes\.example;/);
    assert.equal((await browser.go('GET', '/ehr/patients/no-such-patient')).status, 404);
    assert.equal((await browser.go('GET', '/ehr/patients/bad%20id')).status, 404);
  });

  it('reads through the FHIR API under the user’s access policy: an organization’s clinician sees only its patients', async () => {
    const browser = await signedIn('ehr-north');
    const list = await browser.go('GET', '/ehr');
    assert.match(list.html, /Ada Quill/);
    assert.doesNotMatch(list.html, /Otto Elsewhere/);
    assert.equal((await browser.go('GET', '/ehr/patients/ehr-pat')).status, 200);
    const other = await browser.go('GET', '/ehr/patients/ehr-other');
    assert.equal(other.status, 404);
    assert.doesNotMatch(other.html, /Otto/);
  });

  it('is audited as the EHR acting for the user', async () => {
    const browser = await signedIn('ehr-doc');
    const chart = await browser.go('GET', '/ehr/patients/ehr-pat');
    assert.equal(chart.status, 200);
    const search = await t.request('GET', `/fhir/AuditEvent?agent:identifier=${encodeURIComponent(`${CLIENT_ID_SYSTEM}|${EHR_CLIENT_ID}`)}&patient=Patient/ehr-pat&agent=Practitioner/ehr-doc&_count=5`);
    assert.equal(search.status, 200, search.text);
    assert.ok(search.json.entry?.length > 0, 'the chart read is in the trail');
  });

  it('a patient user is not let into the clinicians’ EHR', async () => {
    const browser = await signedIn('ehr-patient');
    for (const url of ['/ehr', '/ehr/patients/ehr-pat']) {
      const page = await browser.go('GET', url);
      assert.equal(page.status, 403, url);
      assert.match(page.html, /signed in as a patient/);
    }
  });

  it('launches an app from the chart: a launch record for this patient, encounter and user, then the app’s URL', async () => {
    const browser = await signedIn('ehr-doc');
    const chart = await browser.go('GET', '/ehr/patients/ehr-pat');
    const res = await launchFrom(browser, chart, appId, 'ehr-enc');
    assert.equal(res.status, 303, res.html);
    const url = new URL(String(res.headers.location));
    assert.equal(`${url.origin}${url.pathname}`, 'https://medcheck.example/launch');
    assert.equal(url.searchParams.get('iss'), FHIR_BASE);
    const launch = await findLaunch(t.db, url.searchParams.get('launch')!, appId);
    assert.ok(launch);
    assert.deepEqual(launch.context, { patient: 'ehr-pat', encounter: 'ehr-enc', need_patient_banner: true, smart_style_url: `${TEST_BASE_URL}${SMART_STYLE_PATH}` });
    const [{ id }] = await t.db.query<{ id: string }>(`SELECT id FROM users WHERE username = 'ehr-doc'`);
    assert.equal(launch.userId, id);
  });

  it('refuses a launch without the form’s CSRF token, for an app that cannot be launched, or for a patient the user may not open', async () => {
    const count = async () => Number((await t.db.query<{ n: string }>('SELECT count(*)::text AS n FROM launches'))[0]!.n);
    const before = await count();
    const doc = await signedIn('ehr-doc');
    const noCsrf = await doc.send('POST', '/ehr/patients/ehr-pat/launch', new URLSearchParams({ client_id: appId }));
    assert.equal(noCsrf.status, 403);
    const chart = await doc.go('GET', '/ehr/patients/ehr-pat');
    const unknown = await launchFrom(doc, chart, 'no-such-app');
    assert.equal(unknown.status, 400);
    assert.match(unknown.html, /client_id: no app no-such-app is registered/);
    const wrongEncounter = await launchFrom(doc, chart, appId, 'no-such-encounter');
    assert.equal(wrongEncounter.status, 400);

    const north = await signedIn('ehr-north');
    const northChart = await north.go('GET', '/ehr/patients/ehr-pat');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(northChart.html)![1]!;
    const outside = await north.send('POST', '/ehr/patients/ehr-other/launch', new URLSearchParams({ _csrf: csrf, client_id: appId }));
    assert.equal(outside.status, 404);
    assert.equal(await count(), before);
  });

  it('serves the SMART style document the launches point to, readable by any app', async () => {
    const res = await t.app.inject({ method: 'GET', url: SMART_STYLE_PATH });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['access-control-allow-origin'], '*');
    const style = res.json() as Record<string, string>;
    assert.equal(style.color_highlight, '#b4441e');
    assert.ok(Object.keys(style).every((k) => /^(color|dim|font)_/.test(k)));
  });

  it('signs out', async () => {
    const browser = await signedIn('ehr-doc');
    const list = await browser.go('GET', '/ehr');
    const out = await browser.submit({ ...list, html: list.html.slice(list.html.indexOf('<form method="post" action="/ehr"')) }, {});
    assert.match(out.html, /Sign in to the Firekeeper EHR/);
  });

  it('embeds an app configured so: the chart’s banner above it, in a sandboxed iframe, with need_patient_banner false', async () => {
    const browser = await signedIn('ehr-doc');
    const chart = await browser.go('GET', '/ehr/patients/ehr-pat');
    assert.match(chart.html, /value="[^"]+" class="secondary" formtarget="_blank">Launch Med Check</, 'a window app opens a new window');
    assert.match(chart.html, new RegExp(`value="${embeddedId}" class="secondary">Launch Inline Notes<`), 'an embedded one stays in the chart');
    const res = await launchFrom(browser, chart, embeddedId);
    assert.equal(res.status, 303);
    const location = String(res.headers.location);
    const [, launchId] = new RegExp(`^/ehr/patients/ehr-pat/apps/${embeddedId}/([^/]+)$`).exec(location) ?? [];
    assert.ok(launchId, location);
    assert.equal((await findLaunch(t.db, launchId, embeddedId))?.context.need_patient_banner, false);

    const page = await browser.go('GET', location);
    assert.equal(page.status, 200);
    assert.match(page.html, /<div class="patient-banner" role="region" aria-label="Patient"><strong>Ada Quill<\/strong>/);
    const iframe = /<iframe class="embedded-app" src="([^"]+)" title="Inline Notes" sandbox="([^"]+)"/.exec(page.html);
    assert.ok(iframe, page.html);
    const src = new URL(iframe[1]!.replace(/&amp;/g, '&'));
    assert.equal(`${src.origin}${src.pathname}`, 'https://notes.example/launch');
    assert.deepEqual([src.searchParams.get('iss'), src.searchParams.get('launch')], [FHIR_BASE, launchId]);
    assert.doesNotMatch(iframe[2]!, /allow-top-navigation/);
    assert.match(String(page.headers['content-security-policy']), /frame-src 'self' https:\/\/notes\.example;/);

    const north = await signedIn('ehr-north');
    assert.equal((await north.go('GET', location)).status, 404, 'another user’s launch');
    assert.equal((await browser.go('GET', location.replace('ehr-pat', 'ehr-other'))).status, 404, 'another patient');
  });

  it('after signing in, goes back to the page asked for, and never to another site', async () => {
    const browser = new TestBrowser(t.app, 'https://no-app.example');
    const login = await browser.go('GET', '/ehr/patients/ehr-pat');
    assert.match(login.html, /<input type="hidden" name="return" value="\/ehr\/patients\/ehr-pat">/);
    const chart = await browser.submit(login, { username: 'ehr-doc', password: PASSWORD });
    assert.equal(chart.url, '/ehr/patients/ehr-pat');
    assert.match(chart.html, /Ada Quill/);
    for (const forged of ['https://evil.example/ehr', '//evil.example/ehr', '/ehrx', '/admin', '/ehr\\evil']) {
      const other = new TestBrowser(t.app, 'https://no-app.example');
      const page = await other.go('GET', '/ehr');
      const res = await other.send('POST', '/ehr', new URLSearchParams({ _csrf: /name="_csrf" value="([^"]+)"/.exec(page.html)![1]!, step: 'login', username: 'ehr-doc', password: PASSWORD, return: forged }));
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, '/ehr', forged);
    }
  });
});
