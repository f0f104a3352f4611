// RFC 7591 §3 initial access tokens: issued by an administrator (admin API), presented by an app at the
// registration endpoint to be registered `active` at once. 256 random bits, base64url, shown once and stored only
// as a SHA-256 hash (a random 256-bit value needs no salt or slow hash). Each token registers one client.
import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../../store/database.ts';

export const DEFAULT_INITIAL_ACCESS_TOKEN_LIFETIME = 24 * 3600;
export const MAX_INITIAL_ACCESS_TOKEN_LIFETIME = 30 * 24 * 3600;
export const MIN_INITIAL_ACCESS_TOKEN_LIFETIME = 60;

export interface IssuedInitialAccessToken {
  token: string;
  expiresAt: string;
}

const hash = (token: string) => createHash('sha256').update(token).digest('base64url');

export async function issueInitialAccessToken(
  q: Queryable, opts: { expiresInSeconds?: number; description?: string } = {}, now = new Date(),
): Promise<IssuedInitialAccessToken> {
  const lifetime = opts.expiresInSeconds ?? DEFAULT_INITIAL_ACCESS_TOKEN_LIFETIME;
  if (!Number.isInteger(lifetime) || lifetime < MIN_INITIAL_ACCESS_TOKEN_LIFETIME || lifetime > MAX_INITIAL_ACCESS_TOKEN_LIFETIME) {
    throw new TypeError(`initial access token lifetime out of range: ${lifetime}`);
  }
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + lifetime * 1000).toISOString();
  await q.query(
    'INSERT INTO initial_access_tokens (token_hash, description, created_at, expires_at) VALUES ($1, $2, $3::timestamptz, $4::timestamptz)',
    [hash(token), opts.description ?? null, now.toISOString(), expiresAt],
  );
  return { token, expiresAt };
}

/**
 * Marks an unused, unexpired token as used and returns a function that records the client it registered; undefined
 * when the token is unknown, used or expired. Call it inside the transaction that registers the client, so a failed
 * registration leaves the token unused and two concurrent uses cannot both succeed.
 */
export async function claimInitialAccessToken(q: Queryable, token: string, now = new Date()): Promise<((clientId: string) => Promise<void>) | undefined> {
  const tokenHash = hash(token);
  const rows = await q.query(
    `UPDATE initial_access_tokens SET used_at = $2::timestamptz
      WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2::timestamptz RETURNING token_hash`,
    [tokenHash, now.toISOString()],
  );
  if (rows.length === 0) return undefined;
  return async (clientId) => {
    await q.query('UPDATE initial_access_tokens SET client_id = $2 WHERE token_hash = $1', [tokenHash, clientId]);
  };
}
