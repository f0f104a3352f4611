// Interoperability with the official SMART JavaScript client (npm `fhirclient`, SMART Health IT), through its Node
// API, inside a tiny node:http app on loopback, against a real Firekeeper on loopback. The browser part is driven
// without a browser: redirects followed by hand, cookies kept, Firekeeper's sign-in and consent forms submitted.
// Standalone launch, EHR launch, a confidential app, refresh with rotation, and fhirclient's session revival.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import smart from 'fhirclient';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { createUser } from '../../auth/users/user-store.ts';
import { registerClient } from '../../auth/clients/client-store.ts';
import { createLaunch } from '../../auth/launch-store.ts';
import { onTestFileEnd } from '../../test-support/database.ts';
import { HttpBrowser, PASSWORD, scopeCheckboxes, signIn, startFirekeeper, type Page, type RunningFirekeeper } from './interop-support.ts';

type SmartApi = ReturnType<typeof smart>;
type FhirClient = Awaited<ReturnType<SmartApi['ready']>>;
type Storage = Exclude<Parameters<typeof smart>[2], undefined | ((...args: never[]) => unknown)>;
type AuthorizeParams = Parameters<SmartApi['authorize']>[0];

const STANDALONE_SCOPE = 'openid fhirUser launch/patient patient/*.rs offline_access';
const EHR_SCOPE = 'launch openid fhirUser patient/*.rs offline_access';

let fk: RunningFirekeeper;
let appOrigin: string;
let callback: string;
let publicApp: string;
let secretApp: { id: string; secret: string };
let doctorId: string;

// ---- The app: what a SMART app developer writes with fhirclient's Node API ------------------------------------

/** Server-side sessions for the app, keyed by its own cookie; fhirclient keeps its state in them. */
const sessions = new Map<string, Record<string, unknown>>();
/** Clients that completed `ready()`, by fhirclient's state key, for the tests to drive further. */
const readyClients = new Map<string, FhirClient>();

function sessionStorage(req: IncomingMessage, res: ServerResponse): Storage {
  let sid = /(?:^|;\s*)app_sid=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
  if (!sid || !sessions.has(sid)) {
    sid = randomBytes(16).toString('hex');
    sessions.set(sid, {});
    res.setHeader('set-cookie', `app_sid=${sid}; Path=/; HttpOnly; SameSite=Lax`);
  }
  const session = sessions.get(sid)!;
  return {
    get: async (key: string) => session[key],
    set: async (key: string, value: unknown) => (session[key] = value),
    unset: async (key: string) => (Object.hasOwn(session, key) ? delete session[key] : false),
  };
}

/** The authorize() options of each launch route. */
function launchOptions(path: string): AuthorizeParams | undefined {
  const redirectUri = '/callback';
  switch (path) {
    case '/standalone': // Standalone launch: the app knows its FHIR server.
      return { iss: fk.fhirBase, clientId: publicApp, scope: STANDALONE_SCOPE, redirectUri, pkceMode: 'required' };
    case '/launch': // EHR launch: `iss` and `launch` arrive as query parameters.
      return { clientId: publicApp, scope: EHR_SCOPE, redirectUri, pkceMode: 'required' };
    case '/standalone-confidential':
      return { iss: fk.fhirBase, clientId: secretApp.id, clientSecret: secretApp.secret, scope: STANDALONE_SCOPE, redirectUri, pkceMode: 'required' };
    default:
      return undefined;
  }
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { pathname } = new URL(req.url ?? '/', 'http://app');
  const api = smart(req, res, sessionStorage(req, res));
  const options = launchOptions(pathname);
  if (options) return void (await api.authorize(options)); // redirects to Firekeeper
  if (pathname === '/callback' || pathname === '/app') {
    // `/callback` completes the code flow; `/app` is a later page load that revives the client from the session.
    const client = await api.ready();
    readyClients.set(client.state.key!, client);
    const patient = await client.patient.read();
    res.writeHead(200, { 'content-type': 'application/json' });
    return void res.end(JSON.stringify({ key: client.state.key, patient: patient.id, name: patient.name, fhirUser: client.getFhirUser() }));
  }
  res.writeHead(404).end();
}

// ---- The tests --------------------------------------------------------------------------------------------

before(async () => {
  fk = await startFirekeeper();
  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`app error: ${err.stack ?? err.message}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFileEnd(() => new Promise((resolve) => server.close(resolve)));
  appOrigin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  callback = `${appOrigin}/callback`;

  for (const r of [
    { resourceType: 'Patient', id: 'fc-pat-1', name: [{ given: ['Ada'], family: 'Quill' }], gender: 'female', birthDate: '1970-01-02' },
    { resourceType: 'Patient', id: 'fc-pat-2', name: [{ given: ['Ben'], family: 'Rowe' }], gender: 'male' },
    { resourceType: 'Practitioner', id: 'fc-doc', name: [{ given: ['Cara'], family: 'Doc' }] },
  ]) assert.ok([200, 201].includes((await fk.fhir('PUT', `${r.resourceType}/${r.id}`, r)).status));
  await createUser(fk.db, { username: 'ada', password: PASSWORD, name: 'Ada Quill', role: 'patient', fhirUser: 'Patient/fc-pat-1' });
  doctorId = (await createUser(fk.db, { username: 'doc', password: PASSWORD, name: 'Cara Doc', email: 'cara@example.org', role: 'clinician', fhirUser: 'Practitioner/fc-doc' })).id;
  const scopes = ['openid', 'fhirUser', 'launch', 'launch/patient', 'offline_access', 'patient/*.rs'];
  const grantTypes: ('authorization_code' | 'refresh_token')[] = ['authorization_code', 'refresh_token'];
  publicApp = (await registerClient(fk.db, { name: 'fhirclient public app', type: 'public', redirectUris: [callback], scopes, grantTypes })).client.clientId;
  const s = await registerClient(fk.db, { name: 'fhirclient confidential app', type: 'confidential-symmetric', redirectUris: [callback], scopes, grantTypes });
  secretApp = { id: s.client.clientId, secret: s.secret! };
});

/** Allows everything the consent page offers ticked (as a user who just clicks "Allow"). */
async function allow(browser: HttpBrowser, consent: Page): Promise<Page> {
  assert.match(consent.html, /<input type="hidden" name="step" value="consent">/, `expected the consent page, got ${consent.status} ${consent.url}\n${consent.html.slice(0, 1500)}`);
  return browser.submit(consent, { decision: 'allow', scope: scopeCheckboxes(consent.html).filter((c) => c.checked).map((c) => c.value) });
}

/** What the app's callback page answers: fhirclient's state key, the patient it read, and the user. */
interface AppAnswer { key: string; patient: string; name: { given?: string[]; family?: string }[]; fhirUser: string }

/** The app's answer at the end of the flow, and the fhirclient Client that produced it. */
function landed(page: Page): { body: AppAnswer; client: FhirClient } {
  assert.ok(page.url.startsWith(`${callback}?`) || page.url.startsWith(`${appOrigin}/app`), `expected the app's callback, got ${page.url}`);
  assert.equal(page.status, 200, page.html);
  const body = JSON.parse(page.html) as AppAnswer;
  return { body, client: readyClients.get(body.key)! };
}

/** The authorization request fhirclient sent to Firekeeper. */
function authorizeRequest(browser: HttpBrowser): URLSearchParams {
  const url = browser.visited.find((u) => u.startsWith(`${fk.base}/auth/authorize?`));
  assert.ok(url, `fhirclient did not redirect to the authorization endpoint: ${browser.visited.join('\n')}`);
  return new URL(url).searchParams;
}

async function verifyIdToken(idToken: string, clientId: string) {
  const { payload } = await jwtVerify(idToken, createRemoteJWKSet(new URL(`${fk.base}/.well-known/jwks.json`)), { issuer: fk.base, audience: clientId });
  return payload;
}

/** Signs in; allows on the consent page unless the user already approved this app (Firekeeper remembers it). */
async function signInAndAllow(browser: HttpBrowser, login: Page, username: string): Promise<Page> {
  const next = await signIn(browser, login, username);
  return next.url.startsWith(`${callback}?`) ? next : allow(browser, next);
}

describe('fhirclient (SMART JavaScript client, Node API) against Firekeeper', () => {
  it('standalone launch: discovery, PKCE, sign-in as a patient, consent, ready(), patient and user reads, id_token', async () => {
    const browser = new HttpBrowser();
    const login = await browser.go(`${appOrigin}/standalone`);
    const a = authorizeRequest(browser);
    assert.deepEqual(
      [a.get('response_type'), a.get('client_id'), a.get('scope'), a.get('redirect_uri'), a.get('aud'), a.get('code_challenge_method'), a.get('launch')],
      ['code', publicApp, STANDALONE_SCOPE, callback, fk.fhirBase, 'S256', null],
    );
    const consent = await signIn(browser, login, 'ada'); // a patient user: their own record, no picker
    assert.match(consent.html, /Ada Quill/);
    const { body, client } = landed(await allow(browser, consent));

    assert.equal(body.patient, 'fc-pat-1', 'the app read the patient in context');
    assert.equal(client.patient.id, 'fc-pat-1');
    assert.equal(client.state.serverUrl, fk.fhirBase);
    assert.equal(client.state.tokenUri, `${fk.base}/auth/token`);
    assert.deepEqual((client.state as { codeChallengeMethods?: string[] }).codeChallengeMethods, ['S256'], 'endpoints came from .well-known/smart-configuration');
    const tokens = client.state.tokenResponse!;
    assert.equal(tokens.token_type, 'Bearer');
    assert.equal(tokens.scope, STANDALONE_SCOPE);
    assert.equal(tokens.need_patient_banner, true);
    assert.ok(tokens.refresh_token);
    assert.ok(typeof client.state.expiresAt === 'number' && client.state.expiresAt > Date.now() / 1000, 'fhirclient understood expires_in');

    // fhirclient decodes the id_token (it does not verify it); verify it here as well.
    assert.ok(tokens.id_token);
    const idToken = client.getIdToken()!;
    assert.equal(idToken.fhirUser, `${fk.fhirBase}/Patient/fc-pat-1`);
    assert.deepEqual(await verifyIdToken(tokens.id_token, publicApp), idToken);
    assert.equal(client.getFhirUser(), 'Patient/fc-pat-1');
    assert.equal(client.user.fhirUser, 'Patient/fc-pat-1');
    assert.equal(client.getUserType(), 'Patient');
    assert.equal(client.getUserId(), 'fc-pat-1');
    assert.equal(body.fhirUser, 'Patient/fc-pat-1');
    assert.equal((await client.user.read()).id, 'fc-pat-1');
    assert.equal((await client.patient.read()).gender, 'female');

    // A later page load of the app revives the client from its server-side session (no code in the URL).
    const revived = landed(await browser.go(`${appOrigin}/app`));
    assert.equal(revived.body.key, body.key);
    assert.equal(revived.client.state.tokenResponse!.access_token, tokens.access_token);
  });

  it('refresh(): rotation; the new access token reads FHIR; the old refresh token is refused', async () => {
    const browser = new HttpBrowser();
    const { client } = landed(await signInAndAllow(browser, await browser.go(`${appOrigin}/standalone`), 'ada'));
    const first = { ...client.state.tokenResponse! };
    const state = await client.refresh();
    const second = state.tokenResponse!;
    assert.ok(second.access_token && second.access_token !== first.access_token);
    assert.ok(second.refresh_token && second.refresh_token !== first.refresh_token, 'the refresh token rotated');
    assert.equal(second.scope, STANDALONE_SCOPE);
    assert.equal(second.patient, 'fc-pat-1');
    assert.equal((await client.patient.read()).id, 'fc-pat-1', 'the refreshed access token reads FHIR');
    assert.equal((await verifyIdToken(second.id_token!, publicApp)).fhirUser, `${fk.fhirBase}/Patient/fc-pat-1`, 'a new id_token came with the refresh');
    assert.equal(client.getFhirUser(), 'Patient/fc-pat-1');

    const reuse = await fetch(client.state.tokenUri!, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: first.refresh_token!, client_id: publicApp }),
    });
    assert.equal(reuse.status, 400);
    assert.equal((await reuse.json()).error, 'invalid_grant');
  });

  it('refresh() with fhirclient defaults: a public client sends no client_id, as RFC 6749 §6 allows', async () => {
    const browser = new HttpBrowser();
    const { client } = landed(await signInAndAllow(browser, await browser.go(`${appOrigin}/standalone`), 'ada'));
    const state = await client.refresh();
    assert.ok(state.tokenResponse!.access_token);
  });

  it('a patient-context token reads only its patient: another patient answers 404, as if it did not exist', async () => {
    const browser = new HttpBrowser();
    const { client } = landed(await signInAndAllow(browser, await browser.go(`${appOrigin}/standalone`), 'ada'));
    assert.equal((await client.request<{ id: string }>(`Patient/${client.patient.id!}`)).id, client.patient.id);
    await assert.rejects(client.request('Patient/fc-pat-2'), /404/);
  });

  it('EHR launch: launch URL with iss and launch → discovery, authorize with launch, sign-in, consent → the launch patient', async () => {
    const launch = await createLaunch(fk.db, { clientId: publicApp, userId: doctorId, context: { patient: 'fc-pat-2', need_patient_banner: false } });
    const browser = new HttpBrowser();
    const login = await browser.go(`${appOrigin}/launch?${new URLSearchParams({ iss: fk.fhirBase, launch: launch.id })}`);
    const a = authorizeRequest(browser);
    assert.equal(a.get('launch'), launch.id);
    assert.equal(a.get('aud'), fk.fhirBase);
    assert.equal(a.get('scope'), EHR_SCOPE);
    assert.equal(a.get('code_challenge_method'), 'S256');
    const { body, client } = landed(await allow(browser, await signIn(browser, login, 'doc')));

    assert.equal(client.patient.id, 'fc-pat-2');
    assert.equal(body.patient, 'fc-pat-2');
    assert.equal(body.name[0].family, 'Rowe');
    assert.equal(client.state.tokenResponse!.need_patient_banner, false);
    assert.equal(client.getFhirUser(), 'Practitioner/fc-doc');
    assert.equal((await client.user.read()).resourceType, 'Practitioner');
    assert.equal(client.state.tokenResponse!.scope, EHR_SCOPE);
  });

  it('a confidential-symmetric app (clientSecret): fhirclient authenticates with HTTP Basic at the token endpoint and on refresh', async () => {
    const browser = new HttpBrowser();
    const login = await browser.go(`${appOrigin}/standalone-confidential`);
    const { client } = landed(await signInAndAllow(browser, login, 'ada'));
    assert.equal(client.patient.id, 'fc-pat-1');
    const before = client.state.tokenResponse!.refresh_token;
    const state = await client.refresh(); // Basic credentials, no option needed
    assert.notEqual(state.tokenResponse!.refresh_token, before);
    assert.equal((await client.patient.read()).id, 'fc-pat-1');
  });

  it('an error from the authorization server reaches ready() as an error', async () => {
    const browser = new HttpBrowser();
    const consent = await signIn(browser, await browser.go(`${appOrigin}/standalone`), 'doc'); // a clinician gets the patient picker
    assert.match(consent.html, /Choose a patient/);
    const picked = await browser.submit(consent, { patient: 'fc-pat-1' });
    const denied = await browser.submit(picked, { decision: 'deny' });
    assert.equal(denied.status, 500);
    assert.match(denied.html, /app error: Error: access_denied/);
  });
});
