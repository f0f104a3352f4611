// The SDK against a server that is not Firekeeper: a small stand-in that behaves like another vendor. Its refresh
// requires `client_id` and does not rotate refresh tokens; it issues no id_token when `openid` is not asked for.
// The PKCE verifier sent must match the challenge it received. Its authorization codes also choose what goes wrong
// (an id_token signed by a key it does not publish or for another audience, a token with no refresh token that
// expires, a refresh token it no longer honours), for the SDK's error paths.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { DiscoveryError, FhirClient, MemoryStorage, TokenError, completeAuthorization, startAuthorization } from './index.ts';

let server: Server;
let base = '';
const seen: { challenge?: string; nonce?: string; refreshForms: URLSearchParams[]; fhirReads: number } = { refreshForms: [], fhirReads: 0 };
let issued = 0;
/** The key whose public half the vendor publishes, and one it does not. */
let signing: { privateKey: CryptoKey; jwk: JWK };
let stranger: CryptoKey;

const idToken = (key: CryptoKey, aud: string) => new SignJWT({ fhirUser: `${base}/r4/Practitioner/v-9`, nonce: seen.nonce })
  .setProtectedHeader({ alg: 'RS256', kid: 'vendor-1' }).setIssuer(base).setSubject('v-user').setAudience(aud).setIssuedAt().setExpirationTime('5m').sign(key);

/** What each authorization code gives: the token response's extra members (beyond access_token and token_type). */
const CODES: Record<string, () => Promise<Record<string, unknown>>> = {
  'vendor-code': async () => ({ expires_in: 10, scope: 'launch/patient patient/*.read', refresh_token: 'vendor-rt', patient: 'v-123' }),
  'code-openid': async () => ({ expires_in: 300, scope: 'openid fhirUser patient/*.read', id_token: await idToken(signing.privateKey, 'vendor-app') }),
  'code-bad-signature': async () => ({ expires_in: 300, scope: 'openid fhirUser', id_token: await idToken(stranger, 'vendor-app') }),
  'code-wrong-aud': async () => ({ expires_in: 300, scope: 'openid fhirUser', id_token: await idToken(signing.privateKey, 'another-app') }),
  'code-no-refresh': async () => ({ expires_in: 1, scope: 'patient/*.read' }),
  'code-refresh-revoked': async () => ({ expires_in: 1, scope: 'patient/*.read offline_access', refresh_token: 'vendor-rt-revoked' }),
};

before(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  signing = { privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid: 'vendor-1', alg: 'RS256', use: 'sig' } };
  stranger = (await generateKeyPair('RS256')).privateKey;
  server = createServer((req, res) => {
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method === 'GET' && req.url === '/r4/.well-known/smart-configuration') {
      return json(200, { issuer: base, authorization_endpoint: `${base}/oauth/authorize`, token_endpoint: `${base}/oauth/token`, jwks_uri: `${base}/jwks`, code_challenge_methods_supported: ['S256'] });
    }
    if (req.method === 'GET' && req.url === '/jwks') return json(200, { keys: [signing.jwk] });
    if (req.method === 'GET' && req.url === '/r4/Patient/refused') return json(401, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login' }] });
    if (req.method === 'GET' && req.url?.startsWith('/r4/Patient/')) {
      seen.fhirReads++;
      return json(200, { resourceType: 'Patient', id: 'v-123' });
    }
    if (req.method !== 'POST' || req.url !== '/oauth/token') return json(404, { error: 'not_found' });
    let raw = '';
    req.on('data', (c) => (raw += c)).on('end', () => {
      const form = new URLSearchParams(raw);
      if (form.get('grant_type') === 'authorization_code') {
        const s256 = createHash('sha256').update(form.get('code_verifier') ?? '').digest('base64url');
        const make = CODES[form.get('code') ?? ''];
        if (!make || s256 !== seen.challenge) return json(400, { error: 'invalid_grant' });
        void make().then((extra) => json(200, { access_token: `vendor-at-${++issued}`, token_type: 'Bearer', ...extra }));
        return;
      }
      seen.refreshForms.push(form);
      // This vendor insists on client_id with a refresh, and keeps the same refresh token (no rotation).
      if (form.get('client_id') !== 'vendor-app') return json(400, { error: 'invalid_client', error_description: 'client_id is required' });
      if (form.get('refresh_token') !== 'vendor-rt') return json(400, { error: 'invalid_grant', error_description: 'the refresh token was revoked' });
      return json(200, { access_token: `vendor-at-${++issued}`, token_type: 'Bearer', expires_in: 10, scope: 'launch/patient patient/*.read' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

after(() => new Promise<void>((r) => server.close(() => r())));

/** A standalone launch at the vendor answered with `code` (the verifier matches the challenge the SDK sent). */
async function launchWith(code: string, scope: string) {
  const storage = new MemoryStorage();
  const url = new URL(await startAuthorization({ iss: `${base}/r4`, clientId: 'vendor-app', redirectUri: 'https://app.example/cb', scope, storage }));
  seen.challenge = url.searchParams.get('code_challenge') ?? undefined;
  seen.nonce = url.searchParams.get('nonce') ?? undefined; // the vendor echoes it in the id_token
  return completeAuthorization(`https://app.example/cb?code=${code}&state=${url.searchParams.get('state')}`, { storage });
}

const tokenError = (error: string, description?: RegExp) => (err: unknown) => err instanceof TokenError && err.error === error && (!description || description.test(err.description ?? ''));

describe('another vendor’s server', () => {
  it('standalone launch without openid; refresh sends client_id and keeps the refresh token the server did not rotate', async () => {
    const storage = new MemoryStorage();
    const url = new URL(await startAuthorization({ iss: `${base}/r4`, clientId: 'vendor-app', redirectUri: 'https://app.example/cb', scope: 'launch/patient patient/*.read offline_access', storage }));
    assert.equal(url.searchParams.get('nonce'), null, 'no openid, no nonce');
    assert.equal(url.searchParams.get('launch'), null, 'standalone');
    seen.challenge = url.searchParams.get('code_challenge') ?? undefined;
    const session = await completeAuthorization(`https://app.example/cb?code=vendor-code&state=${url.searchParams.get('state')}`, { storage });
    assert.equal(session.context.patient, 'v-123');
    assert.equal(session.idTokenClaims, undefined);
    assert.equal(session.tokens.accessToken, 'vendor-at-1');

    // The token expires within the refresh margin: the next use refreshes, twice in a row with the same refresh token.
    assert.equal(await session.accessToken(), 'vendor-at-2');
    assert.equal(await session.accessToken(), 'vendor-at-3');
    assert.equal(session.tokens.refreshToken, 'vendor-rt', 'not rotated: kept');
    assert.deepEqual(seen.refreshForms.map((f) => [f.get('client_id'), f.get('refresh_token')]), [['vendor-app', 'vendor-rt'], ['vendor-app', 'vendor-rt']]);
  });

  it('a server without SMART discovery is named as such before any redirect', async () => {
    await assert.rejects(
      startAuthorization({ iss: `${base}/other`, clientId: 'vendor-app', redirectUri: 'https://app.example/cb', scope: 'launch/patient' }),
      (err: unknown) => err instanceof DiscoveryError && err.status === 404,
    );
  });

  it('an id_token is verified against the vendor’s published keys: accepted when right; refused when signed by another key or for another app', async () => {
    const session = await launchWith('code-openid', 'openid fhirUser patient/*.read');
    assert.equal(session.fhirUser, `${base}/r4/Practitioner/v-9`);
    await assert.rejects(launchWith('code-bad-signature', 'openid fhirUser'), tokenError('invalid_id_token', /signature verification failed/));
    await assert.rejects(launchWith('code-wrong-aud', 'openid fhirUser'), tokenError('invalid_id_token', /"aud"/));
  });

  it('an expired token with no refresh token ends the session with a clear error, and sends nothing', async () => {
    const session = await launchWith('code-no-refresh', 'patient/*.read');
    assert.equal(await session.accessToken(), session.tokens.accessToken, 'still valid, if only just: used as it is');
    await new Promise((r) => setTimeout(r, 1100));
    await assert.rejects(session.accessToken(), tokenError('expired_token', /has expired and there is no refresh token/));
    const fhir = new FhirClient(`${base}/r4`, session);
    await assert.rejects(fhir.read('Patient', 'v-123'), tokenError('expired_token'));
    assert.equal(seen.fhirReads, 0, 'no request with a dead token');
  });

  it('a token the server refuses (401), with no refresh token to try, ends the session with a clear error', async () => {
    const session = await launchWith('code-openid', 'openid fhirUser patient/*.read');
    await assert.rejects(new FhirClient(`${base}/r4`, session).read('Patient', 'refused'), tokenError('expired_token', /server refused the access token and there is no refresh token/));
  });

  it('a refresh the server refuses is the caller’s TokenError with the server’s error, and the session is left as it was', async () => {
    const session = await launchWith('code-refresh-revoked', 'patient/*.read offline_access');
    const before = session.tokens;
    await assert.rejects(session.accessToken(), tokenError('invalid_grant', /revoked/));
    assert.deepEqual(session.tokens, before);
  });
});
