// The discovery documents claim nothing that does not work: this test reads smart-configuration and exercises every
// advertised capability, grant type, client authentication method and endpoint; an advertised item without a check
// fails the test. It also checks the three documents (SMART, OpenID, CapabilityStatement) agree exactly.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { parseScope } from '../access/scope-grammar.ts';
import { testApp, FHIR_BASE, TEST_BASE_URL, type TestApp } from '../test-support/app.ts';
import { clientAssertion, clientCredentialsForm, JWT_BEARER, newClientKey, type ClientKey } from '../test-support/backend-client.ts';
import { pkcePair, scopeCheckboxes, TestBrowser, type PageResult } from '../test-support/oauth-browser.ts';
import { registerClient } from './clients/client-store.ts';
import { createLaunch } from './launch-store.ts';
import { createUser } from './users/user-store.ts';

const APP = 'https://disco.example';
const REDIRECT = `${APP}/cb`;
const PASSWORD = 'discovery-password';
const ALL_SCOPES = ['openid', 'fhirUser', 'profile', 'email', 'launch', 'launch/patient', 'launch/encounter', 'offline_access', 'online_access', 'patient/*.cruds', 'user/*.cruds'];
let t: TestApp;
let config: Record<string, any>;
let clients: { public: string; symmetric: { id: string; secret: string }; asymmetric: { id: string; key: ClientKey }; backend: { id: string; key: ClientKey } };
let doctorId: string;

before(async () => {
  t = await testApp();
  for (const r of [
    { resourceType: 'Patient', id: 'dc-pat', name: [{ family: 'Disco', given: ['Pat'] }] },
    { resourceType: 'Practitioner', id: 'dc-doc' },
    { resourceType: 'Encounter', id: 'dc-enc', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/dc-pat' } },
  ]) await t.request('PUT', `/fhir/${r.resourceType}/${r.id}`, r);
  doctorId = (await createUser(t.db, { username: 'dc-doc', password: PASSWORD, name: 'Dee Doc', email: 'dee@example.org', role: 'clinician', fhirUser: 'Practitioner/dc-doc' })).id;
  const base = { redirectUris: [REDIRECT], scopes: ALL_SCOPES, grantTypes: ['authorization_code' as const, 'refresh_token' as const] };
  const asymmetricKey = await newClientKey('ES384');
  const backendKey = await newClientKey('RS384');
  const sym = await registerClient(t.db, { name: 'Symmetric', type: 'confidential-symmetric', ...base });
  clients = {
    public: (await registerClient(t.db, { name: 'Public', type: 'public', ...base })).client.clientId,
    symmetric: { id: sym.client.clientId, secret: sym.secret! },
    asymmetric: { id: (await registerClient(t.db, { name: 'Asymmetric', type: 'confidential-asymmetric', jwks: { keys: [asymmetricKey.publicJwk] }, ...base })).client.clientId, key: asymmetricKey },
    backend: { id: (await registerClient(t.db, { name: 'Backend', type: 'backend-service', jwks: { keys: [backendKey.publicJwk] }, scopes: ['system/*.rs'] })).client.clientId, key: backendKey },
  };
  const res = await t.request('GET', '/fhir/.well-known/smart-configuration', undefined, { authorization: undefined });
  assert.equal(res.status, 200);
  config = res.json;
});

const form = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
  t.request('POST', '/auth/token', new URLSearchParams(fields).toString(), { 'content-type': 'application/x-www-form-urlencoded', authorization: undefined, ...headers });

interface AuthorizeOptions { clientId?: string; scope: string; launch?: string; post?: boolean; browser?: TestBrowser }

/** Runs an authorization request as the clinician (picking dc-pat and dc-enc when asked), approving as offered. */
async function authorize(o: AuthorizeOptions): Promise<{ code: string; verifier: string; browser: TestBrowser }> {
  const browser = o.browser ?? new TestBrowser(t.app, APP);
  const { verifier, challenge } = pkcePair();
  const params = new URLSearchParams({ response_type: 'code', client_id: o.clientId ?? clients.public, redirect_uri: REDIRECT, scope: o.scope, state: 's', aud: FHIR_BASE, code_challenge: challenge, code_challenge_method: 'S256', nonce: 'nonce-1', prompt: 'consent', ...(o.launch ? { launch: o.launch } : {}) });
  let page: PageResult = o.post ? await browser.go('POST', config.authorization_endpoint, params) : await browser.go('GET', `${config.authorization_endpoint}?${params}`);
  for (let step = 0; step < 6 && !page.url.startsWith(REDIRECT); step++) {
    if (page.html.includes('name="password"')) page = await browser.submit(page, { username: 'dc-doc', password: PASSWORD });
    else if (page.html.includes('name="patient"')) page = await browser.submit(page, { patient: 'dc-pat' });
    else if (page.html.includes('name="encounter"')) page = await browser.submit(page, { encounter: 'dc-enc' });
    else page = await browser.submit(page, { decision: 'allow', scope: scopeCheckboxes(page.html).filter((c) => c.checked).map((c) => c.value) });
  }
  const code = new URL(page.url).searchParams.get('code');
  assert.ok(code, `no code: ${page.url}`);
  return { code, verifier, browser };
}

async function exchange(code: string, verifier: string, auth: Record<string, string> = { client_id: clients.public }, headers: Record<string, string> = {}) {
  const res = await form({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, ...auth }, headers);
  assert.equal(res.status, 200, res.text);
  return res.json;
}

async function flow(o: AuthorizeOptions, auth?: Record<string, string>) {
  const { code, verifier, browser } = await authorize(o);
  return { tokens: await exchange(code, verifier, auth), browser };
}

async function ehrLaunch(context: Record<string, unknown>) {
  const launch = await createLaunch(t.db, { clientId: clients.public, userId: doctorId, context });
  return (await flow({ scope: 'launch patient/*.rs', launch: launch.id })).tokens;
}

const capabilityChecks: Record<string, () => Promise<void>> = {
  'launch-ehr': async () => assert.equal((await ehrLaunch({ patient: 'dc-pat' })).patient, 'dc-pat'),
  'launch-standalone': async () => assert.equal((await flow({ scope: 'launch/patient patient/*.rs' })).tokens.patient, 'dc-pat'),
  'authorize-post': async () => assert.ok((await flow({ scope: 'patient/*.rs', post: true })).tokens.access_token),
  'client-public': async () => assert.ok((await flow({ scope: 'patient/*.rs' }, { client_id: clients.public })).tokens.access_token),
  'client-confidential-symmetric': async () => {
    const { code, verifier } = await authorize({ clientId: clients.symmetric.id, scope: 'patient/*.rs' });
    assert.ok((await exchange(code, verifier, { client_id: clients.symmetric.id, client_secret: clients.symmetric.secret })).access_token);
  },
  'client-confidential-asymmetric': async () => {
    const { code, verifier } = await authorize({ clientId: clients.asymmetric.id, scope: 'patient/*.rs' });
    const assertion = await clientAssertion({ clientId: clients.asymmetric.id, tokenUrl: config.token_endpoint, key: clients.asymmetric.key });
    assert.ok((await exchange(code, verifier, { client_assertion_type: JWT_BEARER, client_assertion: assertion })).access_token);
  },
  'sso-openid-connect': async () => {
    const { tokens } = await flow({ scope: 'openid fhirUser patient/*.rs' });
    const jwks = createLocalJWKSet((await t.request('GET', new URL(config.jwks_uri).pathname)).json);
    const { payload } = await jwtVerify(tokens.id_token, jwks, { issuer: config.issuer, audience: clients.public });
    assert.equal(payload.fhirUser, `${FHIR_BASE}/Practitioner/dc-doc`);
    assert.equal(payload.nonce, 'nonce-1');
  },
  'context-passthrough-banner': async () => assert.equal((await ehrLaunch({ patient: 'dc-pat', need_patient_banner: false })).need_patient_banner, false),
  'context-passthrough-style': async () => assert.equal((await ehrLaunch({ patient: 'dc-pat', smart_style_url: `${TEST_BASE_URL}/style.json` })).smart_style_url, `${TEST_BASE_URL}/style.json`),
  'context-ehr-patient': async () => assert.equal((await ehrLaunch({ patient: 'dc-pat' })).patient, 'dc-pat'),
  'context-ehr-encounter': async () => assert.equal((await ehrLaunch({ patient: 'dc-pat', encounter: 'dc-enc' })).encounter, 'dc-enc'),
  'context-standalone-patient': async () => assert.equal((await flow({ scope: 'launch/patient patient/*.rs' })).tokens.patient, 'dc-pat'),
  'context-standalone-encounter': async () => assert.equal((await flow({ scope: 'launch/patient launch/encounter patient/*.rs' })).tokens.encounter, 'dc-enc'),
  'permission-offline': async () => {
    const { tokens } = await flow({ scope: 'offline_access patient/*.rs' });
    assert.equal((await form({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clients.public })).status, 200);
  },
  'permission-online': async () => {
    const { tokens } = await flow({ scope: 'online_access patient/*.rs' });
    const refreshed = await form({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clients.public });
    assert.equal(refreshed.status, 200, 'works while the sign-in session lives');
    await t.db.query(`UPDATE sessions SET ended_at = now() WHERE user_id = $1`, [doctorId]);
    const ended = await form({ grant_type: 'refresh_token', refresh_token: refreshed.json.refresh_token, client_id: clients.public });
    assert.equal(ended.json.error, 'invalid_grant', 'and stops when the session ends');
  },
  'permission-patient': async () => assert.equal((await flow({ scope: 'patient/Observation.rs' })).tokens.scope, 'patient/Observation.rs'),
  'permission-user': async () => assert.equal((await flow({ scope: 'user/Observation.rs' })).tokens.scope, 'user/Observation.rs'),
  'permission-v1': async () => assert.equal((await flow({ scope: 'patient/Observation.read' })).tokens.scope, 'patient/Observation.read'),
  'permission-v2': async () => assert.equal((await flow({ scope: 'patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory' })).tokens.scope, 'patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory'),
};

const grantChecks: Record<string, () => Promise<void>> = {
  authorization_code: async () => assert.ok((await flow({ scope: 'patient/*.rs' })).tokens.access_token),
  refresh_token: async () => {
    const { tokens } = await flow({ scope: 'offline_access patient/*.rs' });
    const res = await form({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clients.public });
    assert.notEqual(res.json.refresh_token, tokens.refresh_token);
  },
  client_credentials: async () => {
    const res = await form(Object.fromEntries(await clientCredentialsForm({ clientId: clients.backend.id, tokenUrl: config.token_endpoint, key: clients.backend.key, scope: 'system/Patient.rs' })));
    assert.equal(res.status, 200, res.text);
    assert.equal((await t.request('GET', '/fhir/Patient/dc-pat', undefined, { authorization: `Bearer ${res.json.access_token}` })).status, 200);
  },
};

const authMethodChecks: Record<string, () => Promise<void>> = {
  none: capabilityChecks['client-public']!,
  client_secret_post: capabilityChecks['client-confidential-symmetric']!,
  client_secret_basic: async () => {
    const { code, verifier } = await authorize({ clientId: clients.symmetric.id, scope: 'patient/*.rs' });
    const basic = Buffer.from(`${clients.symmetric.id}:${clients.symmetric.secret}`).toString('base64');
    assert.ok((await exchange(code, verifier, {}, { authorization: `Basic ${basic}` })).access_token);
  },
  private_key_jwt: capabilityChecks['client-confidential-asymmetric']!,
};

async function exerciseAll(advertised: string[], checks: Record<string, () => Promise<void>>) {
  for (const item of advertised) {
    const check = checks[item];
    assert.ok(check, `${item} is advertised but nothing checks it`);
    await check();
  }
}

describe('discovery documents', () => {
  it('smart-configuration: JSON with CORS, no token needed, endpoints derived from the base URL', async () => {
    const res = await t.request('GET', '/fhir/.well-known/smart-configuration', undefined, { authorization: undefined, origin: APP });
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.equal(res.headers['access-control-allow-origin'], '*');
    assert.equal(config.issuer, TEST_BASE_URL);
    assert.deepEqual(config.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(config.response_types_supported, ['code']);
    for (const key of ['jwks_uri', 'authorization_endpoint', 'token_endpoint', 'introspection_endpoint', 'revocation_endpoint', 'registration_endpoint', 'userinfo_endpoint', 'management_endpoint']) {
      assert.ok(config[key].startsWith(`${TEST_BASE_URL}/`), key);
    }
    assert.deepEqual(config.token_endpoint_auth_signing_alg_values_supported, ['RS384', 'ES384', 'RS256', 'ES256']);
  });

  it('openid-configuration and the CapabilityStatement agree with it exactly', async () => {
    const oidc = (await t.request('GET', '/.well-known/openid-configuration', undefined, { authorization: undefined })).json;
    for (const key of ['issuer', 'jwks_uri', 'authorization_endpoint', 'token_endpoint', 'registration_endpoint', 'userinfo_endpoint']) assert.equal(oidc[key], config[key], key);
    assert.deepEqual(oidc.id_token_signing_alg_values_supported, ['RS256']);
    for (const key of ['introspection_endpoint', 'revocation_endpoint']) assert.equal(oidc[key], config[key], key);
    assert.deepEqual((await t.request('GET', '/.well-known/oauth-authorization-server', undefined, { authorization: undefined })).json, oidc, 'RFC 8414 metadata');
    const metadata = (await t.request('GET', '/fhir/metadata', undefined, { authorization: undefined })).json;
    const security = metadata.rest[0].security;
    assert.equal(security.service[0].coding[0].code, 'SMART-on-FHIR');
    const uris = Object.fromEntries(security.extension[0].extension.map((e: { url: string; valueUri: string }) => [e.url, e.valueUri]));
    assert.deepEqual(uris, {
      authorize: config.authorization_endpoint, token: config.token_endpoint, introspect: config.introspection_endpoint,
      revoke: config.revocation_endpoint, register: config.registration_endpoint, manage: config.management_endpoint,
    });
  });

  it('every advertised endpoint answers, and every advertised scope is valid', async () => {
    assert.equal((await t.request('GET', new URL(config.jwks_uri).pathname, undefined, { authorization: undefined })).json.keys.length >= 2, true);
    for (const [key, expected] of [['introspection_endpoint', 401], ['revocation_endpoint', 401], ['userinfo_endpoint', 401], ['registration_endpoint', 400]] as const) {
      const res = await t.request('POST', new URL(config[key]).pathname, key === 'registration_endpoint' ? {} : 'token=x', {
        authorization: undefined, 'content-type': key === 'registration_endpoint' ? 'application/json' : 'application/x-www-form-urlencoded',
      });
      assert.equal(res.status, expected, `${key}: ${res.text}`);
    }
    const manage = await t.request('GET', new URL(config.management_endpoint).pathname, undefined, { authorization: undefined });
    assert.equal(manage.status, 200);
    assert.match(manage.text, /<label for="username">Username<\/label>/, 'the management page asks the user to sign in');
    for (const scope of config.scopes_supported) assert.notEqual(parseScope(scope).kind, 'invalid', scope);
  });

  it('each advertised capability works', async () => exerciseAll(config.capabilities, capabilityChecks));
  it('each advertised grant type works', async () => exerciseAll(config.grant_types_supported, grantChecks));
  it('each advertised client authentication method works', async () => exerciseAll(config.token_endpoint_auth_methods_supported, authMethodChecks));
});
