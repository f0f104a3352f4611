// Registration rules (RFC 6749 §3.1.2, RFC 7591 §2 and §3.2.2, SMART App Launch 2.2 client types).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OAuthError } from '../oauth-errors.ts';
import { validateClientInput, type ClientInput } from './client-registration.ts';

const app: ClientInput = { name: 'Growth chart', type: 'public', redirectUris: ['https://app.example/callback'] };
const ecKey = { kty: 'EC', crv: 'P-384', x: 'x', y: 'y', kid: 'k1', alg: 'ES384' };

function rejects(input: ClientInput, code: string, description: RegExp) {
  assert.throws(() => validateClientInput(input), (e: unknown) => e instanceof OAuthError && e.code === code && description.test(e.description));
}

describe('client registration rules', () => {
  it('completes a public app with defaults: auth method none, authorization_code, 5-minute tokens, active', () => {
    const s = validateClientInput(app);
    assert.equal(s.authMethod, 'none');
    assert.deepEqual(s.grantTypes, ['authorization_code']);
    assert.equal(s.accessTokenLifetime, 300);
    assert.equal(s.status, 'active');
  });

  it('redirect URIs: required, absolute, https (http only on loopback), no fragment, no wildcard', () => {
    rejects({ ...app, redirectUris: [] }, 'invalid_redirect_uri', /at least one/);
    rejects({ ...app, redirectUris: ['/callback'] }, 'invalid_redirect_uri', /not an absolute URL/);
    rejects({ ...app, redirectUris: ['http://app.example/cb'] }, 'invalid_redirect_uri', /https/);
    rejects({ ...app, redirectUris: ['https://app.example/cb#x'] }, 'invalid_redirect_uri', /fragment/);
    rejects({ ...app, redirectUris: ['https://*.example/cb'] }, 'invalid_redirect_uri', /wildcards/);
    rejects({ ...app, redirectUris: ['javascript:alert(1)'] }, 'invalid_redirect_uri', /https/);
    assert.doesNotThrow(() => validateClientInput({ ...app, redirectUris: ['http://127.0.0.1:9000/cb', 'http://localhost/cb', 'http://[::1]:8/cb'] }));
  });

  it('auth methods and grant types must fit the client type', () => {
    rejects({ ...app, authMethod: 'client_secret_basic' }, 'invalid_client_metadata', /does not fit a public client/);
    rejects({ ...app, grantTypes: ['client_credentials'] }, 'invalid_client_metadata', /client_credentials is not allowed/);
    rejects({ name: 'Batch', type: 'backend-service', jwks: { keys: [ecKey] }, grantTypes: ['authorization_code'] }, 'invalid_client_metadata', /not allowed for a backend-service/);
    assert.equal(validateClientInput({ ...app, type: 'confidential-symmetric', authMethod: 'client_secret_post' }).authMethod, 'client_secret_post');
  });

  it('asymmetric clients register exactly one of jwks and jwks_uri, with public keys of an accepted algorithm', () => {
    const backend: ClientInput = { name: 'Analytics', type: 'backend-service' };
    rejects(backend, 'invalid_client_metadata', /exactly one of jwks and jwks_uri/);
    rejects({ ...backend, jwks: { keys: [ecKey] }, jwksUri: 'https://a.example/jwks' }, 'invalid_client_metadata', /exactly one/);
    rejects({ ...backend, jwks: { keys: [{ ...ecKey, d: 'secret' }] } }, 'invalid_client_metadata', /public keys only/);
    rejects({ ...backend, jwks: { keys: [{ ...ecKey, alg: 'HS256' }] } }, 'invalid_client_metadata', /not one of/);
    rejects({ ...backend, jwks: { keys: [{ ...ecKey, kid: undefined }] } }, 'invalid_client_metadata', /kid/);
    rejects({ ...backend, jwksUri: 'http://keys.example/jwks' }, 'invalid_client_metadata', /https/);
    rejects({ ...backend, redirectUris: ['https://a.example/cb'], jwks: { keys: [ecKey] } }, 'invalid_redirect_uri', /backend service has no redirect/);
    const s = validateClientInput({ ...backend, jwks: { keys: [ecKey] } });
    assert.deepEqual(s.grantTypes, ['client_credentials']);
    assert.equal(s.authMethod, 'private_key_jwt');
    rejects({ ...app, jwks: { keys: [ecKey] } }, 'invalid_client_metadata', /does not register keys/);
  });

  it('CORS origins are bare origins; lifetimes are bounded', () => {
    assert.deepEqual(validateClientInput({ ...app, corsOrigins: ['https://app.example/'] }).corsOrigins, ['https://app.example']);
    rejects({ ...app, corsOrigins: ['https://app.example/path'] }, 'invalid_client_metadata', /must be an origin/);
    rejects({ ...app, accessTokenLifetime: 10 }, 'invalid_client_metadata', /access token lifetime/);
    rejects({ ...app, name: ' ' }, 'invalid_client_metadata', /name is required/);
  });
});
