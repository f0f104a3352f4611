// SMART App Launch end to end in a real browser: Debian's chromium, driven by playwright-core, against Firekeeper
// listening on a loopback port, with a tiny SMART app (support.ts) on another. The browser follows the real
// redirects, cookies, CSRF tokens and Content-Security-Policy (form-action) of the sign-in, picker and consent pages;
// the app exchanges the code from Node, as a server-side app would, and uses the tokens over HTTP.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { registerClient } from '../../auth/clients/client-store.ts';
import { createUser, type User } from '../../auth/users/user-store.ts';
import { SANDBOX_ADMIN_TOKEN } from '../../config.ts';
import { issueAccessToken } from '../../auth/access-token.ts';
import { KeyRing } from '../../auth/key-ring.ts';
import { EHR_SCOPE, startFirekeeper, startSmartApp, type RunningFirekeeper, type SmartTestApp } from './support.ts';
import { chromiumSkipReason, launchChromium } from '../../test-support/chromium.ts';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const SCREENSHOTS = fileURLToPath(new URL('../../../../../docs/screenshots/', import.meta.url));
const PASSWORD = 'correct horse battery';
const APP_NAME = 'Growth Chart';
const REGISTERED_SCOPES = ['openid', 'fhirUser', 'profile', 'launch', 'launch/patient', 'offline_access', 'patient/*.rs'];
const LAB = 'patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory';

/** A little history for Ada Quill's chart (the EHR screenshot): a problem, a medication, an allergy, vital signs. */
function chartData(patient: string): (Record<string, unknown> & { resourceType: string; id: string })[] {
  const subject = { reference: `Patient/${patient}` };
  const vitals = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] };
  const loinc = (code: string, display: string) => ({ coding: [{ system: 'http://loinc.org', code, display }] });
  const days = ['2026-05-04', '2026-07-13', '2026-09-21', '2026-11-02'];
  return [
    { resourceType: 'Condition', id: 'sl-cond-1', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] }, code: { text: 'Essential hypertension' }, subject, onsetDateTime: '2019-03-02' },
    { resourceType: 'MedicationRequest', id: 'sl-med-1', status: 'active', intent: 'order', medicationCodeableConcept: { text: 'Lisinopril 10 MG Oral Tablet' }, subject, authoredOn: '2026-05-04', dosageInstruction: [{ text: 'once daily' }] },
    { resourceType: 'AllergyIntolerance', id: 'sl-allergy-1', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] }, code: { text: 'Penicillin' }, criticality: 'high', patient: subject },
    ...days.flatMap((day, i) => [
      {
        resourceType: 'Observation', id: `sl-bp-${i}`, status: 'final', category: [vitals], code: loinc('85354-9', 'Blood pressure panel'), subject, effectiveDateTime: day,
        component: [
          { code: loinc('8480-6', 'Systolic blood pressure'), valueQuantity: { value: [148, 141, 136, 129][i], unit: 'mm[Hg]' } },
          { code: loinc('8462-4', 'Diastolic blood pressure'), valueQuantity: { value: [94, 90, 86, 82][i], unit: 'mm[Hg]' } },
        ],
      },
      { resourceType: 'Observation', id: `sl-hr-${i}`, status: 'final', category: [vitals], code: loinc('8867-4', 'Heart rate'), subject, effectiveDateTime: day, valueQuantity: { value: [78, 74, 71, 69][i], unit: '/min' } },
    ]),
  ];
}

describe('SMART App Launch in a real browser (chromium)', { skip: chromiumSkipReason('the real-browser SMART launch tests') }, () => {
  let fk: RunningFirekeeper;
  let app: SmartTestApp;
  let browser: Browser;
  let doc: User;
  const contexts: BrowserContext[] = [];

  before(async () => {
    fk = await startFirekeeper();
    await fk.put(
      { resourceType: 'Patient', id: 'sl-pat-1', name: [{ given: ['Ada'], family: 'Quill' }], gender: 'female', birthDate: '1970-01-02' },
      { resourceType: 'Patient', id: 'sl-pat-2', name: [{ given: ['Ben'], family: 'Rowe' }], gender: 'male', birthDate: '1981-03-04' },
      { resourceType: 'Practitioner', id: 'sl-doc', name: [{ given: ['Cara'], family: 'Doc' }] },
      { resourceType: 'Encounter', id: 'sl-enc-1', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: 'Patient/sl-pat-1' } },
      ...chartData('sl-pat-1'),
    );
    doc = await createUser(fk.db, { username: 'doc', password: PASSWORD, name: 'Cara Doc', role: 'clinician', fhirUser: 'Practitioner/sl-doc' });
    app = await startSmartApp({ fhirBase: fk.fhirBase });
    browser = await launchChromium();
  });

  after(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await app?.close();
    await fk?.close(); // the database is closed after this, by test-support/database.ts
  });

  /** A public client of the app, registered with the app's redirect URI (one per test: see support.ts). */
  async function newClient(): Promise<string> {
    const { client } = await registerClient(fk.db, { name: APP_NAME, type: 'public', redirectUris: [app.redirectUri], scopes: REGISTERED_SCOPES, grantTypes: ['authorization_code', 'refresh_token'] });
    return client.clientId;
  }

  /** A fresh browser profile: no session cookie. */
  async function newPage(): Promise<Page> {
    const context = await browser.newContext();
    contexts.push(context);
    return context.newPage();
  }

  async function signIn(page: Page, o: { screenshot?: string } = {}) {
    await page.getByRole('heading', { name: `Connect ${APP_NAME}` }).waitFor();
    assert.ok(page.url().startsWith(`${fk.base}/auth/interaction/`), page.url());
    if (o.screenshot) await screenshot(page, o.screenshot);
    await signInAs(page, 'doc');
  }

  /** Saves the page as docs/screenshots/<name>.png (shown in the README). */
  async function screenshot(page: Page, name: string, fullPage = true) {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage });
  }

  /** Fills and sends the sign-in form the page shows (Firekeeper's own pages). */
  async function signInAs(page: Page, username: string) {
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  /** Waits until the browser is back on the app's redirect URI and returns that URL. */
  async function backAtApp(page: Page): Promise<URL> {
    await page.waitForURL((u) => u.origin === app.origin && u.pathname === '/callback');
    return new URL(page.url());
  }

  it('standalone launch: sign-in, patient picker, narrowed consent, code + PKCE; tokens read FHIR, refresh rotates, introspect, revoke', async () => {
    // The brief's scope was `openid fhirUser launch/patient patient/*.rs offline_access`; the consent page offers
    // category sub-scopes only for Observation and Condition (consent-options.ts), never for `patient/*.rs`, so the app
    // asks for patient/Patient.rs and patient/Observation.rs instead (both covered by the registered patient/*.rs).
    const clientId = await newClient();
    const page = await newPage();
    await page.goto(app.launchUrl({ client_id: clientId }));
    const launch = [...app.launches.values()].find((l) => l.clientId === clientId)!;
    assert.equal(launch.authorizationEndpoint, `${fk.base}/auth/authorize`, 'found through smart-configuration');
    const sent = new URL(launch.authorizeUrl).searchParams;
    assert.deepEqual(
      Object.fromEntries(['response_type', 'code_challenge_method', 'aud', 'scope'].map((k) => [k, sent.get(k)])),
      { response_type: 'code', code_challenge_method: 'S256', aud: fk.fhirBase, scope: launch.scope },
    );
    await signIn(page, { screenshot: 'login' });

    // Patient picker: search by name, then pick.
    await page.getByRole('heading', { name: 'Choose a patient' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Ada Quill' }).count(), 1, 'all patients are listed before a search');
    await page.getByLabel('Patient name').fill('Rowe');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL((u) => u.searchParams.get('name') === 'Rowe');
    await page.getByRole('button', { name: 'Ben Rowe' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Ada Quill' }).count(), 0, 'the search narrowed the list');
    await page.getByRole('button', { name: 'Ben Rowe' }).click();

    // Consent: every requested scope is offered, ticked; narrow it.
    await page.getByRole('heading', { name: `Allow ${APP_NAME}?` }).waitFor();
    assert.match(await page.locator('main').innerText(), /Ben Rowe/, 'the consent page names the picked patient');
    const box = (value: string) => page.locator(`input[type=checkbox][value="${value}"]`);
    for (const s of launch.scope.split(' ')) assert.equal(await box(s).isChecked(), true, s);
    assert.equal(await box(LAB).isChecked(), false, 'sub-scopes are offered unticked');
    await screenshot(page, 'consent');
    await box('patient/Observation.rs').uncheck();
    await box(LAB).check();
    await page.getByRole('button', { name: 'Allow' }).click();

    const callback = await backAtApp(page);
    assert.equal(callback.searchParams.get('state'), launch.state, 'state is echoed exactly');
    assert.equal(callback.searchParams.get('error'), null);
    assert.ok(callback.searchParams.get('code'));

    // The app exchanges the code with its PKCE verifier.
    const exchanged = await app.exchange(callback.href);
    assert.equal(exchanged.status, 200, JSON.stringify(exchanged.json));
    const tokens = exchanged.json;
    const narrowed = ['openid', 'fhirUser', 'launch/patient', 'patient/Patient.rs', LAB, 'offline_access'];
    assert.deepEqual(tokens.scope.split(' ').sort(), [...narrowed].sort(), 'exactly what was left ticked');
    assert.equal(tokens.patient, 'sl-pat-2');
    assert.equal(tokens.token_type, 'Bearer');
    assert.ok(tokens.refresh_token);
    assert.ok(tokens.id_token);

    const readPatient = (accessToken: string) => fetch(`${fk.fhirBase}/Patient/sl-pat-2`, { headers: { authorization: `Bearer ${accessToken}` } });
    const read = await readPatient(tokens.access_token);
    assert.equal(read.status, 200);
    assert.equal((await read.json()).id, 'sl-pat-2');

    const tokenUrl = launch.tokenEndpoint;
    const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => async (url: string) => {
      const res = await fetch(url, { method: 'POST', headers, body: new URLSearchParams(fields) });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined };
    };
    const refresh = (refreshToken: string) => form({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId })(tokenUrl);
    const introspect = (token: string) => form({ token }, { authorization: `Bearer ${SANDBOX_ADMIN_TOKEN}` })(`${fk.base}/auth/introspect`);

    // Refresh with rotation: a new refresh token, same grant.
    const rotated = await refresh(tokens.refresh_token);
    assert.equal(rotated.status, 200, JSON.stringify(rotated.json));
    assert.ok(rotated.json.refresh_token);
    assert.notEqual(rotated.json.refresh_token, tokens.refresh_token, 'the refresh token rotates');
    assert.deepEqual(rotated.json.scope.split(' ').sort(), [...narrowed].sort());
    assert.equal(rotated.json.patient, 'sl-pat-2');
    assert.equal((await readPatient(rotated.json.access_token)).status, 200);

    // Introspection (the admin credential, as a resource server would use): both new tokens are live.
    assert.equal(SANDBOX_ADMIN_TOKEN, 'firekeeper-sandbox-admin');
    for (const t of [rotated.json.access_token, rotated.json.refresh_token]) {
      const info = await introspect(t);
      assert.equal(info.status, 200);
      assert.equal(info.json.active, true);
      assert.equal(info.json.patient, 'sl-pat-2');
      assert.equal(info.json.client_id, clientId);
      assert.deepEqual(info.json.scope.split(' ').sort(), [...narrowed].sort());
    }

    // RFC 7009 revocation of the refresh token (a public client identifies itself by client_id).
    const revoked = await form({ token: rotated.json.refresh_token, token_type_hint: 'refresh_token', client_id: clientId })(`${fk.base}/auth/revoke`);
    assert.equal(revoked.status, 200);
    const afterRevoke = await refresh(rotated.json.refresh_token);
    assert.equal(afterRevoke.status, 400);
    assert.equal(afterRevoke.json.error, 'invalid_grant');
    assert.deepEqual((await introspect(rotated.json.refresh_token)).json, { active: false });
    assert.deepEqual((await introspect(rotated.json.access_token)).json, { active: false }, 'revoking the grant revokes its access tokens');

    // The refresh token used for the rotation is dead. Checked last on purpose: presenting a used refresh token is
    // reuse detection (RFC 9700 §4.14.2), which revokes the whole grant and would have hidden the revocation above.
    const reused = await refresh(tokens.refresh_token);
    assert.equal(reused.status, 400);
    assert.equal(reused.json.error, 'invalid_grant');
    assert.match(reused.json.error_description, /already used/);
  });

  it('EHR launch: iss + launch id, discovery, sign-in as the launching user, consent; the token response carries the launch context and a verifiable id_token', async () => {
    const { client } = await registerClient(fk.db, { name: APP_NAME, type: 'public', redirectUris: [app.redirectUri], launchUrl: app.launchUrl(), scopes: REGISTERED_SCOPES });
    const clientId = client.clientId;
    app.clientId = clientId; // the app's registration with this EHR: the launch URL is exactly what an EHR opens
    // The EHR launch API, over HTTP: the context stays on the server, the app gets iss and an opaque launch id.
    const launchResponse = await fetch(`${fk.base}/launch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SANDBOX_ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: clientId, user: doc.username, patient: 'sl-pat-1', encounter: 'sl-enc-1', need_patient_banner: false, intent: 'reconcile-medications',
        parameters: { dashboard: 'renal', showSummary: true },
      }),
    });
    const launched = await launchResponse.json() as { launch: string; url: string };
    assert.equal(launchResponse.status, 201, JSON.stringify(launched));
    assert.equal(launched.url, app.launchUrl({ iss: fk.fhirBase, launch: launched.launch }));
    const launchRecord = { id: launched.launch };
    const page = await newPage();
    await page.goto(launched.url);
    const launch = [...app.launches.values()].find((l) => l.launch === launchRecord.id)!;
    assert.equal(launch.iss, fk.fhirBase);
    assert.equal(launch.authorizationEndpoint, `${fk.base}/auth/authorize`);
    assert.equal(new URL(launch.authorizeUrl).searchParams.get('launch'), launchRecord.id);
    assert.equal(launch.scope, EHR_SCOPE);

    await signIn(page);
    await page.getByRole('heading', { name: `Allow ${APP_NAME}?` }).waitFor(); // no picker: the launch names the patient
    assert.match(await page.locator('main').innerText(), /Ada Quill/);
    await page.getByRole('button', { name: 'Allow' }).click();
    const callback = await backAtApp(page);
    assert.equal(callback.searchParams.get('state'), launch.state);

    const { status, json: tokens } = await app.exchange(callback.href);
    assert.equal(status, 200, JSON.stringify(tokens));
    assert.equal(tokens.scope, EHR_SCOPE);
    assert.equal(tokens.patient, 'sl-pat-1');
    assert.equal(tokens.encounter, 'sl-enc-1');
    assert.equal(tokens.need_patient_banner, false);
    assert.equal(tokens.intent, 'reconcile-medications');
    assert.deepEqual([tokens.dashboard, tokens.showSummary], ['renal', true], 'the launch’s custom parameters');
    assert.equal(tokens.refresh_token, undefined, 'offline_access was not asked for');

    const jwks = createRemoteJWKSet(new URL(`${fk.base}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(tokens.id_token, jwks, { issuer: fk.base, audience: clientId });
    assert.equal(payload.nonce, launch.nonce);
    assert.equal(payload.fhirUser, `${fk.fhirBase}/Practitioner/sl-doc`);
    assert.equal(payload.sub, doc.id);

    const read = await fetch(`${fk.fhirBase}/Encounter/sl-enc-1`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(read.status, 200);
  });

  it('EHR chart: a clinician opens a chart and launches an app from its Apps panel; the app runs in a new window on the same session', async () => {
    const name = 'Vitals Viewer'; // its own name: other tests' apps are launchable too
    const { client } = await registerClient(fk.db, { name, type: 'public', redirectUris: [app.redirectUri], launchUrl: app.launchUrl(), scopes: REGISTERED_SCOPES });
    app.clientId = client.clientId;
    const page = await newPage();
    await page.goto(`${fk.base}/ehr`);
    await signInAs(page, 'doc');
    await page.getByRole('link', { name: 'Ada Quill' }).waitFor();
    await screenshot(page, 'ehr-patients');
    await page.getByRole('link', { name: 'Ada Quill' }).click();
    await page.getByRole('region', { name: 'Patient' }).waitFor();
    assert.match(await page.getByRole('region', { name: 'Patient' }).innerText(), /Ada Quill\s+female · \d+ years · born 1970-01-02/);
    await screenshot(page, 'ehr-chart');

    await page.getByLabel('Encounter in context').selectOption('sl-enc-1');
    const [appWindow] = await Promise.all([page.context().waitForEvent('page'), page.getByRole('button', { name: `Launch ${name}` }).click()]);
    // Already signed in to Firekeeper: straight to consent, no second sign-in.
    await appWindow.getByRole('heading', { name: `Allow ${name}?` }).waitFor();
    await appWindow.getByRole('button', { name: 'Allow' }).click();
    const callback = await backAtApp(appWindow);
    const launch = [...app.launches.values()].find((l) => l.clientId === client.clientId && l.launch)!;
    assert.equal(launch.iss, fk.fhirBase);
    assert.equal(callback.searchParams.get('state'), launch.state);
    const { status, json: tokens } = await app.exchange(callback.href);
    assert.equal(status, 200, JSON.stringify(tokens));
    assert.equal(tokens.patient, 'sl-pat-1');
    assert.equal(tokens.encounter, 'sl-enc-1');
    assert.equal(tokens.need_patient_banner, true, 'a new window has no EHR banner around it');
    assert.equal(tokens.smart_style_url, `${fk.base}/ehr/smart-style.json`);
    const style = await fetch(tokens.smart_style_url);
    assert.equal(style.status, 200);
  });

  it('EHR chart, embedded app: the app runs in the chart’s sandboxed iframe under the EHR banner, consent included', async () => {
    const name = 'Chart Companion';
    const { client } = await registerClient(fk.db, { name, type: 'public', redirectUris: [app.redirectUri], launchUrl: app.launchUrl(), launchMode: 'embedded', scopes: REGISTERED_SCOPES });
    app.clientId = client.clientId;
    const page = await newPage();
    await page.goto(`${fk.base}/ehr`);
    await signInAs(page, 'doc');
    await page.getByRole('link', { name: 'Ada Quill' }).click();
    await page.getByRole('button', { name: `Launch ${name}` }).click();
    const frame = page.frameLocator(`iframe[title="${name}"]`);
    await frame.getByRole('heading', { name: `Allow ${name}?` }).waitFor();
    assert.match(await page.getByRole('region', { name: 'Patient' }).innerText(), /Ada Quill/, 'under the EHR’s banner');
    await screenshot(page, 'ehr-embedded');
    const callback = page.waitForEvent('framenavigated', { predicate: (f) => f.url().startsWith(`${app.origin}/callback`) });
    await frame.getByRole('button', { name: 'Allow' }).click();
    const { status, json: tokens } = await app.exchange((await callback).url());
    assert.equal(status, 200, JSON.stringify(tokens));
    assert.equal(tokens.patient, 'sl-pat-1');
    assert.equal(tokens.need_patient_banner, false, 'the EHR shows the banner');
  });

  it('patient portal: a preference hides a condition from one app only; disconnecting an app makes its next refresh fail', async () => {
    const pat = await createUser(fk.db, { username: 'pat', password: PASSWORD, name: 'Ada Quill', role: 'patient', fhirUser: 'Patient/sl-pat-1', accessPolicy: { kind: 'own-compartment' } });
    const appX = await newClient();
    const { client: appY } = await registerClient(fk.db, { name: 'Symptom Diary', type: 'public', redirectUris: ['https://diary.example/cb'], scopes: ['patient/*.rs'] });
    // The patient connects app X herself (standalone launch): she will be able to see it, and cut it off, in the portal.
    const page = await newPage();
    await page.goto(app.launchUrl({ client_id: appX }));
    await signInAs(page, 'pat');
    await page.getByRole('button', { name: 'Allow' }).click();
    const { json: tokens } = await app.exchange((await backAtApp(page)).href);
    assert.ok(tokens.refresh_token, JSON.stringify(tokens));

    await page.goto(`${fk.base}/portal`); // the same session: no second sign-in
    await page.getByRole('heading', { name: 'Apps you have connected' }).waitFor();
    assert.equal(await page.getByRole('button', { name: `Disconnect ${APP_NAME}` }).count(), 1);
    await page.getByLabel('Do not share').selectOption('Condition');
    await page.getByLabel('With').selectOption(appX);
    await page.getByRole('button', { name: 'Add preference' }).click();
    await page.getByText(`Do not share my conditions with ${APP_NAME}`).waitFor();
    await screenshot(page, 'portal');
    // On a phone-sized screen the portal fits the width (wide tables scroll inside themselves).
    await page.setViewportSize({ width: 390, height: 844 });
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true, 'no sideways scrolling');
    await screenshot(page, 'portal-phone', false);
    await page.setViewportSize({ width: 1280, height: 720 });

    // What each app now sees of her conditions, with real tokens from this server's keys.
    const conditions = async (clientId: string) => {
      const { token } = await issueAccessToken(new KeyRing(fk.db), { issuer: fk.base, audience: fk.fhirBase, clientId, subject: pat.id, scope: 'patient/Condition.rs', lifetimeSeconds: 60, context: { patient: 'sl-pat-1' } });
      const res = await fetch(`${fk.fhirBase}/Condition?patient=sl-pat-1`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200);
      return ((await res.json()) as { total?: number; entry?: unknown[] }).entry?.length ?? 0;
    };
    assert.equal(await conditions(appX), 0, 'hidden from app X');
    assert.equal(await conditions(appY.clientId), 1, 'still shared with app Y');

    await page.getByRole('button', { name: `Disconnect ${APP_NAME}` }).click();
    await page.getByRole('heading', { name: 'Apps you have connected' }).waitFor();
    assert.equal(await page.getByRole('button', { name: `Disconnect ${APP_NAME}` }).count(), 0);
    const refreshed = await fetch(`${fk.base}/auth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: appX }) });
    assert.equal(refreshed.status, 400);
    assert.equal(((await refreshed.json()) as { error: string }).error, 'invalid_grant');
  });

  it('admin console: an administrator approves an app from dynamic registration and registers another through the form', async () => {
    await createUser(fk.db, { username: 'root', password: PASSWORD, name: 'Ari Admin', role: 'admin' });
    const registered = await fetch(`${fk.base}/auth/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Pending Planner', token_endpoint_auth_method: 'none', redirect_uris: ['https://planner.example/cb'], scope: 'launch patient/*.rs' }),
    });
    assert.equal(registered.status, 201);
    const { client_id: pendingId } = (await registered.json()) as { client_id: string };

    const page = await newPage();
    await page.goto(`${fk.base}/admin`);
    await signInAs(page, 'root');
    await page.getByRole('heading', { name: 'Waiting for approval' }).waitFor();
    await screenshot(page, 'admin-apps');
    await page.getByRole('button', { name: 'Approve Pending Planner' }).click();
    await page.getByRole('heading', { name: 'Waiting for approval' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Approve Pending Planner' }).count(), 0);
    assert.equal((await (await fetch(`${fk.base}/admin/api/clients/${pendingId}`, { headers: { authorization: `Bearer ${SANDBOX_ADMIN_TOKEN}` } })).json() as { status: string }).status, 'active');

    await page.getByRole('link', { name: 'Register an app' }).click();
    await page.getByLabel('Name').fill('Dose Calculator');
    await page.getByLabel('Type').selectOption('confidential-symmetric');
    await page.getByLabel('Redirect URIs').fill('https://dose.example/cb');
    await page.getByLabel('Launch URL').fill('https://dose.example/launch');
    await page.getByLabel('Allowed scopes').fill('launch openid fhirUser patient/MedicationRequest.rs');
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByText('Copy the client secret now').waitFor();
    const secret = await page.locator('pre code').innerText();
    assert.match(secret, /^\S{20,}$/);
    const clientId = (await page.locator('main p code').first().innerText()).trim();
    const stored = await (await fetch(`${fk.base}/admin/api/clients/${clientId}`, { headers: { authorization: `Bearer ${SANDBOX_ADMIN_TOKEN}` } })).json() as { name: string; status: string; hasSecret: boolean };
    assert.deepEqual([stored.name, stored.status, stored.hasSecret], ['Dose Calculator', 'active', true]);

    await page.goto(`${fk.base}/admin/audit?patient=sl-pat-1`);
    await page.getByRole('columnheader', { name: 'Event' }).waitFor();
    await screenshot(page, 'admin-audit');
    await page.goto(`${fk.base}/admin/users`);
    await page.getByRole('link', { name: 'root' }).waitFor();
    await screenshot(page, 'admin-users');
  });

  it('home page and token inspector: a browser gets the front door; a token of this server is checked and explained', async () => {
    const page = await newPage();
    await page.goto(fk.base);
    await page.getByRole('heading', { name: 'Start here' }).waitFor();
    await screenshot(page, 'home');
    await page.getByRole('link', { name: 'token inspector' }).click();
    const { token } = await issueAccessToken(new KeyRing(fk.db), { issuer: fk.base, audience: fk.fhirBase, clientId: 'growth-chart', subject: doc.id, scope: 'launch patient/Observation.rs', lifetimeSeconds: 300, context: { patient: 'sl-pat-1', need_patient_banner: true } });
    await page.getByLabel('Token').fill(token);
    await page.getByRole('button', { name: 'Inspect' }).click();
    await page.getByRole('heading', { name: 'Valid' }).waitFor();
    assert.match(await page.locator('main').innerText(), /patient\/Observation\.rs: /);
    await screenshot(page, 'token-inspector');
  });

  it('accessibility: every main page passes axe-core’s WCAG 2 A and AA rules with no serious or critical violation', async () => {
    await createUser(fk.db, { username: 'a11y-admin', password: PASSWORD, name: 'Ally Admin', role: 'admin' });
    await createUser(fk.db, { username: 'a11y-patient', password: PASSWORD, name: 'Ada Quill', role: 'patient', fhirUser: 'Patient/sl-pat-1', accessPolicy: { kind: 'own-compartment' } });
    const pages: [string | undefined, string[]][] = [
      [undefined, ['/', '/ehr', '/portal', '/admin', '/inspect']],
      ['doc', ['/ehr', '/ehr/patients/sl-pat-1']],
      ['a11y-patient', ['/portal']],
      ['a11y-admin', ['/admin', '/admin/apps/new', '/admin/users', '/admin/users/new', '/admin/audit?patient=sl-pat-1']],
    ];
    const failures: string[] = [];
    for (const [username, paths] of pages) {
      // axe is injected as a script: the pages' CSP allows none, so this test's browser context bypasses it.
      const context = await browser.newContext({ bypassCSP: true });
      contexts.push(context);
      const page = await context.newPage();
      if (username) {
        await page.goto(`${fk.base}${paths[0]!.startsWith('/admin') ? '/admin' : paths[0]!.startsWith('/portal') ? '/portal' : '/ehr'}`);
        await signInAs(page, username);
      }
      for (const path of paths) {
        await page.goto(`${fk.base}${path}`);
        await page.addScriptTag({ path: AXE });
        const violations = await page.evaluate(async () => {
          const result = await (window as unknown as { axe: { run: (ctx: Document, o: unknown) => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } })
            .axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } });
          return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
        });
        failures.push(...violations.map((v) => `${username ?? 'anonymous'} ${path}: ${v}`));
      }
    }
    assert.deepEqual(failures, []);
  });

  it('deny: the browser lands on the redirect URI with error=access_denied and the exact state, and no code', async () => {
    const clientId = await newClient();
    const page = await newPage();
    await page.goto(app.launchUrl({ client_id: clientId }));
    const launch = [...app.launches.values()].find((l) => l.clientId === clientId)!;
    await signIn(page);
    await page.getByRole('heading', { name: 'Choose a patient' }).waitFor();
    await page.getByRole('button', { name: 'Ada Quill' }).click();
    await page.getByRole('heading', { name: `Allow ${APP_NAME}?` }).waitFor();
    await page.getByRole('button', { name: 'Deny' }).click();
    const callback = await backAtApp(page);
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    assert.equal(callback.searchParams.get('state'), launch.state);
    assert.equal(callback.searchParams.get('code'), null);
  });
});
