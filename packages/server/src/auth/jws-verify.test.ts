// Client assertion signatures: node:crypto for RS256, RS384 and ES256, jose for ES384 and remote key sets; the
// same answer either way, and no key accepted that does not fit the JWS.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { createLocalJWKSet, SignJWT, type JWK } from 'jose';
import { JwsRefused, prepareKeys, verifyJwsSignature } from './jws-verify.ts';

const ALGS = ['RS384', 'ES384', 'RS256', 'ES256'];

function keyPair(alg: string, opts: { kid?: string; modulusLength?: number } = {}) {
  const { publicKey, privateKey } = alg.startsWith('RS')
    ? generateKeyPairSync('rsa', { modulusLength: opts.modulusLength ?? 2048 })
    : generateKeyPairSync('ec', { namedCurve: alg === 'ES256' ? 'P-256' : 'P-384' });
  return { privateKey, jwk: { ...(publicKey.export({ format: 'jwk' }) as JWK), kid: opts.kid ?? `${alg}-1`, alg } };
}

async function sign(alg: string, privateKey: Parameters<SignJWT['sign']>[0], header: Record<string, unknown> = {}) {
  return new SignJWT({ jti: 'j' }).setProtectedHeader({ alg, kid: `${alg}-1`, ...header }).setIssuer('c').setExpirationTime('1m').sign(privateKey);
}

function keysOf(...jwks: JWK[]) {
  const set = { keys: jwks };
  return { prepared: prepareKeys(set as never), getKey: createLocalJWKSet(set as never) };
}

const headerOf = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString()) as { alg: string; kid?: string };

describe('verifyJwsSignature', () => {
  for (const alg of ALGS) {
    it(`${alg}: accepts the client's signature, refuses another key's and a tampered payload`, async () => {
      const mine = keyPair(alg);
      const other = keyPair(alg);
      const keys = keysOf(mine.jwk);
      const jws = await sign(alg, mine.privateKey);
      assert.equal(await verifyJwsSignature(jws, headerOf(jws), ALGS, keys), true);
      const forged = await sign(alg, other.privateKey);
      assert.equal(await verifyJwsSignature(forged, headerOf(forged), ALGS, keys), false);
      const [h, , s] = jws.split('.');
      const tampered = `${h}.${Buffer.from(JSON.stringify({ jti: 'j', iss: 'd' })).toString('base64url')}.${s}`;
      assert.equal(await verifyJwsSignature(tampered, headerOf(tampered), ALGS, keys), false);
    });
  }

  it('uses only a key that fits: the kid named, the key type and curve, its alg and use', async () => {
    const es256 = keyPair('ES256');
    const jws = await sign('ES256', es256.privateKey);
    const header = headerOf(jws);
    const verifyWith = (jwk: JWK) => verifyJwsSignature(jws, header, ALGS, keysOf(jwk));
    assert.equal(await verifyWith({ ...es256.jwk, kid: 'another' }), false, 'another kid');
    assert.equal(await verifyWith({ ...es256.jwk, alg: 'ES384' }), false, 'registered for another alg');
    assert.equal(await verifyWith({ ...es256.jwk, use: 'enc' }), false, 'an encryption key');
    const p384 = keyPair('ES384', { kid: 'ES256-1' });
    assert.equal(await verifyWith({ ...p384.jwk, alg: undefined }), false, 'another curve');
    // Without a kid in the header, every fitting key is tried.
    const noKid = await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).sign(es256.privateKey);
    assert.equal(await verifyJwsSignature(noKid, headerOf(noKid), ALGS, keysOf(keyPair('ES256', { kid: 'x' }).jwk, { ...es256.jwk, kid: 'y' })), true);
  });

  it('skips a registered key node:crypto cannot import, and still verifies with the others', async () => {
    const es = keyPair('ES256');
    const jws = await sign('ES256', es.privateKey);
    const keys = keysOf({ kty: 'EC', crv: 'P-256', kid: 'ES256-1', x: 'not-a-point', y: 'nope' }, es.jwk);
    assert.equal(keys.prepared.length, 1, 'the broken key is left out');
    assert.equal(await verifyJwsSignature(jws, headerOf(jws), ALGS, keys), true);
  });

  it('refuses RSA keys under 2048 bits, as jose does', async () => {
    const small = keyPair('RS256', { modulusLength: 1024 });
    // jose will not sign with such a key: the JWS is built by hand.
    const data = `${Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'RS256-1' })).toString('base64url')}.${Buffer.from('{}').toString('base64url')}`;
    const jws = `${data}.${cryptoSign('sha256', Buffer.from(data), small.privateKey).toString('base64url')}`;
    assert.equal(await verifyJwsSignature(jws, headerOf(jws), ALGS, keysOf(small.jwk)), false);
    const big = keyPair('RS256');
    const ok = `${data}.${cryptoSign('sha256', Buffer.from(data), big.privateKey).toString('base64url')}`;
    assert.equal(await verifyJwsSignature(ok, headerOf(ok), ALGS, keysOf(big.jwk)), true, 'the same JWS by a 2048-bit key');
  });

  it('refuses an alg not accepted, a crit header, and a signature that is not base64url', async () => {
    const rs = keyPair('RS384');
    const jws = await sign('RS384', rs.privateKey);
    const keys = keysOf(rs.jwk);
    await assert.rejects(verifyJwsSignature(jws, headerOf(jws), ['ES384'], keys), JwsRefused);
    await assert.rejects(verifyJwsSignature(jws, { ...headerOf(jws), crit: ['exp'] }, ALGS, keys), /crit/);
    await assert.rejects(verifyJwsSignature(`${jws}!`, headerOf(jws), ALGS, keys), /base64url/);
    const es = keyPair('ES256');
    const short = (await sign('ES256', es.privateKey)).replace(/\.[^.]+$/, '.AAAA');
    assert.equal(await verifyJwsSignature(short, headerOf(short), ALGS, keysOf(es.jwk)), false, 'an ECDSA signature of the wrong length');
  });
});
