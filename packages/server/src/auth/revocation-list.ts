// Revoked access-token ids, as seen by this instance. Access tokens are verified without a database round trip,
// so revocation is the one thing that must reach every instance: each one polls `revoked_access_tokens` for rows
// newer than its last poll (with a margin for transactions that committed late) every POLL_MS, which bounds the
// time until a revocation made anywhere is honoured here (docs/architecture: "within a second").
import type { Queryable } from '../store/database.ts';

export const POLL_MS = 250;
const COMMIT_MARGIN_MS = 5_000;

export class RevocationList {
  /** jti → expiry (ms); entries are dropped once the token would have expired anyway. */
  #revoked = new Map<string, number>();
  #since: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;

  constructor(private readonly db: Queryable) {}

  /** Loads the current list and starts polling. */
  async start(): Promise<void> {
    await this.poll();
    this.#timer = setInterval(() => void this.poll().catch(() => undefined), POLL_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  isRevoked(jti: string): boolean {
    return this.#revoked.has(jti);
  }

  /** Records revocations in the database (idempotent) and in this instance's list at once. */
  async revoke(q: Queryable, tokens: readonly { jti: string; expiresAt: Date }[]): Promise<void> {
    if (tokens.length === 0) return;
    await q.query(
      `INSERT INTO revoked_access_tokens (jti, expires_at)
       SELECT * FROM unnest($1::text[], $2::timestamptz[]) ON CONFLICT (jti) DO NOTHING`,
      [tokens.map((t) => t.jti), tokens.map((t) => t.expiresAt.toISOString())],
    );
    for (const t of tokens) this.#revoked.set(t.jti, t.expiresAt.getTime());
  }

  poll(): Promise<void> {
    this.#polling ??= this.#poll().finally(() => (this.#polling = undefined));
    return this.#polling;
  }

  async #poll(): Promise<void> {
    // The database's clock marks both the rows and the poll, so instance clocks need not agree.
    const rows = await this.db.query<{ jti: string | null; exp: number | null; now: string }>(
      `SELECT r.jti, extract(epoch FROM r.expires_at)::float8 * 1000 AS exp, n.now::text AS now
         FROM (SELECT clock_timestamp() AS now) n
         LEFT JOIN revoked_access_tokens r
           ON r.expires_at > n.now AND r.revoked_at >= coalesce($1::timestamptz, '-infinity') - make_interval(secs => $2)`,
      [this.#since ?? null, COMMIT_MARGIN_MS / 1000],
    );
    for (const r of rows) if (r.jti) this.#revoked.set(r.jti, Number(r.exp));
    this.#since = rows[0]!.now;
    const now = Date.now();
    for (const [jti, exp] of this.#revoked) if (exp <= now) this.#revoked.delete(jti);
  }
}
