// Browser sessions: a random id in an HttpOnly, SameSite=Lax cookie (`__Host-` prefixed and Secure over HTTPS);
// the database keeps only its SHA-256, so every instance knows every session and a stolen table opens none.
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/cookie'; // request.cookies, reply.setCookie
import type { Queryable } from '../store/database.ts';
import { getUser, type User } from './users/user-store.ts';

export const SESSION_LIFETIME_S = 8 * 3600;

export interface Session {
  idHash: string;
  user: User;
  createdAt: Date;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');

export class Sessions {
  readonly cookieName: string;

  constructor(private readonly db: Queryable, private readonly secure: boolean) {
    this.cookieName = secure ? '__Host-fk_session' : 'fk_session';
  }

  async start(reply: FastifyReply, userId: string, now = new Date()): Promise<Session> {
    const id = randomBytes(32).toString('base64url');
    await this.db.query(
      `INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3::timestamptz, $3::timestamptz + make_interval(secs => $4))`,
      [sha256(id), userId, now.toISOString(), SESSION_LIFETIME_S],
    );
    reply.setCookie(this.cookieName, id, { path: '/', httpOnly: true, sameSite: 'lax', secure: this.secure, maxAge: SESSION_LIFETIME_S });
    return { idHash: sha256(id), user: (await getUser(this.db, userId))!, createdAt: now };
  }

  /** The live session the request's cookie names, if any. */
  async current(request: FastifyRequest): Promise<Session | undefined> {
    const id = request.cookies[this.cookieName];
    if (!id) return undefined;
    const rows = await this.db.query<{ userId: string; createdAt: string }>(
      `SELECT user_id AS "userId", created_at::text AS "createdAt" FROM sessions WHERE id_hash = $1 AND ended_at IS NULL AND expires_at > now()`,
      [sha256(id)],
    );
    const row = rows[0];
    if (!row) return undefined;
    const user = await getUser(this.db, row.userId);
    return user && { idHash: sha256(id), user, createdAt: new Date(row.createdAt) };
  }

  async end(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const id = request.cookies[this.cookieName];
    if (id) await this.db.query('UPDATE sessions SET ended_at = now() WHERE id_hash = $1', [sha256(id)]);
    reply.clearCookie(this.cookieName, { path: '/', secure: this.secure });
  }
}

/** Whether the session behind an online_access grant is still live. */
export async function sessionIsLive(q: Queryable, idHash: string): Promise<boolean> {
  const rows = await q.query('SELECT 1 FROM sessions WHERE id_hash = $1 AND ended_at IS NULL AND expires_at > now()', [idHash]);
  return rows.length > 0;
}
