// Signature verification of a client assertion (a compact JWS, RFC 7515 §7.1) against a client's registered JWK Set.
//
// RS256, RS384 and ES256 signatures are checked with node:crypto's `verify` on the thread pool (./pooled-crypto.ts),
// not through jose: jose 6 verifies through WebCrypto, whose hand-off to libuv's thread pool and back cost the token
// endpoint about 0.15 ms of main-thread time per token on 2 cores (docs/benchmarks.md, 2026-12-05). ES384 stays on
// jose (a P-384 verification takes about 0.7 ms, so the hand-off matters less), and so does a key set fetched from a
// `jwks_uri` (its remote key set refetches on an unknown `kid`). Either way the JWS is checked the same way: its `alg`
// is one of the accepted ones, no `crit` extension (RFC 7515 §4.1.11: none is understood here), and a key that fits
// the `alg`.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { compactVerify, errors, type JWTVerifyGetKey, type ProtectedHeaderParameters } from 'jose';
import { verifyPooled } from './pooled-crypto.ts';

/** A registered public key, imported once. */
export interface PreparedKey {
  kid?: string;
  alg?: string;
  use?: string;
  kty: string;
  crv?: string;
  key: KeyObject;
}

type Jwk = { kid?: unknown; alg?: unknown; use?: unknown; kty?: unknown; crv?: unknown };

/** Imports the keys of a registered JWK Set (those node:crypto can import; registration only accepts RSA and EC). */
export function prepareKeys(jwks: { keys: readonly Jwk[] }): PreparedKey[] {
  const out: PreparedKey[] = [];
  for (const jwk of jwks.keys) {
    let key: KeyObject;
    try {
      key = createPublicKey({ key: jwk as never, format: 'jwk' });
    } catch {
      continue; // not a usable public key: it can verify nothing
    }
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    out.push({ kid: str(jwk.kid), alg: str(jwk.alg), use: str(jwk.use), kty: String(jwk.kty), crv: str(jwk.crv), key });
  }
  return out;
}

/** RFC 7518 §3.1: what each accepted algorithm needs of a key, and how node:crypto checks it (ES384: see above). */
const SYNC_ALGS: Record<string, { hash: string; kty: 'RSA' | 'EC'; crv?: string }> = {
  RS256: { hash: 'sha256', kty: 'RSA' },
  RS384: { hash: 'sha384', kty: 'RSA' },
  ES256: { hash: 'sha256', kty: 'EC', crv: 'P-256' },
};

export class JwsRefused extends Error {}

/**
 * Whether the JWS is signed by one of the client's keys: true if so, false when no registered key fits its header or
 * the signature matches none (the caller may read the client's keys again). Throws JwsRefused for a JWS that no key
 * could make acceptable, and jose's errors from the jose path.
 */
export async function verifyJwsSignature(jws: string, header: ProtectedHeaderParameters, algorithms: readonly string[], keys: { prepared?: PreparedKey[]; getKey: JWTVerifyGetKey }): Promise<boolean> {
  const alg = String(header.alg);
  if (!algorithms.includes(alg)) throw new JwsRefused(`alg ${alg} is not accepted`);
  if (header.crit !== undefined) throw new JwsRefused('a crit header parameter is not understood here');
  const sync = SYNC_ALGS[alg];
  if (!sync || !keys.prepared) {
    try {
      await compactVerify(jws, keys.getKey, { algorithms: [...algorithms] });
      return true;
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWSSignatureVerificationFailed) return false;
      throw err;
    }
  }
  const dot = jws.lastIndexOf('.');
  const encoded = jws.slice(dot + 1);
  if (!BASE64URL.test(encoded)) throw new JwsRefused('the signature is not base64url');
  const data = Buffer.from(jws.slice(0, dot));
  const signature = Buffer.from(encoded, 'base64url');
  for (const k of keys.prepared) {
    if (fits(k, alg, header.kid, sync) && (await verifies(sync, data, k.key, signature))) return true;
  }
  return false;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

function verifies(alg: { hash: string; kty: string }, data: Buffer, key: KeyObject, signature: Buffer): Promise<boolean> {
  // RFC 7518 §3.4: an ECDSA signature is r || s (IEEE P1363), not DER.
  return verifyPooled(alg.hash, data, alg.kty === 'EC' ? { key, dsaEncoding: 'ieee-p1363' } : key, signature);
}

/** A key may verify the JWS: same `kid` when the header names one, the algorithm's key type and curve, a signing key. */
function fits(k: PreparedKey, alg: string, kid: string | undefined, need: { kty: string; crv?: string }): boolean {
  if (kid !== undefined && k.kid !== kid) return false;
  if (k.kty !== need.kty || (need.crv !== undefined && k.crv !== need.crv)) return false;
  if ((k.alg !== undefined && k.alg !== alg) || (k.use !== undefined && k.use !== 'sig')) return false;
  // RFC 7518 §3.3: RSA keys of at least 2048 bits (jose refuses smaller ones too).
  return k.kty !== 'RSA' || (k.key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048;
}
