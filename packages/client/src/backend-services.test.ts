// The client against a real Firekeeper on loopback: discovery (and its clear failures), SMART Backend Services tokens
// (private_key_jwt with ES384 and RS384, cached, shared by concurrent callers, refused for a wrong key), and FHIR
// requests (read, paged search, create, If-Match update, delete; errors carry the status and the OperationOutcome;
// a 401 gets one fresh token).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import { listeningApp, type ListeningApp } from '../../server/src/test-support/listening-app.ts';
import { registerClient } from '../../server/src/auth/clients/client-store.ts';
import { BackendServicesClient, DiscoveryError, FhirClient, FhirError, TokenError, TransactionBuilder, discover, type TokenSource } from './index.ts';

let fk: ListeningApp;
let clientId = '';
let keys: Record<'ES384' | 'RS384', CryptoKeyPair>;

before(async () => {
  fk = await listeningApp();
  keys = { ES384: await generateKeyPair('ES384', { extractable: true }), RS384: await generateKeyPair('RS384', { extractable: true }) };
  const jwks = { keys: await Promise.all(Object.entries(keys).map(async ([alg, k]) => ({ ...(await exportJWK(k.publicKey)), kid: `k-${alg}`, alg, use: 'sig' }))) };
  clientId = (await registerClient(fk.db, { name: 'Client SDK test', type: 'backend-service', jwks, scopes: ['system/Patient.cruds', 'system/Observation.rs'] })).client.clientId;
});

/** A fetch that counts the token requests it passes on. */
function countingFetch(): { fetch: typeof fetch; tokenRequests: () => number } {
  let n = 0;
  return {
    fetch: (input, init) => {
      if (String(input).endsWith('/auth/token')) n++;
      return fetch(input, init);
    },
    tokenRequests: () => n,
  };
}

const backend = (alg: 'ES384' | 'RS384', o: { fetch?: typeof fetch; privateKey?: CryptoKey } = {}) => new BackendServicesClient({
  iss: fk.fhirBase, clientId, privateKey: o.privateKey ?? keys[alg].privateKey, alg, kid: `k-${alg}`, scope: 'system/Patient.cruds', fetch: o.fetch,
});

describe('discovery', () => {
  it('reads the SMART configuration from the FHIR base', async () => {
    const config = await discover(`${fk.fhirBase}/`);
    assert.equal(config.token_endpoint, `${fk.base}/auth/token`);
    assert.ok(config.capabilities?.includes('client-confidential-asymmetric'));
  });

  it('says clearly when a server has no SMART configuration, or a broken one', async () => {
    await assert.rejects(discover(`${fk.base}/not-fhir`), (err: unknown) => err instanceof DiscoveryError && err.status === 404 && /publishes no SMART configuration/.test(err.message));
    const other = createServer((req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(req.url?.includes('html') ? '<html></html>' : '{"issuer":"x"}'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(other.address() as { port: number }).port}`;
    try {
      await assert.rejects(discover(`${base}/html`), /is not JSON/);
      await assert.rejects(discover(`${base}/fhir`), /has no token_endpoint/);
      await assert.rejects(discover('http://127.0.0.1:9'), /cannot reach/);
    } finally {
      other.close();
    }
  });
});

describe('SMART Backend Services', () => {
  for (const alg of ['ES384', 'RS384'] as const) {
    it(`gets a token with a ${alg} client assertion, and reuses it until it is close to expiry`, async () => {
      const counter = countingFetch();
      const auth = backend(alg, { fetch: counter.fetch });
      const token = await auth.accessToken();
      assert.equal(token.split('.').length, 3);
      assert.equal(auth.grantedScope, 'system/Patient.cruds');
      assert.equal(await auth.accessToken(), token, 'cached');
      assert.equal(counter.tokenRequests(), 1);
      assert.notEqual(await auth.accessToken(true), token, 'forced: a new token');
      assert.equal(counter.tokenRequests(), 2);
    });
  }

  it('callers asking at the same time share one token request', async () => {
    const counter = countingFetch();
    const auth = backend('ES384', { fetch: counter.fetch });
    const tokens = await Promise.all(Array.from({ length: 5 }, () => auth.accessToken()));
    assert.equal(new Set(tokens).size, 1);
    assert.equal(counter.tokenRequests(), 1);
  });

  it('a key the app did not register is refused with the server’s error, and nothing is cached', async () => {
    const stranger = await generateKeyPair('ES384');
    const auth = backend('ES384', { privateKey: stranger.privateKey });
    await assert.rejects(auth.accessToken(), (err: unknown) => err instanceof TokenError && err.error === 'invalid_client' && err.status === 401);
    assert.equal(auth.grantedScope, undefined);
  });
});

describe('FHIR requests', () => {
  it('creates, reads, updates, patches and deletes with If-Match; a stale version is a 412 with its OperationOutcome', async () => {
    const fhir = new FhirClient(fk.fhirBase, backend('ES384'));
    const created = await fhir.create({ resourceType: 'Patient', name: [{ family: 'Sdk', given: ['Sam'] }] });
    assert.ok(created.id);
    assert.equal(created.meta?.versionId, '1');
    const read = await fhir.read('Patient', created.id!);
    assert.deepEqual(read.name, [{ family: 'Sdk', given: ['Sam'] }]);
    const updated = await fhir.update({ ...read, gender: 'male' }, { ifMatch: '1' });
    assert.equal(updated.meta?.versionId, '2');
    await assert.rejects(fhir.update({ ...read, gender: 'female' }, { ifMatch: '1' }), (err: unknown) =>
      err instanceof FhirError && err.status === 412 && err.outcome?.resourceType === 'OperationOutcome');
    // JSON Patch, with If-Match: the current version applies; a stale one is refused.
    const patched = await fhir.patch('Patient', created.id!, [{ op: 'replace', path: '/gender', value: 'other' }, { op: 'add', path: '/birthDate', value: '1990-02-03' }], { ifMatch: '2' });
    assert.deepEqual([patched.gender, patched.birthDate, patched.meta?.versionId], ['other', '1990-02-03', '3']);
    await assert.rejects(fhir.patch('Patient', created.id!, [{ op: 'remove', path: '/birthDate' }], { ifMatch: '2' }), (err: unknown) => err instanceof FhirError && err.status === 412);
    await assert.rejects(fhir.delete('Patient', created.id!, { ifMatch: '2' }), (err: unknown) => err instanceof FhirError && err.status === 412);
    await fhir.delete('Patient', created.id!, { ifMatch: '3' });
    await assert.rejects(fhir.read('Patient', created.id!), (err: unknown) => err instanceof FhirError && err.status === 410);
    await assert.rejects(fhir.read('Patient', 'no-such-patient'), (err: unknown) =>
      err instanceof FhirError && err.status === 404 && /Patient\/no-such-patient/.test(err.outcome?.issue[0]?.diagnostics ?? ''));
  });

  it('a search yields every match across pages (searchAll collects them)', async () => {
    const fhir = new FhirClient(fk.fhirBase, backend('ES384'));
    for (let i = 0; i < 5; i++) await fhir.create({ resourceType: 'Patient', name: [{ family: 'Paged', given: [`P${i}`] }] });
    const names: string[] = [];
    for await (const p of fhir.search('Patient', { family: 'Paged', _count: '2', _sort: 'given' })) names.push((p.name as { given: string[] }[])[0]!.given[0]!);
    assert.deepEqual(names, ['P0', 'P1', 'P2', 'P3', 'P4']);
    const all = await fhir.searchAll('Patient', { family: 'Paged', _count: '2', _sort: 'given' });
    assert.deepEqual(all.map((p) => p.name?.[0]?.given?.[0]), ['P0', 'P1', 'P2', 'P3', 'P4'], 'searchAll: the same, as one array');
  });

  it('a 401 gets one fresh token and one retry; a second 401 is the caller’s error', async () => {
    const real = backend('ES384');
    const calls: boolean[] = [];
    const flaky: TokenSource = { accessToken: async (force = false) => (calls.push(force), force ? real.accessToken(true) : 'not-a-token') };
    const patients = await new FhirClient(fk.fhirBase, flaky).search('Patient', { _count: '1' }).next();
    assert.equal(patients.done, false);
    assert.deepEqual(calls, [false, true]);
    const broken: TokenSource = { accessToken: async () => 'still-not-a-token' };
    await assert.rejects(new FhirClient(fk.fhirBase, broken).read('Patient', 'x'), (err: unknown) => err instanceof FhirError && err.status === 401);
  });

  it('a transaction creates resources that reference each other; a failing entry rolls the whole of it back', async () => {
    const fhir = new FhirClient(fk.fhirBase, backend('ES384'));
    const tx = new TransactionBuilder();
    const patientUrl = tx.create({ resourceType: 'Patient', name: [{ family: 'Tx' }] });
    tx.create({ resourceType: 'Patient', name: [{ family: 'Tx2' }], link: [{ other: { reference: patientUrl }, type: 'seealso' }] });
    const response = await fhir.transaction(tx.build());
    assert.equal(response.type, 'transaction-response');
    assert.deepEqual(response.entry?.map((e) => e.response?.status.slice(0, 3)), ['201', '201']);
    const [first, second] = response.entry!.map((e) => e.resource!);
    assert.equal((second!.link as { other: { reference: string } }[])[0]!.other.reference, `Patient/${first!.id}`, 'urn:uuid rewritten by the server');
    assert.equal((await fhir.resolve((second!.link as { other: { reference: string } }[])[0]!.other.reference))?.id, first!.id);

    const failing = new TransactionBuilder();
    failing.create({ resourceType: 'Patient', name: [{ family: 'Never' }] });
    failing.update({ ...first!, gender: 'other' }, { ifMatch: '99' });
    await assert.rejects(fhir.transaction(failing.build()), (err: unknown) => err instanceof FhirError && (err.status === 409 || err.status === 412) && err.outcome !== undefined);
    const never: unknown[] = [];
    for await (const p of fhir.search('Patient', { family: 'Never' })) never.push(p);
    assert.equal(never.length, 0, 'nothing of the failed transaction was kept');
  });

  it('resolves contained, bundle-local and server references', async () => {
    const fhir = new FhirClient(fk.fhirBase, backend('ES384'));
    const created = await fhir.create({ resourceType: 'Patient', name: [{ family: 'Resolve' }] });
    const obs = { resourceType: 'Observation', contained: [{ resourceType: 'Practitioner', id: 'p1', name: [{ family: 'Inline' }] }] };
    assert.equal((await fhir.resolve('#p1', { from: obs }))?.resourceType, 'Practitioner');
    assert.equal(await fhir.resolve('#nope', { from: obs }), undefined);
    const bundle = { entry: [{ fullUrl: 'urn:uuid:1234', resource: { resourceType: 'Encounter', id: 'e1' } }] };
    assert.equal((await fhir.resolve('urn:uuid:1234', { bundle }))?.id, 'e1');
    assert.equal((await fhir.resolve('Encounter/e1', { bundle }))?.id, 'e1', 'bundle first, no request');
    assert.equal(await fhir.resolve('urn:uuid:missing', { bundle }), undefined);
    assert.equal((await fhir.resolve(`Patient/${created.id}`))?.id, created.id);
    assert.equal((await fhir.resolve(`${fk.fhirBase}/Patient/${created.id}`))?.id, created.id, 'absolute under this server');
    await assert.rejects(fhir.resolve('https://elsewhere.example/fhir/Patient/1'), TypeError);
  });
});
