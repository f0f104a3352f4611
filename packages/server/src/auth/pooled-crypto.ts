// node:crypto's `sign` and `verify` in their callback form, as promises: OpenSSL does the work on libuv's thread pool
// while the event loop serves other requests. The hand-off costs about 5–7 µs of main-thread time, where an ES256
// signature or an RS384 verification on the event loop costs 22–26 µs (docs/benchmarks.md, 2026-12-06): on the token
// endpoint, whose main thread is its bottleneck, that is the difference. (jose's WebCrypto path also runs on the
// thread pool, but its hand-off costs more than the signature itself.)
import { sign, verify, type KeyLike, type SignKeyObjectInput, type SignPrivateKeyInput, type VerifyKeyObjectInput, type VerifyPublicKeyInput } from 'node:crypto';

export function signPooled(hash: string, data: Buffer, key: KeyLike | SignKeyObjectInput | SignPrivateKeyInput): Promise<Buffer> {
  return new Promise((resolve, reject) => sign(hash, data, key, (err, signature) => (err ? reject(err) : resolve(signature))));
}

/** Whether `signature` is valid; false (not an error) for a signature OpenSSL cannot even parse, e.g. of the wrong length. */
export function verifyPooled(hash: string, data: Buffer, key: KeyLike | VerifyKeyObjectInput | VerifyPublicKeyInput, signature: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      verify(hash, data, key, signature, (err, ok) => resolve(!err && ok));
    } catch {
      resolve(false);
    }
  });
}
