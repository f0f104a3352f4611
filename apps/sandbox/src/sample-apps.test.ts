// `npm start`'s registration of the sample apps, through a real Firekeeper's admin API: the first start registers
// them, a later one (perhaps on other ports) updates the same registrations and never adds a second; the
// point-of-care app gets a working secret each time; the analytics app's key is kept and works.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importJWK, type JWK } from 'jose';
import { BackendServicesClient } from '@firekeeper/client';
import { listeningApp, type ListeningApp } from '../../../packages/server/src/test-support/listening-app.ts';
import { SANDBOX_ADMIN_TOKEN } from '../../../packages/server/src/config.ts';
import { listClients } from '../../../packages/server/src/auth/clients/client-store.ts';
import { POINT_OF_CARE, POPULATION_ANALYTICS, registerPointOfCare, registerPopulationAnalytics } from './sample-apps.ts';

let fk: ListeningApp;
const keyFile = join(mkdtempSync(join(tmpdir(), 'sample-apps-')), 'sample-apps', 'analytics.key.json');
before(async () => {
  fk = await listeningApp();
});
const api = () => ({ baseUrl: fk.base, adminToken: SANDBOX_ADMIN_TOKEN });

/** Whether `secret` authenticates the client at the token endpoint (a wrong secret is invalid_client; a right one gets further). */
async function secretWorks(clientId: string, secret: string): Promise<boolean> {
  const res = await fetch(`${fk.base}/auth/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
    body: 'grant_type=authorization_code&code=nope&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcallback&code_verifier=' + 'v'.repeat(43),
  });
  return ((await res.json()) as { error: string }).error !== 'invalid_client';
}

describe('sample-app registration', () => {
  it('registers the point-of-care app once; a restart moves its URLs and rotates its secret', async () => {
    const first = await registerPointOfCare(api(), 'http://127.0.0.1:8090');
    const second = await registerPointOfCare(api(), 'http://127.0.0.1:9090');
    assert.equal(second.clientId, first.clientId);
    const mine = (await listClients(fk.db)).filter((c) => c.name === POINT_OF_CARE);
    assert.equal(mine.length, 1);
    assert.deepEqual([mine[0]!.redirectUris, mine[0]!.launchUrl, mine[0]!.type], [['http://127.0.0.1:9090/callback'], 'http://127.0.0.1:9090/launch', 'confidential-symmetric']);
    assert.ok(mine[0]!.scopes.includes('launch') && mine[0]!.scopes.includes('launch/patient'), 'launchable from the EHR and the portal');
    assert.equal(await secretWorks(first.clientId, second.clientSecret), true);
    assert.equal(await secretWorks(first.clientId, first.clientSecret), false, 'the old secret was replaced');
  });

  it('registers the analytics backend service with a key it keeps (owner-only file), reused on the next start', async () => {
    const first = await registerPopulationAnalytics(api(), keyFile);
    const jwk = JSON.parse(readFileSync(keyFile, 'utf8')) as JWK;
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const second = await registerPopulationAnalytics(api(), keyFile);
    assert.equal(second.clientId, first.clientId);
    assert.deepEqual(JSON.parse(readFileSync(keyFile, 'utf8')), jwk, 'the same key');
    assert.equal((await listClients(fk.db)).filter((c) => c.name === POPULATION_ANALYTICS).length, 1);
    const tokens = new BackendServicesClient({ iss: fk.fhirBase, clientId: first.clientId, privateKey: (await importJWK(jwk, 'ES384')) as CryptoKey, alg: 'ES384', kid: jwk.kid, scope: 'system/Patient.rs' });
    assert.ok(await tokens.accessToken());
  });

  it('a wrong admin token is refused with the admin API’s error, and nothing is registered', async () => {
    const before = (await listClients(fk.db)).length;
    await assert.rejects(registerPointOfCare({ baseUrl: fk.base, adminToken: 'wrong-token' }, 'http://127.0.0.1:8090'), /admin API GET \/clients: HTTP 401/);
    assert.equal((await listClients(fk.db)).length, before);
  });
});
