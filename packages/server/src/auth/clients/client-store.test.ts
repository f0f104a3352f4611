// Clients in the database: secrets shown once and stored only as scrypt hashes; status changes; secret rotation.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabase } from '../../test-support/database.ts';
import type { Database } from '../../store/database.ts';
import { OAuthError } from '../oauth-errors.ts';
import { verifySecret } from '../secret-hash.ts';
import { clientSecretHash, getClient, listClients, registerClient, rotateClientSecret, setClientStatus, updateClient } from './client-store.ts';

let db: Database;
before(async () => {
  db = await testDatabase();
});

describe('client store', () => {
  it('a confidential-symmetric client gets a secret once; only its scrypt hash is stored', async () => {
    const { client, secret } = await registerClient(db, { name: 'Chart review', type: 'confidential-symmetric', redirectUris: ['https://cr.example/cb'], scopes: ['launch', 'patient/*.rs'] });
    assert.ok(secret && secret.length >= 43);
    assert.equal(client.hasSecret, true);
    assert.deepEqual(client.scopes, ['launch', 'patient/*.rs']);
    const hash = (await clientSecretHash(db, client.clientId))!;
    assert.match(hash, /^scrypt\$16384\$8\$1\$/);
    assert.ok(!hash.includes(secret!));
    assert.equal(await verifySecret(secret!, hash), true);
    assert.equal(await verifySecret(`${secret}x`, hash), false);
    assert.equal(JSON.stringify(await getClient(db, client.clientId)).includes(secret!), false, 'the secret is never read back');
  });

  it('rotating a secret invalidates the old one at once', async () => {
    const { client, secret } = await registerClient(db, { name: 'Rotate me', type: 'confidential-symmetric', redirectUris: ['https://r.example/cb'] });
    const fresh = await rotateClientSecret(db, client.clientId);
    const hash = (await clientSecretHash(db, client.clientId))!;
    assert.equal(await verifySecret(secret!, hash), false);
    assert.equal(await verifySecret(fresh, hash), true);
    const pub = await registerClient(db, { name: 'Public', type: 'public', redirectUris: ['https://p.example/cb'] });
    assert.equal(pub.secret, undefined);
    await assert.rejects(rotateClientSecret(db, pub.client.clientId), (e: unknown) => e instanceof OAuthError && e.code === 'invalid_client');
  });

  it('stores a backend service with its JWKS, lists and suspends clients', async () => {
    const key = { kty: 'EC', crv: 'P-384', x: 'x', y: 'y', kid: 'k1', alg: 'ES384' };
    const { client } = await registerClient(db, { name: 'Population analytics', type: 'backend-service', jwks: { keys: [key] }, scopes: ['system/*.rs'] });
    assert.deepEqual(client.jwks, { keys: [key] });
    assert.deepEqual(client.grantTypes, ['client_credentials']);
    assert.equal((await setClientStatus(db, client.clientId, 'suspended')).status, 'suspended');
    assert.ok((await listClients(db)).some((c) => c.clientId === client.clientId && c.status === 'suspended'));
    await assert.rejects(setClientStatus(db, 'nope', 'active'), (e: unknown) => e instanceof OAuthError && e.status === 404);
  });

  it('update re-validates the whole client and keeps its type', async () => {
    const { client } = await registerClient(db, { name: 'Editable', type: 'public', redirectUris: ['https://e.example/cb'] });
    const updated = await updateClient(db, client.clientId, { name: 'Edited', redirectUris: ['https://e.example/cb2'], scopes: ['openid'] });
    assert.deepEqual([updated.name, updated.redirectUris, updated.scopes], ['Edited', ['https://e.example/cb2'], ['openid']]);
    await assert.rejects(updateClient(db, client.clientId, { redirectUris: ['http://e.example/cb'] }), (e: unknown) => e instanceof OAuthError && e.code === 'invalid_redirect_uri');
    await assert.rejects(updateClient(db, client.clientId, { type: 'backend-service' }), (e: unknown) => e instanceof OAuthError && /type cannot change/.test(e.description));
    assert.equal((await getClient(db, client.clientId))!.redirectUris[0], 'https://e.example/cb2');
  });

  it('invalid registrations store nothing', async () => {
    const before = (await listClients(db)).length;
    await assert.rejects(registerClient(db, { name: 'Bad', type: 'public', redirectUris: ['http://evil.example/cb'] }), (e: unknown) => e instanceof OAuthError && e.code === 'invalid_redirect_uri');
    assert.equal((await listClients(db)).length, before);
  });
});
