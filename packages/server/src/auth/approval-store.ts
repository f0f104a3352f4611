// Remembered consent: the scopes a user approved for a client, so the consent screen is shown again only when an
// app asks for more (or with prompt=consent), until the user revokes the approval.
import type { Queryable } from '../store/database.ts';

export async function rememberedScopes(q: Queryable, userId: string, clientId: string): Promise<Set<string>> {
  const rows = await q.query<{ scope: string }>('SELECT scope FROM approvals WHERE user_id = $1 AND client_id = $2', [userId, clientId]);
  return new Set(rows[0]?.scope.split(' ').filter(Boolean) ?? []);
}

export async function rememberApproval(q: Queryable, userId: string, clientId: string, scopes: readonly string[], now = new Date()): Promise<void> {
  await q.query(
    `INSERT INTO approvals (user_id, client_id, scope, created_at) VALUES ($1, $2, $3, $4::timestamptz)
     ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, created_at = excluded.created_at`,
    [userId, clientId, scopes.join(' '), now.toISOString()],
  );
}

export async function forgetApproval(q: Queryable, userId: string, clientId: string): Promise<void> {
  await q.query('DELETE FROM approvals WHERE user_id = $1 AND client_id = $2', [userId, clientId]);
}
