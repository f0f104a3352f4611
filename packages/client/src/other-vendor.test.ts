// The SDK against a server that is not Firekeeper: a small stand-in that behaves like another vendor. Its refresh
// requires `client_id` and does not rotate refresh tokens; it issues no id_token when `openid` is not asked for.
// The PKCE verifier sent must match the challenge it received.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { DiscoveryError, MemoryStorage, completeAuthorization, startAuthorization } from './index.ts';

let server: Server;
let base = '';
const seen: { challenge?: string; refreshForms: URLSearchParams[] } = { refreshForms: [] };
let issued = 0;

before(async () => {
  server = createServer((req, res) => {
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method === 'GET' && req.url === '/r4/.well-known/smart-configuration') {
      return json(200, { issuer: base, authorization_endpoint: `${base}/oauth/authorize`, token_endpoint: `${base}/oauth/token`, code_challenge_methods_supported: ['S256'] });
    }
    if (req.method !== 'POST' || req.url !== '/oauth/token') return json(404, { error: 'not_found' });
    let raw = '';
    req.on('data', (c) => (raw += c)).on('end', () => {
      const form = new URLSearchParams(raw);
      if (form.get('grant_type') === 'authorization_code') {
        const s256 = createHash('sha256').update(form.get('code_verifier') ?? '').digest('base64url');
        if (form.get('code') !== 'vendor-code' || s256 !== seen.challenge) return json(400, { error: 'invalid_grant' });
        return json(200, { access_token: `vendor-at-${++issued}`, token_type: 'Bearer', expires_in: 10, scope: 'launch/patient patient/*.read', refresh_token: 'vendor-rt', patient: 'v-123' });
      }
      seen.refreshForms.push(form);
      // This vendor insists on client_id with a refresh, and keeps the same refresh token (no rotation).
      if (form.get('client_id') !== 'vendor-app') return json(400, { error: 'invalid_client', error_description: 'client_id is required' });
      if (form.get('refresh_token') !== 'vendor-rt') return json(400, { error: 'invalid_grant' });
      return json(200, { access_token: `vendor-at-${++issued}`, token_type: 'Bearer', expires_in: 10, scope: 'launch/patient patient/*.read' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

after(() => new Promise<void>((r) => server.close(() => r())));

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
});
