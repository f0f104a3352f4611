// Signing keys: generated once (also when instances start together), published without private parts,
// rotated with an overlap during which tokens signed by the previous key still verify.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, importJWK, jwtVerify, SignJWT } from 'jose';
import { testDatabase } from '../test-support/database.ts';
import { testApp, type TestApp } from '../test-support/app.ts';
import type { Database } from '../store/database.ts';
import { currentSigningKeys, ensureSigningKeys, pruneRetiredKeys, publicJwks, rotateSigningKeys } from './signing-keys.ts';

let db: Database;
let t: TestApp;
before(async () => {
  db = await testDatabase();
  t = await testApp(db); // builds the app, which creates the keys on start
});

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'];

async function sign(alg: 'RS256' | 'ES256', at: Date) {
  const key = (await currentSigningKeys(db, at)).find((k) => k.alg === alg && k.status === 'active')!;
  const jwt = await new SignJWT({ scope: 'patient/*.rs' }).setProtectedHeader({ alg, kid: key.kid }).setIssuedAt().setExpirationTime('5m').sign(await importJWK(key.privateJwk, alg));
  return { jwt, kid: key.kid };
}

describe('signing keys', () => {
  it('the first start creates one active RS256 and one ES256 key; starting again (even concurrently) adds none', async () => {
    await Promise.all([ensureSigningKeys(db), ensureSigningKeys(db), ensureSigningKeys(db)]);
    const keys = await currentSigningKeys(db);
    assert.deepEqual(keys.map((k) => `${k.alg}:${k.status}`).sort(), ['ES256:active', 'RS256:active']);
  });

  it('GET /.well-known/jwks.json publishes the public keys with kid, alg and use, and no private members', async () => {
    const res = await t.request('GET', '/.well-known/jwks.json');
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^application\/jwk-set\+json/);
    const keys = res.json.keys as Record<string, string>[];
    assert.deepEqual(keys.map((k) => k.alg).sort(), ['ES256', 'RS256']);
    for (const k of keys) {
      assert.equal(k.use, 'sig');
      assert.match(k.kid, /^[A-Za-z0-9_-]{43}$/, 'RFC 7638 thumbprint');
      for (const m of PRIVATE_MEMBERS) assert.equal(k[m], undefined, `no private member ${m}`);
    }
  });

  it('rotation: new keys sign at once, tokens of the previous keys verify until the overlap ends, then the old keys go', async () => {
    const t0 = new Date();
    const old = await sign('ES256', t0);
    const kids = await rotateSigningKeys(db, 600, t0);
    assert.equal(kids.length, 2);
    assert.ok(!kids.includes(old.kid));

    const during = new Date(t0.getTime() + 599_000);
    const fresh = await sign('ES256', during);
    assert.notEqual(fresh.kid, old.kid);
    const jwksDuring = createLocalJWKSet(await publicJwks(db, during));
    await jwtVerify(old.jwt, jwksDuring); // still accepted during the overlap
    await jwtVerify(fresh.jwt, jwksDuring);
    assert.equal((await publicJwks(db, during)).keys.length, 4);

    const after = new Date(t0.getTime() + 601_000);
    const jwksAfter = createLocalJWKSet(await publicJwks(db, after));
    await assert.rejects(jwtVerify(old.jwt, jwksAfter), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
    await jwtVerify(fresh.jwt, jwksAfter);
    assert.equal(await pruneRetiredKeys(db, after), 2);
    assert.deepEqual((await currentSigningKeys(db, after)).map((k) => k.status), ['active', 'active']);
  });

  it('refuses a negative or fractional overlap', async () => {
    await assert.rejects(rotateSigningKeys(db, -1), TypeError);
    await assert.rejects(rotateSigningKeys(db, 1.5), TypeError);
  });
});
