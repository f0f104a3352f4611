// Issue 4 end to end, over real HTTP with real tokens from Firekeeper's own authorization server: two patients in two
// organizations, a practitioner whose access policy is limited to one organization, a practitioner who may see every
// patient, a patient user, and a backend-service client. Each gets its token the way an app does (sign-in, picker,
// consent, PKCE code exchange; or a signed client assertion) and sees exactly its share of the data.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { registerClient } from '../../auth/clients/client-store.ts';
import { createUser } from '../../auth/users/user-store.ts';
import { CLIENT_ID_SYSTEM } from '../../access/consent-rules.ts';
import { clientCredentialsForm, newClientKey } from '../../test-support/backend-client.ts';
import { pkcePair, scopeCheckboxes, TestBrowser } from '../../test-support/oauth-browser.ts';
import { startFirekeeper, type RunningFirekeeper } from '../smart-launch/support.ts';

const APP = 'https://app.example';
const REDIRECT = `${APP}/callback`;
const PASSWORD = 'enforcement password';

const DATA = [
  { resourceType: 'Organization', id: 'ae-org-a', name: 'North Clinic' },
  { resourceType: 'Organization', id: 'ae-org-b', name: 'South Clinic' },
  { resourceType: 'Practitioner', id: 'ae-doc', name: [{ family: 'Doc' }] },
  { resourceType: 'Patient', id: 'ae-pa', name: [{ given: ['Ann'], family: 'North' }], managingOrganization: { reference: 'Organization/ae-org-a' } },
  { resourceType: 'Patient', id: 'ae-pb', name: [{ given: ['Bob'], family: 'South' }], managingOrganization: { reference: 'Organization/ae-org-b' } },
  { resourceType: 'Observation', id: 'ae-oa', status: 'final', code: { text: 'bp' }, subject: { reference: 'Patient/ae-pa' } },
  { resourceType: 'Observation', id: 'ae-ob', status: 'final', code: { text: 'bp' }, subject: { reference: 'Patient/ae-pb' } },
  { resourceType: 'Condition', id: 'ae-cb', subject: { reference: 'Patient/ae-pb' } },
];

describe('enforcement end to end with tokens from the authorization server', () => {
  let fk: RunningFirekeeper;
  let appId: string;
  let backendId: string;
  const backendKey = newClientKey('ES384', 'ae-es384');

  before(async () => {
    fk = await startFirekeeper();
    await fk.put(...DATA);
    await createUser(fk.db, { username: 'north-doc', password: PASSWORD, name: 'North Doc', role: 'clinician', fhirUser: 'Practitioner/ae-doc', accessPolicy: { kind: 'organization', organization: 'Organization/ae-org-a' } });
    await createUser(fk.db, { username: 'any-doc', password: PASSWORD, name: 'Any Doc', role: 'clinician', fhirUser: 'Practitioner/ae-doc' });
    await createUser(fk.db, { username: 'bob', password: PASSWORD, name: 'Bob South', role: 'patient', fhirUser: 'Patient/ae-pb' });
    const scopes = ['openid', 'fhirUser', 'launch/patient', 'patient/*.rs', 'user/*.rs', 'patient/Observation.cruds'];
    appId = (await registerClient(fk.db, { name: 'Chart', type: 'public', redirectUris: [REDIRECT], scopes, grantTypes: ['authorization_code'] })).client.clientId;
    backendId = (await registerClient(fk.db, { name: 'Registry', type: 'backend-service', jwks: { keys: [(await backendKey).publicJwk] }, scopes: ['system/Observation.rs'] })).client.clientId;
  });

  after(async () => {
    await fk?.close();
  });

  /** Sign-in, the patient picker when asked, consent as offered, and the PKCE code exchange: the access token. */
  async function userToken(username: string, scope: string, pick?: string): Promise<{ token: string; patient?: string }> {
    const browser = new TestBrowser(fk.app, APP);
    const { verifier, challenge } = pkcePair();
    const query = new URLSearchParams({
      response_type: 'code', client_id: appId, redirect_uri: REDIRECT, scope, state: 'ae-state', aud: fk.fhirBase,
      code_challenge: challenge, code_challenge_method: 'S256',
    });
    let page = await browser.go('GET', `/auth/authorize?${query}`);
    page = await browser.submit(page, { username, password: PASSWORD });
    if (/Choose a patient/.test(page.html)) page = await browser.submit(page, { patient: pick! });
    if (!page.url.startsWith(REDIRECT)) page = await browser.submit(page, { decision: 'allow', scope: scopeCheckboxes(page.html).filter((c) => c.checked).map((c) => c.value) });
    const code = new URL(page.url).searchParams.get('code');
    assert.ok(code, `no code: ${page.url}`);
    const res = await fetch(`${fk.base}/auth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: appId }),
    });
    const json = await res.json() as { access_token: string; patient?: string };
    assert.equal(res.status, 200, JSON.stringify(json));
    return { token: json.access_token, patient: json.patient };
  }

  async function backendToken(scope: string): Promise<string> {
    const tokenUrl = `${fk.base}/auth/token`;
    const res = await fetch(tokenUrl, { method: 'POST', body: await clientCredentialsForm({ clientId: backendId, tokenUrl, key: await backendKey, scope }) });
    const json = await res.json() as { access_token: string };
    assert.equal(res.status, 200, JSON.stringify(json));
    return json.access_token;
  }

  async function fhir(token: string, path: string, init: RequestInit = {}): Promise<{ status: number; json: any }> {  
    const res = await fetch(`${fk.fhirBase}/${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', ...init.headers } });
    return { status: res.status, json: await res.json() };
  }
  const ids = (bundle: { entry?: { resource: { id: string } }[] }) => (bundle.entry ?? []).map((e) => e.resource.id).sort();

  it('a practitioner limited to one organization sees only that organization’s patients, whatever user/ scope', async () => {
    const { token } = await userToken('north-doc', 'openid fhirUser user/*.rs');
    assert.deepEqual(ids((await fhir(token, 'Patient')).json), ['ae-pa']);
    assert.deepEqual(ids((await fhir(token, 'Observation')).json), ['ae-oa']);
    assert.equal((await fhir(token, 'Observation/ae-ob')).status, 404);
    assert.equal((await fhir(token, 'Patient/ae-pb/$everything')).status, 404);
    assert.deepEqual(ids((await fhir(token, 'Organization')).json), ['ae-org-a', 'ae-org-b'], 'reference data is nobody’s record');
  });

  it('the patient picker offers that practitioner only their organization’s patients; another practitioner picks either', async () => {
    const { token, patient } = await userToken('any-doc', 'openid fhirUser launch/patient patient/*.rs', 'ae-pb');
    assert.equal(patient, 'ae-pb');
    assert.deepEqual(ids((await fhir(token, 'Observation')).json), ['ae-ob']);
    assert.deepEqual(ids((await fhir(token, 'Condition')).json), ['ae-cb']);
    assert.equal((await fhir(token, 'Patient/ae-pa')).status, 404);
  });

  it('a patient user sees only their own record, with patient/ and user/ scopes alike', async () => {
    for (const scope of ['openid fhirUser launch/patient patient/*.rs', 'openid fhirUser user/*.rs']) {
      const { token } = await userToken('bob', scope);
      assert.deepEqual(ids((await fhir(token, 'Patient')).json), ['ae-pb'], scope);
      assert.deepEqual(ids((await fhir(token, 'Observation')).json), ['ae-ob'], scope);
      assert.equal((await fhir(token, 'Observation/ae-oa')).status, 404, scope);
    }
  });

  it('writes through a patient/ token land only in the launch patient’s record', async () => {
    const { token } = await userToken('any-doc', 'openid fhirUser launch/patient patient/Observation.cruds', 'ae-pa');
    const body = (patient: string) => JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'hr' }, subject: { reference: `Patient/${patient}` } });
    assert.equal((await fhir(token, 'Observation', { method: 'POST', body: body('ae-pa') })).status, 201);
    const refused = await fhir(token, 'Observation', { method: 'POST', body: body('ae-pb') });
    assert.equal(refused.status, 403);
    assert.equal(refused.json.resourceType, 'OperationOutcome');
  });

  it('a backend client reads across patients within its registration, and nothing else', async () => {
    const token = await backendToken('system/Observation.rs');
    assert.deepEqual(ids((await fhir(token, 'Observation?_count=100')).json).filter((id) => id.startsWith('ae-')), ['ae-oa', 'ae-ob']);
    const refused = await fhir(token, 'Patient/ae-pa');
    assert.equal(refused.status, 403);
    assert.match(refused.json.issue[0].diagnostics, /system\/Patient\.r/);
  });

  it('a patient’s privacy preference takes their Conditions away from one app, for every user of it', async () => {
    await fk.put({
      resourceType: 'Consent', id: 'ae-privacy', status: 'active',
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
      policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
      patient: { reference: 'Patient/ae-pb' },
      provision: { type: 'permit', provision: [{ type: 'deny', actor: [{ role: { text: 'app' }, reference: { identifier: { system: CLIENT_ID_SYSTEM, value: appId } } }], class: [{ system: 'http://hl7.org/fhir/resource-types', code: 'Condition' }] }] },
    });
    const { token } = await userToken('bob', 'openid fhirUser user/*.rs');
    assert.deepEqual(ids((await fhir(token, 'Condition')).json), [], 'the denied data is gone for this app');
    assert.deepEqual(ids((await fhir(token, 'Observation')).json), ['ae-ob'], 'the rest of the record is not');
  });
});
