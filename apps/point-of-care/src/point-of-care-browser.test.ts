// The point-of-care app in a real browser (Debian's chromium, driven by playwright-core): registered the way
// `npm start` registers it (apps/sandbox), launched by a clinician from a chart's Apps panel in the simulated EHR,
// and opened by a patient from the portal with a narrowed consent. Screenshot: docs/screenshots/point-of-care.png.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page } from 'playwright-core';
import { listeningApp, freePort, type ListeningApp } from '../../../packages/server/src/test-support/listening-app.ts';
import { onTestFileEnd } from '../../../packages/server/src/test-support/database.ts';
import { createUser } from '../../../packages/server/src/auth/users/user-store.ts';
import { SANDBOX_ADMIN_TOKEN } from '../../../packages/server/src/config.ts';
import { POINT_OF_CARE, registerPointOfCare } from '../../sandbox/src/sample-apps.ts';
import { pointOfCareHandler } from './app-server.ts';
import { seedRecord } from './test-record.ts';
import { chromiumSkipReason, launchChromium } from '../../../packages/server/src/test-support/chromium.ts';

const SCREENSHOTS = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));
const PASSWORD = 'poc-browser-password';

describe('point-of-care app in a real browser (chromium)', { skip: chromiumSkipReason('the point-of-care browser tests') }, () => {
  let fk: ListeningApp;
  let poc = '';
  let browser: Browser;

  before(async () => {
    fk = await listeningApp();
    await seedRecord(fk.fhirBase, fk.seedToken);
    await createUser(fk.db, { username: 'doc', password: PASSWORD, name: 'Pat Care', role: 'clinician', fhirUser: 'Practitioner/poc-doc' });
    await createUser(fk.db, { username: 'ines', password: PASSWORD, name: 'Ines Moreno', role: 'patient', fhirUser: 'Patient/poc-pat', accessPolicy: { kind: 'own-compartment' } });
    const port = await freePort();
    poc = `http://127.0.0.1:${port}`;
    const registration = await registerPointOfCare({ baseUrl: fk.base, adminToken: SANDBOX_ADMIN_TOKEN }, poc);
    const server = createServer(pointOfCareHandler({ publicUrl: poc, fhirServers: [fk.fhirBase], ...registration }));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    onTestFileEnd(() => new Promise((resolve) => server.close(resolve)));
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
  });

  async function signIn(page: Page, username: string) {
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('a clinician launches it from the chart’s Apps panel: consent, then the chart with its banner, vital signs, medications and alerts', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${fk.base}/ehr`);
    await signIn(page, 'doc');
    await page.getByRole('link', { name: 'Ines Moreno' }).click();
    const [appWindow] = await Promise.all([page.context().waitForEvent('page'), page.getByRole('button', { name: `Launch ${POINT_OF_CARE}` }).click()]);
    await appWindow.getByRole('heading', { name: `Allow ${POINT_OF_CARE}?` }).waitFor();
    await appWindow.getByRole('button', { name: 'Allow' }).click();
    await appWindow.waitForURL(`${poc}/`);
    await appWindow.getByRole('heading', { name: 'Point of care' }).waitFor();
    const text = await appWindow.locator('main').innerText();
    assert.match(text, /Ines Moreno · female · born 1958-04-02 · MRN MRN-4471/, 'a new window has no EHR banner around it: the app shows one');
    assert.match(text, /High: amoxicillin 250 MG Oral Capsule is a penicillin/);
    assert.match(text, /Moderate: ibuprofen 600 MG Oral Tablet with hypertension/);
    assert.equal(await appWindow.getByRole('img', { name: 'Blood pressure' }).count(), 1);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await appWindow.screenshot({ path: `${SCREENSHOTS}point-of-care.png`, fullPage: true });
  });

  it('a patient opens it from the portal and narrows the consent: the app shows what it may, and says what it may not', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${fk.base}/portal`);
    await signIn(page, 'ines');
    await page.getByRole('link', { name: POINT_OF_CARE }).click();
    await page.getByRole('heading', { name: `Allow ${POINT_OF_CARE}?` }).waitFor();
    await page.locator('input[type=checkbox][value="patient/MedicationRequest.rs"]').uncheck();
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${poc}/`);
    const text = await page.locator('main').innerText();
    assert.match(text, /Not shown: active medications, because you did not allow this app to read them\./);
    assert.match(text, /penicillin V \(allergy, criticality high\)/, 'what was allowed is shown');
    assert.doesNotMatch(text, /amoxicillin/);
  });
});
