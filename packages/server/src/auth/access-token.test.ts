// Access tokens are signed by node:crypto (access-token.ts): what jose, and so every verifier, requires of a JWS.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { testDatabase } from '../test-support/database.ts';
import type { Database } from '../store/database.ts';
import { ensureSigningKeys } from './signing-keys.ts';
import { KeyRing } from './key-ring.ts';
import { issueAccessToken } from './access-token.ts';

let db: Database;
let keys: KeyRing;
before(async () => {
  db = await testDatabase();
  await ensureSigningKeys(db);
  keys = new KeyRing(db);
});

const ISSUER = 'https://ehr.example.org';
const claims = {
  issuer: ISSUER, audience: `${ISSUER}/fhir`, clientId: 'app-1', subject: 'user-7', scope: 'launch patient/*.rs', lifetimeSeconds: 300,
  context: { patient: 'p-1', fhirUser: `${ISSUER}/fhir/Practitioner/Ängström`, fhirContext: [{ reference: 'Encounter/e-1' }], need_patient_banner: true },
};

describe('access tokens', () => {
  it('verify with jose against the published keys: ES256, kid, typ at+jwt, and every claim as issued', async () => {
    const now = new Date('2026-12-05T12:00:00Z');
    const issued = await issueAccessToken(keys, claims, now);
    const jwks = createLocalJWKSet({ keys: await keys.publicJwks() });
    const { payload, protectedHeader } = await jwtVerify(issued.token, jwks, {
      issuer: ISSUER, audience: `${ISSUER}/fhir`, algorithms: ['ES256'], typ: 'at+jwt', currentDate: now,
    });
    const es256 = (await keys.publicJwks()).find((k) => k.alg === 'ES256')!;
    assert.equal(protectedHeader.kid, es256.kid);
    assert.deepEqual(payload, {
      ...claims.context, client_id: 'app-1', scope: 'launch patient/*.rs', iss: ISSUER, aud: `${ISSUER}/fhir`, sub: 'user-7',
      jti: issued.jti, iat: now.getTime() / 1000, exp: now.getTime() / 1000 + 300,
    });
    assert.equal(issued.expiresIn, 300);
    assert.equal(issued.expiresAt.getTime(), now.getTime() + 300_000);
  });

  it('the signature is the 64-byte r||s form (RFC 7518 §3.4), and covers the header and the claims', async () => {
    const { token } = await issueAccessToken(keys, claims);
    const [header, payload, signature] = token.split('.');
    assert.equal(Buffer.from(signature!, 'base64url').length, 64);
    assert.equal(decodeProtectedHeader(token).alg, 'ES256');
    const jwks = createLocalJWKSet({ keys: await keys.publicJwks() });
    const widened = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), scope: 'system/*.*' })).toString('base64url');
    await assert.rejects(jwtVerify(`${header}.${widened}.${signature}`, jwks), errors.JWSSignatureVerificationFailed);
  });

  it('every token has a jti of its own', async () => {
    const issued = await Promise.all([1, 2, 3].map(() => issueAccessToken(keys, claims)));
    assert.equal(new Set(issued.map((i) => i.jti)).size, 3);
  });
});
