// The authorization server's signing keys: generated on first start, stored in the database so every instance
// signs and publishes the same keys, rotated with an overlap so no token is rejected while it is still valid.
// All key generation and JOSE work is done by `jose` (no hand-written cryptography).
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Database, Queryable } from '../store/database.ts';

/** RS256 signs id_tokens (OpenID Connect Core §15.1 requires it); ES256 signs access tokens. */
export const SIGNING_ALGORITHMS = ['RS256', 'ES256'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  publicJwk: JWK;
  privateJwk: JWK;
  status: 'active' | 'retiring';
  retireAt: string | null;
}

const LOCK_KEY = 7_250_932; // "firekeeper signing keys"

async function newKey(alg: SigningAlgorithm): Promise<{ kid: string; publicJwk: JWK; privateJwk: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk); // RFC 7638
  const meta = { kid, alg, use: 'sig' };
  return { kid, publicJwk: { ...publicJwk, ...meta }, privateJwk: { ...(await exportJWK(privateKey)), ...meta } };
}

async function insertActive(tx: Queryable, alg: SigningAlgorithm, now: Date): Promise<void> {
  const key = await newKey(alg);
  await tx.query(
    `INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk, status, created_at) VALUES ($1, $2, $3::jsonb, $4::jsonb, 'active', $5::timestamptz)`,
    [key.kid, alg, JSON.stringify(key.publicJwk), JSON.stringify(key.privateJwk), now.toISOString()],
  );
}

/** Creates an active key for every algorithm that has none. Safe when several instances start at once. */
export async function ensureSigningKeys(db: Database, now = new Date()): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    const active = new Set((await tx.query<{ alg: string }>(`SELECT alg FROM signing_keys WHERE status = 'active'`)).map((r) => r.alg));
    for (const alg of SIGNING_ALGORITHMS) if (!active.has(alg)) await insertActive(tx, alg, now);
  });
}

/**
 * Adds a new active key per algorithm; the previous active keys keep being published (and accepted) until
 * `now + overlapSeconds`, which must be at least the longest lifetime of a token they signed.
 */
export async function rotateSigningKeys(db: Database, overlapSeconds: number, now = new Date()): Promise<string[]> {
  if (!Number.isInteger(overlapSeconds) || overlapSeconds < 0) throw new TypeError('overlapSeconds must be a non-negative integer');
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    const retireAt = new Date(now.getTime() + overlapSeconds * 1000).toISOString();
    await tx.query(`UPDATE signing_keys SET status = 'retiring', retire_at = $1::timestamptz WHERE status = 'active'`, [retireAt]);
    for (const alg of SIGNING_ALGORITHMS) await insertActive(tx, alg, now);
    return (await tx.query<{ kid: string }>(`SELECT kid FROM signing_keys WHERE status = 'active' ORDER BY alg`)).map((r) => r.kid);
  });
}

/** Keys still in use at `now`: the active ones and the retiring ones whose overlap has not ended. Newest first. */
export async function currentSigningKeys(q: Queryable, now = new Date()): Promise<SigningKey[]> {
  const rows = await q.query<{ kid: string; alg: SigningAlgorithm; public_jwk: string; private_jwk: string; status: 'active' | 'retiring'; retire_at: string | null }>(
    `SELECT kid, alg, public_jwk::text AS public_jwk, private_jwk::text AS private_jwk, status,
            to_char(retire_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS retire_at
       FROM signing_keys WHERE status = 'active' OR retire_at > $1::timestamptz
      ORDER BY created_at DESC, alg`,
    [now.toISOString()],
  );
  return rows.map((r) => ({ kid: r.kid, alg: r.alg, publicJwk: JSON.parse(r.public_jwk) as JWK, privateJwk: JSON.parse(r.private_jwk) as JWK, status: r.status, retireAt: r.retire_at }));
}

/** The public JWK Set (RFC 7517 §5): only public members, each with `kid`, `alg` and `use`. */
export async function publicJwks(q: Queryable, now = new Date()): Promise<{ keys: JWK[] }> {
  return { keys: (await currentSigningKeys(q, now)).map((k) => k.publicJwk) };
}

/** Removes keys whose overlap ended (they are no longer published). */
export async function pruneRetiredKeys(db: Database, now = new Date()): Promise<number> {
  const rows = await db.query<{ kid: string }>(`DELETE FROM signing_keys WHERE status = 'retiring' AND retire_at <= $1::timestamptz RETURNING kid`, [now.toISOString()]);
  return rows.length;
}
