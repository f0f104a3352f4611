// RFC 7591 dynamic client registration: metadata mapped to Firekeeper's client types, pending without an initial
// access token and active with one; an invalid, expired or used token, or bad metadata, creates nothing.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { testApp, TEST_BASE_URL, type TestApp, type TestResponse } from '../test-support/app.ts';
import { SANDBOX_ADMIN_TOKEN } from '../config.ts';
import { verifySecret } from './secret-hash.ts';
import { clientSecretHash, getClient, listClients } from './clients/client-store.ts';
import { issueInitialAccessToken } from './clients/initial-access-token.ts';

let t: TestApp;
let privateKey: CryptoKey;
let publicJwk: Record<string, unknown>;
before(async () => {
  t = await testApp();
  const pair = await generateKeyPair('ES384', { extractable: true });
  privateKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'backend-1', alg: 'ES384' };
});

const PUBLIC_APP = {
  client_name: 'Growth chart', redirect_uris: ['https://gc.example/cb'], token_endpoint_auth_method: 'none',
  scope: 'launch openid fhirUser patient/*.rs', launch_uri: 'https://gc.example/launch', logo_uri: 'https://gc.example/logo.png',
};
const backendApp = () => ({ client_name: 'Analytics', token_endpoint_auth_method: 'private_key_jwt', grant_types: ['client_credentials'], jwks: { keys: [publicJwk] }, scope: 'system/Patient.rs' });

/** POST /auth/register with a JSON body (raw when a string), with `Authorization` only when given. */
function register(body: unknown, authorization?: string, contentType = 'application/json'): Promise<TestResponse> {
  return t.request('POST', '/auth/register', body, { 'content-type': contentType, authorization });
}

const newToken = async (opts: { expiresInSeconds?: number } = {}, now?: Date) => (await issueInitialAccessToken(t.db, opts, now)).token;
const clientCount = async () => (await listClients(t.db)).length;

function assertError(res: TestResponse, status: number, error: string, description: string | RegExp) {
  assert.equal(res.status, status, res.text);
  assert.deepEqual(Object.keys(res.json).sort(), ['error', 'error_description']);
  assert.equal(res.json.error, error);
  if (typeof description === 'string') assert.equal(res.json.error_description, description);
  else assert.match(res.json.error_description, description);
  assert.equal(res.headers['cache-control'], 'no-store');
}

describe('RFC 7591 registration without an initial access token', () => {
  it('§3.2.1: 201 with client_id, client_id_issued_at and all registered metadata; the client is pending', async () => {
    const before = Math.floor(Date.now() / 1000);
    const res = await register(PUBLIC_APP);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.headers.pragma, 'no-cache');
    const { client_id, client_id_issued_at, ...metadata } = res.json;
    assert.ok(client_id_issued_at >= before && client_id_issued_at <= Math.floor(Date.now() / 1000));
    assert.deepEqual(metadata, {
      client_name: 'Growth chart', redirect_uris: ['https://gc.example/cb'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'],
      response_types: ['code'], scope: 'launch openid fhirUser patient/*.rs', launch_uri: 'https://gc.example/launch', registration_status: 'pending',
    }, 'no secret for a public client; logo_uri is not understood, so ignored (§2) and not echoed');
    const stored = (await getClient(t.db, client_id))!;
    assert.equal(stored.type, 'public');
    assert.equal(stored.status, 'pending');
    assert.equal(stored.launchUrl, 'https://gc.example/launch');
  });

  it('§2: token_endpoint_auth_method defaults to client_secret_basic; the secret is returned once with client_secret_expires_at 0', async () => {
    const { token_endpoint_auth_method: _, ...app } = PUBLIC_APP;
    const res = await register({ ...app, grant_types: ['authorization_code', 'refresh_token'] });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.token_endpoint_auth_method, 'client_secret_basic');
    assert.match(res.json.client_secret, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(res.json.client_secret_expires_at, 0);
    assert.deepEqual(res.json.grant_types, ['authorization_code', 'refresh_token']);
    const stored = (await getClient(t.db, res.json.client_id))!;
    assert.equal(stored.type, 'confidential-symmetric');
    assert.equal(JSON.stringify(stored).includes(res.json.client_secret), false);
    assert.equal(await verifySecret(res.json.client_secret, (await clientSecretHash(t.db, res.json.client_id))!), true);
  });

  it('maps client_secret_post, and private_key_jwt with and without client_credentials, to the SMART client types', async () => {
    const post = await register({ ...PUBLIC_APP, token_endpoint_auth_method: 'client_secret_post' });
    assert.equal((await getClient(t.db, post.json.client_id))!.authMethod, 'client_secret_post');
    const asymmetric = await register({ ...PUBLIC_APP, token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://gc.example/jwks.json' });
    assert.equal(asymmetric.status, 201, asymmetric.text);
    assert.equal(asymmetric.json.jwks_uri, 'https://gc.example/jwks.json');
    assert.equal(asymmetric.json.client_secret, undefined);
    assert.equal((await getClient(t.db, asymmetric.json.client_id))!.type, 'confidential-asymmetric');
    const backend = await register(backendApp());
    assert.equal(backend.status, 201, backend.text);
    assert.deepEqual(backend.json.response_types, [], '§2.1: client_credentials has no response type');
    assert.deepEqual(backend.json.jwks, { keys: [publicJwk] });
    assert.equal(backend.json.redirect_uris, undefined);
    assert.equal((await getClient(t.db, backend.json.client_id))!.type, 'backend-service');
  });

  it('a client cannot activate itself through its metadata', async () => {
    const res = await register({ ...PUBLIC_APP, status: 'active', registration_status: 'active' });
    assert.equal(res.json.registration_status, 'pending');
    assert.equal((await getClient(t.db, res.json.client_id))!.status, 'pending');
  });
});

describe('RFC 7591 registration with an initial access token', () => {
  it('a valid token registers the client active; the token is then used up', async () => {
    const token = await newToken();
    const res = await register(PUBLIC_APP, `Bearer ${token}`);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.registration_status, 'active');
    assert.equal((await getClient(t.db, res.json.client_id))!.status, 'active');
    const before = await clientCount();
    const again = await register(PUBLIC_APP, `Bearer ${token}`);
    assertError(again, 401, 'invalid_token', 'the initial access token is not valid, has expired or has been used');
    assert.equal(again.headers['www-authenticate'], 'Bearer realm="firekeeper-registration", error="invalid_token"');
    assert.equal(await clientCount(), before);
  });

  it('a token issued through the admin API works end to end', async () => {
    const issued = await t.request('POST', '/admin/api/initial-access-tokens', { expiresInSeconds: 600 }, { authorization: `Bearer ${SANDBOX_ADMIN_TOKEN}`, 'content-type': 'application/json' });
    assert.equal(issued.status, 201, issued.text);
    const res = await register(PUBLIC_APP, `Bearer ${issued.json.token}`);
    assert.equal(res.json.registration_status, 'active');
  });

  it('RFC 6750 §3.1: an expired, unknown or malformed token is 401 invalid_token and creates nothing', async () => {
    const expired = await newToken({ expiresInSeconds: 60 }, new Date(Date.now() - 61_000));
    const before = await clientCount();
    for (const authorization of [`Bearer ${expired}`, `Bearer ${'A'.repeat(43)}`, 'Bearer ', 'Basic Zm9vOmJhcg==', `Bearer ${SANDBOX_ADMIN_TOKEN}`]) {
      const res = await register(PUBLIC_APP, authorization);
      assertError(res, 401, 'invalid_token', /initial access token/);
      assert.equal(res.headers['www-authenticate'], 'Bearer realm="firekeeper-registration", error="invalid_token"');
    }
    assertError(await register('{"client_name": 7}', `Bearer ${expired}`), 401, 'invalid_token', /not valid, has expired/);
    assert.equal(await clientCount(), before);
  });

  it('bad metadata with a valid token is 400 and leaves the token unused', async () => {
    const token = await newToken();
    const before = await clientCount();
    assertError(await register({ ...PUBLIC_APP, redirect_uris: ['http://evil.example/cb'] }, `Bearer ${token}`), 400, 'invalid_redirect_uri', /must use https/);
    assert.equal(await clientCount(), before);
    assert.equal((await register(PUBLIC_APP, `Bearer ${token}`)).json.registration_status, 'active');
  });

  it('two registrations racing with one token: exactly one succeeds', async () => {
    const token = await newToken();
    const results = await Promise.all([register(PUBLIC_APP, `Bearer ${token}`), register(PUBLIC_APP, `Bearer ${token}`)]);
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 401]);
  });

  it('only the active registration can obtain tokens (SMART Backend Services)', async () => {
    const pending = (await register(backendApp())).json.client_id;
    const active = (await register(backendApp(), `Bearer ${await newToken()}`)).json.client_id;
    const tokenRequest = async (clientId: string) => {
      const assertion = await new SignJWT({}).setProtectedHeader({ alg: 'ES384', kid: 'backend-1', typ: 'JWT' }).setIssuer(clientId).setSubject(clientId)
        .setAudience(`${TEST_BASE_URL}/auth/token`).setJti(randomUUID()).setExpirationTime('60s').sign(privateKey);
      const form = new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion, scope: 'system/Patient.rs' });
      return t.request('POST', '/auth/token', form.toString(), { 'content-type': 'application/x-www-form-urlencoded', authorization: undefined });
    };
    const refused = await tokenRequest(pending);
    assert.equal(refused.status, 401, refused.text);
    assert.equal(refused.json.error, 'invalid_client');
    const granted = await tokenRequest(active);
    assert.equal(granted.status, 200, granted.text);
    assert.equal(granted.json.token_type, 'Bearer');
  });
});

describe('RFC 7591 §3.2.2 registration errors', () => {
  it('each bad request gets 400 with the exact error, and nothing is created', async () => {
    const before = await clientCount();
    const cases: [unknown, string, string | RegExp, string?][] = [
      ['[]', 'invalid_client_metadata', 'the registration request must be a JSON object'],
      ['{"client_name": ', 'invalid_client_metadata', 'the request body must be a JSON object'],
      ['client_name=x', 'invalid_client_metadata', 'the request body must be application/json', 'application/x-www-form-urlencoded'],
      [{ ...PUBLIC_APP, client_name: undefined }, 'invalid_client_metadata', 'client_name is required'],
      [{ ...PUBLIC_APP, client_name: '  ' }, 'invalid_client_metadata', 'client_name is required'],
      [{ ...PUBLIC_APP, client_name: ['x'] }, 'invalid_client_metadata', 'client_name must be a string'],
      [{ ...PUBLIC_APP, token_endpoint_auth_method: 'tls_client_auth' }, 'invalid_client_metadata', /^token_endpoint_auth_method tls_client_auth is not supported/],
      [{ ...PUBLIC_APP, response_types: ['token'] }, 'invalid_client_metadata', 'response_types must be ["code"] for a public client'],
      [{ ...PUBLIC_APP, response_types: ['code', 'id_token'] }, 'invalid_client_metadata', 'response_types must be ["code"] for a public client'],
      [{ ...backendApp(), response_types: ['code'] }, 'invalid_client_metadata', 'response_types must be [] for a backend-service client'],
      [{ ...PUBLIC_APP, grant_types: ['implicit'] }, 'invalid_client_metadata', /^grant type implicit is not allowed for a public client/],
      [{ ...PUBLIC_APP, grant_types: 'authorization_code' }, 'invalid_client_metadata', 'grant_types must be an array of strings'],
      [{ ...PUBLIC_APP, scope: ['launch'] }, 'invalid_client_metadata', 'scope must be a string'],
      [{ ...PUBLIC_APP, scope: 'launch pat"ient' }, 'invalid_client_metadata', /invalid scope 'pat"ient'/],
      [{ ...PUBLIC_APP, jwks: { keys: [publicJwk] } }, 'invalid_client_metadata', 'a public client does not register keys'],
      [{ ...backendApp(), jwks: { keys: [{ ...publicJwk, d: 'secret' }] } }, 'invalid_client_metadata', 'jwks must hold public keys only'],
      [{ ...backendApp(), jwks: undefined }, 'invalid_client_metadata', 'give exactly one of jwks and jwks_uri'],
      [{ ...backendApp(), jwks: [publicJwk] }, 'invalid_client_metadata', /^jwks must be a JWK Set/],
      [{ ...PUBLIC_APP, launch_uri: 'http://gc.example/launch' }, 'invalid_client_metadata', /launch URL .* must use https/],
      [{ ...PUBLIC_APP, redirect_uris: 'https://gc.example/cb' }, 'invalid_redirect_uri', 'redirect_uris must be an array of strings'],
      [{ ...PUBLIC_APP, redirect_uris: [] }, 'invalid_redirect_uri', 'at least one redirect URI is required'],
      [{ ...PUBLIC_APP, redirect_uris: ['https://gc.example/*'] }, 'invalid_redirect_uri', /must not contain wildcards/],
      [{ ...PUBLIC_APP, redirect_uris: ['https://gc.example/cb#x'] }, 'invalid_redirect_uri', /must not have a fragment/],
      [{ ...backendApp(), redirect_uris: ['https://gc.example/cb'] }, 'invalid_redirect_uri', 'a backend service has no redirect URIs'],
    ];
    for (const [body, error, description, contentType] of cases) {
      const res = await register(body, undefined, contentType);
      assertError(res, error === 'invalid_client_metadata' && contentType ? 415 : 400, error, description);
    }
    assert.equal(await clientCount(), before);
  });
});
