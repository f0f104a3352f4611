// Grants and the credentials that come from them: authorization codes (single use, ~60 s), refresh tokens (rotated,
// with reuse detection) and the ids of the access tokens issued, so that revoking a grant revokes all of them.
// Codes and refresh tokens are random 256-bit values stored only as SHA-256 hashes.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Queryable } from '../store/database.ts';
import type { TokenContext } from './access-token.ts';
import type { RevocationList } from './revocation-list.ts';

export const CODE_LIFETIME_S = 60;

export interface Grant {
  id: string;
  clientId: string;
  userId: string;
  scope: string;
  context: TokenContext;
  sessionIdHash: string | null;
  revoked: boolean;
}

export interface RedeemedCode {
  grant: Grant;
  redirectUri: string;
  codeChallenge: string;
  nonce: string | null;
}

const hash = (token: string) => createHash('sha256').update(token).digest('base64url');
const newToken = () => randomBytes(32).toString('base64url');

const GRANT_COLUMNS = `g.id, g.client_id AS "clientId", g.user_id AS "userId", g.scope, g.context::text AS context,
  g.session_id AS "sessionIdHash", g.revoked_at IS NOT NULL AS revoked`;
type GrantRow = Omit<Grant, 'context'> & { context: string };
const toGrant = (r: GrantRow): Grant => ({ id: r.id, clientId: r.clientId, userId: r.userId, scope: r.scope, context: JSON.parse(r.context) as TokenContext, sessionIdHash: r.sessionIdHash, revoked: r.revoked });

export interface NewGrant {
  clientId: string;
  userId: string;
  scope: string;
  context: TokenContext;
  /** online_access: the refresh token lives only as long as this login session. */
  sessionIdHash?: string;
  redirectUri: string;
  codeChallenge: string;
  nonce?: string;
}

/** Creates a grant and its authorization code; returns the code (shown to the app once). */
export async function createGrantWithCode(q: Queryable, g: NewGrant, now = new Date()): Promise<string> {
  const code = newToken();
  await q.query(
    `WITH grant_row AS (
       INSERT INTO grants (id, client_id, user_id, scope, context, session_id, created_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::timestamptz) RETURNING id)
     INSERT INTO authorization_codes (code_hash, grant_id, client_id, redirect_uri, code_challenge, nonce, expires_at)
     SELECT $8, id, $2, $9, $10, $11, $7::timestamptz + make_interval(secs => $12) FROM grant_row`,
    [randomUUID(), g.clientId, g.userId, g.scope, JSON.stringify(g.context), g.sessionIdHash ?? null, now.toISOString(),
      hash(code), g.redirectUri, g.codeChallenge, g.nonce ?? null, CODE_LIFETIME_S],
  );
  return code;
}

/**
 * Marks a code used and returns its grant. A code presented a second time revokes the grant and everything issued
 * from it (RFC 6749 §4.1.2, RFC 9700 §4.5) and returns 'reused'; an unknown or expired code returns undefined.
 */
export async function redeemCode(q: Queryable, revocations: RevocationList, code: string, clientId: string): Promise<RedeemedCode | 'reused' | undefined> {
  const rows = await q.query<GrantRow & { redirectUri: string; codeChallenge: string; nonce: string | null; firstUse: boolean; live: boolean }>(
    `WITH c AS (SELECT * FROM authorization_codes WHERE code_hash = $1 AND client_id = $2 FOR UPDATE),
          used AS (UPDATE authorization_codes a SET used_at = now() FROM c WHERE a.code_hash = c.code_hash AND c.used_at IS NULL RETURNING a.code_hash)
     SELECT ${GRANT_COLUMNS}, c.redirect_uri AS "redirectUri", c.code_challenge AS "codeChallenge", c.nonce,
            EXISTS (SELECT 1 FROM used) AS "firstUse", c.expires_at > now() AS live
       FROM c JOIN grants g ON g.id = c.grant_id`,
    [hash(code), clientId],
  );
  return settleSingleUse(q, revocations, rows[0], (row) => ({ grant: toGrant(row), redirectUri: row.redirectUri, codeChallenge: row.codeChallenge, nonce: row.nonce }));
}

export async function issueRefreshToken(q: Queryable, grantId: string, scope: string, lifetimeSeconds: number, now = new Date()): Promise<string> {
  const token = newToken();
  await q.query(
    `INSERT INTO refresh_tokens (token_hash, grant_id, scope, created_at, expires_at) VALUES ($1, $2, $3, $4::timestamptz, $4::timestamptz + make_interval(secs => $5))`,
    [hash(token), grantId, scope, now.toISOString(), lifetimeSeconds],
  );
  return token;
}

export interface UsedRefreshToken {
  grant: Grant;
  scope: string;
}

/**
 * Rotates a refresh token: marks it used and returns its grant and scope. Presenting a used token again means it
 * was copied: the whole family (the grant) is revoked and 'reused' returned (RFC 9700 §4.14.2).
 */
export async function useRefreshToken(q: Queryable, revocations: RevocationList, token: string, clientId: string): Promise<UsedRefreshToken | 'reused' | undefined> {
  const rows = await q.query<GrantRow & { tokenScope: string; firstUse: boolean; live: boolean }>(
    `WITH t AS (SELECT r.* FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id WHERE r.token_hash = $1 AND g.client_id = $2 FOR UPDATE OF r),
          used AS (UPDATE refresh_tokens r SET used_at = now() FROM t WHERE r.token_hash = t.token_hash AND t.used_at IS NULL RETURNING r.token_hash)
     SELECT ${GRANT_COLUMNS}, t.scope AS "tokenScope", EXISTS (SELECT 1 FROM used) AS "firstUse", t.expires_at > now() AS live
       FROM t JOIN grants g ON g.id = t.grant_id`,
    [hash(token), clientId],
  );
  return settleSingleUse(q, revocations, rows[0], (row) => ({ grant: toGrant(row), scope: row.tokenScope }));
}

/**
 * The outcome of presenting a single-use credential (code or refresh token) that was just marked used: a second use
 * revokes its grant and gives 'reused'; an unknown, expired or revoked one gives undefined.
 */
async function settleSingleUse<R extends GrantRow & { firstUse: boolean; live: boolean }, T>(
  q: Queryable, revocations: RevocationList, row: R | undefined, result: (row: R) => T,
): Promise<T | 'reused' | undefined> {
  if (!row) return undefined;
  if (!row.firstUse) {
    await revokeGrant(q, revocations, row.id);
    return 'reused';
  }
  if (!row.live || row.revoked) return undefined;
  return result(row);
}

/** The grant a live refresh token belongs to (for introspection and revocation); undefined if not live. */
export async function findRefreshToken(q: Queryable, token: string): Promise<(UsedRefreshToken & { expiresAt: number }) | undefined> {
  const rows = await q.query<GrantRow & { tokenScope: string; exp: number }>(
    `SELECT ${GRANT_COLUMNS}, r.scope AS "tokenScope", extract(epoch FROM r.expires_at)::float8 AS exp
       FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id
      WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > now() AND g.revoked_at IS NULL`,
    [hash(token)],
  );
  const row = rows[0];
  return row && { grant: toGrant(row), scope: row.tokenScope, expiresAt: Math.floor(Number(row.exp)) };
}

export async function recordAccessToken(q: Queryable, grantId: string, jti: string, expiresAt: Date): Promise<void> {
  await q.query('INSERT INTO grant_access_tokens (jti, grant_id, expires_at) VALUES ($1, $2, $3::timestamptz)', [jti, grantId, expiresAt.toISOString()]);
}

/** Revokes a grant: its refresh tokens stop working at once, its live access tokens within a poll interval. */
export async function revokeGrant(q: Queryable, revocations: RevocationList, grantId: string): Promise<void> {
  await q.query('UPDATE grants SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1', [grantId]);
  const live = await q.query<{ jti: string; exp: number }>(
    `SELECT jti, extract(epoch FROM expires_at)::float8 * 1000 AS exp FROM grant_access_tokens WHERE grant_id = $1 AND expires_at > now()`, [grantId]);
  await revocations.revoke(q, live.map((t) => ({ jti: t.jti, expiresAt: new Date(Number(t.exp)) })));
}

/** Revokes every grant a user gave a client (the patient portal's "revoke access", issue 5). */
export async function revokeGrantsOf(q: Queryable, revocations: RevocationList, userId: string, clientId: string): Promise<number> {
  const grants = await q.query<{ id: string }>('SELECT id FROM grants WHERE user_id = $1 AND client_id = $2 AND revoked_at IS NULL', [userId, clientId]);
  for (const g of grants) await revokeGrant(q, revocations, g.id);
  return grants.length;
}

/** A live grant of an app, as the admin console lists it. */
export interface AppGrant {
  id: string;
  /** The user's username (the grant's user id when the user is gone). */
  user: string;
  scope: string;
  createdAt: string;
  /** Access tokens issued from it that have not expired (revoked ones included until then). */
  liveAccessTokens: number;
  /** Refresh tokens that can still be used. */
  liveRefreshTokens: number;
}

/** The grants users gave an app and did not revoke, newest first. */
export async function liveGrantsOf(q: Queryable, clientId: string): Promise<AppGrant[]> {
  const rows = await q.query<Omit<AppGrant, 'liveAccessTokens' | 'liveRefreshTokens'> & { liveAccessTokens: string; liveRefreshTokens: string }>(
    `SELECT g.id, coalesce(u.username, g.user_id) AS "user", g.scope, to_char(g.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"') AS "createdAt",
            (SELECT count(*) FROM grant_access_tokens a WHERE a.grant_id = g.id AND a.expires_at > now())::text AS "liveAccessTokens",
            (SELECT count(*) FROM refresh_tokens r WHERE r.grant_id = g.id AND r.used_at IS NULL AND r.expires_at > now())::text AS "liveRefreshTokens"
       FROM grants g LEFT JOIN users u ON u.id = g.user_id
      WHERE g.client_id = $1 AND g.revoked_at IS NULL
      ORDER BY g.created_at DESC`,
    [clientId],
  );
  return rows.map((r) => ({ ...r, liveAccessTokens: Number(r.liveAccessTokens), liveRefreshTokens: Number(r.liveRefreshTokens) }));
}

export interface AuthorizedApp {
  clientId: string;
  name: string;
  /** The scopes of the user's most recent live grant to the app. */
  scope: string;
  grantedAt: string;
}

/** The apps a user has authorized and not revoked (the management page, and the patient portal later). */
export async function authorizedApps(q: Queryable, userId: string): Promise<AuthorizedApp[]> {
  return q.query<AuthorizedApp>(
    `SELECT DISTINCT ON (g.client_id) g.client_id AS "clientId", c.name, g.scope, to_char(g.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"') AS "grantedAt"
       FROM grants g JOIN clients c ON c.client_id = g.client_id
      WHERE g.user_id = $1 AND g.revoked_at IS NULL
      ORDER BY g.client_id, g.created_at DESC`,
    [userId],
  );
}
