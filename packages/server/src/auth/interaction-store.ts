// Authorization requests in progress, between the pages of sign-in, pickers and consent (REQUEST_LIFETIME_S).
import type { Queryable } from '../store/database.ts';
import { newRequestId, REQUEST_LIFETIME_S, type AuthorizationParams } from './authorization-request.ts';

export interface InteractionProgress {
  patient?: string;
  /** null: the patient has no encounter to choose. */
  encounter?: string | null;
  /** Scopes the user approved on the consent screen. */
  granted?: string[];
}

export interface Interaction {
  id: string;
  params: AuthorizationParams;
  progress: InteractionProgress;
  createdAt: Date;
}

export async function saveInteraction(q: Queryable, params: AuthorizationParams, now = new Date()): Promise<Interaction> {
  const id = newRequestId();
  await q.query(
    `INSERT INTO authorization_requests (id, client_id, params, created_at, expires_at)
     VALUES ($1, $2, $3::jsonb, $4::timestamptz, $4::timestamptz + make_interval(secs => $5))`,
    [id, params.clientId, JSON.stringify(params), now.toISOString(), REQUEST_LIFETIME_S],
  );
  return { id, params, progress: {}, createdAt: now };
}

export async function loadInteraction(q: Queryable, id: string): Promise<Interaction | undefined> {
  const rows = await q.query<{ params: string; progress: string; created: number }>(
    `SELECT params::text AS params, progress::text AS progress, extract(epoch FROM created_at)::float8 * 1000 AS created
       FROM authorization_requests WHERE id = $1 AND expires_at > now()`,
    [id],
  );
  const row = rows[0];
  return row && { id, params: JSON.parse(row.params) as AuthorizationParams, progress: JSON.parse(row.progress) as InteractionProgress, createdAt: new Date(Number(row.created)) };
}

/** Merges choices into the request (and into the object the caller holds). */
export async function saveProgress(q: Queryable, interaction: Interaction, progress: InteractionProgress): Promise<void> {
  Object.assign(interaction.progress, progress);
  await q.query('UPDATE authorization_requests SET progress = $2::jsonb WHERE id = $1', [interaction.id, JSON.stringify(interaction.progress)]);
}

export async function deleteInteraction(q: Queryable, id: string): Promise<void> {
  await q.query('DELETE FROM authorization_requests WHERE id = $1', [id]);
}
