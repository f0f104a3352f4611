// The signing keys of this instance, imported once and refreshed from the database: signing picks the active key
// of an algorithm; verification finds a key by `kid`, reloading (at most once a second) when a kid is unknown, so a
// rotation done on another instance is picked up without a restart.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { importJWK, type CryptoKey, type JWK, type JWTHeaderParameters } from 'jose';
import type { Queryable } from '../store/database.ts';
import { currentSigningKeys, type SigningAlgorithm } from './signing-keys.ts';

interface LoadedKey {
  kid: string;
  alg: SigningAlgorithm;
  status: 'active' | 'retiring';
  retireAt: number | null;
  publicKey: CryptoKey | Uint8Array;
  privateKey: CryptoKey | Uint8Array;
  /** The private key for node:crypto's synchronous `sign` (access tokens: see access-token.ts). */
  privateKeyObject: KeyObject;
  publicJwk: JWK;
}

const REFRESH_MS = 5_000;
const RELOAD_ON_MISS_MS = 1_000;

export class KeyRing {
  #keys: LoadedKey[] = [];
  #loadedAt = 0;
  #loading: Promise<void> | undefined;

  constructor(private readonly db: Queryable) {}

  /** The active key for `alg`, for signing. */
  async signingKey(alg: SigningAlgorithm): Promise<{ kid: string; key: CryptoKey | Uint8Array; keyObject: KeyObject }> {
    if (Date.now() - this.#loadedAt > REFRESH_MS) await this.reload();
    const key = this.#keys.find((k) => k.alg === alg && k.status === 'active');
    if (!key) throw new Error(`no active ${alg} signing key`); // ensureSigningKeys runs at start-up
    return { kid: key.kid, key: key.privateKey, keyObject: key.privateKeyObject };
  }

  /** The public key a JWS header names, if it is one of ours and still valid; for `jwtVerify`. */
  readonly verificationKey = async (header: JWTHeaderParameters): Promise<CryptoKey | Uint8Array> => {
    let key = this.#find(header);
    if (!key && Date.now() - this.#loadedAt > RELOAD_ON_MISS_MS) {
      await this.reload();
      key = this.#find(header);
    }
    if (!key) throw new UnknownKeyError();
    return key.publicKey;
  };

  /** The current public keys (for id_token verification by this server's own components). */
  async publicJwks(): Promise<JWK[]> {
    if (Date.now() - this.#loadedAt > REFRESH_MS) await this.reload();
    return this.#keys.map((k) => k.publicJwk);
  }

  reload(): Promise<void> {
    this.#loading ??= this.#load().finally(() => (this.#loading = undefined));
    return this.#loading;
  }

  #find(header: JWTHeaderParameters): LoadedKey | undefined {
    const now = Date.now();
    return this.#keys.find((k) => k.kid === header.kid && k.alg === header.alg && (k.retireAt === null || k.retireAt > now));
  }

  async #load(): Promise<void> {
    const rows = await currentSigningKeys(this.db);
    const previous = new Map(this.#keys.map((k) => [k.kid, k]));
    this.#keys = await Promise.all(rows.map(async (r) => {
      const known = previous.get(r.kid);
      const retireAt = r.retireAt ? Date.parse(r.retireAt) : null;
      if (known) return { ...known, status: r.status, retireAt };
      return {
        kid: r.kid, alg: r.alg, status: r.status, retireAt, publicJwk: r.publicJwk,
        publicKey: await importJWK(r.publicJwk, r.alg), privateKey: await importJWK(r.privateJwk, r.alg),
        privateKeyObject: createPrivateKey({ key: r.privateJwk as never, format: 'jwk' }),
      };
    }));
    this.#loadedAt = Date.now();
  }
}

export class UnknownKeyError extends Error {
  constructor() {
    super('the token was not signed by a key of this server');
    this.name = 'UnknownKeyError';
  }
}
