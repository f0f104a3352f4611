// The point-of-care app against a real Firekeeper on loopback, both servers on real sockets: an EHR launch with a
// patient banner and the EHR's style, a standalone launch through the patient picker, a consent narrowed by the
// user (the page says what it cannot show and why), a revoked authorization (the page says the session ended), and
// the refusals (an unknown FHIR server, a forged callback). The user's sign-in and consent are driven in-process;
// the browser tests drive the same flow in chromium.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { listeningApp, freePort, type ListeningApp } from '../../../packages/server/src/test-support/listening-app.ts';
import { onTestFileEnd } from '../../../packages/server/src/test-support/database.ts';
import { TestBrowser, scopeCheckboxes, type PageResult } from '../../../packages/server/src/test-support/oauth-browser.ts';
import { registerClient } from '../../../packages/server/src/auth/clients/client-store.ts';
import { createUser } from '../../../packages/server/src/auth/users/user-store.ts';
import { createLaunch } from '../../../packages/server/src/auth/launch-store.ts';
import { revokeGrantsOf } from '../../../packages/server/src/auth/grant-store.ts';
import { RevocationList } from '../../../packages/server/src/auth/revocation-list.ts';
import { pointOfCareHandler } from './app-server.ts';
import { seedRecord } from './test-record.ts';

const PASSWORD = 'poc-test-password';
/** A FHIR server the app is set up for that does not answer. */
const DOWN = 'http://127.0.0.1:9/fhir';
let fk: ListeningApp;
let poc = '';
let clientId = '';
let userId = '';

before(async () => {
  fk = await listeningApp();
  await seedRecord(fk.fhirBase, fk.seedToken);
  userId = (await createUser(fk.db, { username: 'poc-doc', password: PASSWORD, name: 'Pat Care', role: 'clinician', fhirUser: 'Practitioner/poc-doc' })).id;
  const port = await freePort();
  poc = `http://127.0.0.1:${port}`;
  const registered = await registerClient(fk.db, {
    name: 'Point of care', type: 'confidential-symmetric', redirectUris: [`${poc}/callback`], launchUrl: `${poc}/launch`, grantTypes: ['authorization_code', 'refresh_token'],
    scopes: ['launch', 'launch/patient', 'openid', 'fhirUser', 'patient/*.rs'],
  });
  clientId = registered.client.clientId;
  const server = createServer(pointOfCareHandler({ publicUrl: poc, fhirServers: [fk.fhirBase, DOWN], clientId, clientSecret: registered.secret }));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  onTestFileEnd(() => new Promise((resolve) => server.close(resolve)));
});

/** A browser's view of the app: its cookie, and the page or redirect each GET answers. */
class AppBrowser {
  cookie = '';
  async get(url: string): Promise<{ status: number; location: string | null; html: string; headers: Headers }> {
    const res = await fetch(url.startsWith('http') ? url : `${poc}${url}`, { redirect: 'manual', headers: this.cookie ? { cookie: this.cookie } : {} });
    const set = res.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0]!;
    return { status: res.status, location: res.headers.get('location'), html: await res.text(), headers: res.headers };
  }
}

/** The user at Firekeeper: signs in, picks `patient` if asked, unticks `untick` on the consent page, allows. */
async function userAtFirekeeper(authorizeUrl: string, o: { patient?: string; untick?: string[] } = {}): Promise<string> {
  const browser = new TestBrowser(fk.app, poc);
  let page: PageResult = await browser.go('GET', authorizeUrl);
  for (let step = 0; step < 5 && !page.url.startsWith(poc); step++) {
    if (page.html.includes('name="password"')) page = await browser.submit(page, { username: 'poc-doc', password: PASSWORD });
    else if (page.html.includes('name="patient"')) page = await browser.submit(page, { patient: o.patient ?? 'poc-pat' });
    else page = await browser.submit(page, { decision: 'allow', scope: scopeCheckboxes(page.html).filter((c) => c.checked && !o.untick?.includes(c.value)).map((c) => c.value) });
  }
  assert.ok(page.url.startsWith(`${poc}/callback`), page.html.slice(0, 400));
  return page.url;
}

async function launchAndOpen(app: AppBrowser, launchPath: string, o: { patient?: string; untick?: string[] } = {}) {
  const started = await app.get(launchPath);
  assert.equal(started.status, 302, started.html);
  const back = await app.get(await userAtFirekeeper(started.location!, o));
  assert.equal(back.status, 302, back.html);
  assert.equal(back.location, `${poc}/`);
  return { started: new URL(started.location!), view: await app.get('/') };
}

describe('point-of-care app', () => {
  it('EHR launch: least-privilege v2 scopes, the banner the EHR asked for, its style, charts, lists and alerts with evidence', async () => {
    const styleServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ color_highlight: '#5b2c6f', color_text: 'red; } body { display:none', font_family_body: 'Georgia, serif' })));
    await new Promise<void>((resolve) => styleServer.listen(0, '127.0.0.1', resolve));
    onTestFileEnd(() => new Promise((resolve) => styleServer.close(resolve)));
    const launch = await createLaunch(fk.db, { clientId, userId, context: { patient: 'poc-pat', need_patient_banner: true, smart_style_url: `http://127.0.0.1:${(styleServer.address() as { port: number }).port}/style.json` } });
    const app = new AppBrowser();
    const { started, view } = await launchAndOpen(app, `/launch?iss=${encodeURIComponent(fk.fhirBase)}&launch=${launch.id}`);
    assert.equal(started.searchParams.get('scope'), 'openid fhirUser launch patient/Patient.r patient/Observation.rs patient/MedicationRequest.rs patient/AllergyIntolerance.rs patient/Condition.rs');
    assert.equal(started.searchParams.get('launch'), launch.id);
    assert.equal(view.status, 200, view.html);
    assert.match(view.html, /<header class="banner"><strong>Ines Moreno<\/strong> · female · born 1958-04-02 · MRN MRN-4471<\/header>/);
    assert.match(view.html, /--color-highlight: #5b2c6f;/, 'the EHR style is applied');
    assert.match(view.html, /--font-family-body: Georgia, serif;/);
    assert.doesNotMatch(view.html, /display:none/, 'a style value that could inject CSS is dropped');
    assert.match(view.html, /aria-label="Blood pressure"/);
    assert.match(view.html, /systolic 152 mm\[Hg\] on 2025-11-01/);
    assert.match(view.html, /amoxicillin 250 MG Oral Capsule — 2 by mouth 3 times a day/);
    assert.match(view.html, /penicillin V \(allergy, criticality high\)/);
    assert.match(view.html, /<strong>High:<\/strong> amoxicillin 250 MG Oral Capsule is a penicillin, the class of the recorded allergy to penicillin V/);
    assert.match(view.html, /AllergyIntolerance\/pen: penicillin V/);
    assert.match(view.html, /<strong>Moderate:<\/strong> ibuprofen 600 MG Oral Tablet with hypertension/);
    assert.match(view.html, /Condition\/htn: Hypertensive disorder/);
    assert.match(view.headers.get('content-security-policy')!, /default-src 'none'.*frame-ancestors 'self' http:\/\/127\.0\.0\.1:\d+/);
    assert.match(app.cookie, /^poc_session=/);
    assert.doesNotMatch(view.html, /access_token|refresh_token/, 'no token reaches the browser');
  });

  it('without need_patient_banner the app shows no banner (the EHR shows its own)', async () => {
    const launch = await createLaunch(fk.db, { clientId, userId, context: { patient: 'poc-pat', need_patient_banner: false } });
    const { view } = await launchAndOpen(new AppBrowser(), `/launch?iss=${encodeURIComponent(fk.fhirBase)}&launch=${launch.id}`);
    assert.equal(view.status, 200);
    assert.doesNotMatch(view.html, /class="banner"/);
    assert.match(view.html, /Active medications/);
  });

  it('standalone launch with a narrowed consent: the picked patient, and what the app cannot show and why', async () => {
    const { started, view } = await launchAndOpen(new AppBrowser(), '/launch', { patient: 'poc-other', untick: ['patient/MedicationRequest.rs', 'patient/AllergyIntolerance.rs'] });
    assert.match(started.searchParams.get('scope')!, /^openid fhirUser launch\/patient patient\/Patient\.r /);
    assert.equal(started.searchParams.get('launch'), null);
    assert.equal(view.status, 200, view.html);
    assert.match(view.html, /Not shown: active medications, because you did not allow this app to read them\./);
    assert.match(view.html, /Not shown: allergies, because you did not allow this app to read them\./);
    assert.match(view.html, /The check ran without active medications, allergies: not available to this app\./);
    assert.match(view.html, /Blood pressure: no readings\./, 'another patient: none of Ines Moreno\'s data');
    assert.doesNotMatch(view.html, /Moreno|amoxicillin/);
  });

  it('a revoked authorization: the next page says the session ended, and the app forgets it', async () => {
    const launch = await createLaunch(fk.db, { clientId, userId, context: { patient: 'poc-pat' } });
    const app = new AppBrowser();
    const { view } = await launchAndOpen(app, `/launch?iss=${encodeURIComponent(fk.fhirBase)}&launch=${launch.id}`);
    assert.equal(view.status, 200);
    const revocations = new RevocationList(fk.db);
    assert.ok((await revokeGrantsOf(fk.db, revocations, userId, clientId)) >= 1);
    await new Promise((r) => setTimeout(r, 1500)); // every instance honours a revocation within a second
    const ended = await app.get('/');
    assert.equal(ended.status, 401, ended.html);
    assert.match(ended.html, /Your access to this record has ended/);
    const after = await app.get('/');
    assert.match(after.html, /Launch this app from a patient's chart/, 'the session was forgotten');
  });

  it('refuses a launch for a FHIR server it is not set up for, and a callback it did not ask for', async () => {
    const other = await new AppBrowser().get(`/launch?iss=${encodeURIComponent('https://evil.example/fhir')}&launch=x`);
    assert.equal(other.status, 400);
    assert.match(other.html, /not set up for the FHIR server https:\/\/evil\.example\/fhir/);
    const forged = await new AppBrowser().get('/callback?code=abc&state=not-mine');
    assert.equal(forged.status, 400);
    assert.match(forged.html, /not authorized \(invalid_state/);
    const denied = new AppBrowser();
    const started = await denied.get('/launch');
    const state = new URL(started.location!).searchParams.get('state');
    const back = await denied.get(`/callback?error=access_denied&state=${state}`);
    assert.equal(back.status, 400);
    assert.match(back.html, /not authorized \(access_denied\)/);
  });

  it('a FHIR server it is set up for that does not answer: a 502 page that says so, no stack trace', async () => {
    const res = await new AppBrowser().get(`/launch?iss=${encodeURIComponent(DOWN)}&launch=x`);
    assert.equal(res.status, 502);
    assert.match(res.html, /The EHR's server could not be used: .*cannot reach/);
    assert.doesNotMatch(res.html, /\n\s+at /);
  });
});
