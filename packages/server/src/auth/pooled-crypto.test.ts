import assert from 'node:assert/strict';
import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { signPooled, verifyPooled } from './pooled-crypto.ts';

describe('pooled-crypto', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const data = Buffer.from('header.payload');
  const p1363 = { dsaEncoding: 'ieee-p1363' as const };

  it('signs on the thread pool what node:crypto verifies, and verifies it back', async () => {
    const es = await signPooled('sha256', data, { key: ec.privateKey, ...p1363 });
    assert.equal(es.length, 64, 'an ES256 signature is r || s, 32 bytes each');
    assert.equal(verify('sha256', data, { key: ec.publicKey, ...p1363 }, es), true);
    assert.equal(await verifyPooled('sha256', data, { key: ec.publicKey, ...p1363 }, es), true);
    const rs = await signPooled('sha384', data, rsa.privateKey);
    assert.equal(await verifyPooled('sha384', data, rsa.publicKey, rs), true);
  });

  it('refuses a signature of other data, by another key, or of the wrong shape, without throwing', async () => {
    const rs = await signPooled('sha384', data, rsa.privateKey);
    assert.equal(await verifyPooled('sha384', Buffer.from('header.other'), rsa.publicKey, rs), false);
    assert.equal(await verifyPooled('sha384', data, generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey, rs), false);
    assert.equal(await verifyPooled('sha256', data, { key: ec.publicKey, ...p1363 }, Buffer.alloc(63)), false);
    assert.equal(await verifyPooled('sha256', data, { key: ec.publicKey, ...p1363 }, Buffer.alloc(0)), false);
    assert.equal(await verifyPooled('sha384', data, rsa.publicKey, Buffer.from('short')), false);
  });

  it('rejects signing with a key that cannot sign', async () => {
    await assert.rejects(signPooled('sha256', data, ec.publicKey as never));
  });
});
