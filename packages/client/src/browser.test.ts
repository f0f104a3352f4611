// The SDK in a real browser (Debian's chromium, driven by playwright-core): the same code as in Node, bundled for
// the browser with esbuild, in a page served from its own origin. A standalone launch in a popup
// (authorizeInWindow + notifyOpener), the session kept in sessionStorage, and a FHIR read across origins (CORS);
// then the user closing the popup instead of signing in.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type Browser, type Page } from 'playwright-core';
import { listeningApp, freePort, type ListeningApp } from '../../server/src/test-support/listening-app.ts';
import { onTestFileEnd } from '../../server/src/test-support/database.ts';
import { registerClient } from '../../server/src/auth/clients/client-store.ts';
import { createUser } from '../../server/src/auth/users/user-store.ts';
import { chromiumSkipReason, launchChromium } from '../../server/src/test-support/chromium.ts';

const PASSWORD = 'sdk-browser-password';
const SCOPE = 'openid fhirUser launch/patient patient/Patient.rs';

/** The app's two pages: a button that authorizes in a window and reads the patient; the redirect URI's page. */
function appPage(config: object): string {
  return `<!doctype html><html><body><button id="popup">Connect</button><pre id="out"></pre>
<script type="application/json" id="config">${JSON.stringify(config)}</script>
<script type="module">
import { authorizeInWindow, FhirClient, WebStorage } from '/sdk.js';
const out = document.getElementById('out');
document.getElementById('popup').onclick = async () => {
  try {
    const session = await authorizeInWindow({ ...JSON.parse(document.getElementById('config').textContent), storage: new WebStorage(sessionStorage) });
    const patient = await new FhirClient(session.fhirBase, session).read('Patient', session.context.patient);
    out.textContent = JSON.stringify({ patient: patient.id, family: patient.name[0].family, fhirUser: session.fhirUser, scope: session.tokens.scope, stored: Object.keys(sessionStorage) });
  } catch (err) {
    out.textContent = 'error ' + (err.error ?? err.name + ': ' + err.message);
  }
};
</script></body></html>`;
}
const CALLBACK_PAGE = `<!doctype html><html><body><script type="module">
import { notifyOpener } from '/sdk.js';
if (!notifyOpener()) document.body.textContent = 'opened without an opener';
</script></body></html>`;

describe('the SDK in a real browser (chromium)', { skip: chromiumSkipReason('the SDK browser tests') }, () => {
  let fk: ListeningApp;
  let browser: Browser;
  let appOrigin = '';

  before(async () => {
    fk = await listeningApp();
    const patient = { resourceType: 'Patient', id: 'sdk-web-pat', name: [{ family: 'Okonkwo', given: ['Ada'] }] };
    const put = await fetch(`${fk.fhirBase}/Patient/${patient.id}`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${fk.seedToken}` }, body: JSON.stringify(patient) });
    assert.ok(put.ok);
    await createUser(fk.db, { username: 'ada', password: PASSWORD, name: 'Ada Okonkwo', role: 'patient', fhirUser: `Patient/${patient.id}`, accessPolicy: { kind: 'own-compartment' } });
    const port = await freePort();
    appOrigin = `http://127.0.0.1:${port}`;
    const { client } = await registerClient(fk.db, {
      name: 'Browser app', type: 'public', redirectUris: [`${appOrigin}/callback.html`], corsOrigins: [appOrigin], scopes: SCOPE.split(' '), grantTypes: ['authorization_code'],
    });
    const sdk = (await build({ entryPoints: [fileURLToPath(new URL('./index.ts', import.meta.url))], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false })).outputFiles[0]!.text;
    const pages: Record<string, [string, string]> = {
      '/sdk.js': ['text/javascript', sdk],
      '/app.html': ['text/html', appPage({ iss: fk.fhirBase, clientId: client.clientId, redirectUri: `${appOrigin}/callback.html`, scope: SCOPE })],
      '/callback.html': ['text/html', CALLBACK_PAGE],
    };
    const server = createServer((req, res) => {
      const page = pages[new URL(req.url ?? '/', appOrigin).pathname];
      if (!page) return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': `${page[0]}; charset=utf-8` }).end(page[1]);
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    onTestFileEnd(() => new Promise((resolve) => server.close(resolve)));
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
  });

  async function openApp(): Promise<{ page: Page; popup: Page }> {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${appOrigin}/app.html`);
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.getByRole('button', { name: 'Connect' }).click()]);
    await popup.getByLabel('Username').waitFor();
    return { page, popup };
  }

  it('a standalone launch in a popup: sign-in and consent there, the session back in the page, a FHIR read across origins', async () => {
    const { page, popup } = await openApp();
    await popup.getByLabel('Username').fill('ada');
    await popup.getByLabel('Password').fill(PASSWORD);
    await popup.getByRole('button', { name: 'Sign in' }).click();
    // The redirect page closes the popup as soon as it has posted the response: wait for that before it can happen.
    const closed = popup.waitForEvent('close');
    await popup.getByRole('button', { name: 'Allow' }).click();
    await closed;
    await page.locator('#out').filter({ hasText: /\S/ }).waitFor();
    const text = await page.locator('#out').innerText();
    assert.ok(text.startsWith('{'), text);
    const result = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(result, {
      patient: 'sdk-web-pat', family: 'Okonkwo', fhirUser: `${fk.fhirBase}/Patient/sdk-web-pat`, scope: SCOPE, stored: ['smart:session:default'],
    });
  });

  it('the user closes the popup: the page gets window_closed, and no session', async () => {
    const { page, popup } = await openApp();
    await popup.close();
    await page.locator('#out').filter({ hasText: /\S/ }).waitFor();
    assert.equal(await page.locator('#out').innerText(), 'error window_closed');
  });
});
